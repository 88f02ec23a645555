/**
 * SQL repository of the management channel (ports in core/management/ports.ts): device state, the
 * command queue, groups, profiles with their assignments, and applied settings. Free functions over a
 * Kysely handle; SqlStorage wraps each in its error mapping. Every method is one statement or one
 * transaction.
 */
import { type Kysely, type Selectable, type SqlBool, sql, type Updateable } from 'kysely';
import type {
  AppliedSetting,
  AssignmentTarget,
  ProfileIntent,
  CommandItem,
  CommandOrigin,
  CommandState,
  DeviceInventory,
  Group,
  ManagedDevice,
  NewCommand,
  Ownership,
  Profile,
  ProfileScope,
  ProfileSetting,
  ProfileType,
  QueuedCommand,
} from '../../core/management/ports.js';
import type { DeviceRecord, DeviceStatus, EnrollmentRecord, EnrollmentStatus } from '../../core/ports.js';
import { InvalidInputError } from '../../shared/errors.js';
import { intFromDb, timeFromDb, timeFromDbOrNull, timeToDb } from './codecs.js';
import { groupsOfUsers, usersInGroups } from './group-closure.js';
import { newId } from './ids.js';
import type { SqlDialectKind } from './migrations/index.js';
import { selectDevices, toEnrollment, withWarnings } from './rows.js';
import type { AppliedSettingsTable, CommandsTable, Database, DevicesTable, GroupsTable, ProfilesTable } from './schema.js';

type Db = Kysely<Database>;
type CommandResults = NonNullable<QueuedCommand['results']>;

const TERMINAL: CommandState[] = ['acknowledged', 'failed', 'canceled'];
/** Rows per multi-row statement: far below SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 500;

/**
 * A random UUID (version 4) in SQLite SQL, evaluated per row: the ids of a fan-out are made by the
 * database in the same statement that inserts the rows.
 */
const SQLITE_UUID_V4 = sql<string>`(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))`;

function required(value: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidInputError(`${what} is required`);
  return value;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

// -- device state --------------------------------------------------------------------------------------

async function deviceRecord(db: Db, devicePk: string) {
  const row = await selectDevices(db).where('d.id', '=', devicePk).executeTakeFirst();
  if (!row) return undefined;
  const [device] = await withWarnings(db, [row]);
  return device && { row, device };
}

export async function findByCertificate(
  db: Db,
  thumbprint: string,
): Promise<
  | { device: DeviceRecord; enrollment: EnrollmentRecord; ownership: Ownership; retiredAt: Date | null; inventory: DeviceInventory | null }
  | undefined
> {
  const enrollment = await db
    .selectFrom('enrollments')
    .selectAll()
    .where('cert_thumbprint', '=', thumbprint.toUpperCase())
    .executeTakeFirst();
  if (!enrollment) return undefined;
  const found = await deviceRecord(db, enrollment.device_pk);
  if (!found) return undefined;
  return {
    device: found.device,
    enrollment: toEnrollment(enrollment),
    ownership: found.row.ownership as Ownership,
    retiredAt: timeFromDbOrNull(found.row.retired_at),
    inventory: inventoryFromDb(found.row.inventory),
  };
}

/** The device with its current enrollment (the newest one; its status says whether it is still active). */
export async function getManagedDevice(db: Db, deviceId: string): Promise<ManagedDevice | undefined> {
  const row = await selectDevices(db).where('d.device_id', '=', deviceId.toUpperCase()).executeTakeFirst();
  if (!row || row.current_enrollment_id === null) return undefined;
  const enrollment = await db.selectFrom('enrollments').selectAll().where('id', '=', row.current_enrollment_id).executeTakeFirst();
  if (!enrollment) return undefined;
  const [device] = await withWarnings(db, [row]);
  if (!device) return undefined;
  return {
    device,
    enrollment: toEnrollment(enrollment),
    ownership: row.ownership as Ownership,
    lastCheckInAt: timeFromDbOrNull(row.last_check_in_at),
    inventory: inventoryFromDb(row.inventory),
    retiredAt: timeFromDbOrNull(row.retired_at),
  };
}

export async function recordCheckIn(db: Db, devicePk: string, now: Date): Promise<void> {
  await db
    .updateTable('devices')
    .set({ last_check_in_at: timeToDb(now) })
    .where('id', '=', devicePk)
    .execute();
}

/**
 * Merged by the database in one UPDATE (jsonb `||` on PostgreSQL, `json_patch` on SQLite), so two
 * concurrent updates of different fields both survive. `collectedAt` is `now` unless given.
 */
export async function updateInventory(
  db: Db,
  kind: SqlDialectKind,
  devicePk: string,
  inventory: Partial<DeviceInventory>,
  now: Date,
): Promise<void> {
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inventory)) if (v !== undefined && v !== null) patch[k] = v;
  patch.collectedAt ??= timeToDb(now);
  const json = JSON.stringify(patch);
  const merged =
    kind === 'postgres'
      ? sql<string>`(coalesce(inventory, '{}')::jsonb || cast(${json} as jsonb))::text`
      : sql<string>`json_patch(coalesce(inventory, '{}'), ${json})`;
  await db.updateTable('devices').set({ inventory: merged }).where('id', '=', devicePk).execute();
}

