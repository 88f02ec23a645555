/**
 * The composition root: the only code that knows concrete adapters. It builds storage, PKI, domain
 * services and both listeners from a Config, and owns start and stop.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import { CompliancePageAccess } from '../core/compliance/page-access.js';
import { ComplianceService } from '../core/compliance/service.js';
import { DirectoryService } from '../core/directory/directory-service.js';
import { type EnrollmentUrls, buildEnrollmentUrls } from '../core/enrollment/endpoints.js';
import { EnrollmentService, PROVIDER_ID } from '../core/enrollment/enrollment-service.js';
import { EnrollmentTokens } from '../core/enrollment/enrollment-token.js';
import { MAM_PATHS, MamRegistrationService } from '../core/enrollment/mam-registration.js';
import { FederatedSignIn } from '../core/enrollment/federated-sign-in.js';
import { OIDC_CALLBACK_PATH, OidcSignIn } from '../core/oidc/oidc-sign-in.js';
import { OidcProviders } from '../core/oidc/providers.js';
import { TermsOfUse } from '../core/enrollment/terms-of-use.js';
import { EnrollmentPolicy } from '../core/policy/enrollment-policy.js';
import { DirectoryTokens } from '../core/entra/directory-token.js';
import { createRemoteJWKSet } from 'jose';
import { MfaService } from '../core/mfa/mfa-service.js';
import { DeviceAuthenticator } from '../core/management/device-auth.js';
import { SessionEngine } from '../core/management/session-engine.js';
import type { Storage } from '../core/ports.js';
import { renewalRoutes } from '../http/enrollment-routes.js';
import { managementRoutes } from '../http/management-routes.js';
import { createManagementServer, createWebServer } from '../http/server.js';
import { type AppLogger, createLogger } from '../observability/logger.js';
import { CertificateAuthority } from '../pki/authority.js';
import { createRootCa } from '../pki/ca.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { PortalService } from '../core/portal/portal-service.js';
import { buildAdminApi } from './admin-api.js';
import { buildDirectorySync, graphAccess } from './directory-sync.js';
import { GraphComplianceWriter } from '../graph/compliance-writer.js';
import { OpenIdRelyingParty } from './oidc-relying-party.js';
import { dataPaths, ensureDir, loadOrCreatePair, loadOrCreateSecret } from './data-dir.js';
import { openConfiguredStorage } from './storage.js';
import { type ServerTls, ensureLocalTls, loadAdminTls } from './tls.js';

/** How long acknowledged, failed and canceled commands stay visible before they are pruned. */
export const COMMAND_HISTORY_DAYS = 30;

