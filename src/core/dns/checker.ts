/**
 * `DnsChecker`: checks the discovery records of one domain, several, or every configured UPN suffix, through
 * the system resolver or named ones, and reports per domain what each record says and why (the JSON of
 * `winroll dns check --json` and `POST /api/v1/dns/check`). Reads only; nothing is stored or audited.
 */
import type { Clock } from '../../shared/clock.js';
import type { HttpsProbeResult } from './https-probe.js';
import { InvalidInputError } from '../../shared/errors.js';
import { type ResolverAddress, parseDomain, parseResolver, parseTargetHost } from './names.js';
import type { DnsResolver } from './ports.js';
import { type CloudProfileId, type DeploymentDns, PROPAGATION_HOURS } from './profiles.js';
import { type RecordsReport, checkedProfile, recordsFor } from './records.js';
import { type Resolution, resolveName } from './resolve.js';
import {
  type RecordCheck,
  type VerdictContext,
  combineResolvers,
  enrollmentCheck,
  enrollmentRecordName,
  registrationCheck,
  registrationRecordName,
} from './verdict.js';

export const MAX_DOMAINS = 100;
export const MAX_RESOLVERS = 5;
export const DEFAULT_TIMEOUT_MS = 2000;
/** Domains checked at once: enough to be quick, few enough not to flood a resolver. */
const CONCURRENCY = 4;

/**
 * The HTTPS probe of enterpriseenrollment.<domain> (https-probe.ts), run once the enrollment record leads
 * to an address: `address` is where this check's resolver sent it, so DNS and HTTPS agree. Its `ok` counts
 * towards the domain's; the rest is passed through.
 */
export type HttpsProbeHook = (domain: string, opts: { timeoutMs: number; address: string | undefined }) => Promise<HttpsProbeResult>;

export interface DnsCheckRequest {
  /** UPN suffixes; none = every configured domain. */
  domains?: readonly string[] | undefined;
  /** `host:port` of resolvers to ask and compare; none = the system resolver. */
  resolvers?: readonly string[] | undefined;
  profile?: CloudProfileId | undefined;
  /** Legacy targets on top of the configured ones (winroll profile). */
  legacyTargets?: readonly string[] | undefined;
  /** Another device registration service than Entra's. */
  registrationTarget?: string | undefined;
  /** Count a missing EnterpriseRegistration record against the domain (conditional access in use). */
  requireRegistration?: boolean | undefined;
  /** Per query try; two tries. */
  timeoutMs?: number | undefined;
  /** Run the HTTPS probe when one is wired (default true). */
  https?: boolean | undefined;
}

export interface DomainReport {
  domain: string;
  ok: boolean;
  enrollment: RecordCheck;
  registration: RecordCheck;
  /** The HTTPS probe's result; null when not probed (no probe wired, `https: false`, or no address to probe). */
  https: HttpsProbeResult | null;
}

export interface DnsReport {
  ok: boolean;
  profile: CloudProfileId;
  checkedAt: string;
  /** The resolvers asked, as labelled in the per-resolver answers. */
  resolvers: string[];
  reminder: string;
  domains: DomainReport[];
}

export interface DnsCheckerDeps {
  clock: Clock;
  /** The configured UPN suffixes (`winroll domains`). */
  configuredDomains(): Promise<string[]>;
  /** Resolvers for the named servers; the system's (one resolver) when the list is empty. */
  resolvers(servers: ResolverAddress[], opts: { timeoutMs: number }): DnsResolver[];
  deployment: DeploymentDns;
  probeHttps?: HttpsProbeHook | undefined;
  /**
   * For callers with less trust than the server's operator (the admin API, where any role may check): probe
   * only configured domains, and only at the address the system resolver gives, so a check cannot be used to
   * make the server connect to hosts of the caller's choosing. The CLI probes wherever the records lead.
   */
  probeConfiguredOnly?: boolean | undefined;
}

export const PROPAGATION_REMINDER = `DNS changes can take up to ${PROPAGATION_HOURS} hours to reach every resolver; the TTL shown is how long resolvers may keep the current answer.`;

export class DnsChecker {
  readonly #deps: DnsCheckerDeps;

  constructor(deps: DnsCheckerDeps) {
    this.#deps = deps;
  }

