/**
 * The two HTTPS listeners. The web listener (discovery, enrollment, sign-in, pages) never asks for a
 * client certificate, so browsers never show a certificate prompt; the management listener always asks,
 * because OMA-DM sessions authenticate with the device certificate. TLS 1.3 cannot ask per path, hence
 * two ports.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { escapeXml as esc } from '../protocol/xml/writer.js';
import { API_PREFIX, type ApiDeps, adminApi } from './api/index.js';
import { type CompliancePageDeps, complianceRoutes } from './compliance-routes.js';
import { type EnrollmentRouteDeps, enrollmentRoutes } from './enrollment-routes.js';
import { type MamRouteDeps, mamRoutes } from './mam-routes.js';
import { PORTAL_API_PREFIX, type PortalApiDeps, portalApi } from './portal-api.js';
import { SCIM_PREFIX, type ScimRouteDeps, scimRoutes } from './scim/routes.js';
import { webUiRoutes } from './web-ui.js';

export interface TlsMaterial {
  key: string;
  cert: string;
}

/** Sessions span several requests; keep connections longer than Windows' retry gap. */
const KEEP_ALIVE_MS = 65_000;

export interface WebServerDeps extends EnrollmentRouteDeps {
  tls: TlsMaterial;
  logger: FastifyBaseLogger;
  /** PEM of the local TLS root, offered for download when Winroll made its own TLS certificate. */
  tlsRootCaPem?: string | undefined;
  publicHost: string;
  /** The admin REST API (/api/v1); left out when not given. */
  adminApi?: ApiDeps | undefined;
  /** SCIM 2.0 for identity providers (/scim/v2); left out when not given. */
  scim?: ScimRouteDeps | undefined;
  /** The compliance page (/compliance, the default MDM compliance URL); left out when not given. */
  compliancePage?: CompliancePageDeps | undefined;
  /** App-protection (MAM) registration and policy sync (one-way TLS); left out when not given. */
  mam?: MamRouteDeps | undefined;
  /** The Company Portal's end-user API (/portal/api); left out when not given. */
  portalApi?: PortalApiDeps | undefined;
  /** The admin console (/admin/) and Company Portal (/portal/) built into dist/web; left out when not given. */
  webUi?: { root?: string | undefined } | undefined;
}

export function createWebServer(deps: WebServerDeps): FastifyInstance {
  const app = Fastify({
    https: { key: deps.tls.key, cert: deps.tls.cert },
    loggerInstance: deps.logger,
    keepAliveTimeout: KEEP_ALIVE_MS,
    // Our routes log one line per request with the facts that matter (trace id, outcome) instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Windows sends `EnterpriseEnrollment.<domain>` in mixed case; paths are matched case-insensitively too.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
  });
  app.register(enrollmentRoutes, deps);
  if (deps.mam) app.register(mamRoutes, deps.mam);
  if (deps.adminApi) app.register(adminApi, { prefix: API_PREFIX, ...deps.adminApi });
  if (deps.portalApi) app.register(portalApi, { prefix: PORTAL_API_PREFIX, ...deps.portalApi });
  if (deps.scim) app.register(scimRoutes, { prefix: SCIM_PREFIX, ...deps.scim });
  if (deps.compliancePage) app.register(complianceRoutes, deps.compliancePage);
  if (deps.webUi) app.register(webUiRoutes, deps.webUi);

  app.get('/healthz', async () => ({ status: 'ok' }));
  if (deps.tlsRootCaPem) {
    const pem = deps.tlsRootCaPem;
    app.get('/tls/root-ca.crt', async (_req, reply) =>
      reply
        .header('content-type', 'application/x-x509-ca-cert')
        .header('content-disposition', 'attachment; filename="winroll-tls-root.crt"')
        .send(pem),
    );
  }
  app.get('/', async (_req, reply) => {
    const trust = deps.tlsRootCaPem
      ? `<p>This server uses its own TLS certificate authority. Windows must trust it before it can enroll: download <a href="/tls/root-ca.crt">the TLS root certificate</a> and import it into <em>Local Computer &gt; Trusted Root Certification Authorities</em>.</p>`
      : '';
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .send(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Winroll</title></head><body><main style="font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto">
<h1>Winroll</h1><p>Device enrollment for ${esc(deps.organizationName)}. On a Windows PC open <em>Settings &gt; Accounts &gt; Access work or school</em>, choose <em>Enroll only in device management</em> and type your work account. If Windows asks for a server, type <code>${esc(deps.publicHost)}</code>.</p>${trust}</main></body></html>`);
  });
  return app;
}

export interface ManagementServerDeps {
  tls: TlsMaterial;
  /** CA certificates advertised in the TLS CertificateRequest so Windows picks the enrollment certificate. */
  clientCaPem: string;
  logger: FastifyBaseLogger;
  register?: (app: FastifyInstance) => void;
}

export function createManagementServer(deps: ManagementServerDeps): FastifyInstance {
  const app = Fastify({
    https: { key: deps.tls.key, cert: deps.tls.cert, requestCert: true, rejectUnauthorized: false, ca: deps.clientCaPem },
    loggerInstance: deps.logger,
    keepAliveTimeout: KEEP_ALIVE_MS,
    // Our routes log one line per request with the facts that matter (trace id, outcome) instead.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  deps.register?.(app);
  return app;
}
