/**
 * The route table's shape and the one guard every route passes through. A route declares who may call
 * it (`access`: 'public' or the roles allowed, optionally narrowed per request by `accessFor`), its
 * zod schemas and its success response; `registerRoutes` turns that into fastify routes that
 * authenticate, check CSRF, enforce the roles and validate, in that order, before the handler runs.
 * The same table feeds the OpenAPI document (openapi.ts), so the document cannot drift from the code.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AdminAccounts } from '../../core/admin/accounts.js';
import type { AuditContext } from '../../core/admin/audit.js';
import type { AppCatalog } from '../../core/apps/app-service.js';
import { type AdminAuth, type Principal, actorOf } from '../../core/admin/auth.js';
import type { AdminOperations } from '../../core/admin/operations.js';
import type { AdminRole } from '../../core/admin/ports.js';
import type { ComplianceService } from '../../core/compliance/service.js';
import type { DirectoryService } from '../../core/directory/directory-service.js';
import type { DnsChecker } from '../../core/dns/checker.js';
import type { EntraSync } from '../../core/directory-sync/entra-sync.js';
import type { ScimService } from '../../core/directory-sync/scim-service.js';
import type { ManagementAdmin } from '../../core/management/admin.js';
import type { EntraTenants } from '../../core/entra/tenants.js';
import type { TermsTextAdmin } from '../../core/enrollment/terms-text.js';
import type { PolicyAdmin } from '../../core/policy/policy-admin.js';
import type { OidcProviders } from '../../core/oidc/providers.js';
import type { Storage } from '../../core/ports.js';
import { SESSION_COOKIE, readCookie } from './cookies.js';
import { ApiProblem, validationProblem } from './problem.js';

export const CSV_CONTENT_TYPE = 'text/csv';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The read side the API lists and shows from (core ports; the API never sees a storage adapter). */
export type ApiReads = Pick<
  Storage,
  | 'listDevicesPage'
  | 'dashboardCounts'
  | 'getProfileByName'
  | 'listAssignments'
  | 'listAssignmentIntents'
  | 'listGroups'
  | 'getGroupByName'
  | 'listGroupMembers'
  | 'listChildGroups'
  | 'getUserById'
  | 'listDevices'
  | 'licenseCounts'
  | 'listLicenses'
  | 'listDems'
  | 'listEnrollmentAttempts'
  | 'deviceHistory'
  | 'getTenantSettings'
>;

