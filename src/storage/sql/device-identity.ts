/**
 * One record per physical device (S16): which record an enrollment belongs to, folding a record into
 * another once inventory proves they are one machine, and the device history. Free functions over a
 * Kysely handle or transaction; SqlStorage calls them inside its transactions.
 *
 * The rule (see EnrollmentStore.recordEnrollment and DeviceStateStore.updateInventory in core):
 * - at enrollment, the same DeviceID or the same Entra device id is the same record;
 * - a HWDevID alone is not enough (a cloned image shares it: Fleet's takeover by HWDevID, peers.md), so a
 *   new DeviceID with a known HWDevID gets its own record and the cloned-image warning;
 * - when the newer record's inventory shows the serial number of an older record that shares its HWDevID
 *   (or Entra device id), the older one was this machine before a reset or re-join: it is folded into the
 *   newer one. An older record that reports the serial of a newer one is left alone: both are alive.
 */
import { type Kysely, type Transaction, sql } from 'kysely';
import type { DeviceHistory, DeviceMerge } from '../../core/ports.js';
import { timeFromDb, timeToDb } from './codecs.js';
import { newId } from './ids.js';
import type { SqlDialectKind } from './migrations/index.js';
import { selectDevices, toEnrollment, withWarnings } from './rows.js';
import type { Database } from './schema.js';

type Db = Kysely<Database>;
type Trx = Transaction<Database>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Serials firmware ships unset: they say nothing about identity. */
const PLACEHOLDER_SERIALS = new Set([
  'TO BE FILLED BY O.E.M.',
  'TO BE FILLED BY OEM',
  'DEFAULT STRING',
  'SYSTEM SERIAL NUMBER',
  'NOT SPECIFIED',
  'NOT APPLICABLE',
  'NONE',
  'N/A',
  'NA',
  'INVALID',
  'UNKNOWN',
  'OEM',
  '0',
  '00000000',
  '0123456789',
  '123456789',
  '1234567890',
  'SERIAL',
  'CHASSIS SERIAL NUMBER',
]);

/** Upper-case, trimmed; null for an empty or placeholder serial (never a match key). */
export function normalizeSerial(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const s = raw.trim().toUpperCase().slice(0, 128);
  if (s.length < 3 || PLACEHOLDER_SERIALS.has(s) || /^0+$/.test(s) || /^[\s.\-_]+$/.test(s)) return null;
  return s;
}

/** A lower-case GUID without braces, or null. */
export function normalizeEntraDeviceId(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const g = raw
    .trim()
    .toLowerCase()
    .replace(/^\{|\}$/g, '');
  return GUID.test(g) && g !== '00000000-0000-0000-0000-000000000000' ? g : null;
}

/**
 * At enrollment, before the upsert by DeviceID: when no record has this DeviceID but one has this Entra
 * device id (a re-join under a new DeviceID), that record takes the new DeviceID, so the upsert lands on it.
 * Returns whether it did.
 */
export async function adoptByEntraDeviceId(trx: Trx, deviceId: string, entraDeviceId: string | null): Promise<boolean> {
  if (entraDeviceId === null) return false;
  const same = await trx.selectFrom('devices').select('id').where('device_id', '=', deviceId).executeTakeFirst();
  if (same) return false;
  const known = await trx
    .selectFrom('devices')
    .select(['id'])
    .where('entra_device_id', '=', entraDeviceId)
    .orderBy('last_enrolled_at', 'desc')
    .orderBy('id')
    .executeTakeFirst();
  if (!known) return false;
  await trx.updateTable('devices').set({ device_id: deviceId }).where('id', '=', known.id).execute();
  return true;
}

/**
 * After inventory was merged into the record: copy its serial and Entra device id into their columns and
 * fold older records of the same machine into it. Returns the DeviceIDs folded in.
 */
