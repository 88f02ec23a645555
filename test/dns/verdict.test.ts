/**
 * The DNS verdict rules without a network: what a resolver's answer means for EnterpriseEnrollment and
 * EnterpriseRegistration under each cloud profile, how chains are followed, how resolvers' answers
 * combine, the names admins type, and the zone-file lines.
 */
import { describe, expect, it } from 'vitest';
import { parseDomain, parseResolver } from '../../src/core/dns/names.js';
import type { DnsRecord, DnsReply, DnsResolver } from '../../src/core/dns/ports.js';
import { type CloudProfileId, type DeploymentDns, cloudProfile } from '../../src/core/dns/profiles.js';
import { recordsFor } from '../../src/core/dns/records.js';
import { type Resolution, resolveName } from '../../src/core/dns/resolve.js';
import { combineResolvers, enrollmentCheck, registrationCheck } from '../../src/core/dns/verdict.js';

const DEPLOYMENT: DeploymentDns = { publicHost: 'winroll.contoso.com', port: 443, legacyTargets: ['old-mdm.contoso.com'] };
const ctx = (id: CloudProfileId = 'winroll', d: DeploymentDns = DEPLOYMENT) => ({ profile: cloudProfile(id, d), deployment: d });

const cname = (name: string, value: string, ttl = 3600): DnsRecord => ({ name, type: 'CNAME', value, ttl });
const a = (name: string, value: string, ttl = 300): DnsRecord => ({ name, type: 'A', value, ttl });
const resolved = (...records: DnsRecord[]): Resolution => ({ outcome: 'address', records });
const E = 'enterpriseenrollment.contoso.com';
const R = 'enterpriseregistration.contoso.com';

