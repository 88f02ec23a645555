/**
 * Entra ID tenants whose directory tokens enroll devices automatically, what to paste into the tenant's
 * Mobility (MDM and MAM) settings, the device history (one record per physical device, S16), and the
 * admin's own terms-of-use text. Changes are audited; every admin role reads.
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import type { TermsText } from '../../../core/enrollment/ports.js';
import { TERMS_BODY_MAX, TERMS_TITLE_MAX } from '../../../core/enrollment/terms-text.js';
import { mobilitySettings } from '../../../core/entra/mobility.js';
import { tenantView } from '../../../core/entra/tenants.js';
import type { DeviceHistory } from '../../../core/ports.js';
import { NotFoundError } from '../../../shared/errors.js';
import { type ApiRoute, route } from '../route.js';

const TenantSchema = z.object({
  tenantId: z.string(),
  clientId: z.string(),
  issuers: z.array(z.string()),
  keys: z
    .union([z.object({ url: z.string() }), z.object({ stored: z.number().int() })])
    .describe('Where the signing keys come from; never the keys.'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const ConnectResultSchema = TenantSchema.extend({
  changed: z.boolean().describe('False when the tenant was connected with these values already.'),
});

const tenantParam = z.object({ tenantId: z.string().min(1).max(64).describe('Directory (tenant) id, a GUID') });

const UrlsSchema = z.object({
  applicationIdUri: z.string(),
  mdm: z.object({ discoveryUrl: z.string(), termsOfUseUrl: z.string(), complianceUrl: z.string() }),
  mam: z.object({ enrollmentUrl: z.string(), termsOfUseUrl: z.string(), complianceUrl: z.string() }),
  tenants: z.array(z.object({ tenantId: z.string(), clientId: z.string() })),
  steps: z.array(z.string()),
});

const EnrollmentHistorySchema = z.object({
  deviceId: z.string(),
  how: z.enum(['join', 'work_account', 'manual', 'bulk']).nullable().describe('null: enrolled before Winroll kept this'),
  upn: z.string(),
  enrollmentType: z.enum(['Full', 'Device']),
  status: z.enum(['active', 'superseded', 'unenrolled']),
  entraDeviceId: z.string().nullable(),
  hwDevId: z.string().nullable(),
  certSerial: z.string(),
  createdAt: z.string(),
  supersededAt: z.string().nullable(),
});
const HistorySchema = z.object({
  deviceId: z.string().describe('The current DeviceID'),
  serialNumber: z.string().nullable(),
  entraDeviceId: z.string().nullable(),
  deviceIds: z.array(z.string()).describe('Every DeviceID the device had, oldest first'),
  hwDevIds: z.array(z.object({ hwDevId: z.string(), firstSeenAt: z.string(), lastSeenAt: z.string() })),
  enrollments: z.array(EnrollmentHistorySchema),
  merges: z.array(z.object({ mergedDeviceId: z.string(), mergedFirstEnrolledAt: z.string(), reason: z.string(), mergedAt: z.string() })),
});

const TermsSchema = z.object({
  title: z.string().nullable().describe("null: the default title ('<organisation> terms of use')"),
  body: z.string().nullable().describe("null: Winroll's default text"),
  format: z.literal('markdown-subset'),
  version: z.number().int().describe('Grows at every change; the acceptance blob records it'),
  updatedAt: z.string().nullable(),
});

function toHistory(h: DeviceHistory): z.output<typeof HistorySchema> {
  return {
    deviceId: h.device.deviceId,
    serialNumber: h.device.serialNumber,
    entraDeviceId: h.device.entraDeviceId,
    deviceIds: h.deviceIds,
    hwDevIds: h.hwDevIds.map((s) => ({
      hwDevId: s.hwDevId,
      firstSeenAt: s.firstSeenAt.toISOString(),
      lastSeenAt: s.lastSeenAt.toISOString(),
    })),
    enrollments: h.enrollments.map((e) => ({
      deviceId: e.deviceId,
      how: e.method,
      upn: e.upn,
      enrollmentType: e.enrollmentType,
      status: e.status,
      entraDeviceId: e.entraDeviceId,
      hwDevId: e.hwDevId,
      certSerial: e.certSerial,
      createdAt: e.createdAt.toISOString(),
      supersededAt: e.supersededAt?.toISOString() ?? null,
    })),
    merges: h.merges.map((m) => ({
      mergedDeviceId: m.mergedDeviceId,
      mergedFirstEnrolledAt: m.mergedFirstEnrolledAt.toISOString(),
      reason: m.reason,
      mergedAt: m.mergedAt.toISOString(),
    })),
  };
}

const toTerms = (t: TermsText): z.output<typeof TermsSchema> => ({
  title: t.title,
  body: t.body,
  format: 'markdown-subset',
  version: t.version,
  updatedAt: t.updatedAt?.toISOString() ?? null,
});

export const entraRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/entra/tenants',
    operationId: 'listEntraTenants',
    summary: 'List connected Entra ID tenants',
    description: 'Tenants whose directory tokens may enroll devices automatically (join, add work account). Never the keys.',
    tag: 'entra',
    access: ANY_ROLE,
    response: { status: 200, description: 'The tenants.', schema: z.object({ items: z.array(TenantSchema) }) },
    async handler({ deps }) {
      return { items: (await deps.entra.list()).map(tenantView) };
    },
  }),
  route({
    method: 'GET',
    path: '/entra/tenants/{tenantId}',
    operationId: 'getEntraTenant',
    summary: 'Show a connected tenant',
    tag: 'entra',
    access: ANY_ROLE,
    params: tenantParam,
    response: { status: 200, description: 'The tenant.', schema: TenantSchema },
    errors: [404, 422],
    async handler({ params, deps }) {
      return tenantView(await deps.entra.get(params.tenantId));
    },
  }),
  route({
    method: 'PUT',
    path: '/entra/tenants/{tenantId}',
    operationId: 'connectEntraTenant',
    summary: 'Connect a tenant (idempotent)',
    description:
      "Client id of the MDM application, accepted issuers (default: the tenant's v1 and v2 issuers) and the signing keys: a JWKS URL (https; plain http only to this machine), a JWKS document stored in the database, or neither (Entra's published key URL of the tenant). Connecting again with the same values changes nothing (`changed: false`); other values replace the connection.",
    tag: 'entra',
    access: ADMINISTRATOR_ONLY,
    params: tenantParam,
    body: z.object({
      clientId: z.string().min(1).max(64),
      issuers: z.array(z.string().min(1).max(512)).max(10).optional(),
      jwksUrl: z.string().min(1).max(2048).optional(),
      jwks: z
        .object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(50) })
        .optional()
        .describe('Public RSA keys as a JWKS document'),
    }),
    response: { status: 200, description: 'The connection.', schema: ConnectResultSchema },
    errors: [422],
    async handler({ params, body, deps, audit }) {
      const t = await deps.entra.connect(
        {
          tenantId: params.tenantId,
          clientId: body.clientId,
          issuers: body.issuers,
          jwksUrl: body.jwksUrl,
          jwksJson: body.jwks === undefined ? undefined : JSON.stringify(body.jwks),
        },
        audit,
      );
      return { ...tenantView(t), changed: t.changed };
    },
  }),
  route({
    method: 'DELETE',
    path: '/entra/tenants/{tenantId}',
    operationId: 'disconnectEntraTenant',
    summary: 'Disconnect a tenant',
    description: 'Its tokens are refused from then on (Authentication fault naming the tenant); enrolled devices stay enrolled.',
    tag: 'entra',
    access: ADMINISTRATOR_ONLY,
    params: tenantParam,
    response: { status: 204, description: 'Disconnected.' },
    errors: [404, 422],
    async handler({ params, deps, audit }) {
      await deps.entra.disconnect(params.tenantId, audit);
    },
  }),
  route({
    method: 'GET',
    path: '/entra/urls',
    operationId: 'getEntraMobilityUrls',
    summary: "What to paste into Entra ID's Mobility settings",
    description:
      'The MDM discovery, terms-of-use and compliance URLs (the tenant settings), the MAM enrollment, terms-of-use and compliance URLs, the application ID URI, and the steps, in order. The same as `winroll entra urls --json`.',
    tag: 'entra',
    access: ANY_ROLE,
    response: { status: 200, description: 'The values and steps.', schema: UrlsSchema },
    async handler({ deps }) {
      return mobilitySettings((await deps.reads.getTenantSettings()).urls, deps.webBase(), await deps.entra.list());
    },
  }),
  route({
    method: 'GET',
    path: '/devices/{deviceId}/history',
    operationId: 'getDeviceHistory',
    summary: "A device's history",
    description:
      'One record per physical device: every DeviceID it had, each enrollment with how it happened (join, work account, manual, bulk), its hardware ids, and the records found to be the same machine (same serial and hardware id) and merged into it. An earlier DeviceID finds the device too.',
    tag: 'devices',
    access: ANY_ROLE,
    params: z.object({ deviceId: z.string().min(1).max(64).describe('The current or an earlier Windows DeviceID') }),
    response: { status: 200, description: 'The history.', schema: HistorySchema },
    errors: [404],
    async handler({ params, deps }) {
      const h = await deps.reads.deviceHistory(params.deviceId);
      if (!h) throw new NotFoundError(`no device ${params.deviceId}`);
      return toHistory(h);
    },
  }),
  route({
    method: 'GET',
    path: '/settings/terms-of-use',
    operationId: 'getTermsOfUseText',
    summary: 'Show the terms-of-use text',
    tag: 'settings',
    access: ANY_ROLE,
    response: { status: 200, description: 'The text (null fields: the defaults).', schema: TermsSchema },
    async handler({ deps }) {
      return toTerms(await deps.termsText.get());
    },
  }),
  route({
    method: 'PUT',
    path: '/settings/terms-of-use',
    operationId: 'setTermsOfUseText',
    summary: 'Set the terms-of-use text',
    description:
      'Plain text or a small Markdown subset (blank-line paragraphs, # headings, - lists, **bold**, *italic*), shown escaped; `{org}` becomes the organisation name. Omitting the title keeps it. Raises the version.',
    tag: 'settings',
    access: ADMINISTRATOR_ONLY,
    body: z.object({
      title: z.string().max(TERMS_TITLE_MAX).nullable().optional(),
      body: z.string().min(1).max(TERMS_BODY_MAX),
    }),
    response: { status: 200, description: 'The text.', schema: TermsSchema },
    errors: [422],
    async handler({ body, deps, audit }) {
      return toTerms(await deps.termsText.set(audit, { title: body.title, body: body.body }));
    },
  }),
  route({
    method: 'DELETE',
    path: '/settings/terms-of-use',
    operationId: 'resetTermsOfUseText',
    summary: 'Reset the terms-of-use text',
    description: "Back to Winroll's default title and text (a new version).",
    tag: 'settings',
    access: ADMINISTRATOR_ONLY,
    response: { status: 200, description: 'The text.', schema: TermsSchema },
    async handler({ deps, audit }) {
      return toTerms(await deps.termsText.reset(audit));
    },
  }),
];
