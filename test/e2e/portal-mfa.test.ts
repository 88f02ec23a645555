/**
 * The MFA rule covers Company Portal sign-in (the portal can wipe a device): a covered user's correct
 * password answers `codeNeeded` with a short-lived step cookie and no session; `POST session/code` opens
 * the session after a valid, unused TOTP code (generated with otplib from the user's secret, as an
 * authenticator app does). Wrong and reused codes are refused with the reason and count as failed sign-ins
 * against the address; a covered user without a factor is refused; an uncovered user signs in directly;
 * the step expires after 5 minutes of the server's clock. In Chromium: password, then the code form
 * (screenshot + axe), then My devices; and through an OIDC provider not trusted for MFA, the code form.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'otplib';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPaths, loadOrCreateSecret } from '../../src/app/data-dir.js';
import { MfaService } from '../../src/core/mfa/mfa-service.js';
import type { Clock } from '../../src/shared/clock.js';
import { type ApiResponse, requestJson } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { dataFlags, winroll } from '../support/cli.js';
import { type TestIdp, startTestIdp } from '../support/oidc-provider.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { PASSWORD as PW, type WebPage, openWebPage, pageCheck } from '../support/web-page.js';

const chromium = chromiumPath();
const PROVIDER = 'Fabrikam IdP';
const SESSION = '__Host-winroll_portal';
const STEP = '__Host-winroll_portal_step';

/** The server's clock: real time plus a shift the expiry test moves forward. */
let shiftMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + shiftMs) };