describe('enrollment record verdicts', () => {
  it('ok when the CNAME points to this server, with the CNAME’s own TTL', () => {
    const c = enrollmentCheck(
      'contoso.com',
      resolved(cname(E, 'winroll.contoso.com', 1800), a('winroll.contoso.com', '203.0.113.5', 60)),
      ctx(),
    );
    expect(c).toMatchObject({ name: 'EnterpriseEnrollment.contoso.com', verdict: 'ok', target: 'winroll.contoso.com', ttl: 1800 });
    expect(c.chain.map((r) => `${r.type} ${r.value}`)).toEqual(['CNAME winroll.contoso.com', 'A 203.0.113.5']);
    expect(c.reason).toContain('this Winroll server');
  });

  it('ok through an alias of your own in front of the server', () => {
    const c = enrollmentCheck(
      'contoso.com',
      resolved(cname(E, 'mdm.contoso.com'), cname('mdm.contoso.com', 'winroll.contoso.com'), a('winroll.contoso.com', '203.0.113.5')),
      ctx(),
    );
    expect(c).toMatchObject({ verdict: 'ok', target: 'mdm.contoso.com' });
    expect(c.reason).toContain('through mdm.contoso.com');
  });

  it('reminds that Windows only uses port 443', () => {
    const c = enrollmentCheck(
      'contoso.com',
      resolved(cname(E, 'winroll.contoso.com'), a('winroll.contoso.com', '203.0.113.5')),
      ctx('winroll', { ...DEPLOYMENT, port: 8443 }),
    );
    expect(c.verdict).toBe('ok');
    expect(c.reason).toContain('port 443 only; this server listens on 8443');
  });

  it('legacy for a configured legacy target, and Intune’s own legacy targets under the intune profile', () => {
    const mine = enrollmentCheck('contoso.com', resolved(cname(E, 'Old-MDM.contoso.com.'), a('old-mdm.contoso.com', '203.0.113.9')), ctx());
    expect(mine).toMatchObject({ verdict: 'legacy', target: 'old-mdm.contoso.com' });
    expect(mine.reason).toMatch(/confirm a redirect.*winroll\.contoso\.com/);
    const intune = enrollmentCheck(
      'contoso.com',
      resolved(cname(E, 'enterpriseenrollment.manage.microsoft.com'), a('enterpriseenrollment.manage.microsoft.com', '20.0.0.1')),
      ctx('intune'),
    );
    expect(intune.verdict).toBe('legacy');
    expect(intune.reason).toContain('EnterpriseEnrollment-s.manage.microsoft.com');
  });

  it('wrong-target names where the record points: Intune commercial, US Government, this server, another host', () => {
    const intune = enrollmentCheck(
      'contoso.com',
      resolved(
        cname(E, 'enterpriseenrollment-s.manage.microsoft.com'),
        cname('enterpriseenrollment-s.manage.microsoft.com', 'x.trafficmanager.net'),
        a('x.trafficmanager.net', '20.0.0.1'),
      ),
      ctx(),
    );
    expect(intune).toMatchObject({ verdict: 'wrong-target', target: 'enterpriseenrollment-s.manage.microsoft.com' });
    expect(intune.reason).toContain('points to Intune (commercial cloud)');
    const gov = enrollmentCheck(
      'contoso.com',
      resolved(cname(E, 'enterpriseenrollment-s.manage.microsoft.us'), a('enterpriseenrollment-s.manage.microsoft.us', '20.0.0.2')),
      ctx('intune'),
    );
    expect(gov.reason).toContain('points to Intune (US Government), not to Intune (commercial cloud)');
    const here = enrollmentCheck(
      'contoso.com',
      resolved(cname(E, 'winroll.contoso.com'), a('winroll.contoso.com', '203.0.113.5')),
      ctx('intune-usgov'),
    );
    expect(here).toMatchObject({ verdict: 'wrong-target' });
    expect(here.reason).toContain('points to this Winroll server');
    const swapped = enrollmentCheck(
      'contoso.com',
      resolved(cname(E, 'enterpriseregistration.windows.net'), a('enterpriseregistration.windows.net', '20.0.0.3')),
      ctx(),
    );
    expect(swapped.reason).toContain('Entra ID device registration');
    const other = enrollmentCheck('contoso.com', resolved(cname(E, 'mdm.example.net'), a('mdm.example.net', '198.51.100.1')), ctx());
    expect(other).toMatchObject({ verdict: 'wrong-target', target: 'mdm.example.net' });
    expect(other.reason).toContain('another host');
    expect(other.reason).toContain('EnterpriseEnrollment.contoso.com. 3600 IN CNAME winroll.contoso.com.');
  });

  it('not-cname for an address record, with the address as target and its TTL', () => {
    const c = enrollmentCheck('contoso.com', resolved(a(E, '203.0.113.5', 600)), ctx());
    expect(c).toMatchObject({ verdict: 'not-cname', target: '203.0.113.5', ttl: 600 });
    expect(c.reason).toMatch(/address record \(A 203\.0\.113\.5\) instead of a CNAME/);
  });

  it('missing tells NXDOMAIN from NODATA and what users type instead, per profile', () => {
    const nx = enrollmentCheck('contoso.com', { outcome: 'nxdomain', records: [], at: E, negativeTtl: 60 }, ctx());
    expect(nx).toMatchObject({ verdict: 'missing', target: null, ttl: null });
    expect(nx.reason).toMatch(/NXDOMAIN.*they type winroll\.contoso\.com/);
    expect(nx.reason).toContain('up to 60 s');
    const nodata = enrollmentCheck('contoso.com', { outcome: 'nodata', records: [], at: E, negativeTtl: null }, ctx('intune'));
    expect(nodata.reason).toMatch(/NODATA.*they type enrollment\.manage\.microsoft\.com/);
    const gov = enrollmentCheck('contoso.com', { outcome: 'nxdomain', records: [], at: E, negativeTtl: null }, ctx('intune-usgov'));
    expect(gov.reason).toContain('they type enrollment.manage.microsoft.us');
    const port = enrollmentCheck(
      'contoso.com',
      { outcome: 'nxdomain', records: [], at: E, negativeTtl: null },
      ctx('winroll', { ...DEPLOYMENT, port: 8443 }),
    );
    expect(port.reason).toContain('they type winroll.contoso.com:8443');
  });

  it('error for failures, loops, and a right target that leads nowhere', () => {
    const failed = enrollmentCheck('contoso.com', { outcome: 'failed', records: [], at: E, cause: 'SERVFAIL from 192.0.2.53:53' }, ctx());
    expect(failed).toMatchObject({ verdict: 'error', target: null });
    expect(failed.reason).toContain('SERVFAIL');
    const loop = enrollmentCheck(
      'contoso.com',
      { outcome: 'loop', records: [cname(E, 'a.contoso.com'), cname('a.contoso.com', E)], at: E },
      ctx(),
    );
    expect(loop.verdict).toBe('error');
    expect(loop.reason).toContain(`CNAME loop (${E} → a.contoso.com → ${E})`);
    const dangling = enrollmentCheck(
      'contoso.com',
      { outcome: 'nxdomain', records: [cname(E, 'winroll.contoso.com')], at: 'winroll.contoso.com', negativeTtl: null },
      ctx(),
    );
    expect(dangling).toMatchObject({ verdict: 'error', target: 'winroll.contoso.com', ttl: 3600 });
    expect(dangling.reason).toContain('winroll.contoso.com, which does not exist (NXDOMAIN): Windows cannot connect');
  });
});