export async function setOwnership(db: Db, devicePk: string, ownership: Ownership): Promise<void> {
  if (ownership !== 'corporate' && ownership !== 'personal') throw new InvalidInputError(`unknown ownership ${String(ownership)}`);
  await db.updateTable('devices').set({ ownership }).where('id', '=', devicePk).execute();
}

/** Keeps the first retire time when retired twice. */
export async function markRetired(db: Db, devicePk: string, now: Date): Promise<void> {
  await db
    .updateTable('devices')
    .set({ retired_at: sql<string>`coalesce(retired_at, ${timeToDb(now)})` })
    .where('id', '=', devicePk)
    .execute();
}

export async function markUnenrolled(db: Db, devicePk: string, now: Date): Promise<void> {
  const at = timeToDb(now);
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('enrollments')
      .set({ status: 'unenrolled' satisfies EnrollmentStatus, unenrolled_at: at, revoked_at: at })
      .where('device_pk', '=', devicePk)
      .where('status', '=', 'active')
      .execute();
    await trx
      .updateTable('devices')
      .set({ status: 'unenrolled' satisfies DeviceStatus })
      .where('id', '=', devicePk)
      .where('status', '<>', 'unenrolled')
      .execute();
  });
}

/** Enrollments, HWDevID history, warnings, commands, assignments and applied settings go by cascade. */
export async function deleteDevice(db: Db, devicePk: string): Promise<void> {
  await db.deleteFrom('devices').where('id', '=', devicePk).execute();
}

export async function setPushChannel(
  db: Db,
  devicePk: string,
  push: { pfn?: string | null; channelUri?: string | null; status?: number | null },
  now: Date,
): Promise<void> {
  const set: Updateable<DevicesTable> = { push_updated_at: timeToDb(now) };
  if (push.pfn !== undefined) set.push_pfn = push.pfn;
  if (push.channelUri !== undefined) set.push_channel_uri = push.channelUri;
  if (push.status !== undefined) set.push_status = push.status;
  await db.updateTable('devices').set(set).where('id', '=', devicePk).execute();
}

/** Undefined for an unknown device, or one whose push details were never recorded. */
export async function getPushChannel(
  db: Db,
  devicePk: string,
): Promise<{ pfn: string | null; channelUri: string | null; status: number | null; updatedAt: Date } | undefined> {
  const row = await db
    .selectFrom('devices')
    .select(['push_pfn', 'push_channel_uri', 'push_status', 'push_updated_at'])
    .where('id', '=', devicePk)
    .executeTakeFirst();
  if (!row || row.push_updated_at === null) return undefined;
  return {
    pfn: row.push_pfn,
    channelUri: row.push_channel_uri,
    status: intFromDb(row.push_status),
    updatedAt: timeFromDb(row.push_updated_at),
  };
}

// -- command queue -------------------------------------------------------------------------------------

/** The origin's fields in a fixed order: equal origins give equal text, whatever their key order. */
function originKey(origin: CommandOrigin): string {
  switch (origin.kind) {
    case 'profile':
      return JSON.stringify(['profile', origin.profileId, origin.setting]);
    case 'action':
      return JSON.stringify(['action', origin.actionId]);
    case 'inventory':
      return JSON.stringify(['inventory']);
    case 'system':
      return JSON.stringify(['system', origin.purpose]);
    default:
      throw new InvalidInputError(`unknown command origin ${JSON.stringify(origin)}`);
  }
}

