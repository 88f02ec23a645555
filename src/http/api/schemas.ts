/**
 * Wire shapes of the API's responses (zod, so the OpenAPI document is generated from the same
 * definitions) and the functions that map domain objects onto them. Mapping is explicit: internal keys
 * and secrets (password hashes, token hashes, certificate bytes) never reach a response by accident.
 * Timestamps are ISO-8601 UTC strings.
 */
import { z } from 'zod';
import type { PublicApiToken } from '../../core/admin/auth.js';
import type { AdminAccount, AuditEntry, DeviceSummary } from '../../core/admin/ports.js';
import type { UserView } from '../../core/admin/operations.js';
import type { DeviceDetails } from '../../core/management/admin.js';
import type { Group, Profile, QueuedCommand } from '../../core/management/ports.js';
import type { DeviceRecord, Domain } from '../../core/ports.js';

/** A named schema: it becomes components/schemas/<id> in the OpenAPI document (zod's global registry). */
function named<S extends z.ZodType>(id: string, schema: S): S {
  return schema.meta({ id }) as S;
}

export const dateTime = z.string().meta({ format: 'date-time' });
/** A timestamp the client sends: ISO-8601 with Z or an offset. */
export const dateTimeInput = z.iso.datetime({ offset: true });
const iso = (d: Date): string => d.toISOString();
const isoOrNull = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export const roleSchema = z.enum(['administrator', 'helpdesk', 'readonly']);
export const authPolicySchema = z.enum(['OnPremise', 'Federated']);

export const ProblemSchema = named(
  'Problem',
  z.object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z
      .string()
      .describe(
        'Machine-readable error code: not_found, conflict, invalid_input, invalid_request, unauthenticated, forbidden, rate_limited, storage_unavailable, internal, ...',
      ),
    traceId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
);

// -- session and accounts -----------------------------------------------------------------------------

export const SessionSchema = named(
  'Session',
  z.object({
    userId: z.string(),
    upn: z.string(),
    role: roleSchema,
    via: z.enum(['session', 'token']),
    csrfToken: z.string().nullable().describe('Send it as X-CSRF-Token on every POST, PUT, PATCH and DELETE of this session.'),
    expiresAt: dateTime.nullable(),
  }),
);

