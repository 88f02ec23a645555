/** The audit log: every change and remote action, who made it, before and after. Read-only here. */
import { z } from 'zod';
import { AUDIT_ACTOR_KINDS } from '../../../core/admin/ports.js';
import { AUDIT_READERS } from '../../../core/admin/roles.js';
import { decodeCursor, encodeCursor, pageOf, pageQuery } from '../pagination.js';
import { type ApiRoute, route } from '../route.js';
import { AuditEntrySchema, dateTimeInput, toAuditEntry } from '../schemas.js';

export const auditRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/audit',
    operationId: 'listAudit',
    summary: 'Read the audit log',
    description:
      'Newest first. Administrators and read-only admins may read it; help desk may not. End users acting in the Company Portal (Remove, Reset, app install) appear with actor kind `user`.',
    tag: 'audit',
    access: AUDIT_READERS,
    query: pageQuery.extend({
      targetType: z
        .string()
        .max(64)
        .optional()
        .describe('device, profile, domain, user, group, admin, api_token, license, settings, restriction, dem, corporate_identifiers'),
      targetId: z
        .string()
        .max(320)
        .optional()
        .describe(
          'DeviceID, profile/group/domain name, UPN, token id, <type>/<name> of a restriction, or a settings key (scopes, urls, licenseSeats, allowUnlicensedAdmins)',
        ),
      actor: z.string().max(320).optional().describe('Admin or end user UPN or user id, token name or id, or cli'),
      actorKind: z
        .enum(AUDIT_ACTOR_KINDS)
        .optional()
        .describe(
          'Only entries by this kind of actor: admin (console), token (API token), cli, or user (an end user in the Company Portal)',
        ),
      since: dateTimeInput.optional(),
    }),
    response: { status: 200, description: 'A page of entries.', schema: pageOf(AuditEntrySchema) },
    async handler({ query, deps }) {
      const c = decodeCursor(query.cursor, ['at', 'id']);
      const rows = await deps.operations.audit.list({
        targetType: query.targetType,
        targetId: query.targetId,
        actor: query.actor,
        actorKind: query.actorKind,
        since: query.since === undefined ? undefined : new Date(query.since),
        limit: query.limit + 1,
        after: c ? { at: new Date(c.at), id: c.id } : undefined,
      });
      const items = rows.slice(0, query.limit);
      const last = items.at(-1);
      return {
        items: items.map(toAuditEntry),
        nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.at.toISOString(), id: last.id }) : null,
      };
    },
  }),
];
