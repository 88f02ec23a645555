/**
 * The OpenAPI 3.1 document, built from the route table: paths, parameters, request and response
 * schemas (zod 4's `z.toJSONSchema`, whose draft 2020-12 output is OpenAPI 3.1's schema dialect), who
 * may call each operation (security requirements plus `x-winroll-roles`) and the problem+json errors.
 * Named schemas (schemas.ts) land in components/schemas and are referenced, never repeated.
 */
import { z } from 'zod';
import type { AdminRole } from '../../core/admin/ports.js';
import { SESSION_COOKIE } from './cookies.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import type { ApiRoute } from './route.js';
import { ProblemSchema } from './schemas.js';

type Json = Record<string, unknown>;

const COMPONENT = '#/components/schemas/';

const ERROR_RESPONSES: Record<number, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'The request does not match the schema (the problem names the field).' },
  401: { name: 'Unauthorized', description: 'No valid session cookie or API token.' },
  403: { name: 'Forbidden', description: 'The role may not do this, or the X-CSRF-Token header is missing or wrong.' },
  404: { name: 'NotFound', description: 'No such resource.' },
  409: { name: 'Conflict', description: 'It exists already, or the change would break a rule (e.g. no administrator left).' },
  415: { name: 'UnsupportedMediaType', description: 'The body is neither JSON nor, where the operation takes it, text/csv.' },
  422: { name: 'UnprocessableContent', description: 'Well-formed, but refused by a rule (the detail says which).' },
  429: { name: 'TooManyRequests', description: 'Too many failed sign-ins; see Retry-After.' },
  503: { name: 'ServiceUnavailable', description: 'The database is unavailable.' },
};

/**
 * Converts one schema. Named schemas (`.meta({ id })`, see schemas.ts) come back from zod as `$defs`;
 * they are hoisted into components/schemas (`defs`) and references rewritten to point there. Input
 * (request) variants of a named schema get an `Input` suffix, since defaults make them differ.
 */
function convert(schema: z.ZodType, io: 'input' | 'output', defs: Json): Json {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json & { $defs?: Record<string, Json> };
  const suffix = io === 'input' ? 'Input' : '';
  const { $schema: _s, $defs, ...root } = out;
  for (const [name, def] of Object.entries($defs ?? {})) {
    if (!(`${name}${suffix}` in defs)) defs[`${name}${suffix}`] = rewriteRefs(def, suffix);
  }
  return rewriteRefs(root, suffix) as Json;
}

function rewriteRefs(v: unknown, suffix: string): unknown {
  if (Array.isArray(v)) return v.map((x) => rewriteRefs(x, suffix));
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, val] of Object.entries(v)) {
      out[k] =
        k === '$ref' && typeof val === 'string' ? val.replace(/^#\/\$defs\/(.+)$/, `${COMPONENT}$1${suffix}`) : rewriteRefs(val, suffix);
    }
    return out;
  }
  return v;
}

/** Path or query parameters from an object schema. */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query', defs: Json): Json[] {
  if (!schema) return [];
  const json = convert(schema, 'input', defs) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

function rolesText(access: ApiRoute['access']): string {
  return access === 'public' ? 'No authentication.' : `Roles: ${(access as readonly AdminRole[]).join(', ')}.`;
}

export function buildOpenApi(routes: readonly ApiRoute[], opts: { version: string; serverUrl: string }): Json {
  const defs: Json = {};
  convert(ProblemSchema, 'output', defs);
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const safe = r.method === 'GET';
    const statuses = new Set<number>([503, ...(r.errors ?? [])]);
    if (r.params || r.query || r.body) statuses.add(400);
    if (r.params) statuses.add(404);
    if (r.access !== 'public') {
      statuses.add(401);
      statuses.add(403);
    }
    const responses: Json = {
      [String(r.response.status)]: {
        description: r.response.description,
        ...(r.response.schema ? { content: { 'application/json': { schema: convert(r.response.schema, 'output', defs) } } } : {}),
      },
    };
    for (const s of [...statuses].sort()) {
      const e = ERROR_RESPONSES[s];
      if (e) responses[String(s)] = { $ref: `#/components/responses/${e.name}` };
    }
    const op: Json = {
      operationId: r.operationId,
      summary: r.summary,
      description: [r.description, rolesText(r.access)].filter(Boolean).join('\n\n'),
      tags: [r.tag],
      'x-winroll-roles': r.access === 'public' ? [] : [...r.access],
      security:
        r.access === 'public'
          ? []
          : safe
            ? [{ sessionCookie: [] }, { bearerToken: [] }]
            : [{ sessionCookie: [], csrfToken: [] }, { bearerToken: [] }],
      parameters: [...parameters(r.params, 'path', defs), ...parameters(r.query, 'query', defs)],
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: convert(r.body, 'input', defs) },
                ...(r.csvBody
                  ? { 'text/csv': { schema: { type: 'string', description: 'The CSV file as is (the same as the JSON `csv` field).' } } }
                  : {}),
              },
            },
          }
        : {}),
      responses,
    };
    const item = paths[r.path] ?? {};
    item[r.method.toLowerCase()] = op;
    paths[r.path] = item;
  }
  const responses: Json = {};
  for (const e of Object.values(ERROR_RESPONSES)) {
    responses[e.name] = { description: e.description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: `${COMPONENT}Problem` } } } };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Winroll admin API',
      version: opts.version,
      description:
        'Manage domains, users, groups, devices, profiles, admins and API tokens, and who may enroll: licenses, automatic-enrollment scopes and URLs, restrictions, device enrollment managers, corporate identifiers, explain, enrollment attempts. Browsers sign in with POST /session (cookie + X-CSRF-Token on changes); scripts send `Authorization: Bearer wr_...`. Errors are application/problem+json (RFC 9457). Lists page with `limit` and the opaque `cursor` from `nextCursor`. Every change is recorded in the audit log.',
    },
    servers: [{ url: opts.serverUrl }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: defs,
      responses,
      securitySchemes: {
        sessionCookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Set by POST /session.' },
        csrfToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CSRF-Token',
          description: 'The csrfToken of the session; required with the cookie on POST, PUT, PATCH and DELETE.',
        },
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'wr_<43 base64url characters>',
          description: 'An API token from POST /tokens.',
        },
      },
    },
  };
}