export const AdminSchema = named(
  'Admin',
  z.object({
    userId: z.string(),
    upn: z.string(),
    displayName: z.string().nullable(),
    enabled: z.boolean(),
    role: roleSchema,
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
);
export function toAdmin(a: AdminAccount): z.output<typeof AdminSchema> {
  return {
    userId: a.userId,
    upn: a.upn,
    displayName: a.displayName,
    enabled: a.enabled,
    role: a.role,
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

export const ApiTokenSchema = named(
  'ApiToken',
  z.object({
    id: z.string(),
    name: z.string(),
    role: roleSchema,
    createdByUserId: z.string(),
    createdByUpn: z.string(),
    createdAt: dateTime,
    expiresAt: dateTime.nullable(),
    lastUsedAt: dateTime.nullable(),
    revokedAt: dateTime.nullable(),
  }),
);
export function toApiToken(t: PublicApiToken): z.output<typeof ApiTokenSchema> {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    createdByUserId: t.createdByUserId,
    createdByUpn: t.createdByUpn,
    createdAt: iso(t.createdAt),
    expiresAt: isoOrNull(t.expiresAt),
    lastUsedAt: isoOrNull(t.lastUsedAt),
    revokedAt: isoOrNull(t.revokedAt),
  };
}

export const CreatedApiTokenSchema = named(
  'CreatedApiToken',
  z.object({ token: z.string().describe('The bearer value (wr_...). Shown once; only its hash is stored.'), apiToken: ApiTokenSchema }),
);

// -- directory ----------------------------------------------------------------------------------------

export const DomainSchema = named('Domain', z.object({ name: z.string(), authPolicy: authPolicySchema, createdAt: dateTime }));
export function toDomain(d: Domain): z.output<typeof DomainSchema> {
  return { name: d.name, authPolicy: d.authPolicy, createdAt: iso(d.createdAt) };
}

export const UserSchema = named(
  'User',
  z.object({
    id: z.string(),
    upn: z.string(),
    displayName: z.string().nullable(),
    enabled: z.boolean(),
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
);
export function toUser(u: UserView): z.output<typeof UserSchema> {
  return { id: u.id, upn: u.upn, displayName: u.displayName, enabled: u.enabled, createdAt: iso(u.createdAt), updatedAt: iso(u.updatedAt) };
}

export const GroupSchema = named('Group', z.object({ id: z.string(), name: z.string(), createdAt: dateTime }));
export function toGroup(g: Group): z.output<typeof GroupSchema> {
  return { id: g.id, name: g.name, createdAt: iso(g.createdAt) };
}

// -- devices ------------------------------------------------------------------------------------------

const WarningSchema = z.object({ kind: z.string(), detail: z.string(), relatedDeviceIds: z.array(z.string()), createdAt: dateTime });

export const DeviceSchema = named(
  'Device',
  z.object({
    deviceId: z.string(),
    deviceName: z.string().nullable(),
    userId: z.string(),
    upn: z.string(),
    status: z.enum(['enrolled', 'unenrolled']),
    ownership: z.enum(['corporate', 'personal']),
    enrollmentType: z.enum(['Full', 'Device']),
    osVersion: z.string().nullable(),
    osEdition: z.number().int().nullable(),
    hwDevId: z.string().nullable(),
    firstEnrolledAt: dateTime,
    lastEnrolledAt: dateTime,
    lastCheckInAt: dateTime.nullable(),
    retiredAt: dateTime.nullable(),
    certThumbprint: z.string().nullable(),
    certNotAfter: dateTime.nullable(),
    warnings: z.array(WarningSchema),
  }),
);

function deviceFields(d: DeviceRecord) {
  return {
    deviceId: d.deviceId,
    deviceName: d.deviceName,
    userId: d.userId,
    upn: d.upn,
    status: d.status,
    enrollmentType: d.enrollmentType,
    osVersion: d.osVersion,
    osEdition: d.osEdition,
    hwDevId: d.hwDevId,
    firstEnrolledAt: iso(d.firstEnrolledAt),
    lastEnrolledAt: iso(d.lastEnrolledAt),
    certThumbprint: d.certThumbprint,
    certNotAfter: isoOrNull(d.certNotAfter),
    warnings: d.warnings.map((w) => ({
      kind: w.kind,
      detail: w.detail,
      relatedDeviceIds: w.relatedDeviceIds,
      createdAt: iso(w.createdAt),
    })),
  };
}

export function toDevice(s: DeviceSummary): z.output<typeof DeviceSchema> {
  return {
    ...deviceFields(s.device),
    ownership: s.ownership,
    lastCheckInAt: isoOrNull(s.lastCheckInAt),
    retiredAt: isoOrNull(s.retiredAt),
  };
}

export const CommandSchema = named(
  'Command',
  z.object({
    id: z.string(),
    seq: z.number().int(),
    verb: z.enum(['Get', 'Add', 'Replace', 'Delete', 'Exec']),
    locUri: z.string(),
    state: z.enum(['pending', 'sent', 'acknowledged', 'failed', 'canceled']),
    status: z.number().int().nullable().describe("The device's OMA-DM status code, once answered."),
    attempts: z.number().int(),
    origin: z.object({
      kind: z.enum(['profile', 'action', 'inventory', 'system']),
      actionId: z.string().optional(),
      profileId: z.string().optional(),
      purpose: z.string().optional(),
    }),
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
);
export function toCommand(c: QueuedCommand): z.output<typeof CommandSchema> {
  const o = c.origin;
  return {
    id: c.id,
    seq: c.seq,
    verb: c.verb,
    locUri: c.item.locUri,
    state: c.state,
    status: c.status,
    attempts: c.attempts,
    origin:
      o.kind === 'action'
        ? { kind: o.kind, actionId: o.actionId }
        : o.kind === 'profile'
          ? { kind: o.kind, profileId: o.profileId }
          : o.kind === 'system'
            ? { kind: o.kind, purpose: o.purpose }
            : { kind: o.kind },
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

export const DeviceDetailSchema = named(
  'DeviceDetail',
  DeviceSchema.extend({
    enrollment: z.object({
      id: z.string(),
      status: z.enum(['active', 'superseded', 'unenrolled']),
      authPolicy: authPolicySchema,
      createdAt: dateTime,
      certNotBefore: dateTime,
      certNotAfter: dateTime,
    }),
    inventory: z.record(z.string(), z.unknown()).nullable(),
    commands: z.array(CommandSchema).describe('The newest 200 commands and remote actions, with their state.'),
  }),
);
export function toDeviceDetail(d: DeviceDetails): z.output<typeof DeviceDetailSchema> {
  return {
    ...toDevice({ device: d.device, ownership: d.ownership, lastCheckInAt: d.lastCheckInAt, retiredAt: d.retiredAt }),
    enrollment: {
      id: d.enrollment.id,
      status: d.enrollment.status,
      authPolicy: d.enrollment.authPolicy,
      createdAt: iso(d.enrollment.createdAt),
      certNotBefore: iso(d.enrollment.certNotBefore),
      certNotAfter: iso(d.enrollment.certNotAfter),
    },
    inventory: d.inventory ? { ...d.inventory } : null,
    commands: d.commands.map(toCommand),
  };
}

export const ActionResultSchema = named(
  'ActionResult',
  z.object({
    actionId: z.string(),
    commandId: z.string(),
    state: z.enum(['pending', 'sent', 'acknowledged', 'failed', 'canceled']),
    push: z
      .object({ ok: z.boolean(), reason: z.string().optional(), detail: z.string().optional() })
      .describe('Whether the device was woken through WNS; otherwise it picks the action up at its next check-in.'),
  }),
);

// -- profiles -----------------------------------------------------------------------------------------

export const settingSchema = z.object({
  path: z.string().min(1).max(1024).describe('CSP path below the scope root, e.g. Vendor/MSFT/Policy/Config/Camera/AllowCamera'),
  format: z.enum(['chr', 'int', 'bool', 'b64', 'xml', 'float']).default('chr'),
  value: z.string().max(256 * 1024),
});

const SettingOut = z.object({ path: z.string(), format: z.enum(['chr', 'int', 'bool', 'b64', 'xml', 'float']), value: z.string() });

export const ProfileSchema = named(
  'Profile',
  z.object({
    id: z.string(),
    name: z.string(),
    scope: z.enum(['user', 'device']),
    version: z.number().int(),
    settings: z.array(SettingOut),
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
);
export function toProfile(p: Profile): z.output<typeof ProfileSchema> {
  return {
    id: p.id,
    name: p.name,
    scope: p.scope,
    version: p.version,
    settings: p.settings.map((s) => ({ ...s })),
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export const AssignmentSchema = named(
  'Assignment',
  z.object({
    kind: z.enum(['group', 'device']),
    group: z.string().nullable().describe('Group name'),
    device: z.string().nullable().describe('DeviceID'),
  }),
);

export const ProfileDetailSchema = named('ProfileDetail', ProfileSchema.extend({ assignments: z.array(AssignmentSchema) }));

// -- audit --------------------------------------------------------------------------------------------

export const AuditEntrySchema = named(
  'AuditEntry',
  z.object({
    id: z.string(),
    at: dateTime,
    actor: z.object({
      kind: z.enum(['admin', 'token', 'cli']),
      userId: z.string().optional(),
      upn: z.string().optional(),
      tokenId: z.string().optional(),
      tokenName: z.string().optional(),
    }),
    actorName: z.string().describe('The admin UPN, token:<name> or cli.'),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    before: z.unknown().describe('State before the change (JSON, secrets redacted), or null.'),
    after: z.unknown().describe('State after the change (JSON, secrets redacted), or null.'),
    outcome: z.enum(['pending', 'succeeded', 'failed']),
    error: z.string().nullable(),
    traceId: z.string().nullable(),
  }),
);
export function toAuditEntry(e: AuditEntry): z.output<typeof AuditEntrySchema> {
  const a = e.actor;
  return {
    id: e.id,
    at: iso(e.at),
    actor:
      a.kind === 'admin'
        ? { kind: a.kind, userId: a.userId, upn: a.upn }
        : a.kind === 'token'
          ? { kind: a.kind, userId: a.userId, upn: a.upn, tokenId: a.tokenId, tokenName: a.name }
          : { kind: a.kind },
    actorName: e.actorName,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    before: e.before ?? null,
    after: e.after ?? null,
    outcome: e.outcome,
    error: e.error,
    traceId: e.traceId,
  };
}
