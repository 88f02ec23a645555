import type { Kysely, Migration } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * Indexes for the admin console (issue 7): the device list pages by DeviceID (its unique key) and filters by
 * ownership, status, OS version, last check-in and compliance state.
 */
export function deviceList(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('devices_ownership_device_id_idx').on('devices').columns(['ownership', 'device_id']).execute();
      await db.schema.createIndex('devices_status_device_id_idx').on('devices').columns(['status', 'device_id']).execute();
      await db.schema.createIndex('devices_last_check_in_at_idx').on('devices').column('last_check_in_at').execute();
      await db.schema.createIndex('devices_os_version_idx').on('devices').column('os_version').execute();
      await db.schema.createIndex('device_compliance_state_idx').on('device_compliance').column('state').execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      for (const name of [
        'device_compliance_state_idx',
        'devices_os_version_idx',
        'devices_last_check_in_at_idx',
        'devices_status_device_id_idx',
        'devices_ownership_device_id_idx',
      ])
        await db.schema.dropIndex(name).execute();
    },
  };
}
