/**
 * The MDM terms-of-use page Windows opens during Entra ID join and "add work account" (protocol.md §3.3,
 * intune-features.md §1.2 and §4.4), over real HTTPS as Windows' web host calls it: GET with the Entra
 * token as a bearer, POST of the form, 302s back to the ms-appx-web: redirect_uri. The OpaqueBlob of an
 * accepted page then travels as the RST ContextItem EnrollmentData and is checked at enrollment.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { TermsOfUse } from '../../src/core/enrollment/terms-of-use.js';
import { systemClock } from '../../src/shared/clock.js';
import { apiClient } from '../support/api-client.js';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { enroll } from '../../src/simulator/enroll.js';
import { type HttpResponse, request } from '../../src/simulator/https-client.js';
import { type TenantKey, enrollmentFailure, mintEntraToken, newTenantKey, saveTenant } from '../support/entra.js';
import { type TestServer, startTestServer } from '../support/server.js';

const KEY = generateDeviceKey();
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TID = '11111111-2222-3333-4444-555555555555';
const CLIENT_ID = '0000000a-0000-0000-c000-000000000000';
const REDIRECT = 'ms-appx-web://Microsoft.AAD.BrokerPlugin/TermsOfUse';
const CRID = '9b1f6a2e-5c4d-4e3f-8a7b-1c2d3e4f5a6b';
const BIN = path.resolve(import.meta.dirname, '../../bin/winroll.js');
const exec = promisify(execFile);
/** The claims of a JWT (the OpaqueBlob), unverified: what the test reads back. */
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8'));

