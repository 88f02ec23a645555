/** The device history block of `winroll devices show` (S16: one record per physical device). */
import type { DeviceHistory } from '../core/ports.js';
import { table } from './main.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

const HOW: Record<string, string> = {
  join: 'directory join',
  work_account: 'work account',
  manual: 'manual (Settings)',
  bulk: 'bulk / device context',
};

/** JSON shape of the history (`devices show --json`, key `history`), dates as ISO text. */
export function historyJson(h: DeviceHistory) {
  return {
    deviceIds: h.deviceIds,
    serialNumber: h.device.serialNumber,
    entraDeviceId: h.device.entraDeviceId,
    hwDevIds: h.hwDevIds,
    enrollments: h.enrollments.map((e) => ({
      deviceId: e.deviceId,
      how: e.method,
      upn: e.upn,
      enrollmentType: e.enrollmentType,
      status: e.status,
      entraDeviceId: e.entraDeviceId,
      createdAt: e.createdAt,
      supersededAt: e.supersededAt,
    })),
    merges: h.merges,
  };
}

export function historyLines(h: DeviceHistory): string[] {
  const lines = [
    '',
    `History (one record for this machine; DeviceIDs ${h.deviceIds.join(' → ')})`,
    `  serial        ${h.device.serialNumber ?? 'not reported yet'}${h.device.entraDeviceId ? `, Entra device ${h.device.entraDeviceId}` : ''}`,
  ];
  for (const m of h.merges) lines.push(`  MERGED        ${m.mergedDeviceId} on ${iso(m.mergedAt)}: ${m.reason}`);
  lines.push(
    table(
      ['ENROLLED', 'HOW', 'DEVICEID', 'USER', 'STATE'],
      h.enrollments.map((e) => [
        iso(e.createdAt),
        e.method ? (HOW[e.method] ?? e.method) : '(not recorded)',
        e.deviceId,
        e.upn,
        e.status === 'superseded' && e.supersededAt ? `superseded ${iso(e.supersededAt)}` : e.status,
      ]),
    ),
  );
  return lines;
}
