/**
 * The admin REST API, `/api/v1` on the web listener. Adding a resource is one file in routes/ exporting
 * its route table, plus one line in RESOURCES below; auth, CSRF, roles, validation, problem+json errors
 * and the OpenAPI document follow from the table.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { buildOpenApi } from './openapi.js';
import { ApiProblem, sendProblem } from './problem.js';
import { type ApiDeps, type ApiRoute, CSV_CONTENT_TYPE, registerRoutes, route, traceIdOf } from './route.js';
import { adminRoutes } from './routes/admins.js';
import { appRoutes } from './routes/apps.js';
import { auditRoutes } from './routes/audit.js';
import { complianceRoutes } from './routes/compliance.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { directorySyncRoutes } from './routes/directory-sync.js';
import { dnsRoutes } from './routes/dns.js';
import { deviceRoutes } from './routes/devices.js';
import { domainRoutes } from './routes/domains.js';
import { enrollmentRoutes } from './routes/enrollment.js';
import { entraRoutes } from './routes/entra.js';
import { groupRoutes } from './routes/groups.js';
import { licenseRoutes } from './routes/licenses.js';
import { oidcProviderRoutes } from './routes/oidc-providers.js';
import { profileRoutes } from './routes/profiles.js';
import { restrictionRoutes } from './routes/restrictions.js';
import { sessionRoutes } from './routes/session.js';
import { settingsRoutes } from './routes/settings.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';

export const API_PREFIX = '/api/v1';
/** Largest JSON body: a profile of 500 settings fits; single settings are capped at 256 KB by schema. */
const BODY_LIMIT = 4 * 1024 * 1024;
export type { ApiDeps } from './route.js';

/** Every resource's routes. One line per resource file. */
const RESOURCES: ApiRoute[][] = [
  sessionRoutes,
  tokenRoutes,
  adminRoutes,
  domainRoutes,
  userRoutes,
  groupRoutes,
  deviceRoutes,
  dashboardRoutes,
  profileRoutes,
  appRoutes,
  licenseRoutes,
  settingsRoutes,
  restrictionRoutes,
  enrollmentRoutes,
  entraRoutes,
  oidcProviderRoutes,
  complianceRoutes,
  auditRoutes,
  directorySyncRoutes,
  dnsRoutes,
];

/** The full route table (the OpenAPI route included), for the server and for tests. */
export function apiRoutes(version = '0.1.0'): ApiRoute[] {
  const routes = RESOURCES.flat();
  let doc: unknown;
  const openapi = route({
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'meta',
    access: 'public',
    response: { status: 200, description: 'The OpenAPI document.', schema: z.record(z.string(), z.unknown()) },
    async handler() {
      doc ??= buildOpenApi(all, { version, serverUrl: API_PREFIX });
      return doc;
    },
  });
  const all = [...routes, openapi];
  return all;
}

/** fastify plugin; register it with `{ prefix: API_PREFIX }`. */
export async function adminApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-trace-id', traceIdOf(req)).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
  });
  // JSON (and text/csv for imports): any other body type is a 415 problem (fastify also parses text/plain by default).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, app.getDefaultJsonParser('error', 'error'));
  // CSV imports (users, corporate identifiers) may send the file as is; other routes answer it with 415.
  app.addContentTypeParser(CSV_CONTENT_TYPE, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, req, reply) => sendProblem(reply, req, err, traceIdOf(req)));
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, req, new ApiProblem(404, 'not_found', `no API route ${req.method} ${req.url.split('?')[0]}`), traceIdOf(req)),
  );
  registerRoutes(app, apiRoutes(), deps);
}
