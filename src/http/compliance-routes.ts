/**
 * The compliance page on the web listener (`/compliance`, Winroll's default MDM compliance URL).
 * GET with `Authorization: Bearer <Entra token>` (Windows' web view) shows the user's devices at once; GET
 * with the page's session cookie likewise; anything else gets the password sign-in form, whose POST sets
 * that cookie (HttpOnly, Secure, SameSite=Lax, 30 minutes). The bearer token is never logged or echoed.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CompliancePageAccess } from '../core/compliance/page-access.js';
import { COMPLIANCE_SESSION_TTL_SECONDS } from '../core/compliance/page-access.js';
import type { ComplianceService } from '../core/compliance/service.js';
import type { User } from '../core/ports.js';
import { readCookie } from './api/cookies.js';
import { renderComplianceErrorPage, renderComplianceSignInPage, renderComplianceStatusPage } from './compliance-page.js';

export const COMPLIANCE_PATH = '/compliance';
export const COMPLIANCE_COOKIE = '__Host-winroll_compliance';
const FORM_BODY_LIMIT = 8 * 1024;

export interface CompliancePageDeps {
  access: CompliancePageAccess;
  compliance: ComplianceService;
  organizationName: string;
}

export async function complianceRoutes(app: FastifyInstance, deps: CompliancePageDeps): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const reference = randomUUID();
    req.log.warn({ traceId: reference, err: err.message }, 'compliance page request failed');
    return send(reply, (err.statusCode ?? 500) < 500 ? 400 : 500, renderComplianceErrorPage(reference));
  });

  const signInForm = (reply: FastifyReply, status: number, error?: string, username?: string) =>
    send(reply, status, renderComplianceSignInPage({ organizationName: deps.organizationName, action: COMPLIANCE_PATH, error, username }));

  const statusPage = async (reply: FastifyReply, user: User, via: 'bearer' | 'session') =>
    send(
      reply,
      200,
      renderComplianceStatusPage({
        organizationName: deps.organizationName,
        upn: user.upn,
        devices: await deps.compliance.devicesOf(user.id),
        signOut: via === 'session',
        action: COMPLIANCE_PATH,
      }),
      { frameable: via === 'bearer' },
    );

  app.get(COMPLIANCE_PATH, async (req, reply) => {
    const bearer = bearerOf(req);
    if (bearer !== undefined) {
      const r = await deps.access.fromBearer(bearer);
      if (r.ok) {
        req.log.info({ upn: r.user.upn, via: 'bearer' }, 'compliance page shown');
        return statusPage(reply, r.user, 'bearer');
      }
      req.log.warn({ detail: r.detail }, 'compliance page: directory token refused');
      return signInForm(reply, 200, 'Your sign-in could not be confirmed. Sign in with your work account and password.');
    }
    const session = readCookie(req.headers.cookie, COMPLIANCE_COOKIE);
    const user = session ? await deps.access.fromSession(session) : undefined;
    if (user) return statusPage(reply, user, 'session');
    if (session) reply.header('set-cookie', clearCookie());
    return signInForm(reply, 200);
  });

  app.post(COMPLIANCE_PATH, async (req, reply) => {
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const text = (k: string, max: number) => (typeof form[k] === 'string' ? (form[k] as string).slice(0, max) : '');
    if (text('action', 16) === 'signout') {
      reply.header('set-cookie', clearCookie());
      return signInForm(reply, 200);
    }
    const username = text('username', 320);
    const r = await deps.access.signIn(username, text('password', 1024), req.ip);
    if (!r.ok) {
      req.log.warn({ upn: username.toLowerCase(), reason: r.reason }, 'compliance page sign-in refused');
      if (r.retryAfterSeconds) reply.header('retry-after', String(r.retryAfterSeconds));
      return signInForm(reply, r.reason === 'rate_limited' ? 429 : 200, r.message, username);
    }
    req.log.info({ upn: r.user.upn, via: 'password' }, 'compliance page shown');
    reply.header(
      'set-cookie',
      `${COMPLIANCE_COOKIE}=${r.session}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${COMPLIANCE_SESSION_TTL_SECONDS}`,
    );
    return statusPage(reply, r.user, 'session');
  });
}

function bearerOf(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !/^bearer\s+\S/i.test(auth)) return undefined;
  return auth
    .replace(/^bearer\s+/i, '')
    .trim()
    .slice(0, 16_384);
}

function clearCookie(): string {
  return `${COMPLIANCE_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`;
}

/**
 * `frameable`: only a page rendered for a bearer token (Windows may show it inside its web host; another
 * site cannot frame it without the user's token). Cookie and sign-in pages refuse framing (clickjacking).
 */
function send(reply: FastifyReply, status: number, html: string, opts: { frameable?: boolean } = {}): FastifyReply {
  if (!opts.frameable) reply.header('x-frame-options', 'DENY');
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors ${opts.frameable ? '*' : "'none'"}`,
    )
    .send(html);
}