export async function reconcileAfterInventory(trx: Trx, kind: SqlDialectKind, devicePk: string, now: Date): Promise<string[]> {
  const row = await trx
    .selectFrom('devices')
    .select(['id', 'device_id', 'inventory', 'serial_number', 'entra_device_id', 'last_enrolled_at'])
    .where('id', '=', devicePk)
    .executeTakeFirst();
  if (!row) return [];
  let inv: Record<string, unknown> = {};
  try {
    inv = row.inventory ? (JSON.parse(row.inventory) as Record<string, unknown>) : {};
  } catch {
    inv = {};
  }
  const serial = normalizeSerial(inv.serialNumber) ?? row.serial_number;
  // The DMClient AADDeviceID node, under whichever name inventory keeps it.
  const entraId = normalizeEntraDeviceId(inv.aadDeviceId ?? inv.entraDeviceId) ?? row.entra_device_id;
  if (serial !== row.serial_number || entraId !== row.entra_device_id) {
    await trx.updateTable('devices').set({ serial_number: serial, entra_device_id: entraId }).where('id', '=', devicePk).execute();
  }
  if (serial === null) return [];
  if (kind === 'postgres') {
    // Two records of one machine reporting at once must not fold into each other.
    await sql`select pg_advisory_xact_lock(${sql.lit(SERIAL_LOCK_NS)}, hashtext(${serial}))`.execute(trx);
  }
  const hwIds = (await trx.selectFrom('device_hwdevids').select('hw_dev_id').where('device_pk', '=', devicePk).execute()).map(
    (r) => r.hw_dev_id,
  );
  const others = await trx
    .selectFrom('devices')
    .select(['id', 'device_id', 'entra_device_id', 'last_enrolled_at'])
    .where('serial_number', '=', serial)
    .where('id', '<>', devicePk)
    .orderBy('last_enrolled_at')
    .orderBy('id')
    .execute();
  const merged: string[] = [];
  for (const other of others) {
    // The reporting record must hold the newer enrollment: an older record reporting the serial of a newer
    // one is a second live install (dual boot, a copied serial), not a leftover.
    if (other.last_enrolled_at >= row.last_enrolled_at) continue;
    let because: string | undefined;
    if (entraId !== null && other.entra_device_id === entraId) {
      because = `same serial number ${serial} and Entra device id ${entraId}`;
    } else if (hwIds.length > 0) {
      const shared = await trx
        .selectFrom('device_hwdevids')
        .select('hw_dev_id')
        .where('device_pk', '=', other.id)
        .where('hw_dev_id', 'in', hwIds)
        .executeTakeFirst();
      if (shared) because = `same serial number ${serial} and hardware id ${shared.hw_dev_id}`;
    }
    if (!because) continue;
    await foldInto(trx, devicePk, other.id, because, now);
    merged.push(other.device_id);
  }
  return merged;
}

/** Moves everything of record `gonePk` onto `survivorPk`, then removes it. */
async function foldInto(trx: Trx, survivorPk: string, gonePk: string, reason: string, now: Date): Promise<void> {
  const at = timeToDb(now);
  const gone = await trx.selectFrom('devices').selectAll().where('id', '=', gonePk).executeTakeFirstOrThrow();
  const survivor = await trx.selectFrom('devices').selectAll().where('id', '=', survivorPk).executeTakeFirstOrThrow();

  // Enrollments: the old install's certificate stops working (the machine runs the new one now).
  await trx
    .updateTable('enrollments')
    .set({ status: 'superseded', superseded_at: at, revoked_at: at })
    .where('device_pk', '=', gonePk)
    .where('status', '=', 'active')
    .execute();
  await trx.updateTable('enrollments').set({ device_pk: survivorPk }).where('device_pk', '=', gonePk).execute();

  // Hardware ids: one sighting per id, spanning both records.
  for (const h of await trx.selectFrom('device_hwdevids').selectAll().where('device_pk', '=', gonePk).execute()) {
    const mine = await trx
      .selectFrom('device_hwdevids')
      .selectAll()
      .where('device_pk', '=', survivorPk)
      .where('hw_dev_id', '=', h.hw_dev_id)
      .executeTakeFirst();
    if (!mine) {
      await trx
        .insertInto('device_hwdevids')
        .values({ ...h, device_pk: survivorPk })
        .execute();
    } else {
      await trx
        .updateTable('device_hwdevids')
        .set({
          first_seen_at: earlier(h.first_seen_at, mine.first_seen_at),
          last_seen_at: later(h.last_seen_at, mine.last_seen_at),
        })
        .where('device_pk', '=', survivorPk)
        .where('hw_dev_id', '=', h.hw_dev_id)
        .execute();
    }
  }

  // Warnings: the two were one machine, so warnings between them go; every other record's warning about
  // the folded DeviceID goes too (it now points at no record); the folded record's other warnings move.
  await trx.deleteFrom('device_warnings').where('subject', 'like', `%:${gone.device_id}`).execute();
  for (const w of await trx.selectFrom('device_warnings').selectAll().where('device_pk', '=', gonePk).execute()) {
    if (w.subject.endsWith(`:${survivor.device_id}`)) continue;
    await trx
      .insertInto('device_warnings')
      .values({ ...w, id: newId(), device_pk: survivorPk })
      .onConflict((oc) => oc.columns(['device_pk', 'kind', 'subject']).doNothing())
      .execute();
  }

  // Commands: the old install will never answer the open ones; the rest is history.
  await trx
    .updateTable('commands')
    .set({ state: 'canceled', updated_at: at })
    .where('device_pk', '=', gonePk)
    .where('state', 'in', ['pending', 'sent'])
    .execute();
  await trx.updateTable('commands').set({ device_pk: survivorPk }).where('device_pk', '=', gonePk).execute();
  // App install results follow their commands.
  await sql`update app_results set device_pk = ${survivorPk} where device_pk = ${gonePk}`.execute(trx);

  // Profiles assigned to the machine stay assigned; what the old install had applied is gone with it.
  for (const a of await trx
    .selectFrom('profile_assignments')
    .selectAll()
    .where('target_kind', '=', 'device')
    .where('device_pk', '=', gonePk)
    .execute()) {
    await trx
      .insertInto('profile_assignments')
      .values({ ...a, target_ref: survivorPk, device_pk: survivorPk })
      .onConflict((oc) => oc.columns(['profile_id', 'target_kind', 'target_ref']).doNothing())
      .execute();
  }

  // Users who signed in to it (device_users) and app-protection registrations (mam_registrations) move.
  await sql`
    insert into device_users (device_pk, user_id, first_seen_at, last_seen_at)
    select ${survivorPk}, user_id, first_seen_at, last_seen_at from device_users where device_pk = ${gonePk}
    on conflict (device_pk, user_id) do nothing`.execute(trx);
  await sql`update mam_registrations set device_pk = ${survivorPk} where device_pk = ${gonePk}`.execute(trx);
  // Available profiles installed from the Company Portal stay requested on the machine (the survivor's own request wins).
  await sql`
    insert into profile_install_requests (device_pk, profile_id, user_id, requested_at)
    select ${survivorPk}, profile_id, user_id, requested_at from profile_install_requests where device_pk = ${gonePk}
    on conflict (device_pk, profile_id) do nothing`.execute(trx);

  // Earlier folds of the gone record, and this one.
  await trx.updateTable('device_merges').set({ device_pk: survivorPk }).where('device_pk', '=', gonePk).execute();
  await trx
    .insertInto('device_merges')
    .values({
      id: newId(),
      device_pk: survivorPk,
      merged_device_id: gone.device_id,
      merged_first_enrolled_at: gone.first_enrolled_at,
      reason,
      merged_at: at,
    })
    .execute();

  // The machine's facts: first enrolled when the older record was; ownership is the asset's (an admin may
  // have corrected it on the older record), unless the new enrollment made it corporate.
  const keepOld = survivor.ownership !== 'corporate';
  await trx
    .updateTable('devices')
    .set({
      first_enrolled_at: earlier(gone.first_enrolled_at, survivor.first_enrolled_at),
      entra_device_id: survivor.entra_device_id ?? gone.entra_device_id,
      primary_user_id: survivor.primary_user_id ?? gone.primary_user_id,
      ...(keepOld ? { ownership: gone.ownership, ownership_rule: gone.ownership_rule } : {}),
    })
    .where('id', '=', survivorPk)
    .execute();
  await trx.deleteFrom('devices').where('id', '=', gonePk).execute();
}