describe('Company Portal sign-in with the MFA rule', () => {
  let t: TestServer | undefined;
  let mfa: MfaService;
  const srv = () => t as TestServer;
  const secrets = new Map<string, string>();

  /** The code an authenticator app shows `offset` seconds from the server's now. */
  const codeFor = (upn: string, offset = 0) =>
    generate({ secret: secrets.get(upn) ?? '', epoch: Math.floor(clock.now().getTime() / 1000) + offset });

  const setCookies = (res: ApiResponse) => [res.headers['set-cookie'] ?? []].flat();
  const cookieOf = (res: ApiResponse, name: string) => setCookies(res).find((c) => c.startsWith(`${name}=`));
  const pairOf = (res: ApiResponse, name: string) => cookieOf(res, name)?.split(';')[0];

  const post = (p: string, body: unknown, cookie?: string) => {
    const raw = JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(raw)) };
    if (cookie) headers.cookie = cookie;
    return requestJson(srv(), 'POST', p, headers, raw);
  };
  const password = (upn: string) => post('/portal/api/session', { upn, password: PW });
  const code = (stepCookie: string | undefined, c: string) => post('/portal/api/session/code', { code: c }, stepCookie);

  /** A covered user (member of mfa-staff) with a confirmed factor; sign-ins use later codes than the confirming one. */
  async function coveredUser(name: string, withFactor = true): Promise<string> {
    const upn = `${name}-${randomUUID().slice(0, 6)}@fabrikam.com`;
    await srv().addUser(upn, PW);
    const s = srv().server.storage;
    const group = await s.getGroupByName('mfa-staff');
    const user = await srv().directory.findUser(upn);
    await s.addGroupMember(group?.id ?? '', user?.id ?? '');
    if (withFactor) {
      const { secret } = await mfa.enroll(upn);
      secrets.set(upn, secret);
      await mfa.confirm(upn, await codeFor(upn));
    }
    return upn;
  }

  let idp: TestIdp | undefined;
  let web: WebPage | undefined;
  let page: Page;
  const contexts: BrowserContext[] = [];
  const shot = pageCheck(() => page, 'portal-mfa');

  beforeAll(async () => {
    t = await startTestServer('sqlite', {}, {}, { clock });
    if (!t) throw new Error('no server');
    await t.addDomain('fabrikam.com');
    // The same key the server loaded from its data folder, as the CLI would.
    mfa = new MfaService({
      store: t.server.storage,
      masterKey: await loadOrCreateSecret(dataPaths(t.dataDir).mfaKey),
      clock,
      issuer: 'Fabrikam',
    });
    await t.server.storage.addGroup({ name: 'mfa-staff', now: new Date() });
    await mfa.setRequirement('groups', ['mfa-staff']);
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await web?.browser.close();
    await idp?.close();
    await t?.stop();
  });

  it('asks a covered user for a code after the password, with a step cookie and no session', async () => {
    const upn = await coveredUser('alice');
    const res = await password(upn);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ codeNeeded: true, upn });
    expect(cookieOf(res, SESSION)).toBeUndefined();
    const step = cookieOf(res, STEP) ?? '';
    expect(step).toMatch(/; Path=\/; Max-Age=300; Secure; HttpOnly; SameSite=Strict$/);
    // A signed state, never the password.
    expect(step).not.toContain(encodeURIComponent(PW));
    expect(step).not.toContain(PW);
    // Not a session: the API does not accept the step cookie as one.
    const stepValue = pairOf(res, STEP)?.slice(STEP.length + 1) ?? '';
    const me = await requestJson(srv(), 'GET', '/portal/api/session', { cookie: `${SESSION}=${stepValue}` }, undefined);
    expect(me.status).toBe(401);

    const opened = await code(pairOf(res, STEP), await codeFor(upn, 30));
    expect(opened.status, opened.text).toBe(201);
    expect(opened.json.upn).toBe(upn);
    const session = pairOf(opened, SESSION);
    expect(session).toBeTruthy();
    // The step cookie is cleared once it served.
    expect(cookieOf(opened, STEP)).toMatch(/Max-Age=0/);
    const me2 = await requestJson(srv(), 'GET', '/portal/api/session', { cookie: session ?? '' }, undefined);
    expect(me2.status, me2.text).toBe(200);
    expect(me2.json.upn).toBe(upn);
  });

  it('refuses a wrong code with the reason, and accepts the right one on the same step', async () => {
    const upn = await coveredUser('bob');
    const step = pairOf(await password(upn), STEP);
    const right = await codeFor(upn, 30);
    const wrong = await code(step, right === '123456' ? '654321' : '123456');
    expect(wrong.status, wrong.text).toBe(401);
    expect(wrong.json.code).toBe('wrong_code');
    expect(wrong.json.detail).toMatch(/code is not correct/);
    expect(cookieOf(wrong, SESSION)).toBeUndefined();
    const ok = await code(step, right);
    expect(ok.status, ok.text).toBe(201);
  });

  it('refuses the same code twice, and a step that already opened a session', async () => {
    const upn = await coveredUser('carl');
    const once = await codeFor(upn, 30);
    const first = pairOf(await password(upn), STEP);
    expect((await code(first, once)).status).toBe(201);
    // The used step cannot open a second session, even with another code.
    const again = await code(first, await codeFor(upn, 60));
    expect(again.status).toBe(401);
    expect(again.json.code).toBe('step_expired');
    // A new password step with the used code: refused as reused.
    const second = pairOf(await password(upn), STEP);
    const replay = await code(second, once);
    expect(replay.status, replay.text).toBe(401);
    expect(replay.json.code).toBe('replayed');
    expect(replay.json.detail).toMatch(/already used/);
    expect(cookieOf(replay, SESSION)).toBeUndefined();
  });

  it('refuses a covered user without a factor with the reason, and opens nothing', async () => {
    const upn = await coveredUser('nofactor', false);
    const res = await password(upn);
    expect(res.status, res.text).toBe(403);
    expect(res.json.code).toBe('mfa_not_enrolled');
    expect(res.json.detail).toMatch(/none is set up for your account. Contact your IT department/);
    expect(setCookies(res)).toEqual([]);
  });

  it('signs a user the rule does not cover in directly', async () => {
    const upn = `dan-${randomUUID().slice(0, 6)}@fabrikam.com`;
    await srv().addUser(upn, PW);
    const res = await password(upn);
    expect(res.status, res.text).toBe(201);
    expect(pairOf(res, SESSION)).toBeTruthy();
    expect(cookieOf(res, STEP)).toBeUndefined();
  });

  it('refuses a code without a step cookie with the reason', async () => {
    const none = await code(undefined, '123456');
    expect(none.status).toBe(401);
    expect(none.json.code).toBe('step_expired');
    expect(none.json.detail).toMatch(/Sign in again/);
  });

  it('lets the step expire after 5 minutes of the server clock', async () => {
    const upn = await coveredUser('erin');
    const step = pairOf(await password(upn), STEP);
    shiftMs += 5 * 60_000 + 5_000;
    try {
      const late = await code(step, await codeFor(upn));
      expect(late.status, late.text).toBe(401);
      expect(late.json.code).toBe('step_expired');
      expect(cookieOf(late, STEP)).toMatch(/Max-Age=0/);
      expect(cookieOf(late, SESSION)).toBeUndefined();
    } finally {
      shiftMs = 0;
    }
  });

  describe.skipIf(!chromium)('in Chromium', () => {
    async function freshPortal(): Promise<Page> {
      if (!web) web = await openWebPage(chromium as string, srv(), { width: 1100, height: 800 });
      const context = await web.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 800 } });
      contexts.push(context);
      const p = await context.newPage();
      await p.goto(`${srv().base}/portal/`);
      await p.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
      return p;
    }

    it('asks for the code after the password and lands on My devices', async () => {
      const upn = await coveredUser('fay');
      page = await freshPortal();
      await page.getByLabel('Work account (e-mail address)').fill(upn);
      await page.getByLabel('Password').fill(PW);
      await page.getByRole('button', { name: 'Sign in' }).click();

      const otp = page.getByLabel('Verification code');
      await otp.waitFor();
      expect(await otp.getAttribute('autocomplete')).toBe('one-time-code');
      expect(await otp.getAttribute('inputmode')).toBe('numeric');
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('autocomplete'))).toBe('one-time-code');
      expect(await page.textContent('main')).toContain(upn);
      // No session yet.
      expect((await page.context().cookies(srv().base)).find((c) => c.name === SESSION)).toBeUndefined();
      await shot('code-form');

      const right = await codeFor(upn, 30);
      await otp.fill(right === '123456' ? '654321' : '123456');
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/code is not correct/);
      await shot('code-form-wrong');

      await otp.fill(right);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { level: 1, name: 'My devices' }).waitFor();
      const session = (await page.context().cookies(srv().base)).find((c) => c.name === SESSION);
      expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    });

    it('asks for the code after an OIDC provider not trusted for MFA', async () => {
      const upn = await coveredUser('gus');
      idp = await startTestIdp({
        redirectUris: [`${srv().base}/EnrollmentServer/Auth/oidc/callback`, `${srv().base}/portal/api/oidc/callback`],
      });
      idp.addAccount('gus', { email: upn, email_verified: true });
      const secretFile = path.join(srv().dataDir, 'idp-secret.txt');
      const caFile = path.join(srv().dataDir, 'idp-ca.pem');
      await writeFile(secretFile, `${idp.clientSecret}\n`, { mode: 0o600 });
      await writeFile(caFile, idp.caPem);
      const added = await winroll([
        'oidc',
        'add',
        '--name',
        PROVIDER,
        '--issuer',
        idp.issuer,
        '--client-id',
        idp.clientId,
        '--client-secret-file',
        secretFile,
        '--ca-file',
        caFile,
        ...dataFlags(srv()),
      ]);
      expect(added.code, added.stderr).toBe(0);

      page = await freshPortal();
      await page.getByRole('link', { name: `Sign in with ${PROVIDER}` }).click();
      await page.getByLabel('IdP user').fill('gus');
      // The provider says a second factor was used, but it is not trusted for MFA: the code is still asked.
      await page.getByLabel('Second factor used').check();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL((u) => u.origin === new URL(srv().base).origin && u.pathname === '/portal/');

      const otp = page.getByLabel('Verification code');
      await otp.waitFor();
      expect(new URL(page.url()).search).toBe('');
      const cookies = await page.context().cookies(srv().base);
      expect(cookies.find((c) => c.name === SESSION)).toBeUndefined();
      expect(cookies.find((c) => c.name === STEP)).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
      await shot('oidc-code-form');

      await otp.fill(await codeFor(upn, 30));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { level: 1, name: 'My devices' }).waitFor();
      await expect.poll(() => page.getByText(upn).count()).toBeGreaterThan(0);
    });
  });

  // Last: it uses up the address's failed sign-ins.
  it('counts wrong codes as failed sign-ins against the address, like wrong passwords', async () => {
    const upn = await coveredUser('hal');
    const step = pairOf(await password(upn), STEP);
    const right = await codeFor(upn, 30);
    const wrong = right === '123456' ? '654321' : '123456';
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await code(step, wrong)).status);
    // Every attempt is refused; the later ones as too many (the user's own code limit, then the address's).
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // The address is now throttled for passwords too, even for an uncovered user with the right one.
    const dan = `ivy-${randomUUID().slice(0, 6)}@fabrikam.com`;
    await srv().addUser(dan, PW);
    const res = await password(dan);
    expect(res.status, res.text).toBe(429);
    expect(res.json.detail).toMatch(/too many failed sign-ins/);
  });
});
