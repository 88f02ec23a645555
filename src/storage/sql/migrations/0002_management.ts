import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * The management channel (OMA-DM): device facts a check-in updates, the durable command queue, groups,
 * profiles and their assignments, and the settings each device acknowledged. Same portable types as
 * 0001 (text ids, ISO-8601 text timestamps, JSON as text). The one dialect difference is how the queue's
 * `seq` is allocated:
 *
 * - PostgreSQL: an identity column (a sequence). Every insert, concurrent or not, takes distinct,
 *   increasing values without any lock between transactions.
 * - SQLite: a plain integer filled from the one-row `command_seq` counter inside the write transaction.
 *   SQLite has one writer at a time (every write transaction starts with BEGIN IMMEDIATE), so reading and
 *   advancing the counter in the same transaction can never hand a value out twice, and unlike
 *   `max(seq) + 1` a value is never reused after the newest commands were pruned or deleted.
 *
 * A unique constraint on `seq` backs both up.
 */
export function management(dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      // -- devices: what check-ins, inventory, retire and push registration record --------------------
      // SQLite accepts one ADD COLUMN per ALTER TABLE statement.
      await db.schema
        .alterTable('devices')
        .addColumn('ownership', 'text', (c) => c.notNull().defaultTo('personal'))
        .execute();
      // Existing devices: the default by enrollment type, as recordEnrollment sets it for new devices.
      await db.updateTable('devices').set({ ownership: 'corporate' }).where('enrollment_type', '=', 'Device').execute();
      for (const column of ['last_check_in_at', 'inventory', 'retired_at', 'push_pfn', 'push_channel_uri', 'push_updated_at']) {
        await db.schema.alterTable('devices').addColumn(column, 'text').execute();
      }
      await db.schema.alterTable('devices').addColumn('push_status', 'integer').execute();
      await db.schema.createIndex('devices_user_id_idx').on('devices').column('user_id').execute();

      // When the enrollment's certificate stopped being accepted (unenrolled, retired, revoked).
      await db.schema.alterTable('enrollments').addColumn('revoked_at', 'text').execute();

      // -- command queue ------------------------------------------------------------------------------
      await db.schema
        .createTable('commands')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.notNull().generatedAlwaysAsIdentity() : c.notNull(),
        )
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        // Null: device scope; otherwise sent only in a session where this user is signed in.
        .addColumn('user_id', 'text')
        .addColumn('verb', 'text', (c) => c.notNull())
        // Copy of item.locUri, to cancel pending commands by target.
        .addColumn('loc_uri', 'text', (c) => c.notNull())
        .addColumn('item', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        // Canonical text of the origin (a JSON array of its fields in a fixed order), matched by cancelPending.
        .addColumn('origin_key', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('sent_session', 'text')
        .addColumn('sent_msg_id', 'integer')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('status', 'integer')
        .addColumn('results', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('commands_seq_key', ['seq'])
        .addCheckConstraint('commands_state_check', sql`state in ('pending', 'sent', 'acknowledged', 'failed', 'canceled')`)
        .execute();
      // nextCommands, cancelPending and listCommands: one device's commands by state, in queue order.
      await db.schema.createIndex('commands_queue_idx').on('commands').columns(['device_pk', 'state', 'seq']).execute();
      // pruneTerminal.
      await db.schema.createIndex('commands_state_updated_idx').on('commands').columns(['state', 'updated_at']).execute();
      if (dialect === 'sqlite') {
        await db.schema
          .createTable('command_seq')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('last', 'integer', (c) => c.notNull())
          .addCheckConstraint('command_seq_one_row', sql`id = 1`)
          .execute();
        await db.insertInto('command_seq').values({ id: 1, last: 0 }).execute();
      }

      // -- groups -------------------------------------------------------------------------------------
      await db.schema
        .createTable('groups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('groups_name_key', ['name'])
        .execute();
      // user_id is not a foreign key, as devices.user_id is not: federated users have no `users` row.
      await db.schema
        .createTable('group_members')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_members_pkey', ['group_id', 'user_id'])
        .execute();
      await db.schema.createIndex('group_members_user_id_idx').on('group_members').column('user_id').execute();

      // -- profiles and assignments -------------------------------------------------------------------
      await db.schema
        .createTable('profiles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('profiles_name_key', ['name'])
        .addCheckConstraint('profiles_scope_check', sql`scope in ('user', 'device')`)
        .execute();

      // One row per (profile, target). target_ref is the group id or device pk: a non-null key, because a
      // unique constraint over the nullable group_id/device_pk pair would not dedupe. Those two columns
      // carry the foreign keys, so deleting a group or device removes its assignments.
      await db.schema
        .createTable('profile_assignments')
        .addColumn('profile_id', 'text', (c) => c.notNull().references('profiles.id').onDelete('cascade'))
        .addColumn('target_kind', 'text', (c) => c.notNull())
        .addColumn('target_ref', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.references('groups.id').onDelete('cascade'))
        .addColumn('device_pk', 'text', (c) => c.references('devices.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('profile_assignments_pkey', ['profile_id', 'target_kind', 'target_ref'])
        .addCheckConstraint(
          'profile_assignments_target_check',
          sql`(target_kind = 'group' and group_id is not null and device_pk is null and target_ref = group_id)
            or (target_kind = 'device' and device_pk is not null and group_id is null and target_ref = device_pk)`,
        )
        .execute();
      await db.schema.createIndex('profile_assignments_group_id_idx').on('profile_assignments').column('group_id').execute();
      await db.schema.createIndex('profile_assignments_device_pk_idx').on('profile_assignments').column('device_pk').execute();

      // -- applied settings ---------------------------------------------------------------------------
      // Keyed by (device, user_key, loc_uri): user_key is '' for device scope and the user id otherwise,
      // because NULLs never collide in a unique key. user_id keeps the nullable form the port exposes.
      // profile_id is not a foreign key: an applied setting outlives its profile until it is removed.
      await db.schema
        .createTable('applied_settings')
        .addColumn('device_pk', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('user_key', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('loc_uri', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('applied_settings_pkey', ['device_pk', 'user_key', 'loc_uri'])
        .addCheckConstraint('applied_settings_user_key_check', sql`user_key = coalesce(user_id, '')`)
        .execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ['applied_settings', 'profile_assignments', 'profiles', 'group_members', 'groups', 'command_seq', 'commands']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
      await db.schema.dropIndex('devices_user_id_idx').ifExists().execute();
      await db.schema.alterTable('enrollments').dropColumn('revoked_at').execute();
      for (const column of [
        'push_status',
        'push_updated_at',
        'push_channel_uri',
        'push_pfn',
        'retired_at',
        'inventory',
        'last_check_in_at',
        'ownership',
      ]) {
        await db.schema.alterTable('devices').dropColumn(column).execute();
      }
    },
  };
}