function originToDb(origin: CommandOrigin): string {
  switch (origin.kind) {
    case 'profile':
      return JSON.stringify({ kind: 'profile', profileId: origin.profileId, setting: origin.setting });
    case 'action':
      return JSON.stringify({ kind: 'action', actionId: origin.actionId });
    case 'inventory':
      return JSON.stringify({ kind: 'inventory' });
    case 'system':
      return JSON.stringify({ kind: 'system', purpose: origin.purpose });
    default:
      throw new InvalidInputError(`unknown command origin ${JSON.stringify(origin)}`);
  }
}

function itemToDb(item: CommandItem): string {
  required(item.locUri, 'command LocURI');
  const out: CommandItem = { locUri: item.locUri };
  if (item.format !== undefined) out.format = item.format;
  if (item.type !== undefined) out.type = item.type;
  if (item.data !== undefined) out.data = item.data;
  return JSON.stringify(out);
}

/** Column values shared by every row of one command (everything but id, seq and device). */
function commandColumns(command: NewCommand, now: string) {
  return {
    user_id: command.userId,
    verb: command.verb,
    loc_uri: command.item.locUri,
    item: itemToDb(command.item),
    origin: originToDb(command.origin),
    origin_key: originKey(command.origin),
    state: 'pending' satisfies CommandState,
    attempts: 0,
    created_at: now,
    updated_at: now,
  };
}

/** SQLite: reserves `count` values of the queue counter; returns the first. Inside the write transaction. */
async function reserveSeq(db: Db, count: number): Promise<number> {
  const row = await db
    .updateTable('command_seq')
    .set((eb) => ({ last: eb('last', '+', count) }))
    .where('id', '=', 1)
    .returning('last')
    .executeTakeFirstOrThrow();
  return Number(row.last) - count + 1;
}

export async function enqueue(db: Db, kind: SqlDialectKind, devicePk: string, commands: NewCommand[], now: Date): Promise<QueuedCommand[]> {
  if (commands.length === 0) return [];
  const at = timeToDb(now);
  const rows = commands.map((c) => ({ id: newId(), device_pk: devicePk, ...commandColumns(c, at) }));
  return db.transaction().execute(async (trx) => {
    const first = kind === 'sqlite' ? await reserveSeq(trx, rows.length) : 0;
    const inserted: Selectable<CommandsTable>[] = [];
    for (const [i, chunk] of chunks(rows).entries()) {
      // PostgreSQL takes seq from the identity column, evaluated row by row in VALUES order.
      const values = kind === 'sqlite' ? chunk.map((r, j) => ({ ...r, seq: first + i * CHUNK + j })) : chunk;
      inserted.push(...(await trx.insertInto('commands').values(values).returningAll().execute()));
    }
    return inserted.map(toCommand).sort((a, b) => a.seq - b.seq);
  });
}

/**
 * One INSERT ... SELECT over the selected devices: ids made by the database, seq from the identity column
 * (PostgreSQL) or the counter plus row_number() (SQLite), then the counter advanced by the row count.
 */
export async function enqueueForDevices(
  db: Db,
  kind: SqlDialectKind,
  selection: { devicePks: string[] } | { allEnrolled: true } | { groupId: string },
  command: NewCommand,
  now: Date,
): Promise<number> {
  if ('devicePks' in selection && selection.devicePks.length === 0) return 0;
  const c = commandColumns(command, timeToDb(now));
  return db.transaction().execute(async (trx) => {
    let devices = trx
      .selectFrom('devices as d')
      .where('d.status', '=', 'enrolled' satisfies DeviceStatus)
      .where('d.retired_at', 'is', null);
    if ('devicePks' in selection) {
      const pks = [...new Set(selection.devicePks)];
      // One bound parameter for any number of devices.
      devices = devices.where(
        kind === 'postgres'
          ? sql<SqlBool>`d.id = any(cast(${pks} as text[]))`
          : sql<SqlBool>`d.id in (select value from json_each(${JSON.stringify(pks)}))`,
      );
    } else if ('groupId' in selection) {
      // Members of the group or of any group nested in it: a user reached through two paths is still
      // one IN match, so each device gets one row.
      devices = devices.where('d.user_id', 'in', usersInGroups([selection.groupId]));
    } else if (selection.allEnrolled !== true) {
      throw new InvalidInputError('unknown device selection');
    }
    const text = (v: string | null) => sql<string>`cast(${v} as text)`;
    const values = [
      'd.id as device_pk',
      text(c.user_id).as('user_id'),
      text(c.verb).as('verb'),
      text(c.loc_uri).as('loc_uri'),
      text(c.item).as('item'),
      text(c.origin).as('origin'),
      text(c.origin_key).as('origin_key'),
      text(c.state).as('state'),
      sql<number>`0`.as('attempts'),
      text(c.created_at).as('created_at'),
      text(c.updated_at).as('updated_at'),
    ] as const;
    const columns = [
      'device_pk',
      'user_id',
      'verb',
      'loc_uri',
      'item',
      'origin',
      'origin_key',
      'state',
      'attempts',
      'created_at',
      'updated_at',
    ] as const;
    const insert =
      kind === 'postgres'
        ? trx
            .insertInto('commands')
            .columns(['id', ...columns])
            .expression(devices.select([sql<string>`gen_random_uuid()::text`.as('id'), ...values]).orderBy('d.id'))
        : trx
            .insertInto('commands')
            .columns(['id', 'seq', ...columns])
            .expression(
              devices
                .select([
                  SQLITE_UUID_V4.as('id'),
                  sql<number>`(select command_seq.last from command_seq where command_seq.id = 1) + row_number() over (order by d.id)`.as(
                    'seq',
                  ),
                  ...values,
                ])
                .orderBy('d.id'),
            );
    const res = await insert.executeTakeFirst();
    const count = Number(res.numInsertedOrUpdatedRows ?? 0n);
    if (kind === 'sqlite' && count > 0) {
      await trx
        .updateTable('command_seq')
        .set((eb) => ({ last: eb('last', '+', count) }))
        .where('id', '=', 1)
        .execute();
    }
    return count;
  });
}

