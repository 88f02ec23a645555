/**
 * SCIM 2.0 at `/scim/v2` on the web listener (RFC 7644): ServiceProviderConfig, ResourceTypes and Schemas
 * (public, as the RFC allows), Users and Groups (bearer token from `winroll scim token create`). JSON in
 * `application/scim+json` or `application/json`; every error is a SCIM Error message with the HTTP status
 * (400 invalidFilter / invalidValue / invalidSyntax, 401, 404, 409 uniqueness). The token is never logged.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ScimService, type ScimPrincipal } from '../../core/directory-sync/scim-service.js';
import { ScimError, type ScimType, resourceTypes, schemas, scimErrorBody, serviceProviderConfig } from '../../core/directory-sync/scim.js';
import { WinrollError } from '../../shared/errors.js';

export const SCIM_PREFIX = '/scim/v2';
const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
const BODY_LIMIT = 2 * 1024 * 1024;

export interface ScimRouteDeps {
  scim: ScimService;
  /** `https://host[:port]` of the web listener, for resource locations. */
  webBase(): string;
}

const principals = new WeakMap<FastifyRequest, ScimPrincipal>();

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', SCIM_CONTENT_TYPE).header('cache-control', 'no-store').send(JSON.stringify(body));
}

function sendError(reply: FastifyReply, status: number, detail: string, scimType?: ScimType): FastifyReply {
  return send(reply, status, scimErrorBody(status, detail, scimType));
}

const WINROLL_STATUS: Partial<Record<WinrollError['code'], [number, ScimType | undefined]>> = {
  not_found: [404, undefined],
  conflict: [409, 'uniqueness'],
  invalid_input: [400, 'invalidValue'],
  unauthenticated: [401, undefined],
  forbidden: [403, undefined],
};

export async function scimRoutes(app: FastifyInstance, deps: ScimRouteDeps): Promise<void> {
  const base = () => `${deps.webBase()}${SCIM_PREFIX}`;
  app.removeAllContentTypeParsers();
  for (const type of ['application/scim+json', 'application/json'])
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: BODY_LIMIT }, app.getDefaultJsonParser('error', 'error'));

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ScimError) return sendError(reply, err.status, err.message, err.scimType);
    if (err instanceof WinrollError) {
      const mapped = WINROLL_STATUS[err.code];
      if (mapped) return sendError(reply, mapped[0], err.message, mapped[1]);
      const traceId = randomUUID();
      req.log.error({ traceId, code: err.code, err: err.message }, 'SCIM request failed');
      return err.code === 'storage_unavailable'
        ? sendError(reply.header('retry-after', '5'), 503, `the database is unavailable; try again shortly (trace id ${traceId})`)
        : sendError(reply, 500, `an unexpected error occurred (trace id ${traceId})`);
    }
    const e = err as { statusCode?: unknown; message?: unknown; code?: unknown };
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      const detail = typeof e.message === 'string' ? e.message.slice(0, 300) : 'the request is invalid';
      return sendError(reply, e.statusCode, detail, e.statusCode === 400 ? 'invalidSyntax' : undefined);
    }
    const traceId = randomUUID();
    req.log.error({ traceId, err }, 'SCIM request failed unexpectedly');
    return sendError(reply, 500, `an unexpected error occurred (trace id ${traceId})`);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, `no SCIM endpoint ${req.method} ${req.url.split('?')[0]?.slice(0, 200)}`));

  // Discovery: public (RFC 7644 §4), so an IdP can read what is supported before it has a token.
  app.get('/ServiceProviderConfig', async (_req, reply) => send(reply, 200, serviceProviderConfig(base())));
  app.get('/ResourceTypes', async (_req, reply) => {
    const list = resourceTypes(base());
    return send(reply, 200, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: list.length,
      Resources: list,
    });
  });
  app.get<{ Params: { id: string } }>('/ResourceTypes/:id', async (req, reply) => {
    const hit = resourceTypes(base()).find((r) => r.id === req.params.id);
    return hit ? send(reply, 200, hit) : sendError(reply, 404, `no resource type ${req.params.id.slice(0, 64)}`);
  });
  app.get('/Schemas', async (_req, reply) => {
    const list = schemas(base());
    return send(reply, 200, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: list.length,
      Resources: list,
    });
  });
  app.get<{ Params: { id: string } }>('/Schemas/:id', async (req, reply) => {
    const hit = schemas(base()).find((s) => s.id === req.params.id);
    return hit ? send(reply, 200, hit) : sendError(reply, 404, `no schema ${req.params.id.slice(0, 200)}`);
  });

  // Users and Groups: a SCIM bearer token first.
  await app.register(async (secured) => {
    secured.addHook('onRequest', async (req, reply) => {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const p = m?.[1] ? await deps.scim.authenticate(m[1]) : undefined;
      if (!p) {
        reply.header('www-authenticate', 'Bearer realm="winroll-scim"');
        return sendError(reply, 401, m ? 'the SCIM token is invalid or revoked' : 'send a SCIM bearer token (winroll scim token create)');
      }
      principals.set(req, p);
    });
    const ctx = (req: FastifyRequest) => ScimService.context(principals.get(req) as ScimPrincipal, randomUUID());
    type Q = { filter?: string; startIndex?: string; count?: string; excludedAttributes?: string };
    type IdReq = { Params: { id: string }; Querystring: Q };

    secured.get<{ Querystring: Q }>('/Users', async (req, reply) => send(reply, 200, await deps.scim.listUsers(base(), req.query)));
    secured.post('/Users', async (req, reply) => send(reply, 201, await deps.scim.createUser(ctx(req), base(), req.body)));
    secured.get<IdReq>('/Users/:id', async (req, reply) => send(reply, 200, await deps.scim.getUser(base(), req.params.id)));
    secured.put<IdReq>('/Users/:id', async (req, reply) =>
      send(reply, 200, await deps.scim.replaceUser(ctx(req), base(), req.params.id, req.body)),
    );
    secured.patch<IdReq>('/Users/:id', async (req, reply) =>
      send(reply, 200, await deps.scim.patchUser(ctx(req), base(), req.params.id, req.body)),
    );
    secured.delete<IdReq>('/Users/:id', async (req, reply) => {
      await deps.scim.deleteUser(ctx(req), req.params.id);
      return reply.code(204).send();
    });

    secured.get<{ Querystring: Q }>('/Groups', async (req, reply) => send(reply, 200, await deps.scim.listGroups(base(), req.query)));
    secured.post('/Groups', async (req, reply) => send(reply, 201, await deps.scim.createGroup(ctx(req), base(), req.body)));
    secured.get<IdReq>('/Groups/:id', async (req, reply) => send(reply, 200, await deps.scim.getGroup(base(), req.params.id, req.query)));
    secured.put<IdReq>('/Groups/:id', async (req, reply) =>
      send(reply, 200, await deps.scim.replaceGroup(ctx(req), base(), req.params.id, req.body)),
    );
    secured.patch<IdReq>('/Groups/:id', async (req, reply) =>
      send(reply, 200, await deps.scim.patchGroup(ctx(req), base(), req.params.id, req.body)),
    );
    secured.delete<IdReq>('/Groups/:id', async (req, reply) => {
      await deps.scim.deleteGroup(ctx(req), req.params.id);
      return reply.code(204).send();
    });
  });
}
