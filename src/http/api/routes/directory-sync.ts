/**
 * Directory sync: the SCIM bearer tokens identity providers use at /scim/v2 (created by administrators,
 * shown once, revocable), and the Entra ID Graph sync (status of each tenant, run now).
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import type { SyncReport, SyncStatus } from '../../../core/directory-sync/entra-sync.js';
import type { ScimTokenRecord } from '../../../core/directory-sync/ports.js';
import { WinrollError } from '../../../shared/errors.js';
import { pageOf, pageQuery, paginate } from '../pagination.js';
import { ApiProblem } from '../problem.js';
import { type ApiRoute, route } from '../route.js';
import { dateTime } from '../schemas.js';

const ScimTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdBy: z.string(),
    createdAt: dateTime,
    lastUsedAt: dateTime.nullable(),
    revokedAt: dateTime.nullable(),
  })
  .meta({ id: 'ScimToken' });

const toScimToken = (t: ScimTokenRecord): z.output<typeof ScimTokenSchema> => ({
  id: t.id,
  name: t.name,
  createdBy: t.createdBy,
  createdAt: t.createdAt.toISOString(),
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  revokedAt: t.revokedAt?.toISOString() ?? null,
});

const counts = z.record(z.string(), z.number());

const EntraSyncStatusSchema = z
  .object({
    tenantId: z.string(),
    graphUrl: z.string(),
    tokenUrl: z.string(),
    customCa: z.boolean(),
    incremental: z.boolean().describe('The next run fetches only changes (delta links are stored).'),
    lastRunAt: dateTime.nullable(),
    lastStatus: z.enum(['succeeded', 'failed']).nullable(),
    lastError: z.string().nullable(),
    lastCounts: counts.nullable(),
  })
  .meta({ id: 'EntraSyncStatus' });

const toStatus = (s: SyncStatus): z.output<typeof EntraSyncStatusSchema> => ({
  ...s,
  lastRunAt: s.lastRunAt?.toISOString() ?? null,
});

const EntraSyncReportSchema = z
  .object({
    tenantId: z.string(),
    status: z.enum(['succeeded', 'failed']),
    mode: z.enum(['full', 'incremental']),
    counts,
    warnings: z.array(z.string()),
    startedAt: dateTime,
    finishedAt: dateTime,
  })
  .meta({ id: 'EntraSyncReport' });

const toReport = (r: SyncReport): z.output<typeof EntraSyncReportSchema> => ({
  tenantId: r.tenantId,
  status: r.status,
  mode: r.mode,
  counts: { ...r.counts },
  warnings: r.warnings,
  startedAt: r.startedAt.toISOString(),
  finishedAt: r.finishedAt.toISOString(),
});

export const directorySyncRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/scim/tokens',
    operationId: 'listScimTokens',
    summary: 'List SCIM tokens',
    description: 'Every SCIM bearer token, revoked ones included, without secrets.',
    tag: 'directory-sync',
    access: ADMINISTRATOR_ONLY,
    query: pageQuery,
    response: { status: 200, description: 'A page of SCIM tokens.', schema: pageOf(ScimTokenSchema) },
    async handler({ query, deps }) {
      const page = paginate(await deps.directorySync.scim.listTokens(), (t) => t.id, query);
      return { items: page.items.map(toScimToken), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'POST',
    path: '/scim/tokens',
    operationId: 'createScimToken',
    summary: 'Create a SCIM token',
    description:
      'Returns the bearer value an identity provider sends to /scim/v2 (`Authorization: Bearer scim_...`) once; only its SHA-256 is stored.',
    tag: 'directory-sync',
    access: ADMINISTRATOR_ONLY,
    body: z.object({ name: z.string().min(1).max(64).optional() }),
    response: {
      status: 201,
      description: 'The token, shown once.',
      schema: z.object({ token: z.string(), scimToken: ScimTokenSchema }).meta({ id: 'CreatedScimToken' }),
    },
    errors: [422],
    async handler({ body, deps, audit }) {
      const created = await deps.directorySync.scim.createToken(audit, body.name);
      return { token: created.token, scimToken: toScimToken(created.record) };
    },
  }),
  route({
    method: 'DELETE',
    path: '/scim/tokens/{tokenId}',
    operationId: 'revokeScimToken',
    summary: 'Revoke a SCIM token',
    description: 'The token stops working at once. Revoking a revoked token changes nothing.',
    tag: 'directory-sync',
    access: ADMINISTRATOR_ONLY,
    params: z.object({ tokenId: z.string().min(1).max(64) }),
    response: { status: 200, description: 'The revoked token.', schema: ScimTokenSchema },
    errors: [409],
    async handler({ params, deps, audit }) {
      return toScimToken(await deps.directorySync.scim.revokeToken(audit, params.tokenId));
    },
  }),
  route({
    method: 'GET',
    path: '/entra/sync',
    operationId: 'listEntraSyncStatus',
    summary: 'Entra directory sync status',
    description: 'Per tenant that syncs: the Graph and token URLs, whether the next run is incremental, and the last run.',
    tag: 'directory-sync',
    access: ANY_ROLE,
    response: { status: 200, description: 'Every syncing tenant.', schema: z.object({ items: z.array(EntraSyncStatusSchema) }) },
    async handler({ deps }) {
      return { items: (await deps.directorySync.entra.status()).map(toStatus) };
    },
  }),
  route({
    method: 'POST',
    path: '/entra/tenants/{tenantId}/sync',
    operationId: 'runEntraSync',
    summary: 'Sync a tenant now',
    description:
      'Reads users and groups from Microsoft Graph (delta queries: everything the first time, then only changes) and applies them. A Graph failure answers 502 and changes nothing.',
    tag: 'directory-sync',
    access: ADMINISTRATOR_ONLY,
    params: z.object({ tenantId: z.string().min(1).max(64) }),
    response: { status: 200, description: 'What the run changed.', schema: EntraSyncReportSchema },
    errors: [409, 502],
    async handler({ params, deps, audit }) {
      try {
        const [report] = await deps.directorySync.entra.run(audit, params.tenantId);
        return toReport(report as SyncReport);
      } catch (err) {
        // Graph refused or failed: the admin needs Graph's reason, which is safe to show (no secrets).
        if (err instanceof WinrollError && err.code === 'internal' && err.message.startsWith('sync of tenant'))
          throw new ApiProblem(502, 'sync_failed', err.message);
        throw err;
      }
    },
  }),
];