/** Everything a route handler may use. */
export interface ApiDeps {
  auth: AdminAuth;
  accounts: AdminAccounts;
  operations: AdminOperations;
  directory: DirectoryService;
  management: ManagementAdmin;
  /** Who may enroll: licenses, scopes, restrictions, DEMs, identifiers, import, explain (audited). */
  policy: PolicyAdmin;
  reads: ApiReads;
  /** Connected Entra ID tenants (audited) and the admin's terms-of-use text (audited). */
  entra: EntraTenants;
  termsText: TermsTextAdmin;
  /** Compliance rules, device states and the directory write-back (audited changes). */
  compliance: ComplianceService;
  /** External sign-in providers of the federated page (audited; secrets sealed). */
  oidcProviders: OidcProviders;
  /** Directory sync: SCIM tokens and the Entra Graph sync (audited). */
  directorySync: { scim: ScimService; entra: EntraSync };
  /** The app catalog: apps and their group assignments (audited changes). */
  apps: AppCatalog;
  /** DNS checks of the discovery records and the records to create (reads only). */
  dns: DnsChecker;
  /** `https://host[:port]` of the web listener as devices reach it (Winroll's default MDM URLs live there). */
  webBase(): string;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The caller; always set except on public routes, where it is undefined. */
  principal: Principal;
  /** Who is acting, for the audit log. */
  audit: AuditContext;
  traceId: string;
  deps: ApiDeps;
  req: FastifyRequest;
  reply: FastifyReply;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteDef<PS extends z.ZodType | undefined, QS extends z.ZodType | undefined, BS extends z.ZodType | undefined> {
  method: HttpMethod;
  /** OpenAPI-style path below /api/v1, e.g. `/devices/{deviceId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: 'public' | readonly AdminRole[];
  /** Narrows `access` once the input is validated (e.g. by the action kind). */
  accessFor?: (input: { params: Out<PS>; query: Out<QS>; body: Out<BS> }) => readonly AdminRole[];
  params?: PS;
  query?: QS;
  body?: BS;
  /**
   * The body may also be sent as `text/csv`; it then reaches the schema as `{ csv: <text> }`. Other routes
   * answer a CSV body with 415.
   */
  csvBody?: boolean;
  response: { status: 200 | 201 | 202 | 204; description: string; schema?: z.ZodType };
  /** Extra error statuses worth documenting (401/403/400/404/503 are added automatically where they apply). */
  errors?: number[];
  handler(c: RouteContext<Out<PS>, Out<QS>, Out<BS>>): Promise<unknown>;
}

/** A route with its types erased, as the table holds it. */
export interface ApiRoute
  extends Omit<RouteDef<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>, 'handler' | 'accessFor'> {
  accessFor?: (input: { params: unknown; query: unknown; body: unknown }) => readonly AdminRole[];
  handler(c: RouteContext<unknown, unknown, unknown>): Promise<unknown>;
}

export function route<
  PS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
>(def: RouteDef<PS, QS, BS>): ApiRoute {
  return def as unknown as ApiRoute;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const traceIds = new WeakMap<FastifyRequest, string>();

/** The request's trace id (also in the X-Trace-Id header, problem bodies, logs and audit entries). */
export function traceIdOf(req: FastifyRequest): string {
  let id = traceIds.get(req);
  if (!id) {
    id = randomUUID();
    traceIds.set(req, id);
  }
  return id;
}

/** `/devices/{deviceId}` → `/devices/:deviceId`. */
export function fastifyPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

const unauthenticated = (detail: string) =>
  new ApiProblem(401, 'unauthenticated', detail, { headers: { 'www-authenticate': 'Bearer realm="winroll"' } });

/** The caller from `Authorization: Bearer wr_...` or, without that header, the session cookie. */
async function authenticate(req: FastifyRequest, auth: AdminAuth): Promise<Principal> {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    const p = m?.[1] ? await auth.authenticateToken(m[1]) : undefined;
    if (!p) throw unauthenticated('the API token is invalid, expired or revoked');
    return p;
  }
  const sessionId = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (!sessionId) throw unauthenticated('sign in first (POST /api/v1/session) or send an API token');
  const p = await auth.authenticateSession(sessionId);
  if (!p) throw unauthenticated('the session has ended; sign in again');
  return p;
}

function parse<S extends z.ZodType | undefined>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!r.success) throw validationProblem(r.error, where);
  return r.data;
}

function refuseRole(p: Principal, allowed: readonly AdminRole[], what: string): void {
  if (!allowed.includes(p.role))
    throw new ApiProblem(403, 'forbidden', `the ${p.role} role cannot ${what}; it needs ${allowed.join(' or ')}`);
}

export function registerRoutes(app: FastifyInstance, routes: readonly ApiRoute[], deps: ApiDeps): void {
  for (const r of routes) {
    app.route({
      method: r.method,
      url: fastifyPath(r.path),
      handler: async (req, reply) => {
        const traceId = traceIdOf(req);
        let principal: Principal | undefined;
        if (r.access !== 'public') {
          principal = await authenticate(req, deps.auth);
          if (!SAFE_METHODS.has(req.method) && !deps.auth.csrfOk(principal, headerValue(req.headers['x-csrf-token']))) {
            throw new ApiProblem(403, 'forbidden', 'the X-CSRF-Token header is missing or does not match this session');
          }
          refuseRole(principal, r.access, r.summary.toLowerCase());
        }
        const params = parse(r.params, req.params, 'params');
        const query = parse(r.query, req.query, 'query');
        const body = parse(r.body, csvBodyOf(r, req), 'body');
        if (principal && r.accessFor) refuseRole(principal, r.accessFor({ params, query, body }), `${r.summary.toLowerCase()} like this`);
        const result = await r.handler({
          params,
          query,
          body,
          principal: principal as Principal,
          get audit(): AuditContext {
            // Public routes (sign-in, the OpenAPI document) change nothing on behalf of a caller.
            if (!principal) throw new Error(`route ${r.operationId} is public and has no audit actor`);
            return { actor: actorOf(principal), traceId };
          },
          traceId,
          deps,
          req,
          reply,
        });
        reply.code(r.response.status);
        if (r.response.status === 204) return reply.send();
        return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(result));
      },
    });
  }
}

/** The request body, with a text/csv body wrapped as `{ csv }` for routes that take one. */
function csvBodyOf(r: ApiRoute, req: FastifyRequest): unknown {
  const type = headerValue(req.headers['content-type'])?.split(';')[0]?.trim().toLowerCase();
  if (type !== CSV_CONTENT_TYPE) return req.body;
  if (!r.csvBody) throw new ApiProblem(415, 'unsupported_media_type', `${r.method} ${r.path} takes application/json, not text/csv`);
  return { csv: req.body };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
