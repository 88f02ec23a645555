import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * One record per physical device (S16) and the rest of the directory connection:
 * - devices: the BIOS serial (normalised, from inventory) and the Entra device id (the `deviceid` claim of
 *   a join token, or inventory), both indexed because re-joins and resets are matched on them;
 * - enrollments: how each enrollment happened (join, work account, manual, bulk) and its Entra device id;
 * - device_merges: records that turned out to be the same machine (same serial and hardware id) and were
 *   folded into the surviving record, so its history still names the earlier DeviceID;
 * - user_directory_links: the directory object id (`oid`) a user is known by in a tenant, set by the first
 *   directory token and checked against every later one;
 * - terms_of_use_text: the admin's own terms-of-use title and body, and a version that only grows.
 */
export function deviceIdentity(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('devices').addColumn('serial_number', 'text').execute();
      await db.schema.alterTable('devices').addColumn('entra_device_id', 'text').execute();
      await db.schema.createIndex('devices_serial_number_idx').on('devices').column('serial_number').execute();
      await db.schema.createIndex('devices_entra_device_id_idx').on('devices').column('entra_device_id').execute();
      await db.schema.alterTable('enrollments').addColumn('method', 'text').execute();
      await db.schema.alterTable('enrollments').addColumn('entra_device_id', 'text').execute();

      await db.schema
        .createTable('device_merges')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('merged_device_id', 'text', (c) => c.notNull())
        .addColumn('merged_first_enrolled_at', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('merged_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('device_merges_device_pk_idx').on('device_merges').column('device_pk').execute();

      await db.schema
        .createTable('user_directory_links')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('object_id', 'text', (c) => c.notNull())
        .addColumn('linked_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('user_directory_links_object_key', ['tenant_id', 'object_id'])
        .execute();

      await db.schema
        .createTable('terms_of_use_text')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('title', 'text')
        .addColumn('body', 'text')
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addCheckConstraint('terms_of_use_text_one_row', sql`id = 1`)
        .execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('terms_of_use_text').execute();
      await db.schema.dropTable('user_directory_links').execute();
      await db.schema.dropTable('device_merges').execute();
      await db.schema.dropIndex('devices_entra_device_id_idx').execute();
      await db.schema.dropIndex('devices_serial_number_idx').execute();
      await db.schema.alterTable('enrollments').dropColumn('entra_device_id').execute();
      await db.schema.alterTable('enrollments').dropColumn('method').execute();
      await db.schema.alterTable('devices').dropColumn('entra_device_id').execute();
      await db.schema.alterTable('devices').dropColumn('serial_number').execute();
    },
  };
}