/**
 * `state = 'pending' OR (state = 'sent' AND sent_session <> ?)` on one device, in seq order. The
 * `state IN ('pending', 'sent')` term lets both engines probe the (device_pk, state, seq) index for just
 * the device's open commands (two ranges), never its acknowledged history; that small set is then
 * filtered and sorted.
 */
export async function nextCommands(
  db: Db,
  devicePk: string,
  opts: { sessionKey: string; userId: string | null; limit: number },
): Promise<QueuedCommand[]> {
  const limit = Math.floor(opts.limit);
  if (!(limit > 0)) return [];
  const rows = await db
    .selectFrom('commands')
    .selectAll()
    .where('device_pk', '=', devicePk)
    .where('state', 'in', ['pending', 'sent'])
    .where((eb) => eb.or([eb('state', '=', 'pending'), eb('sent_session', '<>', opts.sessionKey)]))
    .where((eb) => (opts.userId === null ? eb('user_id', 'is', null) : eb.or([eb('user_id', 'is', null), eb('user_id', '=', opts.userId)])))
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map(toCommand);
}

/** Only pending or sent commands change: a command canceled meanwhile stays canceled. */
export async function markSent(db: Db, ids: string[], sessionKey: string, msgId: number, now: Date): Promise<void> {
  if (ids.length === 0) return;
  const at = timeToDb(now);
  const unique = [...new Set(ids)];
  await db.transaction().execute(async (trx) => {
    for (const chunk of chunks(unique)) {
      await trx
        .updateTable('commands')
        .set((eb) => ({
          state: 'sent' satisfies CommandState,
          sent_session: sessionKey,
          sent_msg_id: msgId,
          attempts: eb('attempts', '+', 1),
          updated_at: at,
        }))
        .where('id', 'in', chunk)
        .where('state', 'in', ['pending', 'sent'])
        .execute();
    }
  });
}

/** The `state = 'sent'` guard is in the UPDATE itself, so of two concurrent acknowledgements one wins. */
export async function recordStatus(
  db: Db,
  devicePk: string,
  commandId: string,
  status: number,
  now: Date,
): Promise<QueuedCommand | undefined> {
  const state: CommandState = status >= 200 && status < 300 ? 'acknowledged' : 'failed';
  const row = await db
    .updateTable('commands')
    .set({ state, status, updated_at: timeToDb(now) })
    .where('id', '=', commandId)
    .where('device_pk', '=', devicePk)
    .where('state', '=', 'sent')
    .returningAll()
    .executeTakeFirst();
  return row && toCommand(row);
}

/** Replaces the stored results (a resent Get reports them again in full). */
export async function recordResults(db: Db, devicePk: string, commandId: string, results: CommandResults, now: Date): Promise<void> {
  const items = results.map((r) => {
    const out: CommandResults[number] = { locUri: r.locUri, data: r.data };
    if (r.format !== undefined) out.format = r.format;
    return out;
  });
  await db
    .updateTable('commands')
    .set({ results: JSON.stringify(items), updated_at: timeToDb(now) })
    .where('id', '=', commandId)
    .where('device_pk', '=', devicePk)
    .execute();
}

