/**
 * DNS checks against a real DNS server on loopback (test/support/dns-server.ts, UDP and TCP): every verdict
 * of EnterpriseEnrollment and EnterpriseRegistration, NXDOMAIN against NODATA, chains and loops, SERVFAIL,
 * silence, garbage, truncation retried over TCP, two resolvers that disagree, every configured UPN suffix at
 * once, the CNAME's own TTL; then `winroll dns check|records` as a process (the compiled build:
 * `npx tsc -p tsconfig.json` first) and the API routes with their roles, on SQLite and PostgreSQL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDnsChecker } from '../../src/app/dns-checks.js';
import { loadConfig } from '../../src/config/config.js';
import type { DnsCheckRequest, DnsReport } from '../../src/core/dns/checker.js';
import { systemClock } from '../../src/shared/clock.js';
import { signInAdmins } from '../support/admins.js';
import { type Creds, apiClient, expectProblem } from '../support/api-client.js';
import { type TestDnsServer, type ZoneRecord, startDnsServer } from '../support/dns-server.js';
import { winroll } from '../support/cli.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const PW = 'correct horse battery';
const HOST = 'winroll.contoso.test';

const cname = (name: string, value: string, ttl = 3600): ZoneRecord => ({ name, type: 'CNAME', value, ttl });
const a = (name: string, value: string, ttl = 60): ZoneRecord => ({ name, type: 'A', value, ttl });
const registration = (domain: string): ZoneRecord => cname(`EnterpriseRegistration.${domain}`, 'EnterpriseRegistration.windows.net');

/** One zone for every case: the domain's name says what its records do. */
const ZONE: ZoneRecord[] = [
  a(HOST, '127.0.0.3', 60),
  a('enterpriseregistration.windows.net', '127.0.0.4'),
  cname('EnterpriseEnrollment.ok.test', HOST, 1800),
  registration('ok.test'),
  cname('EnterpriseEnrollment.legacy.test', 'old-mdm.contoso.test'),
  a('old-mdm.contoso.test', '127.0.0.5'),
  cname('EnterpriseEnrollment.intune.test', 'EnterpriseEnrollment-s.manage.microsoft.com'),
  cname('EnterpriseEnrollment-s.manage.microsoft.com', 'intune.trafficmanager.test'),
  a('intune.trafficmanager.test', '127.0.0.6'),
  registration('intune.test'),
  cname('EnterpriseEnrollment.usgov.test', 'EnterpriseEnrollment-s.manage.microsoft.us'),
  a('EnterpriseEnrollment-s.manage.microsoft.us', '127.0.0.7'),
  cname('EnterpriseEnrollment.other.test', 'mdm.example.test'),
  a('mdm.example.test', '127.0.0.8'),
  a('EnterpriseEnrollment.arecord.test', '203.0.113.5', 900),
  { name: 'EnterpriseEnrollment.nodata.test', type: 'TXT', value: 'v=nothing-here' },
  cname('EnterpriseEnrollment.chain.test', 'alias.chain.test', 7200),
  cname('alias.chain.test', HOST, 300),
  cname('EnterpriseEnrollment.loop.test', 'a.loop.test'),
  cname('a.loop.test', 'EnterpriseEnrollment.loop.test'),
  cname('EnterpriseEnrollment.dangling.test', 'gone.dangling.test'),
  cname('EnterpriseEnrollment.truncated.test', HOST, 1200),
  cname('EnterpriseEnrollment.swapped.test', 'EnterpriseRegistration.windows.net'),
  cname('EnterpriseRegistration.swapped.test', HOST),
  cname('EnterpriseEnrollment.prop.test', HOST),
];

