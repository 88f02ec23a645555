/**
 * External sign-in on the federated enrollment page (core/oidc): the "Sign in with <provider>" links
 * start an authorization-code flow (GET OIDC_START_PATH: sealed state cookie, 302 to the provider), and
 * the provider sends the browser back to OIDC_CALLBACK_PATH, which ends like the password form: the
 * token hand-off to appru, the code step, or the sign-in page with a readable reason (never a token).
 *
 * The state cookie is `__Host-` (Secure, Path=/, no Domain), HttpOnly, SameSite=Lax: Lax so the
 * provider's top-level redirect back carries it, while cross-site subrequests never do. It is cleared
 * by the callback whatever the outcome. Codes, tokens and the cookie are never logged.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PATHS } from '../core/enrollment/endpoints.js';
import { isAcceptableAppru } from '../core/enrollment/federated-sign-in.js';
import {
  OIDC_CALLBACK_PATH,
  OIDC_START_PATH,
  OIDC_STATE_TTL_SECONDS,
  type OidcRefusal,
  type OidcSignIn,
} from '../core/oidc/oidc-sign-in.js';
import { readCookie } from './api/cookies.js';
import { renderCodePage, renderPlainPage, renderSignInPage, renderTokenHandoff } from './sign-in-page.js';

export const OIDC_STATE_COOKIE = '__Host-winroll_oidc';

type SendHtml = (reply: FastifyReply, status: number, html: string) => FastifyReply;

/** The sign-in page's provider links for this appru and login hint. */
export async function providerLinks(
  oidc: OidcSignIn | undefined,
  appru: string,
  loginHint: string,
): Promise<Array<{ name: string; href: string }>> {
  if (!oidc) return [];
  return (await oidc.providersFor(loginHint)).map((p) => {
    const q = new URLSearchParams({ provider: p.id, appru });
    if (loginHint) q.set('login_hint', loginHint);
    return { name: p.name, href: `${OIDC_START_PATH}?${q.toString()}` };
  });
}

export function oidcSignInRoutes(app: FastifyInstance, deps: { oidc: OidcSignIn; organizationName: string; sendHtml: SendHtml }): void {
  const { oidc, organizationName, sendHtml } = deps;
  const notFromWindows = (reply: FastifyReply) =>
    sendHtml(
      reply,
      400,
      renderPlainPage(
        'Open this page from Windows',
        'This sign-in page is part of device enrollment. Start from Settings > Accounts > Access work or school on the device.',
      ),
    );
  const signInPage = async (reply: FastifyReply, appru: string, loginHint: string, error: string) =>
    sendHtml(
      reply,
      200,
      renderSignInPage({
        organizationName,
        appru,
        loginHint,
        error,
        providers: await providerLinks(oidc, appru, loginHint),
        action: PATHS.authentication,
      }),
    );

  app.get(OIDC_START_PATH, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const appru = q.appru ?? '';
    if (!isAcceptableAppru(appru)) return notFromWindows(reply);
    const loginHint = (q.login_hint ?? '').slice(0, 256);
    const started = await oidc.start({ providerId: (q.provider ?? '').slice(0, 64), appru, loginHint });
    if (!started.ok) {
      req.log.warn({ reason: started.reason, provider: started.provider, detail: started.detail }, 'OIDC sign-in could not start');
      const name = started.provider ?? 'The identity provider';
      const message =
        started.reason === 'provider_unreachable'
          ? `${name} could not be reached. Try again in a moment, or use your password.`
          : started.reason === 'domain_not_allowed'
            ? `${name} does not sign in accounts of your organisation here. Use another option below.`
            : 'That sign-in option is no longer available. Use another option below.';
      return signInPage(reply, appru, loginHint, message);
    }
    return reply
      .code(302)
      .header('set-cookie', stateCookie(started.cookie, OIDC_STATE_TTL_SECONDS))
      .header('cache-control', 'no-store')
      .header('location', started.location)
      .send();
  });

  app.get(OIDC_CALLBACK_PATH, async (req, reply) => {
    const traceId = randomUUID();
    const raw = req.url.indexOf('?') >= 0 ? req.url.slice(req.url.indexOf('?') + 1) : '';
    reply.header('set-cookie', stateCookie('', 0));
    const result = await oidc.finish({ cookie: readCookie(req.headers.cookie, OIDC_STATE_COOKIE), query: new URLSearchParams(raw) });
    switch (result.outcome) {
      case 'start_again':
        req.log.warn({ traceId, detail: result.detail }, 'OIDC sign-in callback without a valid state');
        return sendHtml(
          reply,
          400,
          renderPlainPage(
            'Start again',
            'This sign-in has expired or could not be read. Go back on the device and start enrolling again from Settings > Accounts > Access work or school.',
          ),
        );
      case 'token':
        req.log.info({ traceId, provider: result.provider, upn: result.upn, secondFactor: result.secondFactor }, 'OIDC sign-in succeeded');
        return sendHtml(reply, 200, renderTokenHandoff(result.appru, result.token));
      case 'code_needed':
        req.log.info({ traceId, provider: result.provider, upn: result.upn }, 'OIDC sign-in accepted, asking for a second factor');
        return sendHtml(
          reply,
          200,
          renderCodePage({ organizationName, appru: result.appru, upn: result.upn, state: result.state, action: PATHS.authentication }),
        );
      case 'refused': {
        req.log.warn(
          { traceId, provider: result.provider, upn: result.upn, reason: result.reason, detail: result.detail },
          'OIDC sign-in refused',
        );
        const message = refusalMessage(result.reason, { ...result, traceId });
        return signInPage(reply, result.appru, result.loginHint, message);
      }
    }
  });
}

function stateCookie(value: string, maxAgeSeconds: number): string {
  return `${OIDC_STATE_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=Lax`;
}

function refusalMessage(
  reason: OidcRefusal,
  r: { provider: string; upn?: string | undefined; loginHint: string; traceId: string },
): string {
  const who = r.upn ?? 'this account';
  switch (reason) {
    case 'unknown_user':
      return `You signed in at ${r.provider} as ${who}, which is not an account that may enroll devices here. Contact your IT department.`;
    case 'disabled':
      return 'This account can no longer enroll devices. Contact your IT department.';
    case 'login_hint_mismatch':
      return `You signed in at ${r.provider} as ${who}, but this device is being enrolled for ${r.loginHint}. Sign in with that account, or go back and enter the account you signed in with.`;
    case 'domain_not_allowed':
      return `${r.provider} may not sign in accounts of ${who.slice(who.lastIndexOf('@') + 1)} here. Use another option below.`;
    case 'domain_not_configured':
      return 'Your organisation is not set up for device enrollment here.';
    case 'mfa_not_enrolled':
      return 'Your organisation requires a verification code from an authenticator app to enroll this device, but none is set up for your account. Contact your IT department to set one up, then try again.';
    case 'cancelled':
      return `Sign-in at ${r.provider} was cancelled. Try again, or use another option below.`;
    case 'no_claim':
      return `${r.provider} did not say which work account you signed in with (reference ${r.traceId}). Contact your IT department.`;
    case 'email_unverified':
      return `${r.provider} has not verified the email address of the account you signed in with. Contact your IT department.`;
    case 'unknown_provider':
      return 'That sign-in option is no longer available. Use another option below.';
    default:
      return `The sign-in at ${r.provider} could not be completed (reference ${r.traceId}). Try again, or contact your IT department.`;
  }
}
