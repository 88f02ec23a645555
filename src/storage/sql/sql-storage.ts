import { type Kysely, Migrator, type Selectable, sql, type Transaction } from 'kysely';
import type {
  AppliedSetting,
  AssignmentTarget,
  ProfileInstallRequest,
  ProfileIntent,
  CommandOrigin,
  DeviceInventory,
  DeviceStateStore,
  DeviceUser,
  Group,
  ManagedDevice,
  ManagementStorage,
  MamRegistration,
  NewMamRegistration,
  RecordedMamRegistration,
  NewCommand,
  Ownership,
  Profile,
  QueuedCommand,
} from '../../core/management/ports.js';
import type {
  AdminAccount,
  AdminRole,
  AdminSessionRecord,
  ApiTokenRecord,
  AuditEntry,
  AuditOutcome,
  AuditQuery,
  DashboardCounts,
  DeviceQuery,
  DeviceSummary,
  NewAuditEntry,
} from '../../core/admin/ports.js';
import type {
  AuthPolicy,
  DeviceHistory,
  DeviceRecord,
  DeviceStatus,
  Domain,
  EnrollmentRecord,
  EnrollmentStatus,
  HwDevIdSighting,
  NewEnrollment,
  RecordedEnrollment,
  Storage,
  User,
} from '../../core/ports.js';
import type * as P from '../../core/policy/ports.js';
import type { MfaFactor, MfaFactorSummary } from '../../core/mfa/ports.js';
import type { DirectoryLinkResult, EntraTenant } from '../../core/entra/ports.js';
import type { TermsText } from '../../core/enrollment/ports.js';
import type * as CP from '../../core/compliance/ports.js';
import type * as DS from '../../core/directory-sync/ports.js';
import { InvalidInputError, NotFoundError, WinrollError } from '../../shared/errors.js';
import { boolFromDb, boolToDb, jsonToDb, timeFromDb, timeToDb } from './codecs.js';
import { type OpenedDatabase, openPostgres, openSqlite, parseStorageUrl } from './dialects.js';
import { isUnavailable, mapDriverError, storageUnavailable } from './errors.js';
import { newId } from './ids.js';
import * as adm from './admin.js';
import * as apps from './apps.js';
import * as ap from './available-profiles.js';
import type * as AC from '../../core/apps/ports.js';
import * as deviceList from './device-list.js';
import * as compliance from './compliance.js';
import * as m from './management.js';
import * as mam from './mam.js';
import * as mfa from './mfa.js';
import * as entra from './entra.js';
import * as oidc from './oidc.js';
import type { NewOidcProvider, OidcProvider } from '../../core/oidc/ports.js';
import * as ident from './device-identity.js';
import * as dsync from './directory-sync.js';
import * as du from './device-users.js';
import * as pol from './policy.js';
import { StaticMigrationProvider } from './migrations/index.js';
import { selectDevices, toEnrollment, withWarnings } from './rows.js';
import type { Database, DomainsTable, EnrollmentsTable, UsersTable } from './schema.js';

export interface OpenStorageOptions {
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
}

/**
 * Opens SQL storage.
 *
 * URL forms:
 * - `postgres://user:pass@host:port/db` or `postgresql://…` → PostgreSQL through a `pg` pool;
 * - `sqlite:/abs/path.db`, `sqlite:relative.db` (against the working directory), `sqlite:///abs/path.db`,
 *   `sqlite::memory:`, or a bare file path → SQLite (WAL, foreign keys on, 5 s busy timeout; the parent
 *   directory is created if missing).
 *
 * Pending migrations are applied unless `migrate: false`; concurrent openers are safe (PostgreSQL: the
 * migrator's advisory lock; SQLite: the whole migration runs in one `BEGIN IMMEDIATE` transaction).
 * Connection failures throw `WinrollError('storage_unavailable')` whose message never includes the password.
 */
export async function openStorage(url: string, opts: OpenStorageOptions = {}): Promise<Storage> {
  const location = parseStorageUrl(url);
  const secrets = location.kind === 'postgres' ? passwordsOf(location.url) : [];
  const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
  try {
    await sql`select 1`.execute(opened.db);
    if (opts.migrate ?? true) await migrateToLatest(opened);
  } catch (err) {
    await opened.db.destroy().catch(() => {});
    if (err instanceof WinrollError) throw err;
    throw storageUnavailable(`cannot open ${opened.kind} storage at ${opened.where}`, err, secrets);
  }
  return new SqlStorage(opened, secrets);
}

function passwordsOf(url: string): string[] {
  try {
    const p = new URL(url).password;
    return p === '' ? [] : [p, decodeURIComponent(p)];
  } catch {
    return [];
  }
}

/** Applies every pending migration of the static set; safe when several processes do it at once. */
export async function migrateToLatest(opened: OpenedDatabase): Promise<string[]> {
  const provider = new StaticMigrationProvider(opened.kind);
  // biome-ignore lint/suspicious/noExplicitAny: the migrator works on an untyped Kysely
  const run = async (db: Kysely<any>): Promise<string[]> => {
    const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
    if (error !== undefined) {
      if (isUnavailable(error)) throw error;
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      const reason = error instanceof Error ? error.message : String(error);
      throw new WinrollError('internal', `database migration ${failed ?? ''} failed: ${reason}`.replace('  ', ' '), {
        cause: error,
      });
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  };
  if (opened.kind === 'postgres') return run(opened.db);
  // SQLite: kysely's SQLite adapter takes no lock, so hold the database write lock for the whole run; a
  // second process waits on busy_timeout, then finds nothing pending.
  return opened.db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const applied = await run(conn);
      await sql`commit`.execute(conn);
      return applied;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw err;
    }
  });
}

/**
 * Which migrations of the static set a database has applied and which are pending (for `db status`).
 * Never migrates.
 */
export async function migrationStatus(url: string): Promise<{ applied: string[]; pending: string[] }> {
  const location = parseStorageUrl(url);
  const secrets = location.kind === 'postgres' ? passwordsOf(location.url) : [];
  const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
  try {
    const infos = await new Migrator({ db: opened.db, provider: new StaticMigrationProvider(opened.kind) }).getMigrations();
    return {
      applied: infos.filter((m) => m.executedAt !== undefined).map((m) => m.name),
      pending: infos.filter((m) => m.executedAt === undefined).map((m) => m.name),
    };
  } catch (err) {
    if (err instanceof WinrollError) throw err;
    throw storageUnavailable(`cannot read migration status of ${opened.kind} storage at ${opened.where}`, err, secrets);
  } finally {
    await opened.db.destroy().catch(() => {});
  }
}

const SHARED_HWDEVID = 'shared_hwdevid';
/** First key of the PostgreSQL advisory locks that serialise enrollments sharing one HWDevID ("WnRl"). */
const HWDEVID_LOCK_NS = 0x576e526c;

const lower = (s: string): string => s.toLowerCase();
const upper = (s: string): string => s.toUpperCase();

function required(value: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidInputError(`${what} is required`);
  return value;
}

class SqlStorage implements Storage, ManagementStorage {
  readonly kind: 'sqlite' | 'postgres';
  readonly #db: Kysely<Database>;
  readonly #where: string;
  readonly #secrets: readonly string[];
  #closed = false;

  constructor(opened: OpenedDatabase, secrets: readonly string[]) {
    this.kind = opened.kind;
    this.#db = opened.db;
    this.#where = opened.where;
    this.#secrets = secrets;
  }