describe('DNS check against a real DNS server', () => {
  let dns: TestDnsServer;
  let stepwise: TestDnsServer;
  let other: TestDnsServer;
  let dataDir: string;
  let configured: string[] = [];

  const checker = () =>
    buildDnsChecker({
      config: loadConfig({ dataDir, publicHost: HOST, port: 443 }, {}),
      clock: systemClock,
      configuredDomains: async () => configured,
    });
  const check = (req: DnsCheckRequest) => checker().check({ resolvers: [dns.address], https: false, ...req });
  const one = async (domain: string, req: DnsCheckRequest = {}) => {
    const r = await check({ domains: [domain], ...req });
    expect(r.domains).toHaveLength(1);
    return r.domains[0] as DnsReport['domains'][number];
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'winroll-dns-'));
    dns = await startDnsServer();
    dns.setZone(ZONE);
    dns.behave('EnterpriseEnrollment.servfail.test', 'servfail');
    dns.behave('EnterpriseEnrollment.timeout.test', 'silent');
    dns.behave('EnterpriseEnrollment.garbage.test', 'garbage');
    dns.behave('EnterpriseEnrollment.truncated.test', 'truncate');
    stepwise = await startDnsServer({ chase: false });
    stepwise.setZone(ZONE);
    // The second resolver has not seen prop.test's new record yet, and still has Intune for ok.test.
    other = await startDnsServer();
    other.setZone([
      ...ZONE.filter((r) => !r.name.toLowerCase().endsWith('prop.test') && r.name !== 'EnterpriseEnrollment.ok.test'),
      cname('EnterpriseEnrollment.ok.test', HOST, 1800),
    ]);
  });
  afterAll(async () => {
    await Promise.all([dns?.close(), stepwise?.close(), other?.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('ok: the CNAME points to this server; the TTL is the CNAME’s own, not the address’s', async () => {
    const d = await one('ok.test');
    expect(d.ok).toBe(true);
    expect(d.enrollment).toMatchObject({ name: 'EnterpriseEnrollment.ok.test', verdict: 'ok', target: HOST, ttl: 1800 });
    expect(d.enrollment.chain).toEqual([
      { name: 'enterpriseenrollment.ok.test', type: 'CNAME', value: HOST, ttl: 1800 },
      { name: HOST, type: 'A', value: '127.0.0.3', ttl: 60 },
    ]);
    expect(d.registration).toMatchObject({ verdict: 'ok', target: 'enterpriseregistration.windows.net', ttl: 3600 });
    expect(d.https).toBeNull();
  });

  it('legacy: a configured legacy target works with a prompt, and is not ok', async () => {
    const plain = await one('legacy.test');
    expect(plain.enrollment.verdict).toBe('wrong-target');
    const d = await one('legacy.test', { legacyTargets: ['old-mdm.contoso.test'] });
    expect(d.ok).toBe(false);
    expect(d.enrollment).toMatchObject({ verdict: 'legacy', target: 'old-mdm.contoso.test' });
    expect(d.enrollment.reason).toContain('confirm a redirect');
  });

  it('wrong target names where the record points: Intune commercial, Intune US Government, another host', async () => {
    const intune = await one('intune.test');
    expect(intune.enrollment).toMatchObject({ verdict: 'wrong-target', target: 'enterpriseenrollment-s.manage.microsoft.com' });
    expect(intune.enrollment.reason).toContain('points to Intune (commercial cloud), not to this Winroll server (winroll.contoso.test)');
    expect(intune.enrollment.chain.map((r) => r.value)).toEqual([
      'enterpriseenrollment-s.manage.microsoft.com',
      'intune.trafficmanager.test',
      '127.0.0.6',
    ]);
    const gov = await one('usgov.test');
    expect(gov.enrollment.reason).toContain('points to Intune (US Government)');
    const other = await one('other.test');
    expect(other.enrollment).toMatchObject({ verdict: 'wrong-target', target: 'mdm.example.test' });
    expect(other.enrollment.reason).toContain('another host');
    const swapped = await one('swapped.test');
    expect(swapped.enrollment.reason).toContain('Entra ID device registration');
    expect(swapped.registration).toMatchObject({ verdict: 'wrong-target', target: HOST });
  });

  it('the intune profiles expect Microsoft’s targets (migration view)', async () => {
    const r = await check({ domains: ['intune.test', 'usgov.test', 'ok.test'], profile: 'intune' });
    expect(r.profile).toBe('intune');
    expect(r.domains.map((d) => [d.domain, d.enrollment.verdict])).toEqual([
      ['intune.test', 'ok'],
      ['usgov.test', 'wrong-target'],
      ['ok.test', 'wrong-target'],
    ]);
    expect(r.domains[2]?.enrollment.reason).toContain('points to this Winroll server');
    expect((await one('usgov.test', { profile: 'intune-usgov' })).enrollment.verdict).toBe('ok');
  });

  it('an A record instead of a CNAME is not-cname', async () => {
    const d = await one('arecord.test');
    expect(d.enrollment).toMatchObject({ verdict: 'not-cname', target: '203.0.113.5', ttl: 900 });
  });

  it('missing: NXDOMAIN and NODATA are told apart, with the server name users must type', async () => {
    const nx = await one('missing.test');
    expect(nx.enrollment).toMatchObject({ verdict: 'missing', target: null, ttl: null });
    expect(nx.enrollment.reason).toMatch(/NXDOMAIN.*they type winroll\.contoso\.test\b/);
    expect(nx.enrollment.reason).toContain('up to 60 s');
    expect(nx.registration.verdict).toBe('missing');
    // The registration record is only for conditional access: missing does not fail the domain unless required.
    expect((await one('nodata.test')).enrollment.reason).toContain('NODATA');
    const ok = await one('ok.test');
    expect(ok.ok).toBe(true);
  });

  it('follows CNAME chains, from a resolver that chases them and from one that answers step by step', async () => {
    for (const server of [dns, stepwise]) {
      const r = await check({ domains: ['chain.test'], resolvers: [server.address] });
      const d = r.domains[0];
      expect(d?.enrollment).toMatchObject({ verdict: 'ok', target: 'alias.chain.test', ttl: 7200 });
      expect(d?.enrollment.chain.map((x) => `${x.type} ${x.value}`)).toEqual(['CNAME alias.chain.test', `CNAME ${HOST}`, 'A 127.0.0.3']);
    }
    expect(stepwise.queries.filter((q) => q.type === 'A').map((q) => q.name)).toEqual(
      expect.arrayContaining(['enterpriseenrollment.chain.test', 'alias.chain.test', HOST]),
    );
  });

  it('detects CNAME loops and chains that lead nowhere', async () => {
    for (const server of [dns, stepwise]) {
      const d = (await check({ domains: ['loop.test'], resolvers: [server.address] })).domains[0];
      expect(d?.enrollment.verdict).toBe('error');
      expect(d?.enrollment.reason).toContain('CNAME loop (enterpriseenrollment.loop.test → a.loop.test → enterpriseenrollment.loop.test)');
    }
    const dangling = await one('dangling.test');
    expect(dangling.enrollment).toMatchObject({ verdict: 'wrong-target', target: 'gone.dangling.test' });
    expect(dangling.enrollment.reason).toContain('gone.dangling.test, which does not exist (NXDOMAIN)');
  });

  it('SERVFAIL, a silent resolver and a garbage answer are errors with their cause, not crashes', async () => {
    const servfail = await one('servfail.test');
    expect(servfail.enrollment.verdict).toBe('error');
    expect(servfail.enrollment.reason).toContain(`SERVFAIL: the resolver could not get an answer`);
    expect(servfail.enrollment.reason).toContain(dns.address);

    const started = Date.now();
    const timeout = await one('timeout.test', { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(timeout.enrollment.verdict).toBe('error');
    expect(timeout.enrollment.reason).toContain(`no answer from ${dns.address} within 200 ms (timeout)`);
    expect(dns.queries.filter((q) => q.name === 'enterpriseenrollment.timeout.test')).toHaveLength(2);

    const garbage = await one('garbage.test');
    expect(garbage.enrollment.verdict).toBe('error');
    expect(garbage.enrollment.reason).toMatch(/garbage answer from 127\.0\.0\.1:\d+/);
    // The other record of the same domain is still checked.
    expect(garbage.registration.verdict).toBe('missing');
  });

  it('a truncated UDP answer is asked again over TCP', async () => {
    const d = await one('truncated.test');
    expect(d.enrollment).toMatchObject({ verdict: 'ok', target: HOST, ttl: 1200 });
    const asked = dns.queries.filter((q) => q.name === 'enterpriseenrollment.truncated.test').map((q) => q.transport);
    expect(asked.slice(0, 2)).toEqual(['udp', 'tcp']);
  });

  it('a resolver nobody answers on is an error naming it', async () => {
    const r = await check({ domains: ['ok.test'], resolvers: ['127.0.0.1:9'], timeoutMs: 200 });
    expect(r.domains[0]?.enrollment.verdict).toBe('error');
    expect(r.domains[0]?.enrollment.reason).toContain('127.0.0.1:9');
  });

  it('two resolvers that disagree: propagation in progress, with what each said', async () => {
    const r = await check({ domains: ['prop.test', 'ok.test'], resolvers: [dns.address, other.address] });
    expect(r.resolvers).toEqual([dns.address, other.address]);
    const [prop, ok] = r.domains;
    expect(prop?.ok).toBe(false);
    expect(prop?.enrollment).toMatchObject({ verdict: 'missing', propagating: true });
    expect(prop?.enrollment.reason).toContain(
      `Propagation in progress: the resolvers disagree (${dns.address}: ok (${HOST}); ${other.address}: missing)`,
    );
    expect(prop?.enrollment.resolvers).toEqual([
      expect.objectContaining({ resolver: dns.address, verdict: 'ok', target: HOST }),
      expect.objectContaining({ resolver: other.address, verdict: 'missing', target: null }),
    ]);
    expect(ok?.ok).toBe(true);
    expect(ok?.enrollment).toMatchObject({ verdict: 'ok', propagating: false });
  });

  it('checks every configured UPN suffix at once when no domain is named', async () => {
    configured = ['ok.test', 'missing.test', 'Chain.Test'];
    const r = await check({});
    expect(r.ok).toBe(false);
    expect(r.domains.map((d) => [d.domain, d.ok, d.enrollment.verdict])).toEqual([
      ['ok.test', true, 'ok'],
      ['missing.test', false, 'missing'],
      ['chain.test', true, 'ok'],
    ]);
    expect(r.reminder).toContain('72 hours');
    configured = [];
    await expect(check({})).rejects.toThrow(/no domain is configured/);
  });

  it('requireRegistration counts a missing EnterpriseRegistration record against the domain', async () => {
    expect((await one('chain.test')).ok).toBe(true);
    expect((await one('chain.test', { requireRegistration: true })).ok).toBe(false);
  });

  it('probes HTTPS at the address the record leads to, and a failed probe fails the domain', async () => {
    const d = await one('ok.test', { https: true, timeoutMs: 500 });
    expect(d.enrollment.verdict).toBe('ok');
    expect(d.https).toMatchObject({ host: 'enterpriseenrollment.ok.test', ok: false, reachable: false });
    expect(d.https?.reason).toContain('127.0.0.3:443');
    expect(d.ok).toBe(false);
    // Nothing to probe when the record leads nowhere.
    expect((await one('missing.test', { https: true })).https).toBeNull();
  });

  it('refuses bad input before any query', async () => {
    await expect(check({ domains: ['not a domain'] })).rejects.toThrow(/is not a domain name/);
    await expect(check({ domains: ['ok.test'], resolvers: ['dns.google'] })).rejects.toThrow(/must be an IP address/);
    await expect(check({ domains: ['ok.test'], legacyTargets: ['203.0.113.9'] })).rejects.toThrow(/legacy target .* must be a host name/);
  });

  describe('winroll dns (the CLI as a process)', () => {
    const base = () => ['--public-host', HOST, '--port', '443', '--resolver', dns.address, '--no-https', '--data-dir', dataDir];

    it('check --json: the documented shape, exit 0 only when every domain is ok', async () => {
      const good = await winroll(['dns', 'check', 'ok.test', 'chain.test', '--json', ...base()]);
      expect(good.code, good.stderr).toBe(0);
      const report = JSON.parse(good.stdout);
      expect(Object.keys(report).sort()).toEqual(['checkedAt', 'domains', 'ok', 'profile', 'reminder', 'resolvers']);
      expect(report).toMatchObject({ ok: true, profile: 'winroll', resolvers: [dns.address] });
      expect(new Date(report.checkedAt).toString()).not.toBe('Invalid Date');
      const d = report.domains[0];
      expect(Object.keys(d).sort()).toEqual(['domain', 'enrollment', 'https', 'ok', 'registration']);
      expect(d.enrollment).toEqual({
        name: 'EnterpriseEnrollment.ok.test',
        verdict: 'ok',
        target: HOST,
        ttl: 1800,
        chain: [
          { name: 'enterpriseenrollment.ok.test', type: 'CNAME', value: HOST, ttl: 1800 },
          { name: HOST, type: 'A', value: '127.0.0.3', ttl: 60 },
        ],
        reason: expect.stringContaining('this Winroll server'),
      });
      expect(Object.keys(d.registration).sort()).toEqual(['chain', 'name', 'reason', 'target', 'ttl', 'verdict']);
      expect(d.https).toBeNull();

      const bad = await winroll(['dns', 'check', 'ok.test', 'intune.test', 'missing.test', '--json', ...base()]);
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.stdout).domains.map((x: { enrollment: { verdict: string } }) => x.enrollment.verdict)).toEqual([
        'ok',
        'wrong-target',
        'missing',
      ]);
    });

    it('check prints each record’s verdict and reason for people', async () => {
      const r = await winroll(['dns', 'check', 'intune.test', '--legacy-target', 'old-mdm.contoso.test', ...base()]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('intune.test: NOT OK');
      expect(r.stdout).toMatch(/enrollment\s+wrong-target\s+enterpriseenrollment-s\.manage\.microsoft\.com\s+TTL 3600/);
      expect(r.stdout).toContain('points to Intune (commercial cloud)');
      expect(r.stdout).toContain('72 hours');
      expect(r.stdout).toContain('0 of 1 domain ok');
      const legacy = await winroll(['dns', 'check', 'legacy.test', '--legacy-target', 'old-mdm.contoso.test', '--json', ...base()]);
      expect(JSON.parse(legacy.stdout).domains[0].enrollment.verdict).toBe('legacy');
    });

    it('check with no domain takes every configured domain; refusals are one line', async () => {
      const none = await winroll(['dns', 'check', ...base()]);
      expect(none.code).toBe(1);
      expect(none.stderr.trim()).toBe('winroll: no domain is configured: name one, or add one with winroll domains add <domain>');
      for (const d of ['ok.test', 'arecord.test']) expect((await winroll(['domains', 'add', d, '--data-dir', dataDir])).code).toBe(0);
      const all = await winroll(['dns', 'check', '--json', ...base()]);
      expect(all.code).toBe(1);
      expect(JSON.parse(all.stdout).domains.map((x: { domain: string; ok: boolean }) => [x.domain, x.ok])).toEqual([
        ['arecord.test', false],
        ['ok.test', true],
      ]);
      const badResolver = await winroll(['dns', 'check', 'ok.test', '--resolver', 'dns.google', '--data-dir', dataDir]);
      expect(badResolver.code).toBe(1);
      expect(badResolver.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^winroll: resolver "dns\.google" must be an IP address/),
      ]);
      const badProfile = await winroll(['dns', 'check', 'ok.test', '--profile', 'azure', ...base()]);
      expect(badProfile.stderr.trim()).toBe('winroll: --profile must be winroll, intune, intune-usgov, not "azure"');
    });

    it('records prints zone-file lines ready to paste', async () => {
      const r = await winroll(['dns', 'records', 'contoso.test', 'Fabrikam.test', '--public-host', HOST, '--port', '443']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n').filter((l) => l && !l.startsWith(';'));
      expect(lines).toEqual([
        `EnterpriseEnrollment.contoso.test. 3600 IN CNAME ${HOST}.`,
        'EnterpriseRegistration.contoso.test. 3600 IN CNAME EnterpriseRegistration.windows.net.',
        `EnterpriseEnrollment.fabrikam.test. 3600 IN CNAME ${HOST}.`,
        'EnterpriseRegistration.fabrikam.test. 3600 IN CNAME EnterpriseRegistration.windows.net.',
      ]);
      const json = await winroll(['dns', 'records', 'contoso.test', '--profile', 'intune', '--json']);
      expect(JSON.parse(json.stdout)).toMatchObject({
        profile: 'intune',
        ttl: 3600,
        lines: [
          'EnterpriseEnrollment.contoso.test. 3600 IN CNAME EnterpriseEnrollment-s.manage.microsoft.com.',
          'EnterpriseRegistration.contoso.test. 3600 IN CNAME EnterpriseRegistration.windows.net.',
        ],
        domains: [{ domain: 'contoso.test', manualServerName: 'enrollment.manage.microsoft.com' }],
      });
      const ip = await winroll(['dns', 'records', 'contoso.test', '--public-host', '203.0.113.5']);
      expect(ip.code).toBe(1);
      expect(ip.stderr).toMatch(/^winroll: this server's public host is an IP address/);
    });
  });

  describe.each(ENGINES)('the API (%s)', (engine) => {
    let t: TestServer | undefined;
    const run = itOn(engine);
    const srv = () => t as TestServer;
    const { call, signIn } = apiClient(srv);
    let sessions: Record<'administrator' | 'readonly', Creds> = { administrator: {}, readonly: {} };

    beforeAll(async () => {
      t = await startTestServer(engine);
      if (!t) return;
      // The test server's public host is localhost: the zone points ok.test's record there.
      dns.setZone([...ZONE, cname('EnterpriseEnrollment.api.test', 'localhost', 1800), a('localhost', '127.0.0.3')]);
      await t.addDomain('api.test');
      await t.addDomain('missing.test');
      for (const u of ['boss', 'auditor']) await t.addUser(`${u}@api.test`, PW);
      sessions = await signInAdmins(t, signIn, PW, { administrator: 'boss@api.test', readonly: 'auditor@api.test' });
    }, 120_000);
    afterAll(async () => {
      await t?.stop();
    });

    run('POST /dns/check: readonly may run it; the same shape as the CLI; configured domains by default', async () => {
      const res = await call('POST', '/dns/check', { ...sessions.readonly, body: { resolvers: [dns.address], https: false } });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ ok: false, profile: 'winroll', resolvers: [dns.address] });
      expect(
        res.json.domains.map((d: { domain: string; ok: boolean; enrollment: { verdict: string } }) => [
          d.domain,
          d.ok,
          d.enrollment.verdict,
        ]),
      ).toEqual([
        ['api.test', true, 'ok'],
        ['missing.test', false, 'missing'],
      ]);
      expect(res.json.domains[0].enrollment).toMatchObject({ target: 'localhost', ttl: 1800 });

      const named = await call('POST', '/dns/check', {
        ...sessions.administrator,
        body: { domains: ['intune.test'], resolvers: [dns.address], profile: 'intune', https: false },
      });
      expect(named.json).toMatchObject({ ok: true, profile: 'intune', domains: [{ domain: 'intune.test', ok: true }] });
    });

    run('POST /dns/check probes HTTPS by default, for configured domains only', async () => {
      const res = await call('POST', '/dns/check', {
        ...sessions.readonly,
        body: { domains: ['api.test', 'ok.test'], resolvers: [dns.address], timeoutMs: 500 },
      });
      expect(res.status, res.text).toBe(200);
      const [api, ok] = res.json.domains;
      expect(api.enrollment.verdict).toBe('ok');
      // Probed the way Windows would reach it (the system resolver knows no api.test): not reachable, not ok.
      expect(api.https).toMatchObject({ ok: false, host: 'enterpriseenrollment.api.test', reachable: false });
      expect(api.ok).toBe(false);
      // Not a configured domain: the API does not make the server connect there.
      expect(ok).toMatchObject({ domain: 'ok.test', https: null });
    });

    run('refusals: unauthenticated 401, CSRF 403, malformed 400, bad resolver or domain 422', async () => {
      expectProblem(await call('POST', '/dns/check', { body: {} }), 401, 'unauthenticated');
      expectProblem(await call('POST', '/dns/check', { cookie: sessions.readonly.cookie, body: {} }), 403, 'forbidden');
      expectProblem(await call('POST', '/dns/check', { ...sessions.readonly, body: { resolvers: 'x' } }), 400, 'invalid_request');
      const resolver = await call('POST', '/dns/check', {
        ...sessions.readonly,
        body: { domains: ['api.test'], resolvers: ['dns.google'] },
      });
      expectProblem(resolver, 422, 'invalid_input');
      expect(resolver.json.detail).toContain('must be an IP address');
      expectProblem(await call('POST', '/dns/check', { ...sessions.readonly, body: { domains: ['not a domain'] } }), 422, 'invalid_input');
    });

    run('GET /dns/records: zone-file lines for every role; in the OpenAPI document', async () => {
      const res = await call('GET', '/dns/records?domain=api.test&domain=Other.test', sessions.readonly);
      expect(res.status, res.text).toBe(200);
      expect(res.json.lines).toEqual([
        'EnterpriseEnrollment.api.test. 3600 IN CNAME localhost.',
        'EnterpriseRegistration.api.test. 3600 IN CNAME EnterpriseRegistration.windows.net.',
        'EnterpriseEnrollment.other.test. 3600 IN CNAME localhost.',
        'EnterpriseRegistration.other.test. 3600 IN CNAME EnterpriseRegistration.windows.net.',
      ]);
      const comma = await call('GET', '/dns/records?domain=a.test,b.test&profile=intune-usgov', sessions.readonly);
      expect(comma.json.domains.map((d: { domain: string }) => d.domain)).toEqual(['a.test', 'b.test']);
      expect(comma.json.lines[0]).toBe('EnterpriseEnrollment.a.test. 3600 IN CNAME EnterpriseEnrollment-s.manage.microsoft.us.');
      expectProblem(await call('GET', '/dns/records', sessions.readonly), 400, 'invalid_request');
      const doc = (await call('GET', '/openapi.json')).json;
      expect(doc.paths['/dns/check'].post['x-winroll-roles']).toEqual(['administrator', 'helpdesk', 'readonly']);
      expect(doc.paths['/dns/records'].get).toBeDefined();
    });
  });
});