export interface RunningServer {
  urls: EnrollmentUrls;
  port: number;
  managementPort: number;
  storage: Storage;
  /** PEM of the root that signs device certificates (provisioned to Windows' Root store). */
  enrollmentCaPem: string;
  /** PEM of the local TLS root, when Winroll made its own TLS certificate. */
  tlsRootCaPem: string | undefined;
  /** Re-reads the domain list now and re-issues the TLS certificate if its names changed. */
  refreshTls(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: AppLogger;
  clock?: Clock;
  /** How often the server looks for new domains (ms); they may be added by the CLI in another process. */
  domainPollMs?: number;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  const paths = dataPaths(config.dataDir);
  await ensureDir(paths.root);

  const storage = await openConfiguredStorage(config);
  const closers: Array<() => Promise<unknown>> = [() => storage.close()];
  try {
    const caPair = await loadOrCreatePair(paths.enrollmentCaCert, paths.enrollmentCaKey, () =>
      createRootCa({
        commonName: `${config.organizationName} Device Enrollment Root`,
        organization: 'Winroll',
        keyBits: config.caKeyBits,
        validityYears: 10,
        now: clock.now(),
      }),
    );
    if (caPair.created) logger.info({ file: paths.enrollmentCaCert }, 'created the enrollment root CA');
    const ca = new CertificateAuthority({ certPem: caPair.certPem, keyPem: caPair.keyPem });
    const tokenSecret = await loadOrCreateSecret(paths.tokenSecret);
    const tokens = new EnrollmentTokens(tokenSecret, clock);
    const directory = new DirectoryService({ storage, clock });
    // Second factor for enrollment; the key never leaves the data folder (README: back it up with the database).
    const mfa = new MfaService({
      store: storage,
      masterKey: await loadOrCreateSecret(paths.mfaKey),
      clock,
      issuer: config.organizationName,
    });

    const domainNames = async () => (await storage.listDomains()).map((d) => d.name);
    const loadTls = async (): Promise<ServerTls> =>
      config.tlsCertFile && config.tlsKeyFile
        ? loadAdminTls(config.tlsCertFile, config.tlsKeyFile, config.publicHost, await domainNames(), logger)
        : ensureLocalTls(paths, config.publicHost, await domainNames(), clock.now(), logger, config.caKeyBits);
    let tls = await loadTls();

    // URLs carry the real bound ports (port 0 in tests); filled in once both listeners are up.
    let urls = buildEnrollmentUrls(config.publicHost, config.port, config.managementPort);
    const policy = new EnrollmentPolicy({ storage, clock });
    // Entra ID directory tokens (automatic enrollment): keys from the database, or fetched and cached by jose.
    const directoryTokens = new DirectoryTokens({
      store: storage,
      users: directory,
      clock,
      serverUrl: () => new URL(urls.discovery).origin,
      // A device waits on the fetch: 5 s at most. An unknown kid refetches at most every 5 s (key rotation
      // is picked up promptly; a flood of made-up kids cannot hammer the tenant's key URL); 10 min cache.
      remoteKeys: (url) => createRemoteJWKSet(url, { timeoutDuration: 5_000, cooldownDuration: 5_000, cacheMaxAge: 600_000 }),
    });
    // The MDM terms-of-use page: its form state and OpaqueBlob are HS256 on the enrollment-token secret.
    const termsOfUse = new TermsOfUse({ directoryTokens, policy, secret: tokenSecret, clock, text: storage });
    const enrollment = new EnrollmentService({
      policy,
      directoryTokens,
      termsOfUse,
      storage,
      directory,
      tokens,
      ca,
      clock,
      logger,
      urls: () => urls,
      organizationName: config.organizationName,
      deviceCertValidityDays: config.deviceCertValidityDays,
      secondFactor: mfa,
    });
    const federated = new FederatedSignIn({ directory, tokens, mfa });
    // External sign-in (OIDC) on the federated page: openid-client's network calls stay in the adapter;
    // client secrets and the flow's sealed state use keys derived from the MFA master key.
    const oidcKey = await loadOrCreateSecret(paths.mfaKey);
    const oidc = new OidcSignIn({
      store: storage,
      relyingParty: new OpenIdRelyingParty(),
      federated,
      users: directory,
      masterKey: oidcKey,
      clock,
      callbackUrl: () => new URL(urls.authentication).origin + OIDC_CALLBACK_PATH,
    });
    const oidcProviders = new OidcProviders({ store: storage, masterKey: oidcKey, clock });

    // Directory sync: SCIM at /scim/v2 and the Entra Graph sync (secrets sealed with their own key).
    const directorySync = await buildDirectorySync({ storage, clock, dataDir: config.dataDir });
    // Compliance (core/compliance): evaluated when a session brings inventory, when the rules change and on
    // the timer below. Write-back goes to Graph with the tenant's sync connection (app-only token); tenants
    // without one fail visibly per device and are retried.
    const graph = graphAccess(directorySync.entra);
    const compliance = new ComplianceService({
      storage,
      clock,
      logger,
      writer: new GraphComplianceWriter({
        graphUrl: (t) => graph.graphUrl(t),
        getToken: (t) => graph.getToken(t),
        // The token provider's agent, so the connection's custom CA (--graph-ca-file) is trusted for writes too.
        agent: (t) => graph.agent(t),
      }),
    });
    const compliancePage = new CompliancePageAccess({ directory, directoryTokens, secret: tokenSecret, clock });

    const adminApi = buildAdminApi({
      directorySync,
      compliance,
      storage,
      directory,
      clock,
      config,
      policy,
      webBase: () => new URL(urls.discovery).origin,
      oidcProviders,
    });
    closers.unshift(() => adminApi.close());
    // App protection without MDM (MAM): registration and policy sync on the web listener (one-way TLS).
    const mamSyncUrl = () => new URL(urls.discovery).origin + MAM_PATHS.sync;
    const mamRegistration = new MamRegistrationService({
      storage,
      policy,
      directoryTokens,
      termsOfUse,
      clock,
      logger,
      syncUrl: mamSyncUrl,
      providerId: PROVIDER_ID,
      organizationName: config.organizationName,
    });
    const portal = new PortalService({ storage, directory, management: adminApi.api.management, clock, mfa });
    const web = createWebServer({
      adminApi: adminApi.api,
      portalApi: { portal, oidc, serverName: () => config.publicHost, organizationName: config.organizationName },
      tls,
      logger,
      enrollment,
      federated,
      oidc,
      termsOfUse,
      scim: { scim: directorySync.scim, webBase: () => new URL(urls.discovery).origin },
      compliancePage: { access: compliancePage, compliance, organizationName: config.organizationName },
      webUi: {},
      organizationName: config.organizationName,
      tlsRootCaPem: tls.rootCaPem,
      publicHost: config.publicHost,
      mam: {
        registration: mamRegistration,
        // The engine is built just below; a MAM sync never arrives before listen().
        get engine() {
          return engine;
        },
        syncUrl: mamSyncUrl,
      },
    });
    const engine = new SessionEngine({
      storage,
      // MAM registrations have no certificate: their syncs are identified by the Entra user token.
      authenticator: new DeviceAuthenticator({
        caCertPem: ca.certPem,
        store: storage,
        clock,
        bearer: { store: storage, tokens: directoryTokens },
      }),
      clock,
      logger,
      managementUrl: () => urls.management,
      providerId: PROVIDER_ID,
      pushPfn: config.wns?.pfn,
      // Directory-joined devices name their signed-in user with an Entra token; it picks that user's profiles.
      userTokens: directoryTokens,
      onInventory: (deviceId) => compliance.onInventory(deviceId),
    });
    const management = createManagementServer({
      tls,
      clientCaPem: ca.certPem,
      logger,
      register: (app) => {
        const identity = { proxyHeader: config.trustedProxyCertHeader, trustedProxies: config.trustedProxies };
        app.register(managementRoutes, { engine, identity, managementUrl: () => urls.management });
        app.register(renewalRoutes, { enrollment, identity });
      },
    });
    closers.unshift(
      () => management.close(),
      () => web.close(),
    );

    const host = config.listen ?? '::';
    await web.listen({ port: config.port, host, ipv6Only: false });
    await management.listen({ port: config.managementPort, host, ipv6Only: false });
    const port = boundPort(web);
    const managementPort = boundPort(management);
    urls = buildEnrollmentUrls(config.publicHost, port, managementPort);

    const refreshTls = async () => {
      const next = await loadTls();
      if (next.cert === tls.cert && next.key === tls.key) return;
      tls = next;
      for (const app of [web, management]) {
        (app.server as unknown as import('node:tls').Server).setSecureContext({
          key: tls.key,
          cert: tls.cert,
          ...(app === management ? { ca: ca.certPem } : {}),
        });
      }
      logger.info({ names: tls.names }, 'TLS certificate now covers the current domains');
    };
    let lastDomains = (await domainNames()).join(',');
    const timer = setInterval(() => {
      domainNames()
        .then(async (names) => {
          if (names.join(',') === lastDomains) return;
          lastDomains = names.join(',');
          await refreshTls();
        })
        .catch((err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not refresh domains'));
    }, opts.domainPollMs ?? 2000);
    timer.unref();
    closers.unshift(async () => clearInterval(timer));

    // Finished commands are history, not queue: keep them 30 days for admins, then prune.
    const prune = () =>
      storage
        .pruneTerminal(new Date(clock.now().getTime() - COMMAND_HISTORY_DAYS * 86400_000))
        .then((n) => n > 0 && logger.info({ pruned: n }, 'pruned finished commands'))
        .catch((err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not prune finished commands'));
    const pruneTimer = setInterval(prune, 3600_000);
    pruneTimer.unref();
    closers.unshift(async () => clearInterval(pruneTimer));

    // Compliance changes with time alone (grace periods end, devices stop checking in): re-evaluate hourly;
    // write-back retries are due by the minute.
    let complianceTicks = 0;
    const complianceTimer = setInterval(() => {
      const all = complianceTicks++ % 60 === 59 ? compliance.evaluateAll() : Promise.resolve();
      all
        .then(() => compliance.processWriteBack())
        .catch((err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'compliance pass failed'));
    }, 60_000);
    complianceTimer.unref();
    closers.unshift(async () => clearInterval(complianceTimer));

    logger.info({ urls, instance: randomUUID() }, 'winroll started');
    return {
      urls,
      port,
      managementPort,
      storage,
      enrollmentCaPem: ca.certPem,
      get tlsRootCaPem() {
        return tls.rootCaPem;
      },
      refreshTls,
      close: async () => {
        for (const close of closers) await close().catch(() => {});
      },
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => {});
    throw err;
  }
}

function boundPort(app: FastifyInstance): number {
  return (app.server.address() as AddressInfo).port;
}
