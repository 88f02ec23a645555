/**
 * The admin console's device list and dashboard counts. The list pages by DeviceID (keyset: `device_id > ?`
 * on its unique index, never OFFSET), so page 5,000 of 100,000 devices costs what page 1 does; filters are
 * plain predicates on indexed columns (migration 0015) and the search is a prefix or substring match.
 */
import { type Kysely, sql } from 'kysely';
import type { DashboardCounts, DeviceQuery, DeviceSummary } from '../../core/admin/ports.js';
import type { ComplianceState } from '../../core/compliance/ports.js';
import type { Ownership } from '../../core/management/ports.js';
import { timeFromDbOrNull, timeToDb } from './codecs.js';
import { selectDevices, withWarnings } from './rows.js';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

/** LIKE pattern for a literal substring (escaping the wildcards) with `\` as the escape character. */
function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function listDevicesPage(db: Db, q: DeviceQuery): Promise<DeviceSummary[]> {
  let query = selectDevices(db).leftJoin('device_compliance as dc', 'dc.device_pk', 'd.id').select(['dc.state as compliance_state']);
  if (q.status !== undefined) query = query.where('d.status', '=', q.status);
  if (q.ownership !== undefined) query = query.where('d.ownership', '=', q.ownership);
  if (q.upn !== undefined) query = query.where('d.upn', '=', q.upn.toLowerCase());
  if (q.managementMode !== undefined) query = query.where('d.management_mode', '=', q.managementMode);
  if (q.osVersionAtLeast !== undefined) query = query.where('d.os_version', '>=', q.osVersionAtLeast);
  if (q.osVersionBelow !== undefined) query = query.where('d.os_version', '<', q.osVersionBelow);
  if (q.checkedInSince !== undefined) query = query.where('d.last_check_in_at', '>=', timeToDb(q.checkedInSince));
  if (q.notCheckedInSince !== undefined) {
    const before = timeToDb(q.notCheckedInSince);
    query = query.where((eb) => eb.or([eb('d.last_check_in_at', 'is', null), eb('d.last_check_in_at', '<', before)]));
  }
  if (q.compliance !== undefined) {
    const state = q.compliance;
    query =
      state === 'unknown'
        ? query.where((eb) => eb.or([eb('dc.state', 'is', null), eb('dc.state', '=', 'unknown')]))
        : query.where('dc.state', '=', state);
  }
  const search = q.search?.trim();
  if (search) {
    const upper = `${likeEscape(search.toUpperCase())}%`;
    const anywhere = `%${likeEscape(search.toLowerCase())}%`;
    query = query.where((eb) =>
      eb.or([
        eb('d.device_id', 'like', sql<string>`${upper} escape '\\'`),
        eb('d.serial_number', 'like', sql<string>`${upper} escape '\\'`),
        eb(sql`lower(d.device_name)`, 'like', sql<string>`${anywhere} escape '\\'`),
        eb('d.upn', 'like', sql<string>`${anywhere} escape '\\'`),
        eb('pu.upn', 'like', sql<string>`${anywhere} escape '\\'`),
      ]),
    );
  }
  if (q.afterDeviceId !== undefined) query = query.where('d.device_id', '>', q.afterDeviceId.toUpperCase());
  const rows = await query.orderBy('d.device_id').limit(q.limit).execute();
  const devices = await withWarnings(db, rows);
  return rows.map((row, i) => ({
    // withWarnings keeps the order of its input.
    device: devices[i] as DeviceSummary['device'],
    ownership: row.ownership as Ownership,
    lastCheckInAt: timeFromDbOrNull(row.last_check_in_at),
    retiredAt: timeFromDbOrNull(row.retired_at),
    compliance: (row.compliance_state as ComplianceState | null) ?? null,
  }));
}

const HOUR_MS = 3_600_000;

export async function dashboardCounts(db: Db, since: Date, now: Date): Promise<DashboardCounts> {
  const byKind = await db
    .selectFrom('devices')
    .select(['status', 'ownership', 'management_mode', (eb) => eb.fn.countAll<string | number>().as('n')])
    .groupBy(['status', 'ownership', 'management_mode'])
    .execute();
  const devices = { total: 0, corporate: 0, personal: 0, mdm: 0, mam: 0, unenrolled: 0 };
  for (const r of byKind) {
    const n = Number(r.n);
    if (r.status !== 'enrolled') {
      devices.unenrolled += n;
      continue;
    }
    devices.total += n;
    if (r.ownership === 'corporate') devices.corporate += n;
    else devices.personal += n;
    if (r.management_mode === 'mam') devices.mam += n;
    else devices.mdm += n;
  }
  // Timestamps are ISO-8601 UTC text in both dialects: the first 13 characters name the hour.
  const attempts = await db
    .selectFrom('enrollment_attempts')
    .select([sql<string>`substr(at, 1, 13)`.as('hour'), 'outcome', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('at', '>=', timeToDb(since))
    .where('at', '<=', timeToDb(now))
    .groupBy([sql`substr(at, 1, 13)`, 'outcome'])
    .execute();
  const start = Math.floor(since.getTime() / HOUR_MS) * HOUR_MS;
  const buckets: DashboardCounts['attemptsByHour'] = [];
  const index = new Map<string, number>();
  for (let t = start; t <= now.getTime(); t += HOUR_MS) {
    const hour = new Date(t).toISOString();
    index.set(hour.slice(0, 13), buckets.length);
    buckets.push({ hour, enrolled: 0, failed: 0 });
  }
  for (const a of attempts) {
    const b = buckets[index.get(a.hour) ?? -1];
    if (!b) continue;
    if (a.outcome === 'refused') b.failed += Number(a.n);
    else b.enrolled += Number(a.n);
  }
  return { devices, attemptsByHour: buckets };
}
