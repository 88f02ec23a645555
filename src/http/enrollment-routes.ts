/**
 * Routes Windows' enrollment client calls. Every answer on the SOAP endpoints is SOAP with an explicit
 * Content-Length (Windows refuses chunked responses), including refusals that happen before our code
 * sees the request (oversized body, unknown content type): those become MessageFormat faults too.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PATHS } from '../core/enrollment/endpoints.js';
import type { EnrollmentService, SoapResult } from '../core/enrollment/enrollment-service.js';
import { type FederatedSignIn, isAcceptableAppru } from '../core/enrollment/federated-sign-in.js';
import type { OidcSignIn } from '../core/oidc/oidc-sign-in.js';
import type { TermsOfUse, TermsOfUseErrorCode } from '../core/enrollment/terms-of-use.js';
import { SoapFault, encodeSoapFault } from '../protocol/soap/fault.js';
import { type ClientIdentityOptions, clientIdentity } from './client-identity.js';
import { oidcSignInRoutes, providerLinks } from './oidc-sign-in-routes.js';
import { renderCodePage, renderPlainPage, renderSignInPage, renderTokenHandoff } from './sign-in-page.js';
import { renderTermsOfUsePage, themeFor } from './terms-of-use-page.js';

/** The largest enrollment request we accept: a real RST is about 4 KB; 64 KB leaves room for big CSRs. */
export const SOAP_BODY_LIMIT = 64 * 1024;
const FORM_BODY_LIMIT = 8 * 1024;
const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

export interface EnrollmentRouteDeps {
  enrollment: EnrollmentService;
  federated: FederatedSignIn;
  organizationName: string;
  /** The MDM terms-of-use page (Entra ID join and work accounts); not served without it. */
  termsOfUse?: TermsOfUse | undefined;
  /** External sign-in (OIDC providers) on the federated page; only passwords without it. */
  oidc?: OidcSignIn | undefined;
}

