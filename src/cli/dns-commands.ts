/**
 * `winroll dns check` and `winroll dns records`: whether each domain's EnterpriseEnrollment and
 * EnterpriseRegistration records let Windows find this server (core/dns), and the zone-file lines to create.
 * `check` exits 0 only when every checked domain is ok.
 */
import { type Command, Option } from 'commander';
import { buildDnsChecker } from '../app/dns-checks.js';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import type { DnsReport } from '../core/dns/checker.js';
import { CLOUD_PROFILE_IDS, type CloudProfileId } from '../core/dns/profiles.js';
import type { RecordCheck } from '../core/dns/verdict.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print } from './main.js';

interface DnsFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
  publicHost?: string | undefined;
  port?: string | undefined;
  profile?: string | undefined;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function parseProfile(v: string | undefined): CloudProfileId {
  if (v === undefined) return 'winroll';
  const p = v.toLowerCase();
  if ((CLOUD_PROFILE_IDS as readonly string[]).includes(p)) return p as CloudProfileId;
  throw new CliError(`--profile must be ${CLOUD_PROFILE_IDS.join(', ')}, not "${v}"`);
}

function deploymentOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--profile <profile>', `what the records should point to: ${CLOUD_PROFILE_IDS.join(', ')} (default winroll: this server)`),
    )
    .addOption(new Option('--public-host <host>', 'this server as devices reach it (env WINROLL_PUBLIC_HOST)'))
    .addOption(new Option('--port <port>', 'its HTTPS port (env WINROLL_PORT)'));
}

function checkerFor(opts: DnsFlags) {
  const config = loadConfig({
    dataDir: opts.dataDir,
    databaseUrl: opts.databaseUrl,
    publicHost: opts.publicHost,
    port: opts.port,
  });
  return buildDnsChecker({
    config,
    clock: systemClock,
    // Only opened when no domain is named: checking a domain needs no data folder.
    configuredDomains: async () => {
      const storage = await openConfiguredStorage(config);
      try {
        return (await storage.listDomains()).map((d) => d.name);
      } finally {
        await storage.close();
      }
    },
  });
}

export function registerDnsCommands(program: Command): void {
  const dns = program.command('dns').description('check the DNS records Windows uses to find this server, and print the ones to create');

  addDataOptions(
    deploymentOptions(
      dns
        .command('check')
        .description('check EnterpriseEnrollment.<domain> and EnterpriseRegistration.<domain> (no domain: every configured one)')
        .argument('[domains...]', 'UPN suffixes, e.g. contoso.com (default: every domain of winroll domains list)')
        .option('--resolver <host:port>', 'ask this resolver (an IP address, port 53 unless given); repeat to compare several', collect)
        .option(
          '--legacy-target <host>',
          'a host that redirects to this server (reported as legacy: works with a prompt); repeatable',
          collect,
        )
        .option(
          '--registration-target <host>',
          'the device registration service EnterpriseRegistration should point to (default EnterpriseRegistration.windows.net)',
        )
        .option('--require-registration', 'a missing EnterpriseRegistration record fails the domain (you use conditional access)')
        .option('--timeout <ms>', 'per query try, two tries (default 2000)')
        .option('--no-https', 'skip the HTTPS probe of enterpriseenrollment.<domain>'),
    ),
  ).action(
    async (
      domains: string[],
      opts: DnsFlags & {
        resolver?: string[];
        legacyTarget?: string[];
        registrationTarget?: string;
        requireRegistration?: boolean;
        timeout?: string;
        https?: boolean;
      },
    ) => {
      const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout);
      if (timeoutMs !== undefined && !Number.isInteger(timeoutMs))
        throw new CliError(`--timeout must be a number of milliseconds, not "${opts.timeout}"`);
      const report = await checkerFor(opts).check({
        domains,
        resolvers: opts.resolver,
        profile: parseProfile(opts.profile),
        legacyTargets: opts.legacyTarget,
        registrationTarget: opts.registrationTarget,
        requireRegistration: opts.requireRegistration,
        timeoutMs,
        https: opts.https,
      });
      print(opts.json, report, () => formatReport(report));
      if (!report.ok) process.exitCode = 1;
    },
  );

  addDataOptions(
    deploymentOptions(
      dns
        .command('records')
        .description('the CNAME records to create for each domain, as zone-file lines ready to paste')
        .argument('<domains...>', 'UPN suffixes, e.g. contoso.com')
        .option('--registration-target <host>', 'device registration service (default EnterpriseRegistration.windows.net)'),
    ),
  ).action(async (domains: string[], opts: DnsFlags & { registrationTarget?: string }) => {
    const r = checkerFor(opts).records(domains, parseProfile(opts.profile), { registrationTarget: opts.registrationTarget });
    print(opts.json, r, () =>
      [
        ...r.domains.flatMap((d) => [
          `; ${d.domain}: without the first record users type ${d.manualServerName}; the second is for conditional access`,
          ...d.records.map((x) => x.line),
        ]),
      ].join('\n'),
    );
  });
}

function recordLines(label: string, c: RecordCheck): string[] {
  const ttl = c.ttl === null ? '' : `TTL ${c.ttl}`;
  return [`  ${label.padEnd(13)} ${c.verdict.padEnd(12)} ${(c.target ?? '-').padEnd(40)} ${ttl}`.trimEnd(), `    ${c.reason}`];
}

function formatReport(r: DnsReport): string {
  const lines: string[] = [];
  for (const d of r.domains) {
    lines.push(`${d.domain}: ${d.ok ? 'ok' : 'NOT OK'}`);
    lines.push(...recordLines('enrollment', d.enrollment), ...recordLines('registration', d.registration));
    if (d.https === null) lines.push('  https         not probed');
    else {
      lines.push(`  https         ${d.https.ok ? 'ok' : 'NOT OK'}`);
      if (typeof d.https.reason === 'string') lines.push(`    ${d.https.reason}`);
    }
    lines.push('');
  }
  const good = r.domains.filter((d) => d.ok).length;
  lines.push(`profile ${r.profile}; resolvers: ${r.resolvers.join(', ')}`);
  lines.push(r.reminder);
  lines.push(`${good} of ${r.domains.length} domain${r.domains.length === 1 ? '' : 's'} ok`);
  return lines.join('\n');
}
