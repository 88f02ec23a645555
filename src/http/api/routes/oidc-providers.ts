/**
 * External sign-in providers (OpenID Connect) of the federated enrollment page. Every admin reads them
 * (never the client secret); administrators add and remove them, audited. The redirect URI to register
 * at the provider is in every answer.
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import { OIDC_CALLBACK_PATH, PORTAL_OIDC_CALLBACK_PATH } from '../../../core/oidc/oidc-sign-in.js';
import { OIDC_CLAIMS } from '../../../core/oidc/ports.js';
import type { OidcProviderView } from '../../../core/oidc/providers.js';
import { pageOf, pageQuery, paginate } from '../pagination.js';
import { type ApiRoute, route } from '../route.js';
import { dateTime } from '../schemas.js';

const OidcProviderSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    issuer: z.string(),
    clientId: z.string(),
    scopes: z.array(z.string()),
    claim: z.enum(OIDC_CLAIMS),
    domains: z.array(z.string()).describe('UPN suffixes this provider may sign in; empty: every configured domain.'),
    trustMfa: z.boolean().describe("Whether the provider's amr containing mfa replaces Winroll's code step."),
    customCa: z.boolean(),
    redirectUri: z.string().describe('Register this redirect URI at the provider.'),
    portalRedirectUri: z.string().describe("Register this one too for the Company Portal's sign-in."),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'OidcProvider' });

function toProvider(p: OidcProviderView, webBase: string): z.output<typeof OidcProviderSchema> {
  return {
    id: p.id,
    name: p.name,
    issuer: p.issuer,
    clientId: p.clientId,
    scopes: p.scopes,
    claim: p.claim,
    domains: p.domains,
    trustMfa: p.trustMfa,
    customCa: p.customCa,
    redirectUri: webBase + OIDC_CALLBACK_PATH,
    portalRedirectUri: webBase + PORTAL_OIDC_CALLBACK_PATH,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

export const oidcProviderRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/oidc-providers',
    operationId: 'listOidcProviders',
    summary: 'List external sign-in providers',
    tag: 'oidc-providers',
    access: ANY_ROLE,
    query: pageQuery,
    response: { status: 200, description: 'A page of providers, by name.', schema: pageOf(OidcProviderSchema) },
    async handler({ query, deps }) {
      const page = paginate(await deps.oidcProviders.list(), (p) => p.name.toLowerCase(), query);
      return { items: page.items.map((p) => toProvider(p, deps.webBase())), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'POST',
    path: '/oidc-providers',
    operationId: 'addOidcProvider',
    summary: 'Add an external sign-in provider',
    description:
      'Users of the federated sign-in page may then sign in at this OpenID Connect provider. The client secret is stored encrypted and never returned; the provider metadata is discovered from the issuer when first used.',
    tag: 'oidc-providers',
    access: ADMINISTRATOR_ONLY,
    body: z.object({
      name: z.string().min(1).max(48),
      issuer: z.string().min(1).max(2048),
      clientId: z.string().min(1).max(256),
      clientSecret: z.string().min(1).max(4096),
      scopes: z.array(z.string().min(1).max(128)).max(32).optional(),
      claim: z.enum(OIDC_CLAIMS).default('email'),
      domains: z.array(z.string().min(1).max(253)).max(100).optional(),
      trustMfa: z.boolean().default(false),
      caPem: z
        .string()
        .max(64 * 1024)
        .optional()
        .describe('Extra CA certificates (PEM) trusted for this provider only.'),
    }),
    response: { status: 201, description: 'The provider.', schema: OidcProviderSchema },
    errors: [409, 422],
    async handler({ body, deps, audit }) {
      return toProvider(await deps.oidcProviders.add(audit, body), deps.webBase());
    },
  }),
  route({
    method: 'DELETE',
    path: '/oidc-providers/{name}',
    operationId: 'removeOidcProvider',
    summary: 'Remove an external sign-in provider',
    description: 'Sign-ins already under way at this provider are refused when they come back.',
    tag: 'oidc-providers',
    access: ADMINISTRATOR_ONLY,
    params: z.object({ name: z.string().min(1).max(48) }),
    response: { status: 204, description: 'Removed.' },
    errors: [404],
    async handler({ params, deps, audit }) {
      await deps.oidcProviders.remove(audit, params.name);
      return undefined;
    },
  }),
];