export async function enrollmentRoutes(app: FastifyInstance, deps: EnrollmentRouteDeps): Promise<void> {
  // Windows sends application/soap+xml; any other type is still read as bytes so it gets a SOAP fault.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SOAP_BODY_LIMIT }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const traceId = randomUUID();
    if (req.url.toLowerCase().startsWith(PATHS.termsOfUse.toLowerCase())) {
      req.log.warn({ traceId, err: err.message }, 'terms-of-use request refused');
      return sendHtml(
        reply,
        (err.statusCode ?? 500) < 500 ? 400 : 500,
        renderPlainPage('Something went wrong', `The terms-of-use request could not be processed (reference ${traceId}).`),
        { frameable: true },
      );
    }
    if (req.url.startsWith(PATHS.authentication)) {
      req.log.warn({ traceId, err: err.message }, 'sign-in page request refused');
      return sendHtml(
        reply,
        (err.statusCode ?? 500) < 500 ? 400 : 500,
        renderPlainPage('Something went wrong', `The sign-in request could not be processed (reference ${traceId}).`),
      );
    }
    return sendSoapRefusal(err, traceId, req, reply);
  });

  // Windows probes the discovery URL with a plain GET before posting; it wants 200 and nothing else.
  app.get(PATHS.discovery, async (_req, reply) => reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(''));

  type SoapHandler = (body: Buffer, traceId: string, req: FastifyRequest) => Promise<SoapResult>;
  const soap = (handler: SoapHandler) => async (req: FastifyRequest, reply: FastifyReply) => {
    const traceId = randomUUID();
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await handler(body, traceId, req);
    if (result.fault) {
      req.log.warn({ traceId, route: req.url, fault: result.fault }, 'enrollment refused');
    } else {
      req.log.info({ traceId, route: req.url, ...result.info }, 'enrollment step answered');
    }
    return sendSoap(reply, result.xml);
  };
  app.post(
    PATHS.discovery,
    // The Host header says whether Windows came through enterpriseenrollment.<domain> (the CNAME).
    soap((b, t, req) => deps.enrollment.discover(b, t, { host: req.headers.host })),
  );
  app.post(
    PATHS.policy,
    soap((b, t) => deps.enrollment.getPolicies(b, t)),
  );
  app.post(
    PATHS.enrollment,
    soap((b, t) => deps.enrollment.requestSecurityToken(b, t)),
  );

  app.get(PATHS.authentication, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const appru = q.appru ?? '';
    if (!isAcceptableAppru(appru)) {
      return sendHtml(
        reply,
        400,
        renderPlainPage(
          'Open this page from Windows',
          'This sign-in page is part of device enrollment. Start from Settings > Accounts > Access work or school on the device.',
        ),
      );
    }
    const loginHint = (q.login_hint ?? '').slice(0, 256);
    return sendHtml(
      reply,
      200,
      renderSignInPage({
        organizationName: deps.organizationName,
        appru,
        loginHint,
        providers: await providerLinks(deps.oidc, appru, loginHint),
      }),
    );
  });

  if (deps.oidc) oidcSignInRoutes(app, { oidc: deps.oidc, organizationName: deps.organizationName, sendHtml });

  if (deps.termsOfUse) termsOfUseRoutes(app, deps.termsOfUse, deps.organizationName);

  app.post(PATHS.authentication, async (req, reply) => {
    const form = (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {}) as Record<
      string,
      string | undefined
    >;
    const q = req.query as Record<string, string | undefined>;
    const appru = form.appru ?? q.appru ?? '';
    const username = (form.username ?? '').slice(0, 256);
    if (!isAcceptableAppru(appru)) {
      return sendHtml(
        reply,
        400,
        renderPlainPage(
          'Open this page from Windows',
          'This sign-in page is part of device enrollment. Start from Settings > Accounts > Access work or school on the device.',
        ),
      );
    }
    const page = async (error: string, loginHint = username) =>
      sendHtml(
        reply,
        200,
        renderSignInPage({
          organizationName: deps.organizationName,
          appru,
          loginHint,
          error,
          providers: await providerLinks(deps.oidc, appru, loginHint),
          action: PATHS.authentication,
        }),
      );

    // The code step (MFA): carries the signed state of the password step, never the password.
    const state = typeof form.state === 'string' ? form.state.slice(0, 4096) : undefined;
    const result =
      state === undefined
        ? await deps.federated.signIn(username, form.password ?? '', appru)
        : await deps.federated.signInWithCode(state, (form.otp ?? '').slice(0, 32), appru);
    switch (result.outcome) {
      case 'token':
        req.log.info({ upn: result.upn, secondFactor: result.secondFactor }, 'federated sign-in succeeded');
        return sendHtml(reply, 200, renderTokenHandoff(appru, result.token));
      case 'code_needed':
        req.log.info({ upn: result.upn }, 'federated sign-in: password accepted, asking for a second factor');
        return sendHtml(
          reply,
          200,
          renderCodePage({ organizationName: deps.organizationName, appru, upn: result.upn, state: result.state }),
        );
      case 'refused': {
        req.log.warn({ upn: result.upn ?? username, reason: result.reason }, 'federated sign-in refused');
        const codeError: string | undefined = (CODE_ERRORS as Record<string, string>)[result.reason];
        if (codeError && state !== undefined && result.upn) {
          return sendHtml(
            reply,
            200,
            renderCodePage({ organizationName: deps.organizationName, appru, upn: result.upn, state, error: codeError }),
          );
        }
        if (result.reason === 'domain_not_configured')
          return page('Your organisation is not set up for device enrollment here.', result.upn);
        if (result.reason === 'mfa_not_enrolled') {
          return page(
            'Your organisation requires a verification code from an authenticator app to enroll this device, but none is set up for your account. Contact your IT department to set one up, then try again.',
            result.upn,
          );
        }
        if (result.reason === 'step_expired') return page('Your sign-in took too long or could not be continued. Sign in again.', '');
        if (state !== undefined) return page('This account can no longer enroll devices. Contact your IT department.', result.upn);
        return page('That work account or password is incorrect.');
      }
    }
  });
}

/**
 * The MDM terms-of-use page (protocol.md §3.3; intune-features.md §1.2, §4.4). Every answer after the
 * redirect_uri check is a 302 to that ms-appx-web: URI (with `client-request-id` echoed); a redirect_uri
 * that is not ms-appx-web: gets a plain 400 page and no redirect at all.
 */
