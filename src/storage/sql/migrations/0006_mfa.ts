import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * The second factor for enrollment (core/mfa): one TOTP factor per user, its secret sealed by the service
 * (AES-256-GCM; the database never holds it in the clear), the last accepted time step (replays) and a
 * fixed-window attempt counter (guessing) shared by every server process. Who must use a factor is part
 * of the tenant settings (0004).
 */
export function mfa(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('mfa_factors')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('last_time_step', 'integer')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attempts_since', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', 'text')
        .addColumn('last_used_at', 'text')
        .addCheckConstraint('mfa_factors_kind_check', sql`kind in ('totp')`)
        .addCheckConstraint('mfa_factors_status_check', sql`status in ('pending', 'active')`)
        .execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('mfa_factors').execute();
    },
  };
}
