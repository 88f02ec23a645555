import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * The admin API: admin roles of directory users, browser sessions, API tokens and the audit log.
 * Sessions and tokens hold only the SHA-256 of the secret the client has. The audit log has no foreign
 * keys on purpose: it must outlive the admins, devices and profiles it talks about.
 */
export function admin(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('admin_roles')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addCheckConstraint('admin_roles_role_check', sql`role in ('administrator', 'helpdesk', 'readonly')`)
        .execute();

      await db.schema
        .createTable('admin_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('admin_sessions_user_id_idx').on('admin_sessions').column('user_id').execute();
      await db.schema.createIndex('admin_sessions_expires_at_idx').on('admin_sessions').column('expires_at').execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .addUniqueConstraint('api_tokens_token_hash_key', ['token_hash'])
        .addCheckConstraint('api_tokens_role_check', sql`role in ('administrator', 'helpdesk', 'readonly')`)
        .execute();
      // A name is reusable once its token is revoked.
      await db.schema
        .createIndex('api_tokens_live_name_key')
        .on('api_tokens')
        .column('name')
        .unique()
        .where(sql.ref('revoked_at'), 'is', null)
        .execute();
      await db.schema.createIndex('api_tokens_created_by_idx').on('api_tokens').column('created_by').execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        // 'admin', 'token' or 'cli'; the other actor columns are null where they do not apply.
        .addColumn('actor_kind', 'text', (c) => c.notNull())
        .addColumn('actor_user_id', 'text')
        .addColumn('actor_upn', 'text')
        .addColumn('actor_token_id', 'text')
        .addColumn('actor_token_name', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text')
        // JSON text, secrets redacted before they get here.
        .addColumn('before', 'text')
        .addColumn('after', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('trace_id', 'text')
        .addCheckConstraint('audit_log_outcome_check', sql`outcome in ('pending', 'succeeded', 'failed')`)
        .addCheckConstraint('audit_log_actor_kind_check', sql`actor_kind in ('admin', 'token', 'cli')`)
        .execute();
      // Newest first, keyset-paged on (at, id); by target; by actor.
      await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['at', 'id']).execute();
      await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_type', 'target_id', 'at']).execute();
      await db.schema.createIndex('audit_log_actor_upn_idx').on('audit_log').columns(['actor_upn', 'at']).execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ['audit_log', 'api_tokens', 'admin_sessions', 'admin_roles']) await db.schema.dropTable(t).ifExists().execute();
    },
  };
}
