import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * Directory sync (core/directory-sync): the synced identity of each user or group pulled from Entra ID
 * (Graph delta) or pushed over SCIM (source, external id, the name the source uses, the attributes handed
 * back to it), the SCIM bearer tokens (SHA-256 only), and per connected tenant how Winroll reaches Graph
 * (URLs, the sealed client secret, the delta links of the next incremental run, the last run's outcome).
 */
export function directorySync(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('synced_identities')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('local_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('linked_local', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('deleted_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('synced_identities_pkey', ['kind', 'local_id'])
        .addCheckConstraint('synced_identities_kind_check', sql`kind in ('user', 'group')`)
        .execute();
      await db.schema
        .createIndex('synced_identities_external_idx')
        .on('synced_identities')
        .columns(['source', 'kind', 'external_id'])
        .unique()
        .execute();
      await db.schema
        .createIndex('synced_identities_source_idx')
        .on('synced_identities')
        .columns(['source', 'kind', 'created_at'])
        .execute();

      await db.schema
        .createTable('scim_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();

      await db.schema
        .createTable('entra_sync')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('entra_tenants.tenant_id').onDelete('cascade'))
        .addColumn('graph_url', 'text', (c) => c.notNull())
        .addColumn('token_url', 'text', (c) => c.notNull())
        .addColumn('client_secret', 'text', (c) => c.notNull())
        .addColumn('ca_pem', 'text')
        .addColumn('users_delta_link', 'text')
        .addColumn('groups_delta_link', 'text')
        .addColumn('last_run_at', 'text')
        .addColumn('last_status', 'text')
        .addColumn('last_error', 'text')
        .addColumn('last_counts', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ['entra_sync', 'scim_tokens', 'synced_identities']) await db.schema.dropTable(t).execute();
    },
  };
}
