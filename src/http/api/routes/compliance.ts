/**
 * Compliance: the tenant-wide rules (minimum/maximum Windows version, BitLocker, firewall, antivirus,
 * Defender real-time protection, grace period, days without check-in), each device's state with a reason
 * per rule and its history, and the directory write-back per Entra tenant. Changes are audited.
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import { COMPLIANCE_STATES, MAX_DAYS_WITHOUT_CHECK_IN, MAX_GRACE_HOURS } from '../../../core/compliance/evaluate.js';
import type { DeviceComplianceView } from '../../../core/compliance/service.js';
import { type ApiRoute, route } from '../route.js';

const iso = z.string().describe('ISO-8601 UTC');
const version = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,9}){0,3}$/, 'a dotted Windows version such as 10.0.22631')
  .nullable();

export const ComplianceRulesSchema = z
  .object({
    minOsVersion: version.describe(
      'Lowest Windows version allowed, compared on the parts given (10.0.22631 allows 10.0.22631.x and later); null: off.',
    ),
    maxOsVersion: version.describe('Highest Windows version allowed, compared on the parts given; null: off.'),
    requireEncryption: z.boolean().describe('BitLocker on the Windows drive (DeviceStatus/Compliance/EncryptionCompliance = 1).'),
    requireFirewall: z.boolean().describe('Firewall on for every network (DeviceStatus/Firewall/Status = 0).'),
    requireAntivirus: z.boolean().describe('Antivirus on and monitoring (DeviceStatus/Antivirus/Status = 0).'),
    requireAntivirusSignatures: z
      .boolean()
      .describe('Antivirus security intelligence up to date (DeviceStatus/Antivirus/SignatureStatus = 1).'),
    requireAntispyware: z.boolean().describe('Antispyware on (DeviceStatus/Antispyware/Status = 0).'),
    requireRealTimeProtection: z.boolean().describe('Microsoft Defender real-time protection on (Defender/Health/RtpEnabled).'),
    gracePeriodHours: z
      .number()
      .int()
      .min(0)
      .max(MAX_GRACE_HOURS)
      .describe('Hours a failing device stays "inGrace" (still compliant for the directory) before it is noncompliant.'),
    maxDaysWithoutCheckIn: z
      .number()
      .int()
      .min(1)
      .max(MAX_DAYS_WITHOUT_CHECK_IN)
      .nullable()
      .describe('A device that has not checked in for this many days is noncompliant; null: never.'),
  })
  .meta({ id: 'ComplianceRules' });

const RuleResultSchema = z.object({
  rule: z.string(),
  title: z.string(),
  status: z.enum(['pass', 'fail', 'unknown']),
  reported: z.string().nullable(),
  expected: z.string(),
  reason: z.string().describe('Why it passes or fails, for admins.'),
  fix: z.string().describe('What the user should do; empty when it passes.'),
});

const stateSchema = z.enum(COMPLIANCE_STATES as [string, ...string[]]);

export const DeviceComplianceSchema = z
  .object({
    deviceId: z.string(),
    deviceName: z.string().nullable(),
    upn: z.string(),
    state: stateSchema.describe('compliant, noncompliant, inGrace (failing but within the grace period) or unknown (not reported yet).'),
    summary: z.string(),
    evaluatedAt: iso,
    since: iso.describe('When the state last changed.'),
    graceEndsAt: iso.nullable(),
    lastCheckInAt: iso.nullable(),
    rules: z.array(RuleResultSchema),
    history: z.array(z.object({ state: stateSchema, previousState: stateSchema.nullable(), summary: z.string(), at: iso })),
    writeBack: z.object({
      entraDeviceId: z.string().nullable(),
      tenantId: z.string().nullable(),
      desired: z.boolean().nullable().describe('What the directory should say (isCompliant); null: nothing (unknown).'),
      written: z.boolean().nullable().describe('What the directory was last told successfully.'),
      attempts: z.number().int(),
      lastAttemptAt: iso.nullable(),
      lastResult: z.string().nullable(),
      nextAttemptAt: iso.nullable(),
    }),
  })
  .meta({ id: 'DeviceCompliance' });

const WriteBackSchema = z.object({ tenantId: z.string(), enabled: z.boolean() });

const d = (v: Date | null) => (v ? v.toISOString() : null);

export function toDeviceCompliance(v: DeviceComplianceView): z.output<typeof DeviceComplianceSchema> {
  return {
    deviceId: v.deviceId,
    deviceName: v.deviceName,
    upn: v.upn,
    state: v.state,
    summary: v.summary,
    evaluatedAt: v.evaluatedAt.toISOString(),
    since: v.since.toISOString(),
    graceEndsAt: d(v.graceEndsAt),
    lastCheckInAt: d(v.lastCheckInAt),
    rules: v.rules,
    history: v.history.map((h) => ({ state: h.state, previousState: h.previousState, summary: h.summary, at: h.at.toISOString() })),
    writeBack: {
      ...v.writeBack,
      lastAttemptAt: d(v.writeBack.lastAttemptAt),
      nextAttemptAt: d(v.writeBack.nextAttemptAt),
    },
  };
}

export const complianceRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/compliance/rules',
    operationId: 'getComplianceRules',
    summary: 'Show the compliance rules',
    description: 'Tenant-wide; every device is evaluated against them.',
    tag: 'compliance',
    access: ANY_ROLE,
    response: { status: 200, description: 'The rules.', schema: ComplianceRulesSchema },
    async handler({ deps }) {
      return deps.compliance.rules();
    },
  }),
  route({
    method: 'PUT',
    path: '/compliance/rules',
    operationId: 'setComplianceRules',
    summary: 'Change the compliance rules',
    description:
      'Any subset of the rules; the others keep their values. Every enrolled device is evaluated again at once and state changes are written to the directory where write-back is on. Audited.',
    tag: 'compliance',
    access: ADMINISTRATOR_ONLY,
    body: ComplianceRulesSchema.partial().refine((b) => Object.keys(b).length > 0, { message: 'give at least one rule' }),
    response: {
      status: 200,
      description: 'The rules now, and how many devices were evaluated and changed state.',
      schema: z.object({ rules: ComplianceRulesSchema, evaluated: z.number().int(), changed: z.number().int() }),
    },
    errors: [422],
    async handler({ body, deps, audit }) {
      return deps.compliance.setRules(audit, body);
    },
  }),
  route({
    method: 'GET',
    path: '/devices/{deviceId}/compliance',
    operationId: 'getDeviceCompliance',
    summary: "Show a device's compliance",
    description:
      'Evaluated now: the state, one result per rule with the reason and the fix, the history of state changes, and the directory write-back state.',
    tag: 'compliance',
    access: ANY_ROLE,
    params: z.object({ deviceId: z.string().min(1).max(64).describe('The Windows DeviceID') }),
    response: { status: 200, description: "The device's compliance.", schema: DeviceComplianceSchema },
    async handler({ params, deps }) {
      return toDeviceCompliance(await deps.compliance.show(params.deviceId));
    },
  }),
  route({
    method: 'GET',
    path: '/compliance/write-back',
    operationId: 'listComplianceWriteBack',
    summary: 'List the tenants with directory write-back',
    tag: 'compliance',
    access: ANY_ROLE,
    response: {
      status: 200,
      description: 'Tenants whose directory receives compliance.',
      schema: z.array(z.object({ tenantId: z.string(), enabledAt: iso })),
    },
    async handler({ deps }) {
      return (await deps.compliance.listWriteBackTenants()).map((t) => ({ tenantId: t.tenantId, enabledAt: t.enabledAt.toISOString() }));
    },
  }),
  route({
    method: 'PUT',
    path: '/compliance/write-back/{tenantId}',
    operationId: 'setComplianceWriteBack',
    summary: 'Turn directory write-back on or off for a tenant',
    description:
      "On: the server tells the tenant's Entra ID (Microsoft Graph, isCompliant/isManaged) whenever a device's state changes, retrying failures. The tenant must be connected. Audited.",
    tag: 'compliance',
    access: ADMINISTRATOR_ONLY,
    params: z.object({ tenantId: z.string().min(1).max(64).describe('Directory (tenant) id') }),
    body: z.object({ enabled: z.boolean() }),
    response: { status: 200, description: 'The setting.', schema: WriteBackSchema },
    errors: [404, 422],
    async handler({ params, body, deps, audit }) {
      return deps.compliance.setWriteBack(audit, params.tenantId, body.enabled);
    },
  }),
];