describe('registration record verdicts', () => {
  it('ok, missing (with what it is for), wrong target, and another registration service', () => {
    const ok = registrationCheck(
      'contoso.com',
      resolved(cname(R, 'enterpriseregistration.windows.net', 3600), a('enterpriseregistration.windows.net', '20.0.0.3')),
      ctx(),
    );
    expect(ok).toMatchObject({
      name: 'EnterpriseRegistration.contoso.com',
      verdict: 'ok',
      target: 'enterpriseregistration.windows.net',
      ttl: 3600,
    });
    const missing = registrationCheck('contoso.com', { outcome: 'nxdomain', records: [], at: R, negativeTtl: null }, ctx());
    expect(missing.verdict).toBe('missing');
    expect(missing.reason).toContain('conditional access');
    const wrong = registrationCheck(
      'contoso.com',
      resolved(cname(R, 'winroll.contoso.com'), a('winroll.contoso.com', '203.0.113.5')),
      ctx(),
    );
    expect(wrong).toMatchObject({ verdict: 'wrong-target' });
    expect(wrong.reason).toContain('the enrollment target');
    const adfs = { ...DEPLOYMENT, registrationTarget: 'drs.contoso.com' };
    expect(
      registrationCheck('contoso.com', resolved(cname(R, 'drs.contoso.com'), a('drs.contoso.com', '203.0.113.7')), ctx('winroll', adfs))
        .verdict,
    ).toBe('ok');
    const entra = registrationCheck(
      'contoso.com',
      resolved(cname(R, 'enterpriseregistration.windows.net'), a('enterpriseregistration.windows.net', '20.0.0.3')),
      ctx('winroll', adfs),
    );
    expect(entra.reason).toContain('not to the device registration service drs.contoso.com');
  });
});

describe('several resolvers', () => {
  const ok = enrollmentCheck('contoso.com', resolved(cname(E, 'winroll.contoso.com'), a('winroll.contoso.com', '203.0.113.5')), ctx());
  const missing = enrollmentCheck('contoso.com', { outcome: 'nxdomain', records: [], at: E, negativeTtl: null }, ctx());
  const failed = enrollmentCheck(
    'contoso.com',
    { outcome: 'failed', records: [], at: E, cause: 'no answer from 192.0.2.2:53 within 2000 ms (timeout)' },
    ctx(),
  );

  it('agreement keeps the answer and lists each resolver', () => {
    const c = combineResolvers([
      { resolver: '192.0.2.1:53', check: ok },
      { resolver: '192.0.2.2:53', check: ok },
    ]);
    expect(c).toMatchObject({ verdict: 'ok', propagating: false });
    expect(c.resolvers?.map((r) => r.resolver)).toEqual(['192.0.2.1:53', '192.0.2.2:53']);
  });

  it('disagreement is propagation in progress, under the worse answer, saying what each resolver said', () => {
    const c = combineResolvers([
      { resolver: '192.0.2.1:53', check: ok },
      { resolver: '192.0.2.2:53', check: missing },
    ]);
    expect(c).toMatchObject({ verdict: 'missing', propagating: true });
    expect(c.reason).toMatch(/^Propagation in progress.*192\.0\.2\.1:53: ok \(winroll\.contoso\.com\); 192\.0\.2\.2:53: missing.*72 hours/);
  });

  it('a resolver that fails is an error naming it, with what the others said', () => {
    const c = combineResolvers([
      { resolver: '192.0.2.1:53', check: ok },
      { resolver: '192.0.2.2:53', check: failed },
    ]);
    expect(c).toMatchObject({ verdict: 'error', propagating: false });
    expect(c.reason).toMatch(/^192\.0\.2\.2:53: .*timeout.*192\.0\.2\.1:53 answered: ok \(winroll\.contoso\.com\)/);
  });
});