  /**
   * Runs one repository call, mapping driver errors: `errors` is the ConflictError message for a unique
   * violation (a string), or that and/or the NotFoundError message for a missing referenced row.
   */
  async #run<T>(fn: (db: Kysely<Database>) => Promise<T>, errors?: string | { conflict?: string; missing?: string }): Promise<T> {
    if (this.#closed) throw new WinrollError('storage_unavailable', 'storage has been closed');
    const { conflict, missing } = typeof errors === 'string' ? { conflict: errors, missing: undefined } : (errors ?? {});
    try {
      return await fn(this.#db);
    } catch (err) {
      return mapDriverError(err, {
        where: `${this.kind} ${this.#where}`,
        secrets: this.#secrets,
        ...(conflict === undefined ? {} : { conflict }),
        ...(missing === undefined ? {} : { missing }),
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
  }

  // -- domains ---------------------------------------------------------------------------------------

  async addDomain(input: { name: string; authPolicy: AuthPolicy; now: Date }): Promise<Domain> {
    const row: DomainsTable = {
      name: lower(required(input.name, 'domain name')),
      auth_policy: input.authPolicy,
      created_at: timeToDb(input.now),
    };
    await this.#run((db) => db.insertInto('domains').values(row).execute(), `domain ${row.name} already exists`);
    return toDomain(row);
  }

  async getDomain(name: string): Promise<Domain | undefined> {
    const row = await this.#run((db) => db.selectFrom('domains').selectAll().where('name', '=', lower(name)).executeTakeFirst());
    return row && toDomain(row);
  }

  async listDomains(): Promise<Domain[]> {
    const rows = await this.#run((db) => db.selectFrom('domains').selectAll().orderBy('name').execute());
    return rows.map(toDomain);
  }

  async setDomainAuthPolicy(name: string, authPolicy: AuthPolicy): Promise<Domain> {
    const row = await this.#run((db) =>
      db.updateTable('domains').set({ auth_policy: authPolicy }).where('name', '=', lower(name)).returningAll().executeTakeFirst(),
    );
    if (!row) throw new NotFoundError(`domain ${lower(name)} does not exist`);
    return toDomain(row);
  }

  // -- users -----------------------------------------------------------------------------------------

  async addUser(input: { upn: string; displayName: string | null; passwordHash: string; now: Date }): Promise<User> {
    const now = timeToDb(input.now);
    const row: UsersTable = {
      id: newId(),
      upn: lower(required(input.upn, 'UPN')),
      display_name: input.displayName,
      password_hash: input.passwordHash,
      enabled: boolToDb(true),
      created_at: now,
      updated_at: now,
    };
    await this.#run((db) => db.insertInto('users').values(row).execute(), `user ${row.upn} already exists`);
    return toUser(row);
  }

  async getUserByUpn(upn: string): Promise<User | undefined> {
    const row = await this.#run((db) => db.selectFrom('users').selectAll().where('upn', '=', lower(upn)).executeTakeFirst());
    return row && toUser(row);
  }

  async getUserById(id: string): Promise<User | undefined> {
    const row = await this.#run((db) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst());
    return row && toUser(row);
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.#run((db) => db.selectFrom('users').selectAll().orderBy('upn').execute());
    return rows.map(toUser);
  }

  // -- enrollments -----------------------------------------------------------------------------------

  async recordEnrollment(input: NewEnrollment): Promise<RecordedEnrollment> {
    const deviceId = upper(required(input.deviceId, 'DeviceID'));
    const hwDevId = input.hwDevId === null || input.hwDevId.trim() === '' ? null : upper(input.hwDevId);
    const serial = lower(required(input.certSerial, 'certificate serial'));
    const thumbprint = upper(required(input.certThumbprint, 'certificate thumbprint'));
    const now = timeToDb(input.now);
    const enrollmentId = newId();
    const macs = jsonToDb(input.macAddresses);

    return this.#run(
      (db) =>
        db.transaction().execute(async (trx) => {
          // 0. A re-join under a new DeviceID: the record with the same Entra device id takes the new
          //    DeviceID, so the upsert below lands on it (S16, storage/sql/device-identity.ts).
          const entraDeviceId = ident.normalizeEntraDeviceId(input.entraDeviceId);
          const adopted = await ident.adoptByEntraDeviceId(trx, deviceId, entraDeviceId);
          const existed =
            adopted || (await trx.selectFrom('devices').select('id').where('device_id', '=', deviceId).executeTakeFirst()) !== undefined;

          // 1. The physical device, by DeviceID. A single upsert, so concurrent first enrollments of one
          //    DeviceID converge on one row (and on PostgreSQL the row lock serialises them).
          const device = await trx
            .insertInto('devices')
            .values({
              id: newId(),
              device_id: deviceId,
              hw_dev_id: hwDevId,
              device_name: input.deviceName,
              os_version: input.osVersion,
              os_edition: input.osEdition,
              locale: input.locale,
              mac_addresses: macs,
              enrollment_type: input.enrollmentType,
              user_id: input.userId,
              upn: lower(input.upn),
              status: 'enrolled' satisfies DeviceStatus,
              first_enrolled_at: now,
              last_enrolled_at: now,
              current_enrollment_id: enrollmentId,
              // A new device's ownership follows how it enrolled; a re-enrollment keeps what was set.
              ownership: input.enrollmentType === 'Device' ? 'corporate' : 'personal',
              entra_device_id: entraDeviceId,
            })
            .onConflict((oc) =>
              oc.column('device_id').doUpdateSet((eb) => ({
                // What the device did not report this time stays as last known.
                hw_dev_id: eb.fn.coalesce('excluded.hw_dev_id', 'devices.hw_dev_id'),
                device_name: eb.fn.coalesce('excluded.device_name', 'devices.device_name'),
                os_version: eb.fn.coalesce('excluded.os_version', 'devices.os_version'),
                os_edition: eb.fn.coalesce('excluded.os_edition', 'devices.os_edition'),
                locale: eb.fn.coalesce('excluded.locale', 'devices.locale'),
                mac_addresses: input.macAddresses.length > 0 ? eb.ref('excluded.mac_addresses') : eb.ref('devices.mac_addresses'),
                enrollment_type: eb.ref('excluded.enrollment_type'),
                user_id: eb.ref('excluded.user_id'),
                upn: eb.ref('excluded.upn'),
                status: eb.ref('excluded.status'),
                last_enrolled_at: eb.ref('excluded.last_enrolled_at'),
                current_enrollment_id: eb.ref('excluded.current_enrollment_id'),
                // Enrolling again brings a retired or unenrolled device back under management.
                retired_at: null,
                entra_device_id: eb.fn.coalesce('excluded.entra_device_id', 'devices.entra_device_id'),
                // An app-protection (MAM) device that enrolls in MDM becomes an MDM device (MAM policies give way).
                management_mode: 'mdm',
              })),
            )
            .returning(['id'])
            .executeTakeFirstOrThrow();
          const devicePk = device.id;

          await trx
            .updateTable('mam_registrations')
            .set({ status: 'superseded', ended_at: now })
            .where('device_pk', '=', devicePk)
            .where('status', '=', 'active')
            .execute();

          // 2. Supersede the device's earlier active enrollments (S16: re-enrollment, never a second record).
          const prior = await trx
            .selectFrom('enrollments')
            .selectAll()
            .where('device_pk', '=', devicePk)
            .where('status', '=', 'active')
            .orderBy('created_at')
            .orderBy('id')
            .execute();
          if (prior.length > 0) {
            await trx
              .updateTable('enrollments')
              .set({ status: 'superseded' satisfies EnrollmentStatus, superseded_at: now })
              .where('device_pk', '=', devicePk)
              .where('status', '=', 'active')
              .execute();
          }

          // 3. The enrollment itself; a reused serial or thumbprint violates a unique constraint and rolls
          //    everything above back.
          const enrollment: Selectable<EnrollmentsTable> = {
            id: enrollmentId,
            device_pk: devicePk,
            device_id: deviceId,
            user_id: input.userId,
            upn: lower(input.upn),
            enrollment_type: input.enrollmentType,
            auth_policy: input.authPolicy,
            status: 'active' satisfies EnrollmentStatus,
            hw_dev_id: hwDevId,
            device_name: input.deviceName,
            os_version: input.osVersion,
            os_edition: input.osEdition,
            locale: input.locale,
            mac_addresses: macs,
            cert_serial: serial,
            cert_thumbprint: thumbprint,
            cert_not_before: timeToDb(input.certNotBefore),
            cert_not_after: timeToDb(input.certNotAfter),
            cert_der: input.certDer,
            created_at: now,
            superseded_at: null,
            unenrolled_at: null,
            revoked_at: null,
            method: input.method ?? (input.enrollmentType === 'Device' ? 'bulk' : 'manual'),
            entra_device_id: entraDeviceId,
          };
          await trx.insertInto('enrollments').values(enrollment).execute();

          // 4. HWDevID history, and cross-flagging of other DeviceIDs seen with the same HWDevID.
          const sharedWith = hwDevId === null ? [] : await this.#recordHwDevId(trx, devicePk, deviceId, hwDevId, now);

          const deviceRow = await selectDevices(trx).where('d.id', '=', devicePk).executeTakeFirstOrThrow();
          const [record] = await withWarnings(trx, [deviceRow]);
          if (!record) throw new Error('unreachable: device vanished inside its transaction');
          return {
            device: record,
            enrollment: toEnrollment(enrollment),
            superseded: prior.map((p) => toEnrollment({ ...p, status: 'superseded', superseded_at: now })),
            sharedHwDevIdWith: sharedWith,
            matchedBy: adopted ? 'entra_device_id' : existed ? 'device_id' : null,
          };
        }),
      `certificate serial ${serial} or thumbprint ${thumbprint} has already been recorded`,
    );
  }

  async #recordHwDevId(trx: Transaction<Database>, devicePk: string, deviceId: string, hwDevId: string, now: string): Promise<string[]> {
    if (this.kind === 'postgres') {
      // Two devices with one HWDevID enrolling at the same moment must still see each other.
      await sql`select pg_advisory_xact_lock(${sql.lit(HWDEVID_LOCK_NS)}, hashtext(${hwDevId}))`.execute(trx);
    }
    await trx
      .insertInto('device_hwdevids')
      .values({ device_pk: devicePk, hw_dev_id: hwDevId, first_seen_at: now, last_seen_at: now })
      .onConflict((oc) => oc.columns(['device_pk', 'hw_dev_id']).doUpdateSet({ last_seen_at: now }))
      .execute();
    const others = await trx
      .selectFrom('device_hwdevids as h')
      .innerJoin('devices as d', 'd.id', 'h.device_pk')
      .select(['d.id', 'd.device_id'])
      .where('h.hw_dev_id', '=', hwDevId)
      .where('h.device_pk', '<>', devicePk)
      .orderBy('d.device_id')
      .execute();
    for (const other of others) {
      const pairs = [
        { pk: devicePk, self: deviceId, peer: other.device_id },
        { pk: other.id, self: other.device_id, peer: deviceId },
      ];
      for (const p of pairs) {
        await trx
          .insertInto('device_warnings')
          .values({
            id: newId(),
            device_pk: p.pk,
            kind: SHARED_HWDEVID,
            subject: `${hwDevId}:${p.peer}`,
            detail:
              `HWDevID ${hwDevId} is also reported by device ${p.peer}. Two DeviceIDs on one hardware id ` +
              'usually mean a cloned Windows image (not generalized with sysprep); they are kept as separate devices.',
            related_device_ids: jsonToDb([p.peer]),
            created_at: now,
          })
          .onConflict((oc) => oc.columns(['device_pk', 'kind', 'subject']).doNothing())
          .execute();
      }
    }
    return others.map((o) => o.device_id);
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    return this.#run(async (db) => {
      const row = await selectDevices(db).where('d.device_id', '=', upper(deviceId)).executeTakeFirst();
      if (!row) return undefined;
      const [record] = await withWarnings(db, [row]);
      return record;
    });
  }

  async listDevices(): Promise<DeviceRecord[]> {
    return this.#run(async (db) => {
      const rows = await selectDevices(db).orderBy('d.first_enrolled_at').orderBy('d.device_id').execute();
      return withWarnings(db, rows);
    });
  }

  async listEnrollments(deviceId: string): Promise<EnrollmentRecord[]> {
    const rows = await this.#run((db) =>
      db.selectFrom('enrollments').selectAll().where('device_id', '=', upper(deviceId)).orderBy('created_at').orderBy('id').execute(),
    );
    return rows.map(toEnrollment);
  }

  async deviceHistory(deviceId: string): Promise<DeviceHistory | undefined> {
    return this.#run((db) => ident.deviceHistory(db, deviceId));
  }

  async hwDevIdHistory(deviceId: string): Promise<HwDevIdSighting[]> {
    const rows = await this.#run((db) =>
      db
        .selectFrom('device_hwdevids as h')
        .innerJoin('devices as d', 'd.id', 'h.device_pk')
        .select(['h.hw_dev_id', 'h.first_seen_at', 'h.last_seen_at'])
        .where('d.device_id', '=', upper(deviceId))
        .orderBy('h.first_seen_at')
        .orderBy('h.hw_dev_id')
        .execute(),
    );
    return rows.map((r) => ({
      hwDevId: r.hw_dev_id,
      firstSeenAt: timeFromDb(r.first_seen_at),
      lastSeenAt: timeFromDb(r.last_seen_at),
    }));
  }

  async certSerialExists(serial: string): Promise<boolean> {
    const row = await this.#run((db) =>
      db.selectFrom('enrollments').select('id').where('cert_serial', '=', lower(serial)).limit(1).executeTakeFirst(),
    );
    return row !== undefined;
  }

  // -- certificate renewal (ROBO) ----------------------------------------------------------------------
  // Self-contained: uses migration 0003's `enrollments.renewed_from`, typed locally below.

  async recordRenewal(input: import('../../core/ports.js').NewRenewal): Promise<import('../../core/ports.js').RecordedRenewal | undefined> {
    type RenewalDatabase = Omit<Database, 'enrollments'> & { enrollments: EnrollmentsTable & { renewed_from: string | null } };
    const presented = upper(required(input.presentedThumbprint, 'presented certificate thumbprint'));
    const serial = lower(required(input.certSerial, 'certificate serial'));
    const thumbprint = upper(required(input.certThumbprint, 'certificate thumbprint'));
    const now = timeToDb(input.now);

    return this.#run(
      (db) =>
        db.transaction().execute(async (plain) => {
          const trx = plain as unknown as Transaction<RenewalDatabase>;
          const from = await trx.selectFrom('enrollments').selectAll().where('cert_thumbprint', '=', presented).executeTakeFirst();
          if (!from) return undefined;
          // Serialise renewals of one device (SQLite: the write transaction already does).
          let deviceQuery = trx
            .selectFrom('devices')
            .select(['id', 'current_enrollment_id', 'last_check_in_at'])
            .where('id', '=', from.device_pk);
          if (this.kind === 'postgres') deviceQuery = deviceQuery.forUpdate();
          const device = await deviceQuery.executeTakeFirst();
          if (!device) return undefined;

          // Which enrollment the new certificate replaces: the presented one, or (a retried renewal whose
          // response was lost) the unused renewal that the presented certificate already produced.
          let target: typeof from | undefined;
          if (from.status === 'active') {
            target = from;
          } else if (from.status === 'superseded' && device.current_enrollment_id !== null) {
            const current = await trx
              .selectFrom('enrollments')
              .selectAll()
              .where('id', '=', device.current_enrollment_id)
              .executeTakeFirst();
            const unused = device.last_check_in_at === null || (current !== undefined && device.last_check_in_at < current.created_at);
            if (current?.status === 'active' && current.renewed_from === from.id && unused) target = current;
          }
          if (!target) return undefined;

          const superseded = await trx
            .updateTable('enrollments')
            .set({ status: 'superseded' satisfies EnrollmentStatus, superseded_at: now, revoked_at: now })
            .where('id', '=', target.id)
            .where('status', '=', 'active')
            .executeTakeFirst();
          if (Number(superseded.numUpdatedRows) !== 1) return undefined;

          const enrollment = {
            ...target,
            id: newId(),
            status: 'active' satisfies EnrollmentStatus,
            cert_serial: serial,
            cert_thumbprint: thumbprint,
            cert_not_before: timeToDb(input.certNotBefore),
            cert_not_after: timeToDb(input.certNotAfter),
            cert_der: input.certDer,
            created_at: now,
            superseded_at: null,
            unenrolled_at: null,
            revoked_at: null,
            renewed_from: from.id,
          };
          // A reused serial or thumbprint violates a unique constraint and rolls everything back.
          await trx.insertInto('enrollments').values(enrollment).execute();
          await trx.updateTable('devices').set({ current_enrollment_id: enrollment.id }).where('id', '=', device.id).execute();

          const deviceRow = await selectDevices(plain).where('d.id', '=', device.id).executeTakeFirstOrThrow();
          const [record] = await withWarnings(plain, [deviceRow]);
          if (!record) throw new Error('unreachable: device vanished inside its transaction');
          return {
            device: record,
            enrollment: toEnrollment(enrollment),
            replaced: toEnrollment({ ...target, status: 'superseded', superseded_at: now, revoked_at: now }),
          };
        }),
      `certificate serial ${serial} or thumbprint ${thumbprint} has already been recorded`,
    );
  }

  // -- one-time tokens -------------------------------------------------------------------------------

  async spendToken(jti: string, expiresAt: Date, now: Date): Promise<boolean> {
    required(jti, 'token id');
    const nowText = timeToDb(now);
    const expiresText = timeToDb(expiresAt);
    return this.#run(async (db) => {
      // Opportunistic pruning: rows past their expiry can never be replayed (the token itself is invalid).
      await db.deleteFrom('spent_tokens').where('expires_at', '<', nowText).execute();
      const res = await db
        .insertInto('spent_tokens')
        .values({ jti, expires_at: expiresText, spent_at: nowText })
        .onConflict((oc) => oc.column('jti').doNothing())
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
    });
  }

  // -- management: device state ----------------------------------------------------------------------

  async findByCertificate(thumbprint: string): ReturnType<DeviceStateStore['findByCertificate']> {
    return this.#run((db) => m.findByCertificate(db, thumbprint));
  }

  async getManagedDevice(deviceId: string): Promise<ManagedDevice | undefined> {
    // A MAM registration has no current enrollment; it is shown with its registration instead.
    return this.#run(async (db) => (await m.getManagedDevice(db, deviceId)) ?? mam.getManagedMamDevice(db, deviceId));
  }

  async recordCheckIn(devicePk: string, now: Date): Promise<void> {
    return this.#run((db) => m.recordCheckIn(db, devicePk, now));
  }

  async updateInventory(devicePk: string, inventory: Partial<DeviceInventory>, now: Date): Promise<void> {
    return this.#run((db) =>
      db.transaction().execute(async (trx) => {
        await m.updateInventory(trx, this.kind, devicePk, inventory, now);
        // Identity facts: fold an older record of the same machine into this one (S16).
        await ident.reconcileAfterInventory(trx, this.kind, devicePk, now);
      }),
    );
  }

  async setOwnership(devicePk: string, ownership: Ownership): Promise<void> {
    return this.#run((db) => m.setOwnership(db, devicePk, ownership));
  }

  async markRetired(devicePk: string, now: Date): Promise<void> {
    return this.#run((db) => m.markRetired(db, devicePk, now));
  }

  async markUnenrolled(devicePk: string, now: Date): Promise<void> {
    return this.#run(async (db) => {
      await m.markUnenrolled(db, devicePk, now);
      // Both statements are idempotent, so a retry after a failure between them completes the change.
      await mam.endMamRegistrations(db, devicePk, 'unenrolled', now);
    });
  }

  async deleteDevice(devicePk: string): Promise<void> {
    return this.#run((db) => m.deleteDevice(db, devicePk));
  }

  async setPushChannel(
    devicePk: string,
    push: { pfn?: string | null; channelUri?: string | null; status?: number | null },
    now: Date,
  ): Promise<void> {
    return this.#run((db) => m.setPushChannel(db, devicePk, push, now));
  }

  async getPushChannel(
    devicePk: string,
  ): Promise<{ pfn: string | null; channelUri: string | null; status: number | null; updatedAt: Date } | undefined> {
    return this.#run((db) => m.getPushChannel(db, devicePk));
  }

  // -- management: command queue ---------------------------------------------------------------------

  async enqueue(devicePk: string, commands: NewCommand[], now: Date): Promise<QueuedCommand[]> {
    return this.#run((db) => m.enqueue(db, this.kind, devicePk, commands, now), { missing: `device ${devicePk} does not exist` });
  }

  async enqueueForDevices(
    selection: { devicePks: string[] } | { allEnrolled: true } | { groupId: string },
    command: NewCommand,
    now: Date,
  ): Promise<number> {
    return this.#run((db) => m.enqueueForDevices(db, this.kind, selection, command, now));
  }

  async nextCommands(devicePk: string, opts: { sessionKey: string; userId: string | null; limit: number }): Promise<QueuedCommand[]> {
    return this.#run((db) => m.nextCommands(db, devicePk, opts));
  }

  async markSent(ids: string[], sessionKey: string, msgId: number, now: Date): Promise<void> {
    return this.#run((db) => m.markSent(db, ids, sessionKey, msgId, now));
  }

  async recordStatus(devicePk: string, commandId: string, status: number, now: Date): Promise<QueuedCommand | undefined> {
    return this.#run((db) => m.recordStatus(db, devicePk, commandId, status, now));
  }

  async recordResults(
    devicePk: string,
    commandId: string,
    results: Array<{ locUri: string; format?: string; data: string }>,
    now: Date,
  ): Promise<void> {
    return this.#run((db) => m.recordResults(db, devicePk, commandId, results, now));
  }

  async getCommand(commandId: string): Promise<QueuedCommand | undefined> {
    return this.#run((db) => m.getCommand(db, commandId));
  }

  async listCommands(devicePk: string, opts?: { limit?: number }): Promise<QueuedCommand[]> {
    return this.#run((db) => m.listCommands(db, devicePk, opts));
  }

  async cancelCommands(devicePk: string, ids: string[], now: Date): Promise<number> {
    return this.#run((db) => m.cancelCommands(db, devicePk, ids, now));
  }

  async cancelPending(
    devicePk: string,
    match: { origin: CommandOrigin } | { locUri: string; userId: string | null },
    now: Date,
  ): Promise<number> {
    return this.#run((db) => m.cancelPending(db, devicePk, match, now));
  }

  async pruneTerminal(before: Date): Promise<number> {
    return this.#run((db) => m.pruneTerminal(db, before));
  }

  // -- management: groups ----------------------------------------------------------------------------

  async addGroup(input: { name: string; now: Date }): Promise<Group> {
    return this.#run((db) => m.addGroup(db, input), `group ${input.name} already exists`);
  }

  async getGroupByName(name: string): Promise<Group | undefined> {
    return this.#run((db) => m.getGroupByName(db, name));
  }

  async listGroups(): Promise<Group[]> {
    return this.#run((db) => m.listGroups(db));
  }

  async addGroupMember(groupId: string, userId: string): Promise<void> {
    return this.#run((db) => m.addGroupMember(db, groupId, userId), { missing: `group ${groupId} does not exist` });
  }

  async removeGroupMember(groupId: string, userId: string): Promise<void> {
    return this.#run((db) => m.removeGroupMember(db, groupId, userId));
  }

  async listGroupMembers(groupId: string): Promise<string[]> {
    return this.#run((db) => m.listGroupMembers(db, groupId));
  }

  // -- management: profiles --------------------------------------------------------------------------

  async saveProfile(input: Parameters<ManagementStorage['saveProfile']>[0]): Promise<Profile> {
    return this.#run((db) => m.saveProfile(db, input));
  }

  async getProfileByName(name: string): Promise<Profile | undefined> {
    return this.#run((db) => m.getProfileByName(db, name));
  }

  async getProfile(id: string): Promise<Profile | undefined> {
    return this.#run((db) => m.getProfile(db, id));
  }

  async listProfiles(): Promise<Profile[]> {
    return this.#run((db) => m.listProfiles(db));
  }

  async deleteProfile(id: string): Promise<void> {
    return this.#run((db) => m.deleteProfile(db, id));
  }

  async assignProfile(profileId: string, target: AssignmentTarget, now: Date, intent?: ProfileIntent): Promise<void> {
    const what = target.kind === 'group' ? `group ${target.groupId}` : `device ${target.devicePk}`;
    return this.#run((db) => m.assignProfile(db, profileId, target, now, intent), {
      missing: `profile ${profileId} or ${what} does not exist`,
    });
  }

  async unassignProfile(profileId: string, target: AssignmentTarget): Promise<void> {
    return this.#run((db) => m.unassignProfile(db, profileId, target));
  }

  async listAssignments(profileId: string): Promise<AssignmentTarget[]> {
    return this.#run((db) => m.listAssignments(db, profileId));
  }

  async listAssignmentIntents(profileId: string): Promise<Array<{ target: AssignmentTarget; intent: ProfileIntent }>> {
    return this.#run((db) => ap.listAssignmentIntents(db, profileId));
  }

  async profilesForDevice(devicePk: string, userIds: string[]): Promise<Array<{ profile: Profile; forUserId: string | null }>> {
    return this.#run((db) => m.profilesForDevice(db, devicePk, userIds));
  }

  async devicesForProfile(profileId: string): Promise<string[]> {
    return this.#run((db) => m.devicesForProfile(db, profileId));
  }

  // -- management: available profiles (migration 0017) ------------------------------------------------

  async profilesForUser(userId: string): Promise<Array<{ profile: Profile; intent: ProfileIntent }>> {
    return this.#run((db) => ap.profilesForUser(db, userId));
  }

  async requestProfileInstall(input: { devicePk: string; profileId: string; userId: string; now: Date }): Promise<void> {
    return this.#run((db) => ap.requestProfileInstall(db, input), {
      missing: `device ${input.devicePk} or profile ${input.profileId} does not exist`,
    });
  }

  async listProfileInstallRequests(devicePk: string): Promise<ProfileInstallRequest[]> {
    return this.#run((db) => ap.listProfileInstallRequests(db, devicePk));
  }

  // -- management: applied settings ------------------------------------------------------------------

  async listApplied(devicePk: string): Promise<AppliedSetting[]> {
    return this.#run((db) => m.listApplied(db, devicePk));
  }

  async recordApplied(setting: AppliedSetting): Promise<void> {
    return this.#run((db) => m.recordApplied(db, setting), { missing: `device ${setting.devicePk} does not exist` });
  }

  async removeApplied(devicePk: string, userId: string | null, locUri: string): Promise<void> {
    return this.#run((db) => m.removeApplied(db, devicePk, userId, locUri));
  }

  // -- admin API: roles, sessions, tokens, audit, paged devices (admin.ts) ---------------------------------

  async setAdminRole(input: { userId: string; role: AdminRole; now: Date }, audit?: NewAuditEntry): Promise<AdminAccount> {
    return this.#run((db) => adm.setAdminRole(db, input, audit), { missing: `user ${input.userId} does not exist` });
  }

  async removeAdmin(userId: string, now: Date, audit?: NewAuditEntry): Promise<boolean> {
    return this.#run((db) => adm.removeAdmin(db, userId, now, audit));
  }

  async getAdmin(userId: string): Promise<AdminAccount | undefined> {
    return this.#run((db) => adm.getAdmin(db, userId));
  }

  async listAdmins(): Promise<AdminAccount[]> {
    return this.#run((db) => adm.listAdmins(db));
  }

  async createAdminSession(session: AdminSessionRecord): Promise<void> {
    return this.#run((db) => adm.createAdminSession(db, session), { missing: `user ${session.userId} does not exist` });
  }

  async getAdminSession(idHash: string): Promise<AdminSessionRecord | undefined> {
    return this.#run((db) => adm.getAdminSession(db, idHash));
  }

  async touchAdminSession(idHash: string, lastSeenAt: Date): Promise<void> {
    return this.#run((db) => adm.touchAdminSession(db, idHash, lastSeenAt));
  }

  async deleteAdminSession(idHash: string): Promise<void> {
    return this.#run((db) => adm.deleteAdminSession(db, idHash));
  }

  async pruneAdminSessions(now: Date, idleBefore: Date): Promise<number> {
    return this.#run((db) => adm.pruneAdminSessions(db, now, idleBefore));
  }

  async createApiToken(
    input: Omit<ApiTokenRecord, 'createdByUpn' | 'lastUsedAt' | 'revokedAt'>,
    audit?: NewAuditEntry,
  ): Promise<ApiTokenRecord> {
    return this.#run((db) => adm.createApiToken(db, input, audit), {
      conflict: `an API token named "${input.name}" already exists`,
      missing: `user ${input.createdByUserId} does not exist`,
    });
  }

  async getApiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | undefined> {
    return this.#run((db) => adm.getApiTokenByHash(db, tokenHash));
  }

  async getApiToken(id: string): Promise<ApiTokenRecord | undefined> {
    return this.#run((db) => adm.getApiToken(db, id));
  }

  async listApiTokens(): Promise<ApiTokenRecord[]> {
    return this.#run((db) => adm.listApiTokens(db));
  }

  async revokeApiToken(id: string, now: Date, audit?: NewAuditEntry): Promise<boolean> {
    return this.#run((db) => adm.revokeApiToken(db, id, now, audit));
  }

  async touchApiToken(id: string, now: Date): Promise<void> {
    return this.#run((db) => adm.touchApiToken(db, id, now));
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.#run((db) => adm.appendAudit(db, entry));
  }

  async completeAudit(
    id: string,
    result: { outcome: Exclude<AuditOutcome, 'pending'>; after: unknown; error: string | null },
  ): Promise<void> {
    return this.#run((db) => adm.completeAudit(db, id, result));
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    return this.#run((db) => adm.listAudit(db, query));
  }

  async listDevicesPage(query: DeviceQuery): Promise<DeviceSummary[]> {
    return this.#run((db) => deviceList.listDevicesPage(db, query));
  }

  async dashboardCounts(since: Date, now: Date): Promise<DashboardCounts> {
    return this.#run((db) => deviceList.dashboardCounts(db, since, now));
  }

  // -- second factor for enrollment (mfa.ts) ---------------------------------------------------------

  async getMfaFactor(userId: string): Promise<MfaFactor | undefined> {
    return this.#run((db) => mfa.getMfaFactor(db, userId));
  }

  async listMfaFactors(): Promise<MfaFactorSummary[]> {
    return this.#run((db) => mfa.listMfaFactors(db));
  }

  async savePendingMfaFactor(input: { userId: string; secretCiphertext: string; now: Date }): Promise<boolean> {
    return this.#run((db) => mfa.savePendingMfaFactor(db, input), { missing: `user ${input.userId} does not exist` });
  }

  async activateMfaFactor(userId: string, timeStep: number, now: Date): Promise<boolean> {
    return this.#run((db) => mfa.activateMfaFactor(db, userId, timeStep, now));
  }

  async recordMfaUse(userId: string, timeStep: number, now: Date): Promise<boolean> {
    return this.#run((db) => mfa.recordMfaUse(db, userId, timeStep, now));
  }

  async countMfaAttempt(userId: string, now: Date, windowStart: Date): Promise<number> {
    return this.#run((db) => mfa.countMfaAttempt(db, userId, now, windowStart));
  }

  async deleteMfaFactor(userId: string): Promise<boolean> {
    return this.#run((db) => mfa.deleteMfaFactor(db, userId));
  }

  // -- app-protection (MAM) registrations (mam.ts; port MamRegistrationStore in core/management/ports.ts) --

  async recordMamRegistration(input: NewMamRegistration): Promise<RecordedMamRegistration> {
    return this.#run((db) => mam.recordMamRegistration(db, input), { missing: `user ${input.userId} does not exist` });
  }

  async findMamRegistration(deviceId: string): ReturnType<ManagementStorage['findMamRegistration']> {
    return this.#run((db) => mam.findMamRegistration(db, deviceId));
  }

  async listMamRegistrations(deviceId: string): Promise<MamRegistration[]> {
    return this.#run((db) => mam.listMamRegistrations(db, deviceId));
  }

  // -- users of a device (device-users.ts; port DeviceUserStore in core/management/ports.ts) ------------

  async setPrimaryUser(devicePk: string, userId: string | null): Promise<void> {
    return this.#run((db) => du.setPrimaryUser(db, devicePk, userId), { missing: `user ${userId} does not exist` });
  }

  async recordDeviceUser(devicePk: string, userId: string, now: Date): Promise<void> {
    return this.#run((db) => du.recordDeviceUser(db, devicePk, userId, now), {
      missing: `device ${devicePk} or user ${userId} does not exist`,
    });
  }

  async listDeviceUsers(devicePk: string): Promise<DeviceUser[]> {
    return this.#run((db) => du.listDeviceUsers(db, devicePk));
  }

  async listDevicesOfUser(userId: string): Promise<DeviceRecord[]> {
    return this.#run((db) => du.listDevicesOfUser(db, userId));
  }

  // -- OIDC providers of the sign-in page (oidc.ts; port in core/oidc/ports.ts) -----------------------

  async addOidcProvider(input: NewOidcProvider): Promise<OidcProvider> {
    return this.#run((db) => oidc.addOidcProvider(db, input), `an OIDC provider named "${input.name}" already exists`);
  }

  async getOidcProvider(id: string): Promise<OidcProvider | undefined> {
    return this.#run((db) => oidc.getOidcProvider(db, id));
  }

  async getOidcProviderByName(name: string): Promise<OidcProvider | undefined> {
    return this.#run((db) => oidc.getOidcProviderByName(db, name));
  }

  async listOidcProviders(): Promise<OidcProvider[]> {
    return this.#run((db) => oidc.listOidcProviders(db));
  }

  async deleteOidcProvider(id: string): Promise<boolean> {
    return this.#run((db) => oidc.deleteOidcProvider(db, id));
  }

  // -- Entra ID tenants (entra.ts; port in core/entra/ports.ts) ---------------------------------------

  async saveEntraTenant(input: Omit<EntraTenant, 'createdAt' | 'updatedAt'> & { now: Date }): Promise<EntraTenant> {
    return this.#run((db) => entra.saveEntraTenant(db, input));
  }

  async getEntraTenant(tenantId: string): Promise<EntraTenant | undefined> {
    return this.#run((db) => entra.getEntraTenant(db, tenantId));
  }

  async listEntraTenants(): Promise<EntraTenant[]> {
    return this.#run((db) => entra.listEntraTenants(db));
  }

  async deleteEntraTenant(tenantId: string): Promise<boolean> {
    return this.#run((db) => entra.deleteEntraTenant(db, tenantId));
  }

  async linkDirectoryObject(input: { userId: string; tenantId: string; objectId: string; now: Date }): Promise<DirectoryLinkResult> {
    return this.#run((db) => entra.linkDirectoryObject(db, input));
  }

  async getDirectoryLink(userId: string): Promise<{ tenantId: string; objectId: string; linkedAt: Date } | undefined> {
    return this.#run((db) => entra.getDirectoryLink(db, userId));
  }

  // -- terms-of-use text (entra.ts; port in core/enrollment/ports.ts) ----------------------------------

  async getTermsText(): Promise<TermsText> {
    return this.#run((db) => entra.getTermsText(db));
  }

  async saveTermsText(input: { title: string | null; body: string | null; now: Date }): Promise<TermsText> {
    return this.#run((db) => entra.saveTermsText(db, input));
  }

  // -- compliance (compliance.ts; port in core/compliance/ports.ts) -------------------------------------

  async getComplianceRules(): Promise<CP.ComplianceRules | undefined> {
    return this.#run((db) => compliance.getComplianceRules(db));
  }

  async saveComplianceRules(rules: CP.ComplianceRules, now: Date): Promise<void> {
    return this.#run((db) => compliance.saveComplianceRules(db, rules, now));
  }

  async getDeviceCompliance(devicePk: string): Promise<CP.DeviceCompliance | undefined> {
    return this.#run((db) => compliance.getDeviceCompliance(db, devicePk));
  }

  async saveDeviceCompliance(input: CP.NewDeviceCompliance): Promise<{ previous: CP.DeviceCompliance['state'] | null; changed: boolean }> {
    return this.#run((db) => compliance.saveDeviceCompliance(db, input), { missing: `device ${input.devicePk} does not exist` });
  }

  async listComplianceHistory(devicePk: string, limit: number): Promise<CP.ComplianceHistoryEntry[]> {
    return this.#run((db) => compliance.listComplianceHistory(db, devicePk, limit));
  }

  async listWriteBackDue(now: Date, limit: number): Promise<CP.DeviceCompliance[]> {
    return this.#run((db) => compliance.listWriteBackDue(db, now, limit));
  }

  async recordWriteBack(
    devicePk: string,
    result: { ok: boolean; value: boolean; tenantId: string | null; detail: string; nextAttemptAt: Date | null; now: Date },
  ): Promise<void> {
    return this.#run((db) => compliance.recordWriteBack(db, devicePk, result));
  }

  async listWriteBackTenants(): Promise<CP.WriteBackTenant[]> {
    return this.#run((db) => compliance.listWriteBackTenants(db));
  }

  async setWriteBackTenant(tenantId: string, enabled: boolean, now: Date): Promise<boolean> {
    return this.#run((db) => compliance.setWriteBackTenant(db, tenantId, enabled, now));
  }

  // -- directory sync (directory-sync.ts; port in core/directory-sync/ports.ts) -------------------------

  async upsertSyncedUser(input: DS.SyncedUserInput): Promise<{ userId: string; identity: DS.SyncedIdentity; outcome: DS.SyncOutcome }> {
    return this.#run((db) => dsync.upsertSyncedUser(db, this.kind, input), `user ${input.upn} already exists`);
  }

  async updateSyncedUser(
    userId: string,
    changes: Parameters<DS.DirectorySyncStore['updateSyncedUser']>[1],
    now: Date,
  ): Promise<DS.SyncedIdentity> {
    return this.#run((db) => dsync.updateSyncedUser(db, this.kind, userId, changes, now), 'that user name is taken');
  }

  async deleteSyncedUser(userId: string, now: Date): Promise<boolean> {
    return this.#run((db) => dsync.deleteSyncedUser(db, this.kind, userId, now));
  }

  async upsertSyncedGroup(input: DS.SyncedGroupInput): Promise<{ groupId: string; identity: DS.SyncedIdentity; outcome: DS.SyncOutcome }> {
    return this.#run((db) => dsync.upsertSyncedGroup(db, this.kind, input), `group ${input.displayName} already exists`);
  }

  async updateSyncedGroup(
    groupId: string,
    changes: Parameters<DS.DirectorySyncStore['updateSyncedGroup']>[1],
    now: Date,
  ): Promise<DS.SyncedIdentity> {
    return this.#run((db) => dsync.updateSyncedGroup(db, this.kind, groupId, changes, now), 'that group name is taken');
  }

  async deleteSyncedGroup(groupId: string, now: Date): Promise<boolean> {
    return this.#run((db) => dsync.deleteSyncedGroup(db, this.kind, groupId, now));
  }

  async getIdentity(kind: DS.IdentityKind, localId: string): Promise<DS.SyncedIdentity | undefined> {
    return this.#run((db) => dsync.getIdentity(db, kind, localId));
  }

  async findIdentityByExternalId(source: string, kind: DS.IdentityKind, externalId: string): Promise<DS.SyncedIdentity | undefined> {
    return this.#run((db) => dsync.findIdentityByExternalId(db, source, kind, externalId));
  }

  async listIdentities(query: DS.IdentityQuery): Promise<{ total: number; items: DS.SyncedIdentity[] }> {
    return this.#run((db) => dsync.listIdentities(db, query));
  }

  async identitiesOf(kind: DS.IdentityKind, localIds: string[]): Promise<DS.SyncedIdentity[]> {
    return this.#run((db) => dsync.identitiesOf(db, kind, localIds));
  }

  async addScimToken(input: { id: string; name: string; tokenHash: string; createdBy: string; now: Date }): Promise<DS.ScimTokenRecord> {
    return this.#run((db) => dsync.addScimToken(db, input), 'that SCIM token exists');
  }

  async getScimTokenByHash(tokenHash: string): Promise<DS.ScimTokenRecord | undefined> {
    return this.#run((db) => dsync.getScimTokenByHash(db, tokenHash));
  }

  async listScimTokens(): Promise<DS.ScimTokenRecord[]> {
    return this.#run((db) => dsync.listScimTokens(db));
  }

  async revokeScimToken(id: string, now: Date): Promise<DS.ScimTokenRecord> {
    return this.#run((db) => dsync.revokeScimToken(db, id, now));
  }

  async touchScimToken(id: string, now: Date): Promise<void> {
    return this.#run((db) => dsync.touchScimToken(db, id, now));
  }

  async saveEntraSyncConfig(input: Parameters<DS.DirectorySyncStore['saveEntraSyncConfig']>[0]): Promise<DS.EntraSyncConfig> {
    return this.#run((db) => dsync.saveEntraSyncConfig(db, this.kind, input), { missing: `tenant ${input.tenantId} is not connected` });
  }

  async getEntraSyncConfig(tenantId: string): Promise<DS.EntraSyncConfig | undefined> {
    return this.#run((db) => dsync.getEntraSyncConfig(db, tenantId));
  }

  async listEntraSyncConfigs(): Promise<DS.EntraSyncConfig[]> {
    return this.#run((db) => dsync.listEntraSyncConfigs(db));
  }

  async recordEntraSyncRun(tenantId: string, run: Parameters<DS.DirectorySyncStore['recordEntraSyncRun']>[1]): Promise<void> {
    return this.#run((db) => dsync.recordEntraSyncRun(db, tenantId, run));
  }

  // -- who may enroll (policy.ts; ports in core/policy/ports.ts) -------------------------------------------

  async setUserEnabled(userId: string, enabled: boolean, now: Date): Promise<User> {
    return this.#run((db) => pol.setUserEnabled(db, userId, enabled, now));
  }

  async addGroupToGroup(parentId: string, childId: string): Promise<void> {
    return this.#run((db) => pol.addGroupToGroup(db, this.kind, parentId, childId), {
      missing: `group ${parentId} or ${childId} does not exist`,
    });
  }

  async removeGroupFromGroup(parentId: string, childId: string): Promise<void> {
    return this.#run((db) => pol.removeGroupFromGroup(db, parentId, childId));
  }

  async listChildGroups(groupId: string): Promise<Group[]> {
    return this.#run((db) => pol.listChildGroups(db, groupId));
  }

  async groupsOfUser(userId: string): Promise<string[]> {
    return this.#run((db) => pol.groupsOfUser(db, userId));
  }

  async usersInGroup(groupId: string): Promise<string[]> {
    return this.#run((db) => pol.usersInGroup(db, groupId));
  }

  async groupHasUsers(groupId: string): Promise<boolean> {
    return this.#run((db) => pol.groupHasUsers(db, groupId));
  }

  async listGroupsWithCounts(): Promise<P.GroupWithCounts[]> {
    return this.#run((db) => pol.listGroupsWithCounts(db));
  }

  async assignLicense(userId: string, now: Date): Promise<boolean> {
    return this.#run((db) => pol.assignLicense(db, this.kind, userId, now), { missing: `user ${userId} does not exist` });
  }

  async removeLicense(userId: string): Promise<boolean> {
    return this.#run((db) => pol.removeLicense(db, userId));
  }

  async hasLicense(userId: string): Promise<boolean> {
    return this.#run((db) => pol.hasLicense(db, userId));
  }

  async licenseCounts(): Promise<{ assigned: number; seats: number | null; available: number | null }> {
    return this.#run((db) => pol.licenseCounts(db));
  }

  async listLicenses(): Promise<P.LicenseAssignment[]> {
    return this.#run((db) => pol.listLicenses(db));
  }

  async licenseOf(userId: string): Promise<P.EffectiveLicense> {
    return this.#run((db) => pol.licenseOf(db, userId));
  }

  async licenseUsage(): Promise<P.LicenseUsage> {
    return this.#run((db) => pol.licenseUsage(db));
  }

  async assignGroupLicense(groupId: string, now: Date): Promise<boolean> {
    return this.#run((db) => pol.assignGroupLicense(db, groupId, now), { missing: `group ${groupId} does not exist` });
  }

  async removeGroupLicense(groupId: string): Promise<boolean> {
    return this.#run((db) => pol.removeGroupLicense(db, groupId));
  }

  async listGroupLicenses(): Promise<P.GroupLicenseAssignment[]> {
    return this.#run((db) => pol.listGroupLicenses(db));
  }

  // -- app catalog (apps.ts) ---------------------------------------------------------------------------

  async addApp(input: AC.AppDefinition & { now: Date }): Promise<AC.CatalogApp> {
    return this.#run((db) => apps.addApp(db, input), `an app named ${input.name} already exists`);
  }

  async getApp(ref: string): Promise<AC.CatalogApp | undefined> {
    return this.#run((db) => apps.getApp(db, ref));
  }

  async listApps(): Promise<AC.CatalogApp[]> {
    return this.#run((db) => apps.listApps(db));
  }

  async removeApp(appId: string): Promise<boolean> {
    return this.#run((db) => apps.removeApp(db, appId));
  }

  async assignApp(input: { appId: string; groupId: string; intent: AC.AppIntent; now: Date }): Promise<void> {
    return this.#run((db) => apps.assignApp(db, input), { missing: `app ${input.appId} or group ${input.groupId} does not exist` });
  }

  async unassignApp(appId: string, groupId: string): Promise<boolean> {
    return this.#run((db) => apps.unassignApp(db, appId, groupId));
  }

  async listAppAssignments(appId?: string): Promise<AC.AppAssignment[]> {
    return this.#run((db) => apps.listAppAssignments(db, appId));
  }

  async appsForUser(userId: string): Promise<Array<{ app: AC.CatalogApp; intent: AC.OfferIntent }>> {
    return this.#run((db) => apps.appsForUser(db, userId));
  }

  async appAssignmentsForUser(
    userId: string,
  ): Promise<Array<{ app: AC.CatalogApp; intent: AC.AppIntent; groupId: string; groupName: string }>> {
    return this.#run((db) => apps.appAssignmentsForUser(db, userId));
  }

  async appInstallCounts(): Promise<Map<string, AC.InstallCounts>> {
    return this.#run((db) => apps.appInstallCounts(db));
  }

  async recordAppResult(result: AC.AppResult): Promise<void> {
    return this.#run((db) => apps.recordAppResult(db, result));
  }

  async appResultsFor(devicePk: string, commandIds: string[]): Promise<AC.AppResult[]> {
    return this.#run((db) => apps.appResultsFor(db, devicePk, commandIds));
  }

  async getTenantSettings(): Promise<P.TenantSettings> {
    return this.#run((db) => pol.getTenantSettings(db));
  }

  async saveTenantSettings(settings: P.TenantSettings, now: Date): Promise<P.TenantSettings> {
    return this.#run((db) => pol.saveTenantSettings(db, settings, now));
  }

  async ensureDefaultRestrictions(now: Date): Promise<{ platform: P.Restriction<'platform'>; deviceLimit: P.Restriction<'deviceLimit'> }> {
    return this.#run((db) => pol.ensureDefaultRestrictions(db, this.kind, now));
  }

  async createRestriction<T extends P.RestrictionType>(
    input: { type: T; name: string; config: P.RestrictionConfigs[T] },
    now: Date,
  ): Promise<P.Restriction<T>> {
    const conflict = `a ${String(input.type)} restriction named "${String(input.name).trim()}" already exists`;
    return this.#run((db) => pol.createRestriction(db, this.kind, input, now), conflict);
  }

  async getRestriction(id: string): Promise<P.Restriction | undefined> {
    return this.#run((db) => pol.getRestriction(db, id));
  }

  async updateRestriction(
    id: string,
    changes: { name?: string; config?: P.PlatformRestrictionConfig | P.DeviceLimitRestrictionConfig },
    now: Date,
  ): Promise<P.Restriction> {
    const conflict = `a restriction of that type named "${String(changes.name).trim()}" already exists`;
    return this.#run((db) => pol.updateRestriction(db, id, changes, now), conflict);
  }

  async setRestrictionPriority(id: string, priority: number, now: Date): Promise<void> {
    return this.#run((db) => pol.setRestrictionPriority(db, this.kind, id, priority, now));
  }

  async deleteRestriction(id: string): Promise<void> {
    return this.#run((db) => pol.deleteRestriction(db, this.kind, id));
  }

  async assignRestriction(id: string, groupId: string, now: Date): Promise<void> {
    return this.#run((db) => pol.assignRestriction(db, id, groupId, now), {
      missing: `restriction ${id} or group ${groupId} does not exist`,
    });
  }

  async unassignRestriction(id: string, groupId: string): Promise<void> {
    return this.#run((db) => pol.unassignRestriction(db, id, groupId));
  }

  async listRestrictions(type?: P.RestrictionType): Promise<P.Restriction[]> {
    return this.#run((db) => pol.listRestrictions(db, type));
  }

  async restrictionsFor<T extends P.RestrictionType>(groupIds: string[], type: T): Promise<P.Restriction<T>> {
    return this.#run((db) => pol.restrictionsFor(db, this.kind, groupIds, type));
  }

  async addDem(userId: string, now: Date): Promise<void> {
    return this.#run((db) => pol.addDem(db, userId, now), { missing: `user ${userId} does not exist` });
  }

  async removeDem(userId: string): Promise<boolean> {
    return this.#run((db) => pol.removeDem(db, userId));
  }

  async isDem(userId: string): Promise<boolean> {
    return this.#run((db) => pol.isDem(db, userId));
  }

  async listDems(): Promise<P.DeviceEnrollmentManager[]> {
    return this.#run((db) => pol.listDems(db));
  }

  async replaceCorporateIdentifiers(rows: P.CorporateIdentifier[], now: Date): Promise<number> {
    return this.#run((db) => pol.replaceCorporateIdentifiers(db, rows, now));
  }

  async addCorporateIdentifiers(rows: P.CorporateIdentifier[], now: Date): Promise<number> {
    return this.#run((db) => pol.addCorporateIdentifiers(db, rows, now));
  }

  async countCorporateIdentifiers(): Promise<number> {
    return this.#run((db) => pol.countCorporateIdentifiers(db));
  }

  async isCorporateIdentifier(device: P.CorporateIdentifier): Promise<boolean> {
    return this.#run((db) => pol.isCorporateIdentifier(db, device));
  }

  async removeCorporateIdentifier(row: P.CorporateIdentifier): Promise<boolean> {
    return this.#run((db) => pol.removeCorporateIdentifier(db, row));
  }

  async listCorporateIdentifiers(opts?: { limit?: number; offset?: number }): Promise<Array<P.CorporateIdentifier & { addedAt: Date }>> {
    return this.#run((db) => pol.listCorporateIdentifiers(db, opts));
  }

  async countUserDevicesForLimit(userId: string, opts: { since: Date; excludeDeviceId?: string }): Promise<number> {
    return this.#run((db) => pol.countUserDevicesForLimit(db, userId, opts));
  }

  async countDevicesEnrolledBy(userId: string, opts?: { excludeDeviceId?: string }): Promise<number> {
    return this.#run((db) => pol.countDevicesEnrolledBy(db, userId, opts));
  }

  async recordOwnership(devicePk: string, ownership: Ownership, rule: string): Promise<void> {
    return this.#run((db) => pol.recordOwnership(db, devicePk, ownership, rule));
  }

  async getOwnership(devicePk: string): Promise<{ ownership: Ownership; rule: string | null } | undefined> {
    return this.#run((db) => pol.getOwnership(db, devicePk));
  }

  async recordEnrollmentAttempt(attempt: P.NewEnrollmentAttempt): Promise<P.EnrollmentAttempt> {
    return this.#run((db) => pol.recordEnrollmentAttempt(db, attempt));
  }

  async listEnrollmentAttempts(opts: {
    limit: number;
    upn?: string;
    deviceId?: string;
    outcome?: P.EnrollmentOutcome;
    since?: Date;
    before?: Date;
  }): Promise<P.EnrollmentAttempt[]> {
    return this.#run((db) => pol.listEnrollmentAttempts(db, opts));
  }

  async countEnrollmentAttempts(opts: { since: Date; outcome?: P.EnrollmentOutcome }): Promise<number> {
    return this.#run((db) => pol.countEnrollmentAttempts(db, opts));
  }

  async pruneEnrollmentAttempts(before: Date): Promise<number> {
    return this.#run((db) => pol.pruneEnrollmentAttempts(db, before));
  }
}

// -- row mapping ---------------------------------------------------------------------------------------

function toDomain(row: Selectable<DomainsTable>): Domain {
  return { name: row.name, authPolicy: row.auth_policy as AuthPolicy, createdAt: timeFromDb(row.created_at) };
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    upn: row.upn,
    displayName: row.display_name,
    passwordHash: row.password_hash,
    enabled: boolFromDb(row.enabled),
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
}
