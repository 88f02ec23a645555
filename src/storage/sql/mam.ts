/**
 * SQL repository of app-protection (MAM) registrations (core/management/ports.ts MamRegistrationStore).
 * A registration is a device record in management mode 'mam' with no current enrollment (nothing is
 * issued) plus a row in mam_registrations saying who registered it and through which tenant.
 */
import type { Kysely, Selectable } from 'kysely';
import type {
  DeviceInventory,
  MamRegistration,
  ManagedDevice,
  MamRegistrationStatus,
  NewMamRegistration,
  Ownership,
  RecordedMamRegistration,
} from '../../core/management/ports.js';
import type { DeviceRecord, EnrollmentRecord } from '../../core/ports.js';
import { timeFromDb, timeFromDbOrNull, timeToDb } from './codecs.js';
import { newId } from './ids.js';
import { selectDevices, withWarnings } from './rows.js';
import type { Database, MamRegistrationsTable } from './schema.js';

type Db = Kysely<Database>;

function toRegistration(row: Selectable<MamRegistrationsTable>): MamRegistration {
  return {
    id: row.id,
    devicePk: row.device_pk,
    deviceId: row.device_id,
    userId: row.user_id,
    upn: row.upn,
    tenantId: row.tenant_id,
    status: row.status as MamRegistrationStatus,
    createdAt: timeFromDb(row.created_at),
    endedAt: timeFromDbOrNull(row.ended_at),
  };
}

/** What the session engine reads from an enrollment; a registration has no certificate, so those fields are empty. */
function enrollmentView(reg: MamRegistration, device: DeviceRecord): EnrollmentRecord {
  return {
    id: reg.id,
    devicePk: reg.devicePk,
    deviceId: reg.deviceId,
    userId: reg.userId,
    upn: reg.upn,
    enrollmentType: 'Full',
    authPolicy: 'Federated',
    status: reg.status,
    hwDevId: device.hwDevId,
    deviceName: device.deviceName,
    osVersion: device.osVersion,
    osEdition: device.osEdition,
    certSerial: '',
    certThumbprint: '',
    certNotBefore: reg.createdAt,
    certNotAfter: reg.createdAt,
    createdAt: reg.createdAt,
    supersededAt: reg.status === 'superseded' ? reg.endedAt : null,
    revokedAt: reg.status === 'active' ? null : reg.endedAt,
    // A registration always comes from "add work account".
    method: 'work_account',
    entraDeviceId: device.entraDeviceId,
  };
}

function inventoryFromDb(text: string | null): DeviceInventory | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as DeviceInventory) : null;
  } catch {
    return null;
  }
}

export async function recordMamRegistration(db: Db, input: NewMamRegistration): Promise<RecordedMamRegistration> {
  const deviceId = input.deviceId.replace(/[{}]/g, '').toUpperCase();
  const now = timeToDb(input.now);
  return db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('devices as d')
      .leftJoin('enrollments as e', 'e.id', 'd.current_enrollment_id')
      .select(['d.id', 'd.status', 'd.management_mode', 'e.status as enrollment_status'])
      .where('d.device_id', '=', deviceId)
      .executeTakeFirst();
    if (existing && existing.management_mode !== 'mam' && existing.status === 'enrolled' && existing.enrollment_status === 'active') {
      const row = await selectDevices(trx).where('d.id', '=', existing.id).executeTakeFirstOrThrow();
      const [device] = await withWarnings(trx, [row]);
      if (!device) throw new Error('unreachable: device vanished inside its transaction');
      return { ok: false, reason: 'mdm_enrolled', device };
    }
    let devicePk: string;
    if (existing) {
      devicePk = existing.id;
      await trx
        .updateTable('devices')
        .set((eb) => ({
          hw_dev_id: input.hwDevId ?? eb.ref('hw_dev_id'),
          device_name: input.deviceName ?? eb.ref('device_name'),
          os_version: input.osVersion ?? eb.ref('os_version'),
          enrollment_type: 'Full',
          user_id: input.userId,
          upn: input.upn.toLowerCase(),
          primary_user_id: input.userId,
          status: 'enrolled',
          last_enrolled_at: now,
          current_enrollment_id: null,
          management_mode: 'mam',
          retired_at: null,
        }))
        .where('id', '=', devicePk)
        .execute();
    } else {
      devicePk = newId();
      await trx
        .insertInto('devices')
        .values({
          id: devicePk,
          device_id: deviceId,
          hw_dev_id: input.hwDevId,
          device_name: input.deviceName,
          os_version: input.osVersion,
          os_edition: null,
          locale: null,
          mac_addresses: '[]',
          enrollment_type: 'Full',
          user_id: input.userId,
          upn: input.upn.toLowerCase(),
          primary_user_id: input.userId,
          status: 'enrolled',
          first_enrolled_at: now,
          last_enrolled_at: now,
          current_enrollment_id: null,
          ownership: 'personal' satisfies Ownership,
          ownership_rule: input.ownershipRule,
          management_mode: 'mam',
        })
        .execute();
    }
    const superseded = await trx
      .updateTable('mam_registrations')
      .set({ status: 'superseded' satisfies MamRegistrationStatus, ended_at: now })
      .where('device_pk', '=', devicePk)
      .where('status', '=', 'active')
      .executeTakeFirst();
    const row: Selectable<MamRegistrationsTable> = {
      id: newId(),
      device_pk: devicePk,
      device_id: deviceId,
      user_id: input.userId,
      upn: input.upn.toLowerCase(),
      tenant_id: input.tenantId,
      status: 'active',
      created_at: now,
      ended_at: null,
    };
    await trx.insertInto('mam_registrations').values(row).execute();
    const deviceRow = await selectDevices(trx).where('d.id', '=', devicePk).executeTakeFirstOrThrow();
    const [device] = await withWarnings(trx, [deviceRow]);
    if (!device) throw new Error('unreachable: device vanished inside its transaction');
    return { ok: true, device, registration: toRegistration(row), superseded: Number(superseded.numUpdatedRows) };
  });
}

