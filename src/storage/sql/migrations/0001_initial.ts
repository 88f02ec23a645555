import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * Initial schema. Portable types only (text, integer); the one exception is the certificate DER, stored
 * as `blob` on SQLite and `bytea` on PostgreSQL. Timestamps are ISO-8601 UTC text with milliseconds.
 */
export function initial(dialect: SqlDialectKind): Migration {
  const binary = dialect === 'postgres' ? sql`bytea` : sql`blob`;
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('domains')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('auth_policy', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('upn', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text')
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('users_upn_key', ['upn'])
        .execute();

      // One row per physical device (Windows enrollment-client DeviceID). user_id is not a foreign key:
      // federated users come from an identity provider and have no row in `users`.
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('hw_dev_id', 'text')
        .addColumn('device_name', 'text')
        .addColumn('os_version', 'text')
        .addColumn('os_edition', 'integer')
        .addColumn('locale', 'text')
        .addColumn('mac_addresses', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('enrollment_type', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('upn', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('first_enrolled_at', 'text', (c) => c.notNull())
        .addColumn('last_enrolled_at', 'text', (c) => c.notNull())
        .addColumn('current_enrollment_id', 'text')
        .addUniqueConstraint('devices_device_id_key', ['device_id'])
        .execute();
      await db.schema.createIndex('devices_hw_dev_id_idx').on('devices').column('hw_dev_id').execute();
      await db.schema.createIndex('devices_upn_idx').on('devices').column('upn').execute();

      await db.schema
        .createTable('enrollments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('upn', 'text', (c) => c.notNull())
        .addColumn('enrollment_type', 'text', (c) => c.notNull())
        .addColumn('auth_policy', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('hw_dev_id', 'text')
        .addColumn('device_name', 'text')
        .addColumn('os_version', 'text')
        .addColumn('os_edition', 'integer')
        .addColumn('locale', 'text')
        .addColumn('mac_addresses', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('cert_serial', 'text', (c) => c.notNull())
        .addColumn('cert_thumbprint', 'text', (c) => c.notNull())
        .addColumn('cert_not_before', 'text', (c) => c.notNull())
        .addColumn('cert_not_after', 'text', (c) => c.notNull())
        .addColumn('cert_der', binary, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('superseded_at', 'text')
        .addColumn('unenrolled_at', 'text')
        .addUniqueConstraint('enrollments_cert_serial_key', ['cert_serial'])
        .addUniqueConstraint('enrollments_cert_thumbprint_key', ['cert_thumbprint'])
        .addCheckConstraint('enrollments_status_check', sql`status in ('active', 'superseded', 'unenrolled')`)
        .execute();
      await db.schema.createIndex('enrollments_device_pk_idx').on('enrollments').columns(['device_pk', 'status']).execute();

      await db.schema
        .createTable('device_hwdevids')
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('hw_dev_id', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_hwdevids_pkey', ['device_pk', 'hw_dev_id'])
        .execute();
      await db.schema.createIndex('device_hwdevids_hw_dev_id_idx').on('device_hwdevids').column('hw_dev_id').execute();

      await db.schema
        .createTable('device_warnings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('related_device_ids', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('device_warnings_device_kind_subject_key', ['device_pk', 'kind', 'subject'])
        .execute();

      await db.schema
        .createTable('spent_tokens')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('spent_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('spent_tokens_expires_at_idx').on('spent_tokens').column('expires_at').execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ['spent_tokens', 'device_warnings', 'device_hwdevids', 'enrollments', 'devices', 'users', 'domains']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}
