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
import type { EnrollmentSettingsView, Explanation } from '../../core/policy/policy-admin.js';
import type { DeviceEnrollmentManager, EnrollmentAttempt, LicenseAssignment, Restriction } from '../../core/policy/ports.js';
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

export const PrimaryUserSchema = z
  .object({ userId: z.string(), upn: z.string() })
  .nullable()
  .describe('The primary user (user device affinity); null for a shared device.');

export const DeviceSchema = named(
  'Device',
  z.object({
    deviceId: z.string(),
    deviceName: z.string().nullable(),
    userId: z.string().describe('The enrolling user.'),
    upn: z.string().describe('UPN of the enrolling user.'),
    primaryUser: PrimaryUserSchema,
    shared: z.boolean().describe('True when the device has no primary user (bulk and DEM enrollments, or set so by an admin).'),
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
    managementMode: z
      .enum(['mdm', 'mam'])
      .describe('mdm: enrolled in device management; mam: registered for app protection only (no certificate, a few CSPs).'),
    compliance: z
      .enum(['compliant', 'noncompliant', 'inGrace', 'unknown'])
      .nullable()
      .optional()
      .describe(
        'In lists: the last evaluated compliance state (null when never evaluated). GET /devices/{deviceId}/compliance evaluates it now.',
      ),
  }),
);

function deviceFields(d: DeviceRecord) {
  return {
    deviceId: d.deviceId,
    deviceName: d.deviceName,
    userId: d.userId,
    upn: d.upn,
    primaryUser: d.primaryUserId && d.primaryUpn ? { userId: d.primaryUserId, upn: d.primaryUpn } : null,
    shared: !(d.primaryUserId && d.primaryUpn),
    status: d.status,
    enrollmentType: d.enrollmentType,
    osVersion: d.osVersion,
    osEdition: d.osEdition,
    hwDevId: d.hwDevId,
    firstEnrolledAt: iso(d.firstEnrolledAt),
    lastEnrolledAt: iso(d.lastEnrolledAt),
    certThumbprint: d.certThumbprint,
    certNotAfter: isoOrNull(d.certNotAfter),
    managementMode: d.managementMode,
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
    ...(s.compliance !== undefined ? { compliance: s.compliance } : {}),
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
    users: z
      .array(
        z.object({ userId: z.string(), upn: z.string(), displayName: z.string().nullable(), firstSeenAt: dateTime, lastSeenAt: dateTime }),
      )
      .describe('Directory users seen signed in to the device in its management sessions, most recently seen first.'),
    notApplicable: z
      .array(z.object({ profile: z.string(), locUri: z.string(), reason: z.string() }))
      .describe('MAM registrations: assigned settings never sent because Windows blocks their CSP on app-protection registrations.'),
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
    users: d.users.map((u) => ({
      userId: u.userId,
      upn: u.upn,
      displayName: u.displayName,
      firstSeenAt: iso(u.firstSeenAt),
      lastSeenAt: iso(u.lastSeenAt),
    })),
    notApplicable: d.notApplicable.map((n) => ({ ...n })),
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
    type: z.enum(['custom', 'wip']).describe('custom: settings as given; wip: compiled from the named fields in `wip`.'),
    wip: z.record(z.string(), z.unknown()).nullable().describe('For type wip: the named fields the settings were compiled from.'),
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
    type: p.type,
    wip: p.type === 'wip' ? p.definition : null,
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
    intent: z
      .enum(['required', 'available'])
      .describe('required: delivered to every targeted device; available: offered in the Company Portal, delivered once installed there'),
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
      kind: z.enum(['admin', 'token', 'cli', 'user']).describe('user: an end user in the Company Portal (on their own device).'),
      userId: z.string().optional(),
      upn: z.string().optional(),
      tokenId: z.string().optional(),
      tokenName: z.string().optional(),
    }),
    actorName: z.string().describe('The admin or end user UPN, token:<name> or cli.'),
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
      a.kind === 'admin' || a.kind === 'user'
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

// -- who may enroll -----------------------------------------------------------------------------------

export const restrictionTypeSchema = z.enum(['platform', 'deviceLimit']);
const scopeModeSchema = z.enum(['none', 'some', 'all']);
const rowErrors = z.array(
  z.object({ row: z.number().int().describe('1-based line of the CSV (or index+1 of the rows)'), error: z.string() }),
);

export const LicenseSchema = named('License', z.object({ userId: z.string(), upn: z.string(), assignedAt: dateTime }));
export function toLicense(l: LicenseAssignment): z.output<typeof LicenseSchema> {
  return { userId: l.userId, upn: l.upn, assignedAt: iso(l.assignedAt) };
}

