import type { Kysely, Migration } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * Licenses by group (issue 5 item 7): a license assigned to a group reaches every enabled user in it or in
 * a group nested in it, computed at read time from the membership tables, so directory sync (SCIM, Graph)
 * and nesting changes take effect at once. Deleting the group deletes its assignment.
 */
export function groupLicenses(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('group_licenses')
        .addColumn('group_id', 'text', (c) => c.primaryKey().references('groups.id').onDelete('cascade'))
        .addColumn('assigned_at', 'text', (c) => c.notNull())
        .execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('group_licenses').execute();
    },
  };
}
