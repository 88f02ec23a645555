/**
 * The Company Portal's JSON API for end users, `/portal/api` on the web listener. Its own session cookie
 * (`__Host-winroll_portal`, HttpOnly, SameSite=Strict) and CSRF header: an admin session is never accepted
 * here, and a portal session is never accepted by the admin API (which reads only its own cookie).
 * Errors are problem+json with the reason; the portal rule's refusals are 403.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { renderSVG } from 'uqr';
import { z } from 'zod';
import { transparencyFor } from '../core/management/capabilities.js';
import { PORTAL_SESSION_ABSOLUTE_MS, type PortalService, type PortalUser, enrollmentLink } from '../core/portal/portal-service.js';
import { readCookie } from './api/cookies.js';
import { ApiProblem, sendProblem, validationProblem } from './api/problem.js';
import { traceIdOf } from './api/route.js';

export const PORTAL_API_PREFIX = '/portal/api';
export const PORTAL_SESSION_COOKIE = '__Host-winroll_portal';

export interface PortalApiDeps {
  portal: PortalService;
  /** The host name users type when Windows asks for the server (the public host). */
  serverName(): string;
  organizationName: string;
}

const portalCookie = (value: string, maxAge: number) =>
  `${PORTAL_SESSION_COOKIE}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAge))}; Secure; HttpOnly; SameSite=Strict`;

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Windows from the User-Agent client hints: `Sec-CH-UA-Platform` "Windows" and `Sec-CH-UA-Platform-Version`
 * ≥ 13 is Windows 11, 1-10 Windows 10, 0 earlier. Undefined when the browser sent no hints.
 */
