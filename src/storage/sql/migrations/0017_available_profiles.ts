import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * Available profiles (issue 7): an assignment's intent (required, as before, or available: offered in the
 * Company Portal) and the install requests a device's primary user made there. A request is per device and
 * profile (who asked and when kept for the record); deleting the device or the profile deletes it.
 */
export function availableProfiles(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      // Existing assignments keep today's meaning (required).
      await db.schema
        .alterTable('profile_assignments')
        .addColumn('intent', 'text', (c) => c.notNull().defaultTo('required').check(sql`intent in ('required', 'available')`))
        .execute();
      await db.schema
        .createTable('profile_install_requests')
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('profile_id', 'text', (c) => c.notNull().references('profiles.id').onDelete('cascade'))
        // Not a foreign key, as devices.user_id is not: federated users have no `users` row.
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('profile_install_requests_pkey', ['device_pk', 'profile_id'])
        .execute();
      await db.schema.createIndex('profile_install_requests_profile_idx').on('profile_install_requests').column('profile_id').execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('profile_install_requests').execute();
      await db.schema.alterTable('profile_assignments').dropColumn('intent').execute();
    },
  };
}
