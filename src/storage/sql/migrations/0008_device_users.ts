import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * Users of a device (seed S4): the primary user (`devices.primary_user_id`, null for a shared device) and
 * every directory user who signed in to it during a management session, with first and last sighting.
 *
 * Devices enrolled before this migration get their enrolling user as primary user, except device-context
 * enrollments whose last successful attempt was not automatic (bulk, DEM): those are shared.
 */
export function deviceUsers(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('devices')
        .addColumn('primary_user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
        .execute();
      await db.schema.createIndex('devices_primary_user_id_idx').on('devices').column('primary_user_id').execute();
      // Only users that exist (enrolling users predating the directory have no row; they stay shared).
      await sql`
        update devices set primary_user_id = user_id
        where user_id in (select id from users)
          and (enrollment_type = 'Full'
            or (select a.method from enrollment_attempts a
                where a.device_id = devices.device_id and a.outcome = 'mdm'
                order by a.at desc limit 1) = 'automatic')
      `.execute(db);

      await db.schema
        .createTable('device_users')
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_users_pkey', ['device_pk', 'user_id'])
        .execute();
      await db.schema.createIndex('device_users_user_id_idx').on('device_users').column('user_id').execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('device_users').execute();
      await db.schema.dropIndex('devices_primary_user_id_idx').execute();
      await db.schema.alterTable('devices').dropColumn('primary_user_id').execute();
    },
  };
}
