/** Enrolled devices, their commands, and remote actions. */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE, HELPDESK_ROLES, rolesForAction } from '../../../core/admin/roles.js';
import type { RemoteAction } from '../../../core/management/actions.js';
import { decodeCursor, encodeCursor, pageOf, pageQuery } from '../pagination.js';
import { type ApiRoute, route } from '../route.js';
import { ActionResultSchema, DeviceDetailSchema, DeviceSchema, PrimaryUserSchema, toDevice, toDeviceDetail } from '../schemas.js';

const deviceParam = z.object({ deviceId: z.string().min(1).max(64).describe('The Windows DeviceID') });

/** Windows 11's first build; version strings compare as text because every build since 10240 has five digits. */
const WINDOWS_11_FIRST = '10.0.22000';
const DAY_MS = 86_400_000;
const CHECK_IN_WINDOWS: Record<string, { ms: number; stale: boolean }> = {
  '24h': { ms: DAY_MS, stale: false },
  '7d': { ms: 7 * DAY_MS, stale: false },
  '30d': { ms: 30 * DAY_MS, stale: false },
  stale7d: { ms: 7 * DAY_MS, stale: true },
  stale30d: { ms: 30 * DAY_MS, stale: true },
};

const actionBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.enum(['sync', 'restart', 'retire', 'delete']) }),
  z.object({ kind: z.literal('rename'), name: z.string().min(1).max(63) }),
  z.object({ kind: z.literal('wipe'), keepEnrollment: z.boolean().default(false) }),
]);

export const deviceRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/devices',
    operationId: 'listDevices',
    summary: 'List devices',
    description:
      'Ordered by DeviceID and paged by a keyset cursor (fast at any depth); filter by status, ownership, enrolling user, free text, Windows version, last check-in, compliance and management mode. Filters combine with AND.',
    tag: 'devices',
    access: ANY_ROLE,
    query: pageQuery.extend({
      status: z.enum(['enrolled', 'unenrolled']).optional(),
      ownership: z.enum(['corporate', 'personal']).optional(),
      upn: z.string().max(320).optional(),
      q: z
        .string()
        .max(200)
        .optional()
        .describe('A DeviceID or serial number prefix, or part of the device name, the enrolling UPN or the primary UPN.'),
      os: z.enum(['windows10', 'windows11']).optional().describe('windows11: build 22000 and later; windows10: earlier builds.'),
      checkIn: z
        .enum(['24h', '7d', '30d', 'stale7d', 'stale30d'])
        .optional()
        .describe('24h/7d/30d: checked in within that time; stale7d/stale30d: not checked in for that long (or never).'),
      compliance: z.enum(['compliant', 'noncompliant', 'inGrace', 'unknown']).optional(),
      managementMode: z.enum(['mdm', 'mam']).optional(),
    }),
    response: { status: 200, description: 'A page of devices.', schema: pageOf(DeviceSchema) },
    async handler({ query, deps }) {
      const now = deps.operations.now();
      const after = decodeCursor(query.cursor, ['d'])?.d;
      const window = query.checkIn ? CHECK_IN_WINDOWS[query.checkIn] : undefined;
      const rows = await deps.reads.listDevicesPage({
        status: query.status,
        ownership: query.ownership,
        upn: query.upn,
        search: query.q,
        osVersionAtLeast: query.os === 'windows11' ? WINDOWS_11_FIRST : undefined,
        osVersionBelow: query.os === 'windows10' ? WINDOWS_11_FIRST : undefined,
        checkedInSince: window && !window.stale ? new Date(now.getTime() - window.ms) : undefined,
        notCheckedInSince: window?.stale ? new Date(now.getTime() - window.ms) : undefined,
        compliance: query.compliance,
        managementMode: query.managementMode,
        limit: query.limit + 1,
        afterDeviceId: after,
      });
      const items = rows.slice(0, query.limit);
      const last = items.at(-1);
      return {
        items: items.map(toDevice),
        nextCursor: rows.length > query.limit && last ? encodeCursor({ d: last.device.deviceId }) : null,
      };
    },
  }),
  route({
    method: 'GET',
    path: '/devices/{deviceId}',
    operationId: 'getDevice',
    summary: 'Show a device',
    description: 'With its current enrollment, inventory and newest commands (remote actions included, with their state).',
    tag: 'devices',
    access: ANY_ROLE,
    params: deviceParam,
    response: { status: 200, description: 'The device.', schema: DeviceDetailSchema },
    async handler({ params, deps }) {
      return toDeviceDetail(await deps.management.device(params.deviceId));
    },
  }),
  route({
    method: 'POST',
    path: '/devices/{deviceId}/actions',
    operationId: 'queueDeviceAction',
    summary: 'Queue a remote action',
    description:
      'sync and restart: help desk or administrator; rename and wipe (corporate devices only: a personal device is retired, never wiped, by the organisation), retire and delete: administrator. The device is woken through push when configured, else it picks the action up at its next check-in; follow it with GET /devices/{deviceId}.',
    tag: 'devices',
    access: HELPDESK_ROLES,
    accessFor: ({ body }) => rolesForAction(body.kind),
    params: deviceParam,
    body: actionBody,
    response: { status: 202, description: 'Queued.', schema: ActionResultSchema },
    errors: [422],
    async handler({ params, body, deps, audit }) {
      const action: RemoteAction = body;
      const q = await deps.operations.queueAction(audit, params.deviceId, action);
      return {
        actionId: q.origin.kind === 'action' ? q.origin.actionId : q.id,
        commandId: q.id,
        state: q.state,
        push: q.push.ok ? { ok: true } : { ok: false, reason: q.push.reason, detail: q.push.detail },
      };
    },
  }),
  route({
    method: 'PUT',
    path: '/devices/{deviceId}/ownership',
    operationId: 'setDeviceOwnership',
    summary: "Change a device's ownership",
    description: 'Ownership decides what may be done to the device (rename is for corporate devices only). Audited.',
    tag: 'devices',
    access: ADMINISTRATOR_ONLY,
    params: deviceParam,
    body: z.object({ ownership: z.enum(['personal', 'corporate']) }),
    response: { status: 204, description: 'Changed.' },
    async handler({ params, body, deps, audit }) {
      await deps.operations.setOwnership(audit, params.deviceId, body.ownership);
      return undefined;
    },
  }),
  route({
    method: 'PUT',
    path: '/devices/{deviceId}/primary-user',
    operationId: 'setDevicePrimaryUser',
    summary: "Change a device's primary user",
    description:
      'The primary user is who the device belongs to (the enrolling user after a join or a work-account or user enrollment; none after bulk and DEM enrollments). `upn` null makes it a shared device. The user must be enabled and licensed. It does not change who enrolled the device, nor whose settings a session carries (whoever is signed in). Audited.',
    tag: 'devices',
    access: ADMINISTRATOR_ONLY,
    params: deviceParam,
    body: z.object({ upn: z.string().min(3).max(320).nullable().describe('The new primary user, or null for a shared device.') }),
    response: {
      status: 200,
      description: 'Changed.',
      schema: z.object({ deviceId: z.string(), primaryUser: PrimaryUserSchema, shared: z.boolean() }),
    },
    errors: [422],
    async handler({ params, body, deps, audit }) {
      const primaryUser = await deps.operations.setPrimaryUser(audit, params.deviceId, body.upn);
      return { deviceId: params.deviceId.toUpperCase(), primaryUser, shared: primaryUser === null };
    },
  }),
];