export async function getCommand(db: Db, commandId: string): Promise<QueuedCommand | undefined> {
  const row = await db.selectFrom('commands').selectAll().where('id', '=', commandId).executeTakeFirst();
  return row && toCommand(row);
}

/** Newest first (seq descending), at most `limit` when given. */
export async function listCommands(db: Db, devicePk: string, opts: { limit?: number } = {}): Promise<QueuedCommand[]> {
  let q = db.selectFrom('commands').selectAll().where('device_pk', '=', devicePk).orderBy('seq', 'desc');
  if (opts.limit !== undefined) {
    const limit = Math.floor(opts.limit);
    if (!(limit > 0)) return [];
    q = q.limit(limit);
  }
  return (await q.execute()).map(toCommand);
}

export async function cancelPending(
  db: Db,
  devicePk: string,
  match: { origin: CommandOrigin } | { locUri: string; userId: string | null },
  now: Date,
): Promise<number> {
  let q = db
    .updateTable('commands')
    .set({ state: 'canceled' satisfies CommandState, updated_at: timeToDb(now) })
    .where('device_pk', '=', devicePk)
    .where('state', '=', 'pending');
  if ('origin' in match) {
    q = q.where('origin_key', '=', originKey(match.origin));
  } else {
    q = q.where('loc_uri', '=', match.locUri).where('user_id', match.userId === null ? 'is' : '=', match.userId);
  }
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function cancelCommands(db: Db, devicePk: string, ids: string[], now: Date): Promise<number> {
  if (ids.length === 0) return 0;
  const res = await db
    .updateTable('commands')
    .set({ state: 'canceled' satisfies CommandState, updated_at: timeToDb(now) })
    .where('device_pk', '=', devicePk)
    .where('state', '=', 'pending')
    .where('id', 'in', ids)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function pruneTerminal(db: Db, before: Date): Promise<number> {
  const res = await db
    .deleteFrom('commands')
    .where('state', 'in', TERMINAL)
    .where('updated_at', '<', timeToDb(before))
    // App installs and uninstalls are the record of what Winroll put on a device and why (core/apps/lifecycle):
    // pruning them would forget to uninstall a required app on unassign. A few per app and device, so kept.
    .where('origin_key', 'not like', '["action","install-%')
    .where('origin_key', 'not like', '["action","uninstall-%')
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

// -- groups --------------------------------------------------------------------------------------------

export async function addGroup(db: Db, input: { name: string; now: Date }): Promise<Group> {
  const row: GroupsTable = { id: newId(), name: required(input.name, 'group name').trim(), created_at: timeToDb(input.now) };
  await db.insertInto('groups').values(row).execute();
  return toGroup(row);
}

export async function getGroupByName(db: Db, name: string): Promise<Group | undefined> {
  const row = await db.selectFrom('groups').selectAll().where('name', '=', name.trim()).executeTakeFirst();
  return row && toGroup(row);
}

export async function listGroups(db: Db): Promise<Group[]> {
  return (await db.selectFrom('groups').selectAll().orderBy('name').execute()).map(toGroup);
}

export async function addGroupMember(db: Db, groupId: string, userId: string): Promise<void> {
  await db
    .insertInto('group_members')
    .values({ group_id: groupId, user_id: required(userId, 'user id') })
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
    .execute();
}

export async function removeGroupMember(db: Db, groupId: string, userId: string): Promise<void> {
  await db.deleteFrom('group_members').where('group_id', '=', groupId).where('user_id', '=', userId).execute();
}

export async function listGroupMembers(db: Db, groupId: string): Promise<string[]> {
  const rows = await db.selectFrom('group_members').select('user_id').where('group_id', '=', groupId).orderBy('user_id').execute();
  return rows.map((r) => r.user_id);
}

// -- profiles and assignments --------------------------------------------------------------------------

/** Settings in a fixed key order, so that equal settings are equal text and a change is a text change. */
function settingsToDb(settings: ProfileSetting[]): string {
  return JSON.stringify(settings.map((s) => ({ path: s.path, format: s.format, value: s.value })));
}

/**
 * One upsert by name: inserted at version 1, or updated with the version increased only when the scope
 * or the settings text differ (evaluated against the stored row in the same statement, so concurrent
 * saves cannot both miss a change).
 */
export async function saveProfile(
  db: Db,
  input: {
    name: string;
    scope: ProfileScope;
    settings: ProfileSetting[];
    type?: ProfileType;
    definition?: Record<string, unknown> | null;
    now: Date;
  },
): Promise<Profile> {
  if (input.scope !== 'device' && input.scope !== 'user') throw new InvalidInputError(`unknown profile scope ${String(input.scope)}`);
  const at = timeToDb(input.now);
  const row = await db
    .insertInto('profiles')
    .values({
      id: newId(),
      name: required(input.name, 'profile name').trim(),
      scope: input.scope,
      settings: settingsToDb(input.settings),
      profile_type: input.type ?? 'custom',
      definition: input.definition ? JSON.stringify(input.definition) : null,
      version: 1,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet((eb) => {
        const changed = eb.or([
          eb('profiles.scope', '<>', eb.ref('excluded.scope')),
          eb('profiles.settings', '<>', eb.ref('excluded.settings')),
        ]);
        return {
          scope: eb.ref('excluded.scope'),
          settings: eb.ref('excluded.settings'),
          profile_type: eb.ref('excluded.profile_type'),
          definition: eb.ref('excluded.definition'),
          version: eb
            .case()
            .when(changed)
            .then(eb('profiles.version', '+', 1))
            .else(eb.ref('profiles.version'))
            .end(),
          updated_at: eb.case().when(changed).then(eb.ref('excluded.updated_at')).else(eb.ref('profiles.updated_at')).end(),
        };
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toProfile(row);
}

export async function getProfileByName(db: Db, name: string): Promise<Profile | undefined> {
  const row = await db.selectFrom('profiles').selectAll().where('name', '=', name.trim()).executeTakeFirst();
  return row && toProfile(row);
}

export async function getProfile(db: Db, id: string): Promise<Profile | undefined> {
  const row = await db.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toProfile(row);
}

export async function listProfiles(db: Db): Promise<Profile[]> {
  return (await db.selectFrom('profiles').selectAll().orderBy('name').execute()).map(toProfile);
}

/** Assignments go by cascade. */
export async function deleteProfile(db: Db, id: string): Promise<void> {
  await db.deleteFrom('profiles').where('id', '=', id).execute();
}

function targetColumns(target: AssignmentTarget) {
  if (target.kind === 'group') {
    return { target_kind: 'group', target_ref: required(target.groupId, 'group id'), group_id: target.groupId, device_pk: null };
  }
  if (target.kind === 'device') {
    return { target_kind: 'device', target_ref: required(target.devicePk, 'device'), group_id: null, device_pk: target.devicePk };
  }
  throw new InvalidInputError(`unknown assignment target ${JSON.stringify(target)}`);
}

export async function assignProfile(
  db: Db,
  profileId: string,
  target: AssignmentTarget,
  now: Date,
  intent: ProfileIntent = 'required',
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('profile_assignments')
      .values({ profile_id: profileId, ...targetColumns(target), created_at: timeToDb(now), intent })
      .onConflict((oc) => oc.columns(['profile_id', 'target_kind', 'target_ref']).doUpdateSet({ intent }))
      .execute();
    await forgetUnofferedInstallRequests(trx, profileId);
  });
}

export async function unassignProfile(db: Db, profileId: string, target: AssignmentTarget): Promise<void> {
  const t = targetColumns(target);
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('profile_assignments')
      .where('profile_id', '=', profileId)
      .where('target_kind', '=', t.target_kind)
      .where('target_ref', '=', t.target_ref)
      .execute();
    await forgetUnofferedInstallRequests(trx, profileId);
  });
}

/**
 * Once a profile is offered as available nowhere, the portal installs of it are forgotten: offering it again
 * later must not reach devices whose users asked for it under an earlier assignment.
 */
async function forgetUnofferedInstallRequests(db: Db, profileId: string): Promise<void> {
  const offered = await db
    .selectFrom('profile_assignments')
    .select('profile_id')
    .where('profile_id', '=', profileId)
    .where('intent', '=', 'available')
    .executeTakeFirst();
  if (!offered) await db.deleteFrom('profile_install_requests').where('profile_id', '=', profileId).execute();
}

export async function listAssignments(db: Db, profileId: string): Promise<AssignmentTarget[]> {
  const rows = await db
    .selectFrom('profile_assignments')
    .select(['target_kind', 'target_ref'])
    .where('profile_id', '=', profileId)
    .orderBy('created_at')
    .orderBy('target_kind')
    .orderBy('target_ref')
    .execute();
  return rows.map((r) =>
    r.target_kind === 'group' ? { kind: 'group', groupId: r.target_ref } : { kind: 'device', devicePk: r.target_ref },
  );
}

/**
 * Two queries: the device's direct assignments (device-scope profiles for the device, user-scope ones for
 * each of `userIds`), and group assignments reached through a member who is the device's primary user
 * (device scope; none on a shared device) or one of `userIds` (user scope, for that user). Membership is transitive: a group
 * nested (at any depth) in an assigned group passes the assignment on to its members. Sorted by profile
 * name, then user (device scope first); each (profile, user) once.
 */
export async function profilesForDevice(
  db: Db,
  devicePk: string,
  userIds: string[],
): Promise<Array<{ profile: Profile; forUserId: string | null }>> {
  const users = [...new Set(userIds)];
  const direct = await db
    .selectFrom('profile_assignments as a')
    .innerJoin('profiles as p', 'p.id', 'a.profile_id')
    .selectAll('p')
    .select('a.intent')
    .where('a.target_kind', '=', 'device')
    .where('a.device_pk', '=', devicePk)
    .execute();
  // The users whose groups matter: the device's primary user (device scope; a shared device has none and is
  // reached through the account that enrolled it, the package or DEM account of a bulk enrollment) and the
  // signed-in users (user scope).
  const primaryUser = db
    .selectFrom('devices as du')
    .select((eb) => eb.fn.coalesce('du.primary_user_id', 'du.user_id').as('primary_user_id'))
    .where('du.id', '=', devicePk);
  const members = groupsOfUsers([primaryUser, ...users]);
  const viaGroups = await db
    .selectFrom('profile_assignments as a')
    .innerJoin(members.as('m'), 'm.group_id', 'a.group_id')
    .innerJoin('profiles as p', 'p.id', 'a.profile_id')
    // The device itself (one row, or none for an unknown device): its primary user.
    .innerJoin('devices as d', (join) => join.on('d.id', '=', devicePk))
    .selectAll('p')
    .select(['m.user_id as member', 'a.intent'])
    .where('a.target_kind', '=', 'group')
    .where((eb) => {
      const deviceScope = eb.and([eb('p.scope', '=', 'device'), eb('m.user_id', '=', eb.fn.coalesce('d.primary_user_id', 'd.user_id'))]);
      return users.length === 0 ? deviceScope : eb.or([deviceScope, eb.and([eb('p.scope', '=', 'user'), eb('m.user_id', 'in', users)])]);
    })
    .execute();

  // Available assignments count only where the install was requested on this device (user scope: by that user).
  const requested = new Map(
    (await db.selectFrom('profile_install_requests').select(['profile_id', 'user_id']).where('device_pk', '=', devicePk).execute()).map(
      (r) => [r.profile_id, r.user_id],
    ),
  );
  const wanted = (row: { id: string; intent: string }, forUserId: string | null) =>
    row.intent !== 'available' || (requested.has(row.id) && (forUserId === null || requested.get(row.id) === forUserId));
  const out = new Map<string, { profile: Profile; forUserId: string | null }>();
  const add = ({ intent, ...row }: Selectable<ProfilesTable> & { intent: string }, forUserId: string | null) => {
    const key = `${row.id}\u0000${forUserId ?? ''}`;
    if (!out.has(key) && wanted({ id: row.id, intent }, forUserId)) out.set(key, { profile: toProfile(row), forUserId });
  };
  for (const row of direct) {
    if (row.scope === 'device') add(row, null);
    else for (const u of users) add(row, u);
  }
  for (const { member, ...row } of viaGroups) add(row, row.scope === 'device' ? null : member);
  return [...out.values()].sort(
    (a, b) => cmp(a.profile.name, b.profile.name) || cmp(a.profile.id, b.profile.id) || cmp(a.forUserId ?? '', b.forUserId ?? ''),
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Enrolled, not retired devices the profile reaches: assigned directly, or whose primary user or enrolling
 * user is a member of an assigned group or of a group nested in one (at any depth); the enrolling user is
 * kept so a device whose primary user moved still gets its removals. Sorted by device pk.
 */
export async function devicesForProfile(db: Db, profileId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('devices as d')
    .select('d.id')
    .where('d.status', '=', 'enrolled' satisfies DeviceStatus)
    .where('d.retired_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb(
          'd.id',
          'in',
          eb
            .selectFrom('profile_assignments as a')
            .select('a.target_ref')
            .where('a.profile_id', '=', profileId)
            .where('a.target_kind', '=', 'device'),
        ),
        eb(
          'd.user_id',
          'in',
          usersInGroups(
            eb
              .selectFrom('profile_assignments as a')
              .select('a.group_id')
              .where('a.profile_id', '=', profileId)
              .where('a.target_kind', '=', 'group'),
          ),
        ),
        eb(
          'd.primary_user_id',
          'in',
          usersInGroups(
            eb
              .selectFrom('profile_assignments as a')
              .select('a.group_id')
              .where('a.profile_id', '=', profileId)
              .where('a.target_kind', '=', 'group'),
          ),
        ),
      ]),
    )
    .orderBy('d.id')
    .execute();
  return rows.map((r) => r.id);
}

// -- applied settings ----------------------------------------------------------------------------------

export async function listApplied(db: Db, devicePk: string): Promise<AppliedSetting[]> {
  const rows = await db
    .selectFrom('applied_settings')
    .selectAll()
    .where('device_pk', '=', devicePk)
    .orderBy('user_key')
    .orderBy('loc_uri')
    .execute();
  return rows.map(toApplied);
}

/** Upsert on (device, user_key, loc_uri); user_key is '' for device scope so those rows dedupe too. */
export async function recordApplied(db: Db, setting: AppliedSetting): Promise<void> {
  const row: AppliedSettingsTable = {
    device_pk: setting.devicePk,
    user_key: setting.userId ?? '',
    user_id: setting.userId,
    loc_uri: required(setting.locUri, 'LocURI'),
    format: setting.format,
    value: setting.value,
    profile_id: setting.profileId,
    applied_at: timeToDb(setting.appliedAt),
  };
  await db
    .insertInto('applied_settings')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['device_pk', 'user_key', 'loc_uri']).doUpdateSet((eb) => ({
        format: eb.ref('excluded.format'),
        value: eb.ref('excluded.value'),
        profile_id: eb.ref('excluded.profile_id'),
        applied_at: eb.ref('excluded.applied_at'),
      })),
    )
    .execute();
}

