/** API tokens for scripts: created by administrators, shown once, revocable. */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY } from '../../../core/admin/roles.js';
import { pageOf, pageQuery, paginate } from '../pagination.js';
import { type ApiRoute, route } from '../route.js';
import { ApiTokenSchema, CreatedApiTokenSchema, dateTimeInput, roleSchema, toApiToken } from '../schemas.js';

export const tokenRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/tokens',
    operationId: 'listApiTokens',
    summary: 'List API tokens',
    description: 'Every token, revoked ones included, without secrets. Ordered by id.',
    tag: 'tokens',
    access: ADMINISTRATOR_ONLY,
    query: pageQuery,
    response: { status: 200, description: 'A page of tokens.', schema: pageOf(ApiTokenSchema) },
    async handler({ query, deps }) {
      const page = paginate(await deps.auth.listTokens(), (t) => t.id, query);
      return { items: page.items.map(toApiToken), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'POST',
    path: '/tokens',
    operationId: 'createApiToken',
    summary: 'Create an API token',
    description:
      "Returns the bearer value (`Authorization: Bearer wr_...`) once; only its SHA-256 is stored. The role defaults to the creator's and cannot be higher; the token never has more rights than its creator has at the time it is used.",
    tag: 'tokens',
    access: ADMINISTRATOR_ONLY,
    body: z.object({ name: z.string().min(1).max(64), role: roleSchema.optional(), expiresAt: dateTimeInput.optional() }),
    response: { status: 201, description: 'The token, shown once.', schema: CreatedApiTokenSchema },
    errors: [409, 422],
    async handler({ body, principal, deps, traceId }) {
      const expiresAt = body.expiresAt === undefined ? undefined : new Date(body.expiresAt);
      const created = await deps.auth.createToken(principal, { name: body.name, role: body.role, expiresAt }, traceId);
      return { token: created.token, apiToken: toApiToken(created.record) };
    },
  }),
  route({
    method: 'DELETE',
    path: '/tokens/{tokenId}',
    operationId: 'revokeApiToken',
    summary: 'Revoke an API token',
    description: 'The token stops working at once. Revoking a revoked token changes nothing.',
    tag: 'tokens',
    access: ADMINISTRATOR_ONLY,
    params: z.object({ tokenId: z.string().min(1).max(64) }),
    response: { status: 200, description: 'The revoked token.', schema: ApiTokenSchema },
    async handler({ params, deps, audit }) {
      return toApiToken(await deps.auth.revokeToken(audit, params.tokenId));
    },
  }),
];