export const LicenseCountsSchema = z.object({
  assigned: z.number().int(),
  seats: z.number().int().nullable().describe('Licenses that may be assigned; null = unlimited.'),
  available: z.number().int().nullable().describe('Seats left; null = unlimited.'),
});

export const LicenseChangeSchema = named(
  'LicenseChange',
  z.object({ upn: z.string(), licensed: z.boolean(), changed: z.boolean().describe('False when the user already was in that state.') }),
);

const ScopeSchema = z.object({ mode: scopeModeSchema, groups: z.array(z.object({ id: z.string(), name: z.string() })) });
const UrlsSchema = z.object({ termsOfUse: z.string(), discovery: z.string(), compliance: z.string() });

export const EnrollmentSettingsSchema = named(
  'EnrollmentSettings',
  z.object({
    mdmScope: ScopeSchema.describe('Whose devices MDM-enroll automatically (join / add work account). Group membership is transitive.'),
    mamScope: ScopeSchema.describe('Who gets app protection instead; on personal devices it wins over MDM.'),
    warnings: z.array(z.string()).describe('E.g. users in both scopes.'),
    urls: UrlsSchema.describe('The MDM terms-of-use, discovery and compliance URLs devices get.'),
    customUrls: z
      .object({ termsOfUse: z.string().nullable(), discovery: z.string().nullable(), compliance: z.string().nullable() })
      .describe("What the admin set; null = Winroll's own page."),
    allowUnlicensedAdmins: z.boolean().describe('Whether admins without a license may sign in to the console and this API.'),
    licenses: LicenseCountsSchema,
  }),
);
export function toEnrollmentSettings(v: EnrollmentSettingsView): z.output<typeof EnrollmentSettingsSchema> {
  return {
    mdmScope: { mode: v.mdmScope.mode, groups: v.mdmScope.groups.map((g) => ({ ...g })) },
    mamScope: { mode: v.mamScope.mode, groups: v.mamScope.groups.map((g) => ({ ...g })) },
    warnings: [...v.warnings],
    urls: { ...v.urls },
    customUrls: { ...v.customUrls },
    allowUnlicensedAdmins: v.allowUnlicensedAdmins,
    licenses: { ...v.licenses },
  };
}

const PlatformConfigSchema = z.object({
  windowsMdm: z.enum(['allow', 'block']),
  minOsVersion: z.string().nullable(),
  maxOsVersion: z.string().nullable(),
  blockPersonal: z.boolean(),
});
const DeviceLimitConfigSchema = z.object({ limit: z.number().int() });

