import type { Kysely, Migration } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * App protection without MDM (MAM, core/enrollment/mam-registration.ts): a device's management mode
 * ('mdm', or 'mam' for a registration that holds no certificate), the registrations themselves (who
 * registered the device, through which directory tenant, and when), and profile types: a WIP profile keeps
 * the named fields it was compiled from so the admin sees and edits those, not LocURIs.
 */
export function mam(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('devices')
        .addColumn('management_mode', 'text', (c) => c.notNull().defaultTo('mdm'))
        .execute();
      await db.schema
        .createTable('mam_registrations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('upn', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        // 'active', 'superseded' (registered again, or enrolled in MDM since) or 'unenrolled'.
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .execute();
      await db.schema.createIndex('mam_registrations_device_pk_idx').on('mam_registrations').column('device_pk').execute();
      await db.schema
        .alterTable('profiles')
        .addColumn('profile_type', 'text', (c) => c.notNull().defaultTo('custom'))
        .execute();
      await db.schema.alterTable('profiles').addColumn('definition', 'text').execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('profiles').dropColumn('definition').execute();
      await db.schema.alterTable('profiles').dropColumn('profile_type').execute();
      await db.schema.dropTable('mam_registrations').execute();
      await db.schema.alterTable('devices').dropColumn('management_mode').execute();
    },
  };
}