export async function removeApplied(db: Db, devicePk: string, userId: string | null, locUri: string): Promise<void> {
  await db
    .deleteFrom('applied_settings')
    .where('device_pk', '=', devicePk)
    .where('user_key', '=', userId ?? '')
    .where('loc_uri', '=', locUri)
    .execute();
}

// -- row mapping ---------------------------------------------------------------------------------------

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function inventoryFromDb(text: string | null): DeviceInventory | null {
  const v = parseJson(text);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as DeviceInventory) : null;
}

function toCommand(row: Selectable<CommandsTable>): QueuedCommand {
  const results = parseJson(row.results);
  return {
    id: row.id,
    seq: Number(row.seq),
    devicePk: row.device_pk,
    verb: row.verb as QueuedCommand['verb'],
    item: parseJson(row.item) as CommandItem,
    userId: row.user_id,
    origin: parseJson(row.origin) as CommandOrigin,
    state: row.state as CommandState,
    sentSession: row.sent_session,
    sentMsgId: intFromDb(row.sent_msg_id),
    attempts: Number(row.attempts),
    status: intFromDb(row.status),
    results: Array.isArray(results) ? (results as CommandResults) : null,
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
}

function toGroup(row: Selectable<GroupsTable>): Group {
  return { id: row.id, name: row.name, createdAt: timeFromDb(row.created_at) };
}

export function toProfile(row: Selectable<ProfilesTable>): Profile {
  const settings = parseJson(row.settings);
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as ProfileScope,
    settings: Array.isArray(settings) ? (settings as ProfileSetting[]) : [],
    type: row.profile_type === 'wip' ? 'wip' : 'custom',
    definition: row.definition === null ? null : (parseJson(row.definition) as Record<string, unknown> | null),
    version: Number(row.version),
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
}

function toApplied(row: Selectable<AppliedSettingsTable>): AppliedSetting {
  return {
    devicePk: row.device_pk,
    userId: row.user_id,
    locUri: row.loc_uri,
    format: row.format,
    value: row.value,
    profileId: row.profile_id,
    appliedAt: timeFromDb(row.applied_at),
  };
}
