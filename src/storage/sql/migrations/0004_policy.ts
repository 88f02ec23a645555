import { type Kysely, type Migration, sql } from 'kysely';
import { newId } from '../ids.js';
import type { SqlDialectKind } from './index.js';

/**
 * "Who may enroll" (core/policy/ports.ts): nested groups, licenses, tenant settings, enrollment
 * restrictions with their group assignments, device enrollment managers, corporate device identifiers,
 * the rule behind each device's ownership, and the enrollment attempt log. Portable types as before.
 *
 * The two default restrictions (platform: allow all; device limit: 5) are created here, so every database
 * has them; they cannot be deleted. Their timestamps are the time the migration ran.
 */
export function policy(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      // Why the device has its ownership, in words. Null for devices enrolled before this migration.
      await db.schema.alterTable('devices').addColumn('ownership_rule', 'text').execute();

      // -- groups in groups (a DAG: cycles are refused on insert) -------------------------------------
      await db.schema
        .createTable('group_groups')
        .addColumn('parent_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('child_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('group_groups_pkey', ['parent_id', 'child_id'])
        .addCheckConstraint('group_groups_not_self', sql`parent_id <> child_id`)
        .execute();
      await db.schema.createIndex('group_groups_child_id_idx').on('group_groups').column('child_id').execute();

      // -- licenses -----------------------------------------------------------------------------------
      await db.schema
        .createTable('user_licenses')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('assigned_at', 'text', (c) => c.notNull())
        .execute();

      // -- tenant settings: one JSON document (TenantSettings), merged over the defaults when read -----
      await db.schema
        .createTable('tenant_settings')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addCheckConstraint('tenant_settings_one_row', sql`id = 1`)
        .execute();

      // -- enrollment restrictions --------------------------------------------------------------------
      // priority: 1 = highest among a type's non-default policies, kept 1..n; null only for the default.
      // (type, priority) is unique; reordering first negates the priorities so no update collides.
      await db.schema
        .createTable('enrollment_restrictions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer')
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('enrollment_restrictions_type_name_key', ['type', 'name'])
        .addUniqueConstraint('enrollment_restrictions_type_priority_key', ['type', 'priority'])
        .addCheckConstraint('enrollment_restrictions_type_check', sql`type in ('platform', 'deviceLimit')`)
        .addCheckConstraint(
          'enrollment_restrictions_default_check',
          sql`(is_default = 1 and priority is null) or (is_default = 0 and priority is not null)`,
        )
        .execute();
      // One default per type.
      await db.schema
        .createIndex('enrollment_restrictions_one_default')
        .on('enrollment_restrictions')
        .column('type')
        .unique()
        .where(sql.ref('is_default'), '=', 1)
        .execute();
      const now = new Date().toISOString();
      for (const [type, config] of [
        ['platform', { windowsMdm: 'allow', minOsVersion: null, maxOsVersion: null, blockPersonal: false }],
        ['deviceLimit', { limit: 5 }],
      ] as const) {
        await db
          .insertInto('enrollment_restrictions')
          .values({
            id: newId(),
            type,
            name: 'Default',
            priority: null,
            is_default: 1,
            config: JSON.stringify(config),
            created_at: now,
            updated_at: now,
          })
          .execute();
      }

      await db.schema
        .createTable('restriction_assignments')
        .addColumn('restriction_id', 'text', (c) => c.notNull().references('enrollment_restrictions.id').onDelete('cascade'))
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('restriction_assignments_pkey', ['restriction_id', 'group_id'])
        .execute();
      await db.schema.createIndex('restriction_assignments_group_id_idx').on('restriction_assignments').column('group_id').execute();

      // -- device enrollment managers -----------------------------------------------------------------
      await db.schema
        .createTable('device_enrollment_managers')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('added_at', 'text', (c) => c.notNull())
        .execute();

      // -- corporate device identifiers ---------------------------------------------------------------
      // *_key: the matching form (trimmed, lower-case; the serial also without periods); the rest as uploaded.
      await db.schema
        .createTable('corporate_identifiers')
        .addColumn('manufacturer_key', 'text', (c) => c.notNull())
        .addColumn('model_key', 'text', (c) => c.notNull())
        .addColumn('serial_key', 'text', (c) => c.notNull())
        .addColumn('manufacturer', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('serial', 'text', (c) => c.notNull())
        .addColumn('added_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('corporate_identifiers_pkey', ['manufacturer_key', 'model_key', 'serial_key'])
        .execute();

      // -- enrollment attempts ------------------------------------------------------------------------
      await db.schema
        .createTable('enrollment_attempts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('trace_id', 'text', (c) => c.notNull())
        .addColumn('upn', 'text')
        .addColumn('user_id', 'text')
        .addColumn('device_id', 'text')
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('enrollment_type', 'text')
        .addColumn('os_version', 'text')
        .addColumn('ownership', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('error_type', 'text')
        .addColumn('subcode', 'text')
        // JSON array of strings.
        .addColumn('reasons', 'text', (c) => c.notNull())
        // JSON object { platform?, deviceLimit? }.
        .addColumn('policies', 'text', (c) => c.notNull())
        .addCheckConstraint('enrollment_attempts_outcome_check', sql`outcome in ('mdm', 'mam', 'refused')`)
        .execute();
      await db.schema.createIndex('enrollment_attempts_at_idx').on('enrollment_attempts').columns(['at', 'id']).execute();
      await db.schema.createIndex('enrollment_attempts_upn_idx').on('enrollment_attempts').columns(['upn', 'at']).execute();
      await db.schema.createIndex('enrollment_attempts_device_id_idx').on('enrollment_attempts').columns(['device_id', 'at']).execute();
      await db.schema.createIndex('enrollment_attempts_outcome_idx').on('enrollment_attempts').columns(['outcome', 'at']).execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      for (const t of [
        'enrollment_attempts',
        'corporate_identifiers',
        'device_enrollment_managers',
        'restriction_assignments',
        'enrollment_restrictions',
        'tenant_settings',
        'user_licenses',
        'group_groups',
      ]) {
        await db.schema.dropTable(t).ifExists().execute();
      }
      await db.schema.alterTable('devices').dropColumn('ownership_rule').execute();
    },
  };
}