export async function findMamRegistration(db: Db, deviceId: string) {
  const row = await selectDevices(db)
    .where('d.device_id', '=', deviceId.replace(/[{}]/g, '').toUpperCase())
    .where('d.management_mode', '=', 'mam')
    .executeTakeFirst();
  if (!row) return undefined;
  const reg = await db
    .selectFrom('mam_registrations')
    .selectAll()
    .where('device_pk', '=', row.id)
    .where('status', '=', 'active')
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  if (!reg) return undefined;
  const [device] = await withWarnings(db, [row]);
  if (!device) return undefined;
  const registration = toRegistration(reg);
  return {
    device,
    registration,
    enrollment: enrollmentView(registration, device),
    ownership: row.ownership as Ownership,
    retiredAt: timeFromDbOrNull(row.retired_at),
    inventory: inventoryFromDb(row.inventory),
  };
}

/** The newest registration of a MAM device whatever its status, as an enrollment view (devices show). */
export async function latestMamEnrollmentView(db: Db, devicePk: string, device: DeviceRecord): Promise<EnrollmentRecord | undefined> {
  const reg = await db
    .selectFrom('mam_registrations')
    .selectAll()
    .where('device_pk', '=', devicePk)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return reg && enrollmentView(toRegistration(reg), device);
}

export async function listMamRegistrations(db: Db, deviceId: string): Promise<MamRegistration[]> {
  const rows = await db
    .selectFrom('mam_registrations')
    .selectAll()
    .where('device_id', '=', deviceId.replace(/[{}]/g, '').toUpperCase())
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toRegistration);
}

/** The device left app protection (Alert 1226, or a retire): its active registration ends. */
export async function endMamRegistrations(db: Db, devicePk: string, status: 'superseded' | 'unenrolled', now: Date): Promise<void> {
  await db
    .updateTable('mam_registrations')
    .set({ status, ended_at: timeToDb(now) })
    .where('device_pk', '=', devicePk)
    .where('status', '=', 'active')
    .execute();
}

/** A MAM device as a ManagedDevice: its newest registration stands in for the enrollment. */
export async function getManagedMamDevice(db: Db, deviceId: string): Promise<ManagedDevice | undefined> {
  const row = await selectDevices(db)
    .where('d.device_id', '=', deviceId.replace(/[{}]/g, '').toUpperCase())
    .where('d.management_mode', '=', 'mam')
    .executeTakeFirst();
  if (!row) return undefined;
  const [device] = await withWarnings(db, [row]);
  if (!device) return undefined;
  const enrollment = await latestMamEnrollmentView(db, row.id, device);
  if (!enrollment) return undefined;
  return {
    device,
    enrollment,
    ownership: row.ownership as Ownership,
    lastCheckInAt: timeFromDbOrNull(row.last_check_in_at),
    inventory: inventoryFromDb(row.inventory),
    retiredAt: timeFromDbOrNull(row.retired_at),
  };
}
