import type { Kysely, Migration } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * Compliance (core/compliance): the tenant-wide rules (one row, JSON), each device's evaluated state with
 * its per-rule results and the directory write-back queue columns, the history of state changes, and the
 * Entra tenants whose directory receives the write-back.
 */
export function compliance(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('compliance_rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('rules', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('device_compliance')
        .addColumn('device_pk', 'text', (c) => c.primaryKey().references('devices.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('rules', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('evaluated_at', 'text', (c) => c.notNull())
        .addColumn('since', 'text', (c) => c.notNull())
        .addColumn('failing_since', 'text')
        .addColumn('grace_ends_at', 'text')
        .addColumn('entra_device_id', 'text')
        .addColumn('wb_tenant_id', 'text')
        // 0/1; null: nothing to tell the directory (unknown) / never told.
        .addColumn('wb_desired', 'integer')
        .addColumn('wb_written', 'integer')
        .addColumn('wb_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('wb_last_attempt_at', 'text')
        .addColumn('wb_last_result', 'text')
        .addColumn('wb_next_attempt_at', 'text')
        .execute();
      await db.schema
        .createIndex('device_compliance_wb_idx')
        .on('device_compliance')
        .columns(['wb_desired', 'wb_next_attempt_at'])
        .execute();

      await db.schema
        .createTable('compliance_history')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('previous_state', 'text')
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('compliance_history_device_idx').on('compliance_history').columns(['device_pk', 'at']).execute();

      await db.schema
        .createTable('compliance_write_back_tenants')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey())
        .addColumn('enabled_at', 'text', (c) => c.notNull())
        .execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('compliance_write_back_tenants').execute();
      await db.schema.dropTable('compliance_history').execute();
      await db.schema.dropTable('device_compliance').execute();
      await db.schema.dropTable('compliance_rules').execute();
    },
  };
}