describe('following a chain through one resolver', () => {
  /** A resolver over fixed data that answers one step at a time, like an authoritative server. */
  function stepwise(records: DnsRecord[], fail: Record<string, string> = {}): DnsResolver & { asked: string[] } {
    const asked: string[] = [];
    return {
      label: 'test',
      asked,
      async query(name, type): Promise<DnsReply> {
        asked.push(`${name} ${type}`);
        if (fail[name]) return { ok: false, cause: fail[name] as string };
        const c = records.find((r) => r.name === name && r.type === 'CNAME');
        if (c) return { ok: true, rcode: 'NOERROR', answers: [c], negativeTtl: null };
        const found = records.filter((r) => r.name === name && r.type === type);
        const exists = records.some((r) => r.name === name);
        return { ok: true, rcode: found.length || exists ? 'NOERROR' : 'NXDOMAIN', answers: found, negativeTtl: 30 };
      },
    };
  }

  it('asks for each target until an address, and falls back to AAAA', async () => {
    const r = stepwise([
      cname(E, 'b.contoso.com'),
      cname('b.contoso.com', 'c.contoso.com'),
      { name: 'c.contoso.com', type: 'AAAA', ttl: 5, value: '2001:db8::1' },
    ]);
    const res = await resolveName(r, 'EnterpriseEnrollment.Contoso.com.');
    expect(res.outcome).toBe('address');
    expect(res.records.map((x) => x.value)).toEqual(['b.contoso.com', 'c.contoso.com', '2001:db8::1']);
    expect(r.asked).toEqual([`${E} A`, 'b.contoso.com A', 'c.contoso.com A', 'c.contoso.com AAAA']);
  });

  it('stops on loops, overlong chains and failures, saying where', async () => {
    expect(await resolveName(stepwise([cname(E, 'b.contoso.com'), cname('b.contoso.com', E)]), E)).toMatchObject({
      outcome: 'loop',
      at: E,
    });
    const long = Array.from({ length: 12 }, (_, i) => cname(i === 0 ? E : `h${i}.contoso.com`, `h${i + 1}.contoso.com`));
    expect((await resolveName(stepwise(long), E)).outcome).toBe('too-long');
    expect(await resolveName(stepwise([cname(E, 'b.contoso.com')], { 'b.contoso.com': 'SERVFAIL' }), E)).toMatchObject({
      outcome: 'failed',
      at: 'b.contoso.com',
      cause: 'SERVFAIL',
    });
    expect(await resolveName(stepwise([]), E)).toMatchObject({ outcome: 'nxdomain', at: E, negativeTtl: 30 });
  });
});

describe('names and records', () => {
  it('takes domains as admins type them and refuses what is not one', () => {
    expect(parseDomain('Contoso.COM.')).toBe('contoso.com');
    expect(parseDomain('alice@contoso.com')).toBe('contoso.com');
    expect(parseDomain('EnterpriseEnrollment.contoso.com')).toBe('contoso.com');
    expect(parseDomain('bücher.example')).toBe('xn--bcher-kva.example');
    for (const bad of ['contoso', '192.0.2.1', 'a..b', '-x.com', 'x_y.com', ''])
      expect(() => parseDomain(bad), bad).toThrow(/not a domain name/);
  });

  it('takes resolvers as IP addresses with optional ports', () => {
    expect(parseResolver('192.0.2.53')).toEqual({ host: '192.0.2.53', port: 53 });
    expect(parseResolver('192.0.2.53:5353')).toEqual({ host: '192.0.2.53', port: 5353 });
    expect(parseResolver('[2001:db8::53]:54')).toEqual({ host: '2001:db8::53', port: 54 });
    expect(parseResolver('2001:db8::53')).toEqual({ host: '2001:db8::53', port: 53 });
    for (const bad of ['dns.google', '300.1.1.1', '192.0.2.1:0', '192.0.2.1:99999'])
      expect(() => parseResolver(bad), bad).toThrow(/must be an IP address/);
  });

  it('renders zone-file lines with TTL 3600 per profile', () => {
    const r = recordsFor(['contoso.com', 'Fabrikam.com'], 'winroll', DEPLOYMENT);
    expect(r.lines).toEqual([
      'EnterpriseEnrollment.contoso.com. 3600 IN CNAME winroll.contoso.com.',
      'EnterpriseRegistration.contoso.com. 3600 IN CNAME EnterpriseRegistration.windows.net.',
      'EnterpriseEnrollment.fabrikam.com. 3600 IN CNAME winroll.contoso.com.',
      'EnterpriseRegistration.fabrikam.com. 3600 IN CNAME EnterpriseRegistration.windows.net.',
    ]);
    expect(recordsFor(['contoso.com'], 'intune-usgov', DEPLOYMENT).lines[0]).toBe(
      'EnterpriseEnrollment.contoso.com. 3600 IN CNAME EnterpriseEnrollment-s.manage.microsoft.us.',
    );
    expect(() => recordsFor(['contoso.com'], 'winroll', { ...DEPLOYMENT, publicHost: '203.0.113.5' })).toThrow(/IP address/);
  });
});
