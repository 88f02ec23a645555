/** Signing in and out: a server-side session in an HttpOnly cookie, and the CSRF token that goes with it. */
import { z } from 'zod';
import { type Principal, SESSION_ABSOLUTE_MS } from '../../../core/admin/auth.js';
import { ANY_ROLE } from '../../../core/admin/roles.js';
import { clearedSessionCookie, sessionCookie } from '../cookies.js';
import { ApiProblem } from '../problem.js';
import { type ApiRoute, route } from '../route.js';
import { SessionSchema } from '../schemas.js';

function toSession(p: Principal): z.output<typeof SessionSchema> {
  return {
    userId: p.userId,
    upn: p.upn,
    role: p.role,
    via: p.via.kind,
    csrfToken: p.via.kind === 'session' ? p.via.csrfToken : null,
    expiresAt: p.via.kind === 'session' ? p.via.expiresAt.toISOString() : null,
  };
}

export const sessionRoutes: ApiRoute[] = [
  route({
    method: 'POST',
    path: '/session',
    operationId: 'signIn',
    summary: 'Sign in',
    description:
      "Checks a directory user's password and, if the user is an admin, sets the session cookie (HttpOnly, Secure, SameSite=Strict; idle timeout 30 minutes, at most 12 hours) and returns the CSRF token to send as X-CSRF-Token on every change. At most 10 failed attempts per 15 minutes per client address and per account; then 429 with Retry-After.",
    tag: 'session',
    access: 'public',
    body: z.object({ upn: z.string().min(1).max(320), password: z.string().min(1).max(1024) }),
    response: { status: 201, description: 'Signed in; the session cookie is set.', schema: SessionSchema },
    errors: [401, 429],
    async handler({ body, deps, req, reply, traceId }) {
      const result = await deps.auth.signIn(body.upn, body.password, req.ip, traceId);
      if (!result.ok) {
        if (result.reason === 'throttled') {
          req.log.warn({ traceId, upn: body.upn.slice(0, 320), address: req.ip }, 'admin sign-in throttled');
          throw new ApiProblem(429, 'rate_limited', `too many failed sign-ins; try again in ${result.retryAfterSeconds} seconds`, {
            headers: { 'retry-after': String(result.retryAfterSeconds) },
          });
        }
        req.log.warn({ traceId, upn: body.upn.slice(0, 320), address: req.ip, reason: result.detail }, 'admin sign-in refused');
        // Only after the password was right does the reason name the license rule (nothing to enumerate).
        if (result.detail === 'unlicensed')
          throw new ApiProblem(
            401,
            'unauthenticated',
            'this admin account has no Winroll license, and unlicensed admins may not sign in; an administrator can assign a license or allow unlicensed admins',
          );
        throw new ApiProblem(401, 'unauthenticated', 'the UPN or password is wrong, or the account may not use the admin API');
      }
      req.log.info({ traceId, upn: result.principal.upn, role: result.principal.role }, 'admin signed in');
      reply.header('set-cookie', sessionCookie(result.sessionId, SESSION_ABSOLUTE_MS / 1000));
      return toSession(result.principal);
    },
  }),
  route({
    method: 'GET',
    path: '/session',
    operationId: 'getSession',
    summary: 'Show the current session',
    description: 'Who is calling, with which role; for a browser session also the CSRF token (so a reloaded page can recover it).',
    tag: 'session',
    access: ANY_ROLE,
    response: { status: 200, description: 'The caller.', schema: SessionSchema },
    async handler({ principal }) {
      return toSession(principal);
    },
  }),
  route({
    method: 'DELETE',
    path: '/session',
    operationId: 'signOut',
    summary: 'Sign out',
    description: 'Ends the session and clears the cookie. With an API token there is no session: nothing happens.',
    tag: 'session',
    access: ANY_ROLE,
    response: { status: 204, description: 'Signed out.' },
    async handler({ principal, deps, reply }) {
      await deps.auth.signOut(principal);
      if (principal.via.kind === 'session') reply.header('set-cookie', clearedSessionCookie());
      return undefined;
    },
  }),
];