export const RestrictionSchema = named(
  'Restriction',
  z.object({
    id: z.string(),
    type: restrictionTypeSchema,
    name: z.string(),
    priority: z.number().int().nullable().describe('1 = highest; null for the default, which applies when no assigned policy does.'),
    isDefault: z.boolean(),
    config: z.union([PlatformConfigSchema, DeviceLimitConfigSchema]),
    groups: z.array(z.object({ id: z.string(), name: z.string() })),
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
);
export function toRestriction(r: Restriction, names: Map<string, string>): z.output<typeof RestrictionSchema> {
  return {
    id: r.id,
    type: r.type,
    name: r.name,
    priority: r.priority,
    isDefault: r.isDefault,
    config: { ...r.config },
    groups: r.groupIds.map((id) => ({ id, name: names.get(id) ?? id })),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

/** Restriction settings a request may set; only the fields of the policy's type (422 otherwise). */
export const restrictionConfigInput = {
  windowsMdm: z.enum(['allow', 'block']).optional().describe('platform: allow or block Windows MDM enrollment'),
  minOsVersion: z.string().max(32).nullable().optional().describe('platform: lowest Windows version, e.g. 10.0.19045.0; null = no bound'),
  maxOsVersion: z.string().max(32).nullable().optional().describe('platform: highest Windows version; null = no bound'),
  blockPersonal: z.boolean().optional().describe('platform: refuse personally owned devices'),
  limit: z.number().int().min(1).max(15).optional().describe('deviceLimit: devices per user, 1-15'),
};

export const DemSchema = named('DeviceEnrollmentManager', z.object({ userId: z.string(), upn: z.string(), addedAt: dateTime }));
export function toDem(d: DeviceEnrollmentManager): z.output<typeof DemSchema> {
  return { userId: d.userId, upn: d.upn, addedAt: iso(d.addedAt) };
}

export const IdentifierImportSchema = named(
  'CorporateIdentifierImport',
  z.object({ imported: z.number().int().describe('Identifiers new to the list (add) or in the list (replace).'), errors: rowErrors }),
);

export const UserImportSchema = named(
  'UserImport',
  z.object({ added: z.number().int(), errors: rowErrors.describe('Refused rows; the other rows were imported.') }),
);

export const ExplanationSchema = named(
  'Explanation',
  z.object({
    outcome: z.enum(['mdm', 'mam', 'refused']),
    ownership: z.enum(['corporate', 'personal']),
    ownershipRule: z.string(),
    reasons: z.array(z.string()).describe('In order; the last names the deciding rule.'),
    errorType: z
      .string()
      .nullable()
      .describe('For refusals: the Windows error type, e.g. UserLicense, DeviceCapReached, DeviceNotSupported.'),
    subcode: z.string().nullable().describe('For refusals: the SOAP fault subcode, e.g. Authorization.'),
    userMessage: z.string().nullable().describe('For refusals: what the user sees on the device.'),
    policies: z.object({ platform: z.string(), deviceLimit: z.string() }),
  }),
);
export function toExplanationOut(e: Explanation): z.output<typeof ExplanationSchema> {
  return { ...e, reasons: [...e.reasons], policies: { ...e.policies } };
}

export const EnrollmentAttemptSchema = named(
  'EnrollmentAttempt',
  z.object({
    id: z.string(),
    at: dateTime,
    traceId: z.string().describe('The TraceId the device got (in the fault, or logged with the success).'),
    upn: z.string().nullable(),
    userId: z.string().nullable(),
    deviceId: z.string().nullable(),
    method: z.enum(['user', 'automatic', 'bulk', 'dem']),
    enrollmentType: z.enum(['Full', 'Device']).nullable(),
    osVersion: z.string().nullable(),
    ownership: z.enum(['corporate', 'personal']).nullable(),
    outcome: z.enum(['mdm', 'mam', 'refused']),
    errorType: z.string().nullable(),
    subcode: z.string().nullable(),
    reasons: z.array(z.string()),
    policies: z.object({ platform: z.string().optional(), deviceLimit: z.string().optional() }),
  }),
);
export function toEnrollmentAttempt(a: EnrollmentAttempt): z.output<typeof EnrollmentAttemptSchema> {
  return {
    id: a.id,
    at: iso(a.at),
    traceId: a.traceId,
    upn: a.upn,
    userId: a.userId,
    deviceId: a.deviceId,
    method: a.method,
    enrollmentType: a.enrollmentType,
    osVersion: a.osVersion,
    ownership: a.ownership,
    outcome: a.outcome,
    errorType: a.errorType,
    subcode: a.subcode,
    reasons: [...a.reasons],
    policies: { ...a.policies },
  };
}

/** The named fields of a WIP profile (core/management/wip.ts checks them further and names the field it refuses). */
export const WipFieldsSchema = named(
  'WipFields',
  z.object({
    enterpriseId: z.string().min(1).max(253).describe('Primary enterprise ID (identity domain), e.g. contoso.com'),
    enforcement: z.enum(['off', 'silent', 'override', 'block']).default('override').describe('EDPEnforcementLevel 0-3'),
    protectedDomains: z.array(z.string().max(253)).max(200).optional().describe('Further corporate identity domains'),
    networkDomains: z
      .array(z.string().max(253))
      .max(200)
      .optional()
      .describe('NetworkIsolation/EnterpriseNetworkDomainNames; default: the identity domains'),
    ipRanges: z.array(z.string().max(100)).max(200).optional().describe('NetworkIsolation/EnterpriseIPRange, e.g. 10.0.0.0-10.255.255.255'),
    cloudResources: z
      .array(z.string().max(512))
      .max(200)
      .optional()
      .describe('NetworkIsolation/EnterpriseCloudResources: host or host,proxy'),
    allowedApps: z
      .array(
        z.object({
          kind: z.enum(['store', 'desktop']).default('store'),
          publisher: z.string().min(1).max(1024),
          product: z.string().max(512).optional(),
          binary: z.string().max(512).optional(),
        }),
      )
      .max(200)
      .optional()
      .describe('Apps allowed to handle corporate data (AppLocker publisher rules)'),
    appLockerXml: z
      .object({ storeApps: z.string().max(200_000).optional(), exe: z.string().max(200_000).optional() })
      .optional()
      .describe('Raw AppLocker RuleCollection XML instead of (or besides) allowedApps'),
    revokeOnUnenroll: z.boolean().optional().describe('Revoke WIP keys when the device leaves management (default true)'),
    dataRecoveryCertificate: z.string().max(65_536).optional().describe('Base64 EFS data recovery agent policy blob'),
    showIcons: z.boolean().optional(),
  }),
);
