import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * End users in the Company Portal become audit actors (`actor_kind = 'user'`), and the audit log can be
 * filtered by actor kind without reading it all. PostgreSQL swaps the CHECK constraint; SQLite cannot
 * alter one, so the table is rebuilt with the same columns and rows, then its indexes are made again.
 */
export function auditEndUsers(dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`alter table audit_log drop constraint audit_log_actor_kind_check`.execute(db);
        await sql`alter table audit_log add constraint audit_log_actor_kind_check check (actor_kind in ('admin', 'token', 'cli', 'user'))`.execute(
          db,
        );
      } else {
        await rebuild(db, ['admin', 'token', 'cli', 'user']);
      }
      await db.schema.createIndex('audit_log_actor_kind_idx').on('audit_log').columns(['actor_kind', 'at']).execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.deleteFrom('audit_log').where('actor_kind', '=', 'user').execute();
      await db.schema.dropIndex('audit_log_actor_kind_idx').ifExists().execute();
      if (dialect === 'postgres') {
        await sql`alter table audit_log drop constraint audit_log_actor_kind_check`.execute(db);
        await sql`alter table audit_log add constraint audit_log_actor_kind_check check (actor_kind in ('admin', 'token', 'cli'))`.execute(
          db,
        );
      } else {
        await rebuild(db, ['admin', 'token', 'cli']);
      }
    },
  };
}

const COLUMNS = [
  'id',
  'at',
  'actor_kind',
  'actor_user_id',
  'actor_upn',
  'actor_token_id',
  'actor_token_name',
  'action',
  'target_type',
  'target_id',
  'before',
  'after',
  'outcome',
  'error',
  'trace_id',
];

/** SQLite: the 0005 table with another actor-kind CHECK, same rows, same indexes. */
// biome-ignore lint/suspicious/noExplicitAny: see up()
async function rebuild(db: Kysely<any>, kinds: string[]): Promise<void> {
  await db.schema
    .createTable('audit_log_rebuilt')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_user_id', 'text')
    .addColumn('actor_upn', 'text')
    .addColumn('actor_token_id', 'text')
    .addColumn('actor_token_name', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('before', 'text')
    .addColumn('after', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('trace_id', 'text')
    .addCheckConstraint('audit_log_outcome_check', sql`outcome in ('pending', 'succeeded', 'failed')`)
    .addCheckConstraint('audit_log_actor_kind_check', sql`actor_kind in (${sql.join(kinds.map((k) => sql.lit(k)))})`)
    .execute();
  const cols = sql.join(COLUMNS.map((c) => sql.ref(c)));
  await sql`insert into audit_log_rebuilt (${cols}) select ${cols} from audit_log`.execute(db);
  await db.schema.dropTable('audit_log').execute();
  await db.schema.alterTable('audit_log_rebuilt').renameTo('audit_log').execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['at', 'id']).execute();
  await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_type', 'target_id', 'at']).execute();
  await db.schema.createIndex('audit_log_actor_upn_idx').on('audit_log').columns(['actor_upn', 'at']).execute();
}
