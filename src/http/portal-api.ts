/**
 * The Company Portal's JSON API for end users, `/portal/api` on the web listener. Its own session cookie
 * (`__Host-winroll_portal`, HttpOnly, SameSite=Strict) and CSRF header: an admin session is never accepted
 * here, and a portal session is never accepted by the admin API (which reads only its own cookie).
 * Errors are problem+json with the reason; the portal rule's refusals are 403.
 *
 * Users the MFA rule covers sign in in two steps: the first factor (password or OIDC provider) answers
 * `{ codeNeeded: true }` (or redirects to `/portal/?step=code`) and sets the step cookie, holding
 * MfaService's signed 5-minute state (never the password); `POST session/code` opens the session.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { renderSVG } from 'uqr';
import { z } from 'zod';
import { transparencyFor } from '../core/management/capabilities.js';
import { OIDC_STATE_TTL_SECONDS, type OidcSignIn, PORTAL_OIDC_CALLBACK_PATH, PORTAL_OIDC_START_PATH } from '../core/oidc/oidc-sign-in.js';
import { MFA_STEP_TTL_SECONDS } from '../core/mfa/mfa-service.js';
import {
  PORTAL_SESSION_ABSOLUTE_MS,
  type PortalService,
  type PortalSignIn,
  type PortalUser,
  enrollmentLink,
} from '../core/portal/portal-service.js';
import { readCookie } from './api/cookies.js';
import { ApiProblem, sendProblem, validationProblem } from './api/problem.js';
import { traceIdOf } from './api/route.js';
import { portalProfileRoutes } from './portal-profile-routes.js';

export const PORTAL_API_PREFIX = '/portal/api';
export const PORTAL_SESSION_COOKIE = '__Host-winroll_portal';

export interface PortalApiDeps {
  portal: PortalService;
  /** The host name users type when Windows asks for the server (the public host). */
  serverName(): string;
  organizationName: string;
  /** "Sign in with <provider>" through the OIDC providers of the enrollment sign-in page; none when absent. */
  oidc?: OidcSignIn | undefined;
}

/** The portal's OIDC state cookie: its own name, so a portal and an enrollment sign-in never cross. */
export const PORTAL_OIDC_STATE_COOKIE = '__Host-winroll_portal_oidc';
// Lax so the provider's top-level redirect back carries it; HttpOnly, cleared by the callback.
const oidcStateCookie = (value: string, maxAge: number) =>
  `${PORTAL_OIDC_STATE_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; Secure; HttpOnly; SameSite=Lax`;

const portalCookie = (value: string, maxAge: number) =>
  `${PORTAL_SESSION_COOKIE}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAge))}; Secure; HttpOnly; SameSite=Strict`;

/** The code step's cookie: the signed step state between the first factor and the code. */
export const PORTAL_STEP_COOKIE = '__Host-winroll_portal_step';
// Strict like the session cookie: only the portal page's own requests carry it.
const stepCookie = (value: string, maxAge: number) =>
  `${PORTAL_STEP_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; Secure; HttpOnly; SameSite=Strict`;

/** What the user reads when a code is refused (problem+json detail); the code step stays usable. */
const CODE_REFUSALS = {
  wrong_code: 'That code is not correct. Enter the current 6-digit code from your authenticator app.',
  replayed: 'That code was already used. Wait for the next code in your authenticator app and enter it.',
  rate_limited: 'Too many incorrect codes. Wait 15 minutes and try again, or contact your IT department.',
} as const;
const MFA_NOT_ENROLLED =
  'Your organisation requires a verification code from an authenticator app to sign in to the Company Portal, but none is set up for your account. Contact your IT department to set one up, then try again.';
