import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * What a device finally reported for an install that completes in the background (an MSI's
 * DownloadInstall, a Store app's StoreInstall): one row per install command, written when the device
 * accepts it (installing) and again when its alert or a Status Get settles it (installed or failed, with
 * the device's result code). Deleting the command (pruning) or the device deletes the row. Indexed by app
 * and state for the per-app counts of the Apps page.
 */
/** The app commands (install and uninstall actions), as the per-app counts select them. */
export const APP_COMMANDS = sql.raw(`(origin_key like '["action","install-%' or origin_key like '["action","uninstall-%')`);

export function appResults(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('app_results')
        .addColumn('command_id', 'text', (c) => c.primaryKey().references('commands.id').onDelete('cascade'))
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('installing', 'installed', 'failed')`))
        .addColumn('code', 'bigint')
        .addColumn('detail', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('app_results_device_idx').on('app_results').column('device_pk').execute();
      await db.schema.createIndex('app_results_app_state_idx').on('app_results').columns(['app_id', 'state']).execute();
      // The per-app counts read app commands only: a partial index holds just those (a few per device),
      // so the aggregate does not scan every command of every device. Its predicate is the query's, verbatim.
      await sql`create index commands_app_idx on commands (device_pk, seq) where ${APP_COMMANDS}`.execute(db);
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('commands_app_idx').ifExists().execute();
      await db.schema.dropTable('app_results').execute();
    },
  };
}