function termsOfUseRoutes(app: FastifyInstance, tou: TermsOfUse, organizationName: string): void {
  const badRedirect = (reply: FastifyReply) =>
    sendHtml(
      reply,
      400,
      renderPlainPage(
        'Open this page from Windows',
        'These terms of use are shown by Windows while it joins your organisation or adds a work account. Start from Settings > Accounts > Access work or school on the device.',
      ),
      { frameable: true },
    );

  app.get(PATHS.termsOfUse, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const redirectUri = acceptableRedirectUri(q.redirect_uri);
    if (!redirectUri) return badRedirect(reply);
    const crid = clientRequestId(q['client-request-id']);
    const traceId = randomUUID();
    const fail = (code: TermsOfUseErrorCode, description: string) =>
      redirectWith(reply, redirectUri, { error: code, error_description: description }, crid);
    try {
      if (q['api-version'] !== '1.0') {
        req.log.warn(
          { traceId, clientRequestId: crid, apiVersion: q['api-version']?.slice(0, 16) },
          'terms of use: unsupported api-version',
        );
        return fail('invalid_request', 'This server supports api-version 1.0 of the terms-of-use page.');
      }
      const join = (q.mode ?? '').toLowerCase() === 'azureadjoin';
      const auth = req.headers.authorization;
      const bearer = typeof auth === 'string' && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : undefined;
      const opened = await tou.open({ bearer, join, redirectUri, clientRequestId: crid, traceId });
      if (!opened.ok) {
        req.log.warn({ traceId, clientRequestId: crid, upn: opened.upn, code: opened.code, detail: opened.detail }, 'terms of use refused');
        return fail(opened.code, opened.description);
      }
      req.log.info({ traceId, clientRequestId: crid, upn: opened.user.upn, tenantId: opened.tenantId, join }, 'terms of use shown');
      const header = req.headers['cxh-host'];
      return sendHtml(
        reply,
        200,
        renderTermsOfUsePage({
          organizationName,
          theme: themeFor(typeof header === 'string' ? header : undefined),
          state: opened.state,
          allowDecline: !join,
          action: PATHS.termsOfUse,
          title: opened.terms.title,
          body: opened.terms.body,
        }),
        { frameable: true },
      );
    } catch (err) {
      req.log.error({ traceId, clientRequestId: crid, err }, 'terms of use failed');
      return fail('server_error', 'The device management server hit an unexpected error. Try again later.');
    }
  });

  app.post(PATHS.termsOfUse, async (req, reply) => {
    const form = (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {}) as Record<
      string,
      string | undefined
    >;
    const state = await tou.readState((form.state ?? '').slice(0, 4096));
    // Without a valid state there is no redirect_uri we issued: answer with a page, not a redirect.
    if (!state) {
      return sendHtml(
        reply,
        400,
        renderPlainPage('Start again', 'This terms-of-use page has expired or could not be read. Go back and start again.'),
        { frameable: true },
      );
    }
    const crid = state.clientRequestId;
    try {
      if (form.action === 'decline' && !state.join) {
        req.log.info({ clientRequestId: crid, upn: state.upn }, 'terms of use declined');
        return redirectWith(reply, state.redirectUri, { IsAccepted: 'false' }, crid);
      }
      if (form.action !== 'accept') {
        return redirectWith(
          reply,
          state.redirectUri,
          { error: 'invalid_request', error_description: 'The form was not understood.' },
          crid,
        );
      }
      const blob = await tou.issueBlob(state);
      req.log.info(
        { clientRequestId: crid, upn: state.upn, tenantId: state.tenantId, termsVersion: state.termsVersion },
        'terms of use accepted',
      );
      return redirectWith(reply, state.redirectUri, { IsAccepted: 'true', OpaqueBlob: blob }, crid);
    } catch (err) {
      req.log.error({ clientRequestId: crid, err }, 'terms of use failed');
      return redirectWith(
        reply,
        state.redirectUri,
        { error: 'server_error', error_description: 'The device management server hit an unexpected error. Try again later.' },
        crid,
      );
    }
  });
}