const STEP_EXPIRED = 'Your sign-in took too long or could not be continued. Sign in again.';

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
const CodeBody = z.object({ code: z.string().min(1).max(32) });
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

  /** A refusal of either sign-in step as problem+json (the code step's own reasons keep their code). */
  const refusal = (r: Exclude<PortalSignIn, { ok: true } | { reason: 'code_needed' }>): ApiProblem => {
    switch (r.reason) {
      case 'throttled':
        return new ApiProblem(429, 'rate_limited', `too many failed sign-ins; try again in ${r.retryAfterSeconds} seconds`, {
          headers: { 'retry-after': String(r.retryAfterSeconds) },
        });
      case 'rate_limited':
        return new ApiProblem(429, 'rate_limited', CODE_REFUSALS.rate_limited);
      case 'wrong_code':
      case 'replayed':
        return new ApiProblem(401, r.reason, CODE_REFUSALS[r.reason]);
      case 'mfa_not_enrolled':
        return new ApiProblem(403, 'mfa_not_enrolled', MFA_NOT_ENROLLED);
      case 'step_expired':
        return new ApiProblem(401, 'step_expired', STEP_EXPIRED);
      case 'refused':
        return new ApiProblem(401, 'unauthenticated', 'the user name or password is wrong, or the account is disabled');
    }
  };

  app.post('/session', async (req, reply) => {
    const body = parse(SignInBody, req.body, 'body');
    const r = await portal.signIn(body.upn, body.password, req.ip);
    if (!r.ok && r.reason === 'code_needed') {
      req.log.info({ traceId: traceIdOf(req), upn: r.upn }, 'portal sign-in: password accepted, asking for a verification code');
      reply.header('set-cookie', stepCookie(r.step, MFA_STEP_TTL_SECONDS));
      return json(reply, 200, { codeNeeded: true, upn: r.upn });
    }
    if (!r.ok) {
      req.log.warn({ traceId: traceIdOf(req), upn: body.upn.slice(0, 320), reason: r.detail }, 'portal sign-in refused');
      throw refusal(r);
    }
    reply.header('set-cookie', portalCookie(r.sessionId, PORTAL_SESSION_ABSOLUTE_MS / 1000));
    return json(reply, 201, sessionBody(r.user));
  });

  // The second step for users the MFA rule covers: the step cookie from the first factor and a TOTP code.
  app.post('/session/code', async (req, reply) => {
    const { code } = parse(CodeBody, req.body, 'body');
    const step = readCookie(req.headers.cookie, PORTAL_STEP_COOKIE);
    const r = step
      ? await portal.signInWithCode(step, code, req.ip)
      : ({ ok: false, reason: 'step_expired', detail: 'no step cookie' } as const);
    if (!r.ok && r.reason === 'code_needed') throw new Error('the code step cannot ask for another code');
    if (!r.ok) {
      req.log.warn({ traceId: traceIdOf(req), reason: r.reason, detail: r.detail }, 'portal verification code refused');
      // A step that cannot continue is cleared, so the page starts again; otherwise the user may retry.
      if (r.reason === 'step_expired' || r.reason === 'mfa_not_enrolled' || r.reason === 'refused')
        reply.header('set-cookie', stepCookie('', 0));
      throw refusal(r);
    }
    req.log.info({ traceId: traceIdOf(req), upn: r.user.upn }, 'portal sign-in succeeded with a verification code');
    reply.header('set-cookie', [stepCookie('', 0), portalCookie(r.sessionId, PORTAL_SESSION_ABSOLUTE_MS / 1000)]);
    return json(reply, 201, sessionBody(r.user));
  });

  app.get('/session', async (req, reply) => json(reply, 200, sessionBody(await user(req))));

  // -- sign-in through an OIDC provider (core/oidc, the enrollment page's providers and flow) ---------------
  const oidc = deps.oidc;
  const PORTAL_HOME = '/portal/';
  /** Back to the sign-in page with a reason code it turns into text (never free text from the URL). */
  const backToSignIn = (reply: FastifyReply, reason: string, traceId: string) =>
    reply
      .code(302)
      .header('location', `${PORTAL_HOME}?${new URLSearchParams({ sign_in_error: reason, ref: traceId }).toString()}`)
      .send();

  // Public: what the sign-in page offers. Ids and display names only, never issuers, clients or secrets.
  app.get('/oidc/providers', async (_req, reply) => {
    const items = oidc ? await oidc.providersFor('') : [];
    return json(reply, 200, {
      items: items.map((p) => ({ id: p.id, name: p.name, href: `${PORTAL_OIDC_START_PATH}?${new URLSearchParams({ provider: p.id })}` })),
    });
  });

  app.get(PORTAL_OIDC_START_PATH.slice(PORTAL_API_PREFIX.length), async (req, reply) => {
    const traceId = traceIdOf(req);
    if (!oidc) return backToSignIn(reply, 'unknown_provider', traceId);
    const q = req.query as Record<string, string | undefined>;
    const started = await oidc.startPortal({ providerId: (q.provider ?? '').slice(0, 64) });
    if (!started.ok) {
      req.log.warn(
        { traceId, reason: started.reason, provider: started.provider, detail: started.detail },
        'portal OIDC sign-in could not start',
      );
      return backToSignIn(reply, started.reason, traceId);
    }
    return reply
      .code(302)
      .header('set-cookie', oidcStateCookie(started.cookie, OIDC_STATE_TTL_SECONDS))
      .header('location', started.location)
      .send();
  });

  app.get(PORTAL_OIDC_CALLBACK_PATH.slice(PORTAL_API_PREFIX.length), async (req, reply) => {
    const traceId = traceIdOf(req);
    const cleared = oidcStateCookie('', 0);
    if (!oidc) return backToSignIn(reply.header('set-cookie', cleared), 'unknown_provider', traceId);
    const raw = req.url.indexOf('?') >= 0 ? req.url.slice(req.url.indexOf('?') + 1) : '';
    const result = await oidc.finishPortal({
      cookie: readCookie(req.headers.cookie, PORTAL_OIDC_STATE_COOKIE),
      query: new URLSearchParams(raw),
    });
    if (result.outcome === 'start_again') {
      req.log.warn({ traceId, detail: result.detail }, 'portal OIDC callback without a valid state');
      return backToSignIn(reply.header('set-cookie', cleared), 'start_again', traceId);
    }
    if (result.outcome === 'refused') {
      req.log.warn(
        { traceId, provider: result.provider, upn: result.upn, reason: result.reason, detail: result.detail },
        'portal OIDC sign-in refused',
      );
      return backToSignIn(reply.header('set-cookie', cleared), result.reason, traceId);
    }
    const r = await portal.signInWithIdentity(result.user, { mfaAsserted: result.mfaAsserted });
    if (!r.ok && r.reason === 'code_needed') {
      // The provider is the first factor only: no session until the code (the page shows the code form).
      req.log.info({ traceId, provider: result.provider, upn: r.upn }, 'portal OIDC sign-in: asking for a verification code');
      return reply
        .code(302)
        .header('set-cookie', [cleared, stepCookie(r.step, MFA_STEP_TTL_SECONDS)])
        .header('location', `${PORTAL_HOME}?step=code`)
        .send();
    }
    if (!r.ok) {
      req.log.warn({ traceId, provider: result.provider, upn: result.user.upn, reason: r.detail }, 'portal OIDC sign-in refused');
      return backToSignIn(reply.header('set-cookie', cleared), r.reason === 'mfa_not_enrolled' ? 'mfa_not_enrolled' : 'disabled', traceId);
    }
    req.log.info({ traceId, provider: result.provider, upn: r.user.upn }, 'portal OIDC sign-in succeeded');
    return reply
      .code(302)
      .header('set-cookie', [cleared, portalCookie(r.sessionId, PORTAL_SESSION_ABSOLUTE_MS / 1000)])
      .header('location', PORTAL_HOME)
      .send();
  });

  app.delete('/session', async (req, reply) => {
    const u = await user(req);
    portal.signOut(u.sessionId);
    return reply.header('set-cookie', portalCookie('', 0)).code(204).send();
  });

  app.get('/devices', async (req, reply) => json(reply, 200, { items: await portal.myDevices(await user(req)) }));
  await portalProfileRoutes(app, portal.profiles, user);

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
    const r = await portal.installApp(u, deviceId, appId, traceIdOf(req));
    req.log.info({ traceId: traceIdOf(req), upn: u.upn, deviceId, appId, status: r.status }, 'app install requested from the portal');
    return json(reply, 202, r);
  });

  app.post('/devices/:deviceId/:action', async (req, reply) => {
    const u = await user(req);
    const { deviceId, action } = parse(ActionParams, req.params, 'params');
    const queued = await portal.act(u, deviceId, action, traceIdOf(req));
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
