/**
 * Time to queue one device-scope profile for a fleet: `ManagementAdmin.assignProfile(name, { group })`
 * over N enrolled devices whose users are all in one group (one INSERT ... SELECT per setting), next to a
 * raw bulk insert of the same number of rows into a scratch table with the same columns, keys and
 * indexes as `commands` (no foreign key), in the same engine and database, in the same run.
 *
 * The fleet is made with set-based SQL straight into the tables as the migrations define them (users,
 * devices, their active enrollments and HWDevID sightings, a group and its members), which takes seconds
 * where recordEnrollment one by one would take minutes; that setup is not timed. Certificates are
 * stand-ins (random serials and thumbprints, a 64-byte blob as DER): no timed query reads them.
 */
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { PROVIDER_ID } from '../src/core/enrollment/enrollment-service.js';
import { ManagementAdmin } from '../src/core/management/admin.js';
import { locUriFor } from '../src/core/management/desired-state.js';
import { systemClock } from '../src/shared/clock.js';
import { openStorage } from '../src/storage/index.js';

export const FLEET_DEVICES = 100_000;
/** Two devices per user. */
export const FLEET_USERS = 50_000;
const GROUP = 'bench-fleet';
const PROFILE = 'bench-baseline-policy';
const SETTINGS = [
  { path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' },
  { path: 'Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', format: 'int', value: '0' },
  { path: 'Vendor/MSFT/Policy/Config/Update/ActiveHoursStart', format: 'int', value: '8' },
] as const;

/** Winroll's per-row random UUID on SQLite (src/storage/sql/management.ts), for the raw insert's ids. */
const SQLITE_UUID_V4 = `(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))`;

/** The few raw statements the setup and the baseline need, on either engine. */
interface RawDb {
  kind: 'sqlite' | 'postgres';
  run(sql: string, params?: unknown[]): Promise<void>;
  count(sql: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

function rawSqlite(file: string): RawDb {
  const db = new BetterSqlite3(file);
  // As Winroll opens it (src/storage/sql/dialects.ts), so the raw insert pays the same commit and checkpoint costs.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return {
    kind: 'sqlite',
    run: async (sql, params = []) => {
      db.prepare(sql).run(...params);
    },
    count: async (sql, params = []) =>
      Number(
        db
          .prepare(sql)
          .pluck()
          .get(...params),
      ),
    close: async () => {
      db.close();
    },
  };
}

async function rawPostgres(url: string): Promise<RawDb> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Numbered parameters: the statements below are written with `?` for both engines.
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return {
    kind: 'postgres',
    run: async (sql, params = []) => {
      await client.query(numbered(sql), params);
    },
    count: async (sql, params = []) => Number((await client.query(numbered(sql), params)).rows[0]?.n),
    close: () => client.end(),
  };
}

/** `n` rows numbered 0..n-1 as `i`, as a FROM source. */
function series(kind: RawDb['kind'], n: number): { with: string; from: string } {
  return kind === 'postgres'
    ? { with: '', from: `generate_series(0, ${n - 1}) as s(i)` }
    : { with: `with recursive s(i) as (select 0 union all select i + 1 from s where i < ${n - 1}) `, from: 's' };
}

/** A 12-hex-digit suffix from i, so ids are UUID-shaped (36 characters) and sort by i, like Winroll's UUIDv7s. */
function hex12(kind: RawDb['kind'], expr: string): string {
  return kind === 'postgres' ? `lpad(to_hex(${expr}), 12, '0')` : `printf('%012x', ${expr})`;
}

async function seedFleet(db: RawDb, now: string): Promise<void> {
  const k = db.kind;
  const userId = (expr: string) => `'0000b0b0-0000-7000-8000-' || ${hex12(k, expr)}`;
  const devicePk = (expr: string) => `'0000b0b1-0000-7000-8000-' || ${hex12(k, expr)}`;
  const enrollmentId = (expr: string) => `'0000b0b2-0000-7000-8000-' || ${hex12(k, expr)}`;
  const randomHex = (bytes: number, i: string, salt: string) =>
    k === 'postgres'
      ? `upper(substr(md5('${salt}a' || ${i}) || md5('${salt}b' || ${i}), 1, ${bytes * 2}))`
      : `upper(hex(randomblob(${bytes})))`;
  const later = new Date(Date.parse(now) + 365 * 86400_000).toISOString();
  const der = k === 'postgres' ? `decode(repeat(md5(device_id), 4), 'hex')` : 'randomblob(64)';
  const u = series(k, FLEET_USERS);
  await db.run(
    `${u.with}insert into users (id, upn, display_name, password_hash, enabled, created_at, updated_at)
     select ${userId('i')}, 'fleet' || i || '@contoso.com', 'Fleet user ' || i, 'scrypt$bench$not-a-password-hash', 1, ?, ? from ${u.from}`,
    [now, now],
  );
  const d = series(k, FLEET_DEVICES);
  await db.run(
    `${d.with}insert into devices (id, device_id, hw_dev_id, device_name, os_version, os_edition, locale, mac_addresses, enrollment_type,
       user_id, upn, status, first_enrolled_at, last_enrolled_at, current_enrollment_id, ownership, last_check_in_at)
     select ${devicePk('i')}, ${randomHex(16, 'i', 'd')}, ${randomHex(32, 'i', 'h')}, 'DESKTOP-' || i, '10.0.26100.4061', 48, 'en-US', '["00-15-5D-00-00-01"]', 'Full',
       ${userId(`i % ${FLEET_USERS}`)}, 'fleet' || (i % ${FLEET_USERS}) || '@contoso.com', 'enrolled', ?, ?, ${enrollmentId('i')}, 'personal', ?
     from ${d.from}`,
    [now, now, now],
  );
  const serial = k === 'postgres' ? `md5('s' || device_id)` : 'lower(hex(randomblob(16)))';
  const thumb = k === 'postgres' ? `upper(substr(md5('t' || device_id) || md5('u' || device_id), 1, 40))` : 'upper(hex(randomblob(20)))';
  await db.run(
    `insert into enrollments (id, device_pk, device_id, user_id, upn, enrollment_type, auth_policy, status, hw_dev_id, device_name, os_version,
       os_edition, locale, mac_addresses, cert_serial, cert_thumbprint, cert_not_before, cert_not_after, cert_der, created_at)
     select current_enrollment_id, id, device_id, user_id, upn, enrollment_type, 'OnPremise', 'active', hw_dev_id, device_name, os_version,
       os_edition, locale, mac_addresses, ${serial}, ${thumb}, ?, ?, ${der}, ?
     from devices where id like '0000b0b1-%'`,
    [now, later, now],
  );
  await db.run(
    `insert into device_hwdevids (device_pk, hw_dev_id, first_seen_at, last_seen_at) select id, hw_dev_id, ?, ? from devices where id like '0000b0b1-%'`,
    [now, now],
  );
  await db.run('insert into groups (id, name, created_at) values (?, ?, ?)', ['0000b0b3-0000-7000-8000-000000000001', GROUP, now]);
  await db.run(
    `insert into group_members (group_id, user_id) select '0000b0b3-0000-7000-8000-000000000001', id from users where id like '0000b0b0-%'`,
  );
  if (k === 'postgres') {
    // What autovacuum would have done long before anyone assigns a profile to a fleet this size.
    for (const t of ['users', 'devices', 'enrollments', 'device_hwdevids', 'groups', 'group_members', 'commands'])
      await db.run(`vacuum analyze ${t}`);
  } else {
    // Winroll never runs ANALYZE on SQLite, so the planner works without statistics here as in production.
    await db.run('pragma wal_checkpoint(truncate)');
  }
}

/** The scratch table: `commands`' columns, types, primary key, unique seq, check and both indexes; no foreign key. */
async function createRawTable(db: RawDb): Promise<void> {
  await db.run('drop table if exists bench_raw_commands');
  if (db.kind === 'postgres') {
    await db.run('create table bench_raw_commands (like commands including all)');
    return;
  }
  await db.run(`create table bench_raw_commands (
    id text primary key, seq integer not null, device_pk text not null, user_id text, verb text not null, loc_uri text not null,
    item text not null, origin text not null, origin_key text not null, state text not null, sent_session text, sent_msg_id integer,
    attempts integer not null default 0, status integer, results text, created_at text not null, updated_at text not null,
    constraint bench_raw_commands_seq_key unique (seq),
    constraint bench_raw_commands_state_check check (state in ('pending', 'sent', 'acknowledged', 'failed', 'canceled')))`);
  await db.run('create index bench_raw_commands_queue_idx on bench_raw_commands (device_pk, state, seq)');
  await db.run('create index bench_raw_commands_state_updated_idx on bench_raw_commands (state, updated_at)');
}

/** The rows the fan-out writes (same text sizes), one plain INSERT ... SELECT per setting; seconds. */
async function rawInsert(db: RawDb, profileId: string, now: string): Promise<number> {
  await createRawTable(db);
  if (db.kind === 'sqlite') await db.run('pragma wal_checkpoint(truncate)');
  const k = db.kind;
  const s = series(k, FLEET_DEVICES);
  const t0 = performance.now();
  for (const [n, setting] of SETTINGS.entries()) {
    const locUri = locUriFor('device', setting.path);
    const item = JSON.stringify({ locUri, format: setting.format, type: 'text/plain', data: setting.value });
    const origin = JSON.stringify({ kind: 'profile', profileId, setting: setting.path });
    const originKey = JSON.stringify(['profile', profileId, setting.path]);
    const devicePk = `'0000b0b1-0000-7000-8000-' || ${hex12(k, 'i')}`;
    if (k === 'postgres') {
      await db.run(
        `insert into bench_raw_commands (id, device_pk, user_id, verb, loc_uri, item, origin, origin_key, state, attempts, created_at, updated_at)
         select gen_random_uuid()::text, ${devicePk}, null, 'Add', ?, ?, ?, ?, 'pending', 0, ?, ? from ${s.from}`,
        [locUri, item, origin, originKey, now, now],
      );
    } else {
      await db.run(
        `${s.with}insert into bench_raw_commands (id, seq, device_pk, user_id, verb, loc_uri, item, origin, origin_key, state, attempts, created_at, updated_at)
         select ${SQLITE_UUID_V4}, ${n * FLEET_DEVICES} + i + 1, ${devicePk}, null, 'Add', ?, ?, ?, ?, 'pending', 0, ?, ? from ${s.from}`,
        [locUri, item, origin, originKey, now, now],
      );
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const rows = await db.count('select count(*) as n from bench_raw_commands');
  if (rows !== FLEET_DEVICES * SETTINGS.length)
    throw new Error(`raw insert wrote ${rows} rows, expected ${FLEET_DEVICES * SETTINGS.length}`);
  await db.run('drop table bench_raw_commands');
  return seconds;
}

export interface FanoutResult {
  devices: number;
  settings: number;
  commands: number;
  seconds: number;
  commandsPerSecond: number;
  /** The faster of the raw inserts before and after the fan-out. */
  baselineSeconds: number;
  baselineRuns: number[];
  setupSeconds: number;
}

/**
 * Seeds the fleet into `url` (a scratch SQLite file or a scratch PostgreSQL database, migrated by
 * openStorage), times the raw insert, the fan-out, and the raw insert again, and verifies the queue.
 */
export async function benchFanout(url: string, say: (line: string) => void): Promise<FanoutResult> {
  const t0 = performance.now();
  const storage = await openStorage(url);
  const raw = storage.kind === 'postgres' ? await rawPostgres(url) : rawSqlite(url.replace(/^sqlite:/, ''));
  try {
    const now = new Date().toISOString();
    await seedFleet(raw, now);
    const admin = new ManagementAdmin({ storage, clock: systemClock, providerId: PROVIDER_ID });
    const profile = await admin.saveProfile({ name: PROFILE, scope: 'device', settings: SETTINGS.map((s) => ({ ...s })) });
    const enrolled = await raw.count(
      `select count(*) as n from devices d join group_members m on m.user_id = d.user_id join groups g on g.id = m.group_id where g.name = ? and d.status = 'enrolled' and d.retired_at is null`,
      [GROUP],
    );
    if (enrolled !== FLEET_DEVICES) throw new Error(`the fleet has ${enrolled} enrolled devices in ${GROUP}, expected ${FLEET_DEVICES}`);
    const setupSeconds = (performance.now() - t0) / 1000;
    say(
      `    setup: ${FLEET_DEVICES} enrolled devices of ${FLEET_USERS} users in group ${GROUP}, profile ${PROFILE} (${SETTINGS.length} device settings) in ${setupSeconds.toFixed(1)} s (not timed)`,
    );

    const before = await rawInsert(raw, profile.id, now);
    const pendingBefore = await raw.count(`select count(*) as n from commands where state = 'pending'`);
    if (raw.kind === 'sqlite') await raw.run('pragma wal_checkpoint(truncate)');
    const f0 = performance.now();
    const queued = await admin.assignProfile(PROFILE, { group: GROUP });
    const seconds = (performance.now() - f0) / 1000;
    const expected = FLEET_DEVICES * SETTINGS.length;
    if (queued !== expected) throw new Error(`assignProfile queued ${queued} commands, expected ${expected}`);
    const pendingAfter = await raw.count(`select count(*) as n from commands where state = 'pending'`);
    const ofProfile = await raw.count(
      `select count(*) as n from commands where state = 'pending' and origin like ? and device_pk like '0000b0b1-%'`,
      [`%${profile.id}%`],
    );
    const devices = await raw.count(`select count(distinct device_pk) as n from commands where origin like ?`, [`%${profile.id}%`]);
    const seqs = await raw.count(`select count(distinct seq) as n from commands where origin like ?`, [`%${profile.id}%`]);
    if (pendingAfter - pendingBefore !== expected || ofProfile !== expected || devices !== FLEET_DEVICES || seqs !== expected) {
      throw new Error(
        `after the fan-out: ${pendingAfter - pendingBefore} new pending commands, ${ofProfile} of the profile on ${devices} devices with ${seqs} distinct seqs; expected ${expected} on ${FLEET_DEVICES}`,
      );
    }
    const after = await rawInsert(raw, profile.id, now);
    const baselineSeconds = Math.min(before, after);
    return {
      devices: FLEET_DEVICES,
      settings: SETTINGS.length,
      commands: queued,
      seconds,
      commandsPerSecond: queued / seconds,
      baselineSeconds,
      baselineRuns: [before, after],
      setupSeconds,
    };
  } finally {
    await raw.close();
    await storage.close();
  }
}
