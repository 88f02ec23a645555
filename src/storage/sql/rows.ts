/**
 * Row mapping shared by the enrollment and management repositories: devices (with their current
 * certificate and warnings) and enrollments.
 */
import type { Kysely, Selectable } from 'kysely';
import type {
  AuthPolicy,
  DeviceRecord,
  DeviceStatus,
  DeviceWarning,
  EnrollmentHow,
  EnrollmentRecord,
  EnrollmentStatus,
  EnrollmentType,
} from '../../core/ports.js';
import { intFromDb, stringArrayFromDb, timeFromDb, timeFromDbOrNull } from './codecs.js';
import type { Database, DevicesTable, EnrollmentsTable } from './schema.js';

export type DeviceRow = Selectable<DevicesTable> & {
  cert_serial: string | null;
  cert_thumbprint: string | null;
  cert_not_after: string | null;
  primary_upn: string | null;
};

export function selectDevices(db: Kysely<Database>) {
  return db
    .selectFrom('devices as d')
    .leftJoin('enrollments as e', 'e.id', 'd.current_enrollment_id')
    .leftJoin('users as pu', 'pu.id', 'd.primary_user_id')
    .selectAll('d')
    .select(['e.cert_serial', 'e.cert_thumbprint', 'e.cert_not_after', 'pu.upn as primary_upn']);
}

export async function withWarnings(db: Kysely<Database>, rows: DeviceRow[]): Promise<DeviceRecord[]> {
  if (rows.length === 0) return [];
  const pks = rows.map((r) => r.id);
  const byDevice = new Map<string, DeviceWarning[]>();
  // Chunk to stay under SQLite's bound-parameter limit on large fleets.
  for (let i = 0; i < pks.length; i += 500) {
    const warnings = await db
      .selectFrom('device_warnings')
      .selectAll()
      .where('device_pk', 'in', pks.slice(i, i + 500))
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    for (const w of warnings) {
      const list = byDevice.get(w.device_pk) ?? [];
      list.push({
        kind: w.kind as DeviceWarning['kind'],
        detail: w.detail,
        relatedDeviceIds: stringArrayFromDb(w.related_device_ids),
        createdAt: timeFromDb(w.created_at),
      });
      byDevice.set(w.device_pk, list);
    }
  }
  return rows.map((r) => toDevice(r, byDevice.get(r.id) ?? []));
}

export function toDevice(row: DeviceRow, warnings: DeviceWarning[]): DeviceRecord {
  return {
    id: row.id,
    deviceId: row.device_id,
    hwDevId: row.hw_dev_id,
    deviceName: row.device_name,
    osVersion: row.os_version,
    osEdition: intFromDb(row.os_edition),
    enrollmentType: row.enrollment_type as EnrollmentType,
    userId: row.user_id,
    upn: row.upn,
    primaryUserId: row.primary_user_id,
    primaryUpn: row.primary_upn,
    status: row.status as DeviceStatus,
    firstEnrolledAt: timeFromDb(row.first_enrolled_at),
    lastEnrolledAt: timeFromDb(row.last_enrolled_at),
    currentEnrollmentId: row.current_enrollment_id,
    certSerial: row.cert_serial,
    certThumbprint: row.cert_thumbprint,
    certNotAfter: timeFromDbOrNull(row.cert_not_after),
    warnings,
    managementMode: row.management_mode === 'mam' ? 'mam' : 'mdm',
    serialNumber: row.serial_number,
    entraDeviceId: row.entra_device_id,
  };
}

export function toEnrollment(row: Selectable<EnrollmentsTable>): EnrollmentRecord {
  return {
    id: row.id,
    devicePk: row.device_pk,
    deviceId: row.device_id,
    userId: row.user_id,
    upn: row.upn,
    enrollmentType: row.enrollment_type as EnrollmentType,
    authPolicy: row.auth_policy as AuthPolicy,
    status: row.status as EnrollmentStatus,
    hwDevId: row.hw_dev_id,
    deviceName: row.device_name,
    osVersion: row.os_version,
    osEdition: intFromDb(row.os_edition),
    certSerial: row.cert_serial,
    certThumbprint: row.cert_thumbprint,
    certNotBefore: timeFromDb(row.cert_not_before),
    certNotAfter: timeFromDb(row.cert_not_after),
    createdAt: timeFromDb(row.created_at),
    supersededAt: timeFromDbOrNull(row.superseded_at),
    revokedAt: timeFromDbOrNull(row.revoked_at),
    method: (row.method as EnrollmentHow | null) ?? null,
    entraDeviceId: row.entra_device_id ?? null,
  };
}
