/**
 * Builds the DNS checker (core/dns) over the wire resolver and the HTTPS probe (src/dns) from the
 * configuration: this deployment's public host and port, its legacy targets and registration service. The
 * CLI and the admin API use the same one, so `winroll dns check --json` and `POST /api/v1/dns/check`
 * answer alike.
 */
import type { Config } from '../config/config.js';
import { DnsChecker, type HttpsProbeHook } from '../core/dns/checker.js';
import { wireResolvers } from '../dns/dns-client.js';
import { probeEnrollmentHttps } from '../dns/https-probe.js';
import type { Clock } from '../shared/clock.js';
import { dataPaths, readIfExists } from './data-dir.js';

/** The HTTPS probe gets more time than one DNS try: it connects, shakes hands and asks twice. */
const PROBE_MIN_TIMEOUT_MS = 5000;

/**
 * The probe of enterpriseenrollment.<domain> at the address the checked resolver gave. Besides the system's
 * roots it trusts Winroll's own TLS root when the server uses it (PCs are told to import it).
 */
function httpsProbe(config: Config): HttpsProbeHook {
  return async (domain, { timeoutMs, address }) => {
    const localRoot = config.tlsCertFile === undefined ? await readIfExists(dataPaths(config.dataDir).tlsCaCert) : undefined;
    return probeEnrollmentHttps(domain, {
      connectTo: address === undefined ? undefined : { host: address },
      ca: localRoot ? [localRoot] : undefined,
      timeoutMs: Math.max(PROBE_MIN_TIMEOUT_MS, 2 * timeoutMs),
      expectedHost: config.publicHost,
    });
  };
}

export function buildDnsChecker(deps: {
  config: Config;
  clock: Clock;
  /** The configured UPN suffixes; opened lazily by the CLI, from storage by the server. */
  configuredDomains: () => Promise<string[]>;
  /** Replaces the HTTPS probe (tests). */
  probeHttps?: HttpsProbeHook | undefined;
  /** The admin API: probe configured domains only, at the system resolver's address (core/dns/checker.ts). */
  probeConfiguredOnly?: boolean;
}): DnsChecker {
  const { config } = deps;
  return new DnsChecker({
    clock: deps.clock,
    configuredDomains: deps.configuredDomains,
    resolvers: (servers, opts) => wireResolvers(servers, { timeoutMs: opts.timeoutMs, tries: 2 }),
    deployment: {
      publicHost: config.publicHost,
      port: config.port,
      legacyTargets: config.dnsLegacyTargets,
      registrationTarget: config.dnsRegistrationTarget,
    },
    probeHttps: deps.probeHttps ?? httpsProbe(config),
    probeConfiguredOnly: deps.probeConfiguredOnly,
  });
}