describe('MDM terms-of-use page (sqlite)', () => {
  let t: TestServer | undefined;
  let tenantKey: TenantKey;
  const srv = () => t as TestServer;

  const mint = (upn: string, o: { tid?: string; expSeconds?: number } = {}) =>
    mintEntraToken(upn, { tid: o.tid ?? TID, aud: srv().base, key: tenantKey.privateKey, expSeconds: o.expSeconds });

  const open = (
    token: string | undefined,
    q: { redirect?: string; apiVersion?: string; join?: boolean; crid?: string | null } = {},
    headers: Record<string, string> = {},
  ): Promise<HttpResponse> => {
    const qs = new URLSearchParams({ redirect_uri: q.redirect ?? REDIRECT, 'api-version': q.apiVersion ?? '1.0' });
    if (q.crid !== null) qs.set('client-request-id', q.crid ?? CRID);
    if (q.join) qs.set('mode', 'azureadjoin');
    return request({
      method: 'GET',
      url: `${srv().base}/EnrollmentServer/TermsOfUse?${qs}`,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      agent: srv().agent,
    });
  };
  const submit = (state: string, action: 'accept' | 'decline') =>
    request({
      method: 'POST',
      url: `${srv().base}/EnrollmentServer/TermsOfUse`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ state, action }).toString(),
      agent: srv().agent,
    });
  const redirectOf = (res: HttpResponse) => {
    expect(res.status).toBe(302);
    const location = String(res.headers.location);
    expect(location.startsWith(`${REDIRECT}?`)).toBe(true);
    return new URL(location).searchParams;
  };
  const stateOf = (res: HttpResponse) => {
    expect(res.status).toBe(200);
    const m = /name="state" value="([^"]+)"/.exec(res.body.toString('utf8'));
    expect(m).not.toBeNull();
    return (m as RegExpExecArray)[1] as string;
  };
  /** Opens the page for `upn` and accepts: the OpaqueBlob. */
  const accept = async (upn: string, join = true) => {
    const page = await open(await mint(upn), { join });
    const params = redirectOf(await submit(stateOf(page), 'accept'));
    expect(params.get('IsAccepted')).toBe('true');
    return params.get('OpaqueBlob') as string;
  };
  const enrollWith = async (upn: string, enrollmentData: string | undefined, type: 'Full' | 'Device' = 'Device') =>
    enroll({
      server: srv().base,
      upn,
      password: '',
      directoryToken: await mint(upn),
      device: newSimulatedDevice(KEY),
      agent: srv().agent,
      enrollmentType: type,
      ...(enrollmentData !== undefined ? { enrollmentData } : {}),
    });

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) return;
    await t.addDomain('contoso.com', 'Federated');
    await t.addUser('alice@contoso.com', 'unused password 123');
    await t.addUser('bob@contoso.com', 'unused password 123');
    await t.addUser('nolicense@contoso.com', 'unused password 123', { license: false });
    const s = t.server.storage;
    const settings = await s.getTenantSettings();
    await s.saveTenantSettings(
      { ...settings, mdmScope: { mode: 'all', groupIds: [] }, mamScope: { mode: 'none', groupIds: [] } },
      new Date(),
    );
    tenantKey = await newTenantKey();
    await saveTenant(t, TID, CLIENT_ID, tenantKey, { v2: true });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('join: the page has Accept only; Accept redirects with IsAccepted=true and a blob that enrollment accepts', async () => {
    const page = await open(await mint('alice@contoso.com'), { join: true }, { 'CXH-HOST': 'FRX' });
    expect(page.status).toBe(200);
    const html = page.body.toString('utf8');
    expect(html).toContain('value="accept"');
    expect(html).not.toContain('value="decline"');
    expect(html).toContain('color-scheme:dark');
    expect(html).toContain('<html lang="en">');
    // The bearer token never goes into the page.
    expect(html).not.toContain('eyJhbGciOiJSUzI1Ni');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('ms-appx-web:');

    const params = redirectOf(await submit(stateOf(page), 'accept'));
    expect(params.get('IsAccepted')).toBe('true');
    expect(params.get('client-request-id')).toBe(CRID);
    const blob = params.get('OpaqueBlob') as string;
    expect(blob.split('.')).toHaveLength(3);

    const outcome = await enrollWith('alice@contoso.com', blob);
    expect(outcome.store).toBe('System');
  });

  it('work account (no mode): light theme, Decline offered; Decline redirects with IsAccepted=false', async () => {
    const page = await open(await mint('alice@contoso.com'), {}, { 'CXH-HOST': 'MOSET' });
    const html = page.body.toString('utf8');
    expect(html).toContain('value="decline"');
    expect(html).toContain('color-scheme:light');
    const params = redirectOf(await submit(stateOf(page), 'decline'));
    expect(params.get('IsAccepted')).toBe('false');
    expect(params.get('OpaqueBlob')).toBeNull();
    expect(params.get('client-request-id')).toBe(CRID);
  });

  it('enrollment without EnrollmentData still works (add work account skips the page)', async () => {
    const outcome = await enrollWith('bob@contoso.com', undefined, 'Full');
    expect(outcome.store).toBe('User');
  });

  it('unsupported api-version → invalid_request', async () => {
    const params = redirectOf(await open(await mint('alice@contoso.com'), { apiVersion: '2.0' }));
    expect(params.get('error')).toBe('invalid_request');
    expect(params.get('error_description')).toMatch(/api-version/);
    expect(params.get('client-request-id')).toBe(CRID);
  });

  it('missing, forged or unconnected-tenant tokens → unauthorized_client', async () => {
    const none = redirectOf(await open(undefined));
    expect(none.get('error')).toBe('unauthorized_client');
    const forged = redirectOf(await open(`${await mint('alice@contoso.com')}x`));
    expect(forged.get('error')).toBe('unauthorized_client');
    const other = redirectOf(await open(await mint('alice@contoso.com', { tid: OTHER_TID })));
    expect(other.get('error')).toBe('unauthorized_client');
    expect(other.get('error_description')).toContain(OTHER_TID);
    expect(other.get('client-request-id')).toBe(CRID);
    const res = await open(await mint('alice@contoso.com', { tid: OTHER_TID }));
    expect(String(res.headers.location)).toContain('error_description=');
    expect(String(res.headers.location)).not.toContain('+');
  });

  it('a user the policy refuses (no license) → unauthorized_client with the reason', async () => {
    const params = redirectOf(await open(await mint('nolicense@contoso.com'), { join: true }));
    expect(params.get('error')).toBe('unauthorized_client');
    expect(params.get('error_description')).toMatch(/license/i);
  });

  it('a redirect_uri that is not ms-appx-web: gets a 400 page and no redirect', async () => {
    for (const redirect of ['https://evil.example/steal', 'javascript:alert(1)', 'ms-app://x', '']) {
      const res = await open(await mint('alice@contoso.com'), { redirect });
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(String(res.headers['content-type'])).toContain('text/html');
    }
  });

  it('a forged form state gets a page, not a redirect', async () => {
    const res = await submit('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA', 'accept');
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  it("a tampered, expired or other user's blob at enrollment → InvalidEnrollmentData (0x80180019)", async () => {
    const blob = await accept('alice@contoso.com');
    const [h, p, sig] = blob.split('.') as [string, string, string];
    const tampered = `${h}.${p}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    const e1 = await enrollmentFailure(enrollWith('alice@contoso.com', tampered));
    expect(e1.faultErrorType).toBe('InvalidEnrollmentData');
    expect(e1.hresult).toBe(0x80180019);

    // Bob presents Alice's acceptance.
    const e2 = await enrollmentFailure(enrollWith('bob@contoso.com', blob));
    expect(e2.faultErrorType).toBe('InvalidEnrollmentData');

    // Issued with the server's secret an hour ago: expired (30 minutes).
    const secret = Buffer.from((await readFile(path.join(srv().dataDir, 'secrets', 'token.key'), 'utf8')).trim(), 'base64');
    const past = new TermsOfUse({
      directoryTokens: {} as never,
      policy: {} as never,
      secret,
      clock: { now: () => new Date(Date.now() - 3600_000) },
    });
    const alice = await srv().server.storage.getUserByUpn('alice@contoso.com');
    const expired = await past.issueBlob({
      tenantId: TID,
      userId: alice?.id as string,
      upn: 'alice@contoso.com',
      redirectUri: REDIRECT,
      clientRequestId: null,
      join: true,
      termsVersion: 0,
    });
    const e3 = await enrollmentFailure(enrollWith('alice@contoso.com', expired));
    expect(e3.faultErrorType).toBe('InvalidEnrollmentData');
    expect(e3.hresult).toBe(0x80180019);
  });

  describe("the admin's own terms text", () => {
    const cli = async (...args: string[]) => {
      const { stdout } = await exec(process.execPath, [BIN, ...args, '--data-dir', srv().dataDir], { timeout: 60_000 });
      return stdout;
    };
    const pageHtml = async () => (await open(await mint('alice@contoso.com'), { join: false })).body.toString('utf8');

    it('winroll settings terms set/show/reset: the page shows the text escaped, the blob records its version', async () => {
      const file = path.join(srv().dataDir, 'terms.md');
      await writeFile(
        file,
        '# What {org} sees\n\n**Only** work data.\n\n- your *model*\n- your Windows version\n\n<script>alert(1)</script> <img src=x onerror=alert(2)> [link](javascript:alert(3))\n',
      );
      const set = JSON.parse(await cli('settings', 'terms', 'set', '--file', file, '--title', 'Contoso device rules', '--json'));
      expect(set).toMatchObject({ title: 'Contoso device rules', format: 'markdown-subset', version: 1 });

      const html = await pageHtml();
      expect(html).toContain('<h1 id="title">Contoso device rules</h1>');
      expect(html).toContain('<title>Contoso device rules</title>');
      expect(html).toContain('<h2>What Winroll sees</h2>');
      expect(html).toContain('<strong>Only</strong> work data.');
      expect(html).toContain('<ul><li>your <em>model</em></li><li>your Windows version</li></ul>');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
      expect(html).not.toMatch(/<script|<img|href=/i);
      expect(html).not.toContain('cannot see your personal files');

      // The acceptance names the text that was shown; enrollment takes the blob.
      const blob = await accept('alice@contoso.com', false);
      expect(claimsOf(blob).tv).toBe(1);
      expect((await enrollWith('alice@contoso.com', blob, 'Full')).store).toBe('User');

      // A new title keeps the text when --title is omitted the next time.
      await cli('settings', 'terms', 'set', '--file', file);
      const shown = JSON.parse(await cli('settings', 'terms', 'show', '--json'));
      expect(shown).toMatchObject({ title: 'Contoso device rules', version: 2 });
      expect(await cli('settings', 'terms', 'show')).toContain('# What {org} sees');

      const reset = JSON.parse(await cli('settings', 'terms', 'reset', '--json'));
      expect(reset).toMatchObject({ title: null, body: null, version: 3 });
      const back = await pageHtml();
      expect(back).toContain('Winroll terms of use</h1>');
      expect(back).toContain('cannot see your personal files');
      expect(claimsOf(await accept('alice@contoso.com', false)).tv).toBe(3);
    });

    it('refuses empty or control-character text with a one-line cause', async () => {
      const file = path.join(srv().dataDir, 'empty.md');
      await writeFile(file, '  \n');
      const r = await exec(process.execPath, [BIN, 'settings', 'terms', 'set', '--file', file, '--data-dir', srv().dataDir]).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code?: number; stderr?: string }) => ({ code: e.code ?? 1, stderr: e.stderr ?? '' }),
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/empty/);
    });

    it('the API sets, shows and resets the text (administrators change, everyone reads; audited)', async () => {
      const s = srv().server.storage;
      await t?.addUser('boss@contoso.com', 'a long admin passphrase');
      await t?.addUser('auditor@contoso.com', 'a long admin passphrase');
      const accounts = new AdminAccounts({ storage: s, directory: srv().directory, clock: systemClock });
      await accounts.add(CLI_CONTEXT, 'boss@contoso.com', 'administrator');
      await accounts.add(CLI_CONTEXT, 'auditor@contoso.com', 'readonly');
      const { call, signIn } = apiClient(srv);
      const boss = await signIn('boss@contoso.com', 'a long admin passphrase');
      const auditor = await signIn('auditor@contoso.com', 'a long admin passphrase');

      const before = await call('GET', '/settings/terms-of-use', auditor);
      expect(before.status, before.text).toBe(200);
      const v = before.json.version as number;
      expect((await call('PUT', '/settings/terms-of-use', { ...auditor, body: { body: 'x' } })).status).toBe(403);
      const put = await call('PUT', '/settings/terms-of-use', { ...boss, body: { title: 'Rules', body: 'Be *kind*.' } });
      expect(put.status, put.text).toBe(200);
      expect(put.json).toMatchObject({ title: 'Rules', body: 'Be *kind*.', version: v + 1 });
      expect(await pageHtml()).toContain('<p>Be <em>kind</em>.</p>');
      const bad = await call('PUT', '/settings/terms-of-use', { ...boss, body: { body: 'bell \u0007 here' } });
      expect(bad.status).toBe(422);
      const del = await call('DELETE', '/settings/terms-of-use', boss);
      expect(del.json).toMatchObject({ title: null, body: null, version: v + 2 });

      const audit = await call('GET', '/audit?limit=50', auditor);
      const entries = audit.json.items.filter((e: { targetId: string }) => e.targetId === 'terms_of_use');
      expect(entries.map((e: { action: string; actor: string }) => e.action)).toEqual(
        expect.arrayContaining(['settings.terms_of_use.set', 'settings.terms_of_use.reset']),
      );
      expect(entries.every((e: { outcome: string }) => e.outcome === 'succeeded')).toBe(true);
    });
  });
});