export function windowsFromClientHints(
  h: Record<string, string | string[] | undefined>,
): { windows: boolean; platformVersion: string | null; release: 'Windows 11' | 'Windows 10' | 'older' | null } | undefined {
  const platform = header(h['sec-ch-ua-platform'])?.replace(/"/g, '').trim();
  const version = header(h['sec-ch-ua-platform-version'])?.replace(/"/g, '').trim();
  if (platform === undefined && version === undefined) return undefined;
  const windows = platform?.toLowerCase() === 'windows';
  if (!windows || !version) return { windows, platformVersion: version ?? null, release: null };
  const major = Number(version.split('.')[0]);
  const release = !Number.isFinite(major) ? null : major >= 13 ? 'Windows 11' : major >= 1 ? 'Windows 10' : 'older';
  return { windows, platformVersion: version, release };
}

const SignInBody = z.object({ upn: z.string().min(1).max(320), password: z.string().min(1).max(1024) });
const DeviceParams = z.object({ deviceId: z.string().min(1).max(128) });
const AppParams = DeviceParams.extend({ appId: z.string().min(1).max(128) });
const ActionParams = DeviceParams.extend({ action: z.enum(['retire', 'wipe']) });
const TransparencyQuery = z.object({ ownership: z.enum(['personal', 'corporate']).default('personal') });

export async function portalApi(app: FastifyInstance, deps: PortalApiDeps): Promise<void> {
  const { portal } = deps;
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-trace-id', traceIdOf(req)).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
  });
  app.setErrorHandler((err, req, reply) => sendProblem(reply, req, err, traceIdOf(req)));
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, req, new ApiProblem(404, 'not_found', `no portal route ${req.method} ${req.url.split('?')[0]}`), traceIdOf(req)),
  );

  const parse = <S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.output<S> => {
    const r = schema.safeParse(value ?? {});
    if (!r.success) throw validationProblem(r.error, where);
    return r.data;
  };

  /** The signed-in end user; a state-changing request must also carry the session's CSRF token. */
  const user = async (req: FastifyRequest): Promise<PortalUser & { sessionId: string }> => {
    const sessionId = readCookie(req.headers.cookie, PORTAL_SESSION_COOKIE);
    if (!sessionId) throw new ApiProblem(401, 'unauthenticated', 'sign in to the Company Portal first (POST /portal/api/session)');
    const u = await portal.authenticate(sessionId);
    if (!u) throw new ApiProblem(401, 'unauthenticated', 'the portal session has ended; sign in again');
    if (!SAFE.has(req.method) && !portal.csrfOk(u, header(req.headers['x-csrf-token'])))
      throw new ApiProblem(403, 'forbidden', 'the X-CSRF-Token header is missing or does not match this session');
    return { ...u, sessionId };
  };

  const json = (reply: FastifyReply, status: number, body: unknown) =>
    reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));

  const sessionBody = (u: PortalUser) => ({
    upn: u.upn,
    displayName: u.displayName,
    csrfToken: u.csrfToken,
    expiresAt: u.expiresAt.toISOString(),
  });

  app.post('/session', async (req, reply) => {
    const body = parse(SignInBody, req.body, 'body');
    const r = await portal.signIn(body.upn, body.password, req.ip);
    if (!r.ok) {
      req.log.warn({ traceId: traceIdOf(req), upn: body.upn.slice(0, 320), reason: r.detail }, 'portal sign-in refused');
      if (r.reason === 'throttled')
        throw new ApiProblem(429, 'rate_limited', `too many failed sign-ins; try again in ${r.retryAfterSeconds} seconds`, {
          headers: { 'retry-after': String(r.retryAfterSeconds) },
        });
      throw new ApiProblem(401, 'unauthenticated', 'the user name or password is wrong, or the account is disabled');
    }
    reply.header('set-cookie', portalCookie(r.sessionId, PORTAL_SESSION_ABSOLUTE_MS / 1000));
    return json(reply, 201, sessionBody(r.user));
  });

  app.get('/session', async (req, reply) => json(reply, 200, sessionBody(await user(req))));

  app.delete('/session', async (req, reply) => {
    const u = await user(req);
    portal.signOut(u.sessionId);
    return reply.header('set-cookie', portalCookie('', 0)).code(204).send();
  });

  app.get('/devices', async (req, reply) => json(reply, 200, { items: await portal.myDevices(await user(req)) }));

  app.get('/devices/:deviceId', async (req, reply) => {
    const u = await user(req);
    const { deviceId } = parse(DeviceParams, req.params, 'params');
    return json(reply, 200, await portal.device(u, deviceId));
  });

  app.get('/devices/:deviceId/transparency', async (req, reply) => {
    const u = await user(req);
    const { deviceId } = parse(DeviceParams, req.params, 'params');
    return json(reply, 200, await portal.transparency(u, deviceId));
  });

  // Available apps that fit the device (its reported build, else the browser's client hints), with install status.
  app.get('/devices/:deviceId/apps', async (req, reply) => {
    const u = await user(req);
    const { deviceId } = parse(DeviceParams, req.params, 'params');
    const hints = windowsFromClientHints(req.headers);
    return json(reply, 200, await portal.apps(u, deviceId, hints?.windows ? hints.platformVersion : null));
  });

  app.post('/devices/:deviceId/apps/:appId/install', async (req, reply) => {
    const u = await user(req);
    const { deviceId, appId } = parse(AppParams, req.params, 'params');
    const r = await portal.installApp(u, deviceId, appId);
    req.log.info({ traceId: traceIdOf(req), upn: u.upn, deviceId, appId, status: r.status }, 'app install requested from the portal');
    return json(reply, 202, r);
  });

  app.post('/devices/:deviceId/:action', async (req, reply) => {
    const u = await user(req);
    const { deviceId, action } = parse(ActionParams, req.params, 'params');
    const queued = await portal.act(u, deviceId, action);
    req.log.info({ traceId: traceIdOf(req), upn: u.upn, deviceId, action }, 'portal action queued by the primary user');
    return json(reply, 202, queued);
  });

  // Before enrolling, the device is not known: what a device of this ownership would share.
  app.get('/transparency', async (req, reply) => {
    const { ownership } = parse(TransparencyQuery, req.query, 'query');
    return json(reply, 200, transparencyFor(ownership, 'mdm'));
  });

  app.get('/enroll', async (req, reply) => {
    const u = await user(req);
    const serverName = deps.serverName();
    const link = enrollmentLink(u.upn, serverName);
    // Ask Chromium browsers for the Windows version (they send it on the next requests); others simply omit it.
    reply
      .header('accept-ch', 'Sec-CH-UA-Platform, Sec-CH-UA-Platform-Version')
      .header('vary', 'Sec-CH-UA-Platform, Sec-CH-UA-Platform-Version');
    return json(reply, 200, {
      upn: u.upn,
      serverName,
      organizationName: deps.organizationName,
      link,
      qrSvg: renderSVG(link),
      thisDevice: windowsFromClientHints(req.headers) ?? null,
      steps: [
        'On the Windows PC, open Settings > Accounts > Access work or school.',
        'Choose "Enroll only in device management" (or open the link below on that PC, which fills in the fields).',
        `Type your work account, ${u.upn}, and select Next.`,
        `If Windows asks for a server, type ${serverName}.`,
        'Sign in with your work password and accept the terms.',
        'Come back here: the device appears under My devices after its first check-in.',
      ],
    });
  });
}
