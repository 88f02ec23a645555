/** Domains (UPN suffixes) that may enroll, and how their users authenticate. */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import { pageOf, pageQuery, paginate } from '../pagination.js';
import { type ApiRoute, route } from '../route.js';
import { DomainSchema, authPolicySchema, toDomain } from '../schemas.js';

export const domainRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/domains',
    operationId: 'listDomains',
    summary: 'List domains',
    tag: 'domains',
    access: ANY_ROLE,
    query: pageQuery,
    response: { status: 200, description: 'A page of domains, by name.', schema: pageOf(DomainSchema) },
    async handler({ query, deps }) {
      const page = paginate(await deps.directory.listDomains(), (d) => d.name, query);
      return { items: page.items.map(toDomain), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'POST',
    path: '/domains',
    operationId: 'addDomain',
    summary: 'Add a domain',
    description: 'Point enterpriseenrollment.<domain> at this server with a CNAME; the TLS certificate follows within seconds.',
    tag: 'domains',
    access: ADMINISTRATOR_ONLY,
    body: z.object({ name: z.string().min(1).max(253), authPolicy: authPolicySchema.default('OnPremise') }),
    response: { status: 201, description: 'The domain.', schema: DomainSchema },
    errors: [409, 422],
    async handler({ body, deps, audit }) {
      return toDomain(await deps.operations.addDomain(audit, body.name, body.authPolicy));
    },
  }),
  route({
    method: 'PATCH',
    path: '/domains/{name}',
    operationId: 'setDomainAuthPolicy',
    summary: "Set a domain's auth policy",
    tag: 'domains',
    access: ADMINISTRATOR_ONLY,
    params: z.object({ name: z.string().min(1).max(253) }),
    body: z.object({ authPolicy: authPolicySchema }),
    response: { status: 200, description: 'The domain.', schema: DomainSchema },
    async handler({ params, body, deps, audit }) {
      return toDomain(await deps.operations.setDomainAuthPolicy(audit, params.name, body.authPolicy));
    },
  }),
];