/** The record with this DeviceID, or the one an earlier DeviceID (an enrollment's, a folded record's) now belongs to. */
async function findDevicePk(db: Db, deviceId: string): Promise<string | undefined> {
  const id = deviceId.toUpperCase();
  const direct = await db.selectFrom('devices').select('id').where('device_id', '=', id).executeTakeFirst();
  if (direct) return direct.id;
  const viaEnrollment = await db
    .selectFrom('enrollments')
    .select('device_pk')
    .where('device_id', '=', id)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  if (viaEnrollment) return viaEnrollment.device_pk;
  const viaMerge = await db.selectFrom('device_merges').select('device_pk').where('merged_device_id', '=', id).executeTakeFirst();
  return viaMerge?.device_pk;
}

export async function deviceHistory(db: Db, deviceId: string): Promise<DeviceHistory | undefined> {
  const pk = await findDevicePk(db, deviceId);
  if (!pk) return undefined;
  const row = await selectDevices(db).where('d.id', '=', pk).executeTakeFirst();
  if (!row) return undefined;
  const [device] = await withWarnings(db, [row]);
  if (!device) return undefined;
  const enrollments = (
    await db.selectFrom('enrollments').selectAll().where('device_pk', '=', pk).orderBy('created_at').orderBy('id').execute()
  ).map(toEnrollment);
  const hw = await db
    .selectFrom('device_hwdevids')
    .selectAll()
    .where('device_pk', '=', pk)
    .orderBy('first_seen_at')
    .orderBy('hw_dev_id')
    .execute();
  const merges: DeviceMerge[] = (
    await db.selectFrom('device_merges').selectAll().where('device_pk', '=', pk).orderBy('merged_at').orderBy('id').execute()
  ).map((m) => ({
    mergedDeviceId: m.merged_device_id,
    mergedFirstEnrolledAt: timeFromDb(m.merged_first_enrolled_at),
    reason: m.reason,
    mergedAt: timeFromDb(m.merged_at),
  }));
  const deviceIds: string[] = [];
  for (const id of [...enrollments.map((e) => e.deviceId), ...merges.map((m) => m.mergedDeviceId), device.deviceId]) {
    if (!deviceIds.includes(id)) deviceIds.push(id);
  }
  // The current DeviceID last, whatever order the enrollments put it in.
  deviceIds.splice(deviceIds.indexOf(device.deviceId), 1);
  deviceIds.push(device.deviceId);
  return {
    device,
    enrollments,
    deviceIds,
    hwDevIds: hw.map((h) => ({ hwDevId: h.hw_dev_id, firstSeenAt: timeFromDb(h.first_seen_at), lastSeenAt: timeFromDb(h.last_seen_at) })),
    merges,
  };
}

/** ISO-8601 UTC text compares as time. */
const earlier = (a: string, b: string) => (a <= b ? a : b);
const later = (a: string, b: string) => (a >= b ? a : b);

/** Advisory-lock namespace for serial numbers (PostgreSQL), apart from the HWDevID one. */
const SERIAL_LOCK_NS = 0x57_52_53_4e; // "WRSN"