  /** Every input is checked before the first query: a typo is a refusal, not a report full of errors. */
  async check(req: DnsCheckRequest = {}): Promise<DnsReport> {
    const profileId = req.profile ?? 'winroll';
    const deployment = this.#deployment(req);
    const ctx: VerdictContext = { profile: checkedProfile(profileId, deployment), deployment };
    const servers = (req.resolvers ?? []).map(parseResolver);
    if (servers.length > MAX_RESOLVERS) throw new InvalidInputError(`at most ${MAX_RESOLVERS} resolvers`);
    const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 50 || timeoutMs > 30_000) {
      throw new InvalidInputError('the timeout must be between 50 and 30000 ms');
    }
    let domains = [...new Set((req.domains ?? []).map(parseDomain))];
    const configured = new Set(
      this.#deps.probeConfiguredOnly || domains.length === 0 ? (await this.#deps.configuredDomains()).map(parseDomain) : [],
    );
    if (domains.length === 0) {
      domains = [...configured];
      if (domains.length === 0)
        throw new InvalidInputError('no domain is configured: name one, or add one with winroll domains add <domain>');
    }
    if (domains.length > MAX_DOMAINS) throw new InvalidInputError(`at most ${MAX_DOMAINS} domains at once`);
    const resolvers = this.#deps.resolvers(servers, { timeoutMs });
    // The probe checks for this server's discovery answer: meaningless when the records should point to Intune.
    const probe = req.https === false || profileId !== 'winroll' ? undefined : this.#deps.probeHttps;
    const checkedAt = this.#deps.clock.now().toISOString();

    const reports = await mapLimit(domains, CONCURRENCY, async (domain): Promise<DomainReport> => {
      const [enrollment, registration] = await Promise.all([
        this.#record(resolvers, enrollmentRecordName(domain), (res) => enrollmentCheck(domain, res, ctx)),
        this.#record(resolvers, registrationRecordName(domain), (res) => registrationCheck(domain, res, ctx)),
      ]);
      // Windows connects only when the name leads somewhere; without an address there is nothing to probe.
      const address = enrollment.chain.find((r) => r.type !== 'CNAME')?.value;
      const restricted = this.#deps.probeConfiguredOnly === true;
      const mayProbe = probe !== undefined && address !== undefined && (!restricted || configured.has(domain));
      const https = mayProbe ? await probe(domain, { timeoutMs, address: restricted && servers.length > 0 ? undefined : address }) : null;
      const registrationOk = registration.verdict === 'ok' || (registration.verdict === 'missing' && req.requireRegistration !== true);
      return { domain, ok: enrollment.verdict === 'ok' && registrationOk && https?.ok !== false, enrollment, registration, https };
    });
    return {
      ok: reports.every((r) => r.ok),
      profile: profileId,
      checkedAt,
      resolvers: resolvers.map((r) => r.label),
      reminder: PROPAGATION_REMINDER,
      domains: reports,
    };
  }

  /** The zone-file lines to create for `domains` under a profile (`winroll dns records`). */
  records(
    domains: readonly string[],
    profile: CloudProfileId = 'winroll',
    opts: { registrationTarget?: string | undefined } = {},
  ): RecordsReport {
    return recordsFor(domains, profile, this.#deployment(opts));
  }

  /** The configured deployment with the caller's additions, each checked. */
  #deployment(opts: { legacyTargets?: readonly string[] | undefined; registrationTarget?: string | undefined }): DeploymentDns {
    const base = this.#deps.deployment;
    return {
      ...base,
      legacyTargets: [...base.legacyTargets, ...(opts.legacyTargets ?? []).map((t) => parseTargetHost(t, 'legacy target'))],
      registrationTarget:
        opts.registrationTarget === undefined ? base.registrationTarget : parseTargetHost(opts.registrationTarget, 'registration target'),
    };
  }

  async #record(resolvers: DnsResolver[], name: string, verdict: (res: Resolution) => RecordCheck) {
    const views = await Promise.all(
      resolvers.map(async (r) => {
        // Adapters answer failures as replies; anything thrown anyway is still that resolver's error, not a crash.
        const res = await resolveName(r, name).catch(
          (err: unknown): Resolution => ({
            outcome: 'failed',
            records: [],
            at: name,
            cause: err instanceof Error ? err.message : String(err),
          }),
        );
        return { resolver: r.label, check: verdict(res) };
      }),
    );
    return combineResolvers(views);
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
