/**
 * The MDM terms-of-use page Windows opens during Entra ID join and "add work account" (protocol.md §3.3,
 * intune-features.md §1.2 and §4.4), over real HTTPS as Windows' web host calls it: GET with the Entra
 * token as a bearer, POST of the form, 302s back to the ms-appx-web: redirect_uri. The OpaqueBlob of an
 * accepted page then travels as the RST ContextItem EnrollmentData and is checked at enrollment.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type CryptoKey, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TermsOfUse } from '../../src/core/enrollment/terms-of-use.js';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { EnrollmentFailed, enroll } from '../../src/simulator/enroll.js';
import { type HttpResponse, request } from '../../src/simulator/https-client.js';
import { type TestServer, startTestServer } from '../support/server.js';

const KEY = generateDeviceKey();
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TID = '11111111-2222-3333-4444-555555555555';
const CLIENT_ID = '0000000a-0000-0000-c000-000000000000';
const REDIRECT = 'ms-appx-web://Microsoft.AAD.BrokerPlugin/TermsOfUse';
const CRID = '9b1f6a2e-5c4d-4e3f-8a7b-1c2d3e4f5a6b';

describe('MDM terms-of-use page (sqlite)', () => {
  let t: TestServer | undefined;
  let signingKey: CryptoKey;
  const srv = () => t as TestServer;

  const mint = (upn: string, o: { tid?: string; expSeconds?: number } = {}) => {
    const tid = o.tid ?? TID;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ tid, upn, oid: '3c5b7a6e-0000-4000-8000-000000000001' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .setIssuer(`https://sts.windows.net/${tid}/`)
      .setAudience(srv().base)
      .setIssuedAt(now - 60)
      .setExpirationTime(now + (o.expSeconds ?? 3600))
      .sign(signingKey);
  };

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
  const failure = async (p: Promise<unknown>): Promise<EnrollmentFailed> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EnrollmentFailed);
    return err as EnrollmentFailed;
  };

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
    const pair = await generateKeyPair('RS256', { extractable: true });
    signingKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    await s.saveEntraTenant({
      tenantId: TID,
      clientId: CLIENT_ID,
      issuers: [`https://sts.windows.net/${TID}/`, `https://login.microsoftonline.com/${TID}/v2.0`],
      jwksJson: JSON.stringify({ keys: [jwk] }),
      jwksUrl: null,
      now: new Date(),
    });
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
    const e1 = await failure(enrollWith('alice@contoso.com', tampered));
    expect(e1.faultErrorType).toBe('InvalidEnrollmentData');
    expect(e1.hresult).toBe(0x80180019);

    // Bob presents Alice's acceptance.
    const e2 = await failure(enrollWith('bob@contoso.com', blob));
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
    });
    const e3 = await failure(enrollWith('alice@contoso.com', expired));
    expect(e3.faultErrorType).toBe('InvalidEnrollmentData');
    expect(e3.hresult).toBe(0x80180019);
  });
});