/** Only Windows' own web-view callback (ms-appx-web://…): never redirect to a web site. */
function acceptableRedirectUri(raw: string | undefined): string | undefined {
  if (!raw || raw.length > 2048) return undefined;
  return /^ms-appx-web:\/\/[\x21-\x7e]+$/i.test(raw) && !raw.includes('#') ? raw : undefined;
}

function clientRequestId(raw: string | undefined): string | null {
  return raw && /^[A-Za-z0-9{}-]{1,128}$/.test(raw) ? raw : null;
}

function redirectWith(reply: FastifyReply, redirectUri: string, params: Record<string, string>, crid: string | null): FastifyReply {
  const qs = new URLSearchParams(params);
  if (crid) qs.set('client-request-id', crid);
  // URLSearchParams encodes spaces as '+'; the contract asks for URL-encoded text, so use %20.
  const query = qs.toString().replaceAll('+', '%20');
  return reply
    .code(302)
    .header('location', `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query}`)
    .header('cache-control', 'no-store')
    .send();
}

/** What the code step says when a code is refused; the page keeps the state so the user can try again. */
const CODE_ERRORS = {
  wrong_code: 'That code is not correct. Enter the current 6-digit code from your authenticator app.',
  replayed: 'That code was already used. Wait for the next code in your authenticator app and enter it.',
  rate_limited: 'Too many incorrect codes. Wait 15 minutes and try again, or contact your IT department.',
} as const;

export interface RenewalRouteDeps {
  enrollment: EnrollmentService;
  identity: ClientIdentityOptions;
}

/**
 * Certificate renewal (ROBO) on the management listener, the one that asks for client certificates: the
 * device's current certificate from the TLS connection (or the trusted proxy's header) is its credential.
 * Answers exactly like the enrollment endpoints: SOAP with Content-Length, faults included.
 */
export async function renewalRoutes(app: FastifyInstance, deps: RenewalRouteDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SOAP_BODY_LIMIT }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => sendSoapRefusal(err, randomUUID(), req, reply));

  app.post(PATHS.renewal, async (req, reply) => {
    const traceId = randomUUID();
    const identity = clientIdentity(req.raw, deps.identity);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await deps.enrollment.renew(body, traceId, identity.certificateDer);
    const certificateVia = identity.via === 'none' ? `none: ${identity.reason}` : identity.via;
    if (result.fault) {
      req.log.warn({ traceId, route: req.url, certificateVia, fault: result.fault }, 'certificate renewal refused');
    } else {
      req.log.info({ traceId, route: req.url, certificateVia, ...result.info }, 'certificate renewed');
    }
    return sendSoap(reply, result.xml);
  });
}

/** A request refused before our code saw it (too large, unreadable): still a SOAP fault Windows parses. */
function sendSoapRefusal(
  err: Error & { statusCode?: number; code?: string },
  traceId: string,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
  const fault = new SoapFault({
    subcode: (err.statusCode ?? 500) < 500 ? 'MessageFormat' : 'InternalServiceFault',
    message: tooLarge ? `The request is larger than ${SOAP_BODY_LIMIT} bytes.` : 'The request could not be processed.',
    detail: err.message,
  });
  req.log.warn({ traceId, subcode: fault.subcode, err: err.message }, 'enrollment request refused before handling');
  return sendSoap(reply, encodeSoapFault({ fault, traceId }));
}

function sendSoap(reply: FastifyReply, xml: string): FastifyReply {
  // HTTP 200 for faults too: Windows parses the fault either way and 200 is what shipped servers use.
  return reply.code(200).header('content-type', SOAP_CONTENT_TYPE).header('content-length', Buffer.byteLength(xml)).send(xml);
}

/**
 * `frameable`: the terms-of-use page, which Windows 11 shows inside a frame of its own web host. It needs
 * the user's bearer token to render, so another site cannot frame it for a victim.
 */
function sendHtml(reply: FastifyReply, status: number, html: string, opts: { frameable?: boolean } = {}): FastifyReply {
  if (!opts.frameable) reply.header('x-frame-options', 'DENY');
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      opts.frameable
        ? "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ms-appx-web:"
        : "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self' ms-app: ms-appx-web:",
    )
    .send(html);
}
