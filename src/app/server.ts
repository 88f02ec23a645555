/**
 * The composition root: the only code that knows concrete adapters. It builds storage, PKI, domain
 * services and both listeners from a Config, and owns start and stop.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import { DirectoryService } from '../core/directory/directory-service.js';
import { type EnrollmentUrls, buildEnrollmentUrls } from '../core/enrollment/endpoints.js';
import { EnrollmentService, PROVIDER_ID } from '../core/enrollment/enrollment-service.js';
import { EnrollmentTokens } from '../core/enrollment/enrollment-token.js';
import { FederatedSignIn } from '../core/enrollment/federated-sign-in.js';
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
import { buildAdminApi } from './admin-api.js';
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
      remoteKeys: (url) => createRemoteJWKSet(url),
    });
    // The MDM terms-of-use page: its form state and OpaqueBlob are HS256 on the enrollment-token secret.
    const termsOfUse = new TermsOfUse({ directoryTokens, policy, secret: tokenSecret, clock });
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

    const adminApi = buildAdminApi({ storage, directory, clock, config, policy, webBase: () => new URL(urls.discovery).origin });
    closers.unshift(() => adminApi.close());
    const web = createWebServer({
      adminApi: adminApi.api,
      tls,
      logger,
      enrollment,
      federated,
      termsOfUse,
      organizationName: config.organizationName,
      tlsRootCaPem: tls.rootCaPem,
      publicHost: config.publicHost,
    });
    const engine = new SessionEngine({
      storage,
      authenticator: new DeviceAuthenticator({ caCertPem: ca.certPem, store: storage, clock }),
      clock,
      logger,
      managementUrl: () => urls.management,
      providerId: PROVIDER_ID,
      pushPfn: config.wns?.pfn,
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
