/**
 * External sign-in (OIDC) on the federated enrollment page, end to end: a local OpenID provider
 * (oidc-provider over TLS on loopback, test/support/oidc-provider.ts) configured with `winroll oidc add`,
 * Windows' sign-in page in a real Chromium, the provider's login page, the callback, and the token
 * enrolling a simulated device. The MFA setting still applies after the provider (Winroll's code step,
 * unless the provider is trusted for MFA and asserted it); unknown and disabled users, a login_hint
 * mismatch, an unverified address, and tampered state, code or cookie are refused with a readable page
 * and no token. The admin API's /oidc-providers with roles and the audit log.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'otplib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { dataPaths, loadOrCreateSecret } from '../../src/app/data-dir.js';
import { MfaService } from '../../src/core/mfa/mfa-service.js';
import { systemClock } from '../../src/shared/clock.js';
import { signInAdmins } from '../support/admins.js';
import { apiClient, expectProblem } from '../support/api-client.js';
import { chromiumPath, launchChromium } from '../support/browser.js';
import { type TestIdp, startTestIdp } from '../support/oidc-provider.js';
import { dataFlags, winroll } from '../support/cli.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';
import { enrollWithWresult } from '../support/wresult.js';

const executable = chromiumPath();
const APPRU = 'ms-app://windows.immersivecontrolpanel';
const PW = 'correct horse battery';
const CALLBACK = '/EnrollmentServer/Auth/oidc/callback';

/** The code an authenticator app shows `offset` seconds from now. */
const codeFor = (secret: string, offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset });

describe.skipIf(!executable).each(ENGINES)('OIDC sign-in on the federated page (%s)', (engine) => {
  let t: TestServer | undefined;
  let idp: TestIdp;
  let browser: Browser;
  let mfa: MfaService;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const cliData = () => dataFlags(srv());
  const { call, signIn } = apiClient(srv);

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('fabrikam.com', 'Federated');
    await t.addDomain('contoso.com', 'Federated');
    for (const u of ['bob', 'carol', 'dave', 'erin']) await t.addUser(`${u}@fabrikam.com`, PW);
    await t.addUser('zoe@contoso.com', PW);
    const dave = await t.directory.findUser('dave@fabrikam.com');
    await t.server.storage.setUserEnabled(dave?.id ?? '', false, new Date());

    idp = await startTestIdp({ redirectUris: [`${t.base}${CALLBACK}`] });
    idp.addAccount('bob', { email: 'bob@fabrikam.com', email_verified: true });
    idp.addAccount('carol', { email: 'Carol@Fabrikam.com', email_verified: true });
    idp.addAccount('dave', { email: 'dave@fabrikam.com', email_verified: true });
    idp.addAccount('erin', { email: 'erin@fabrikam.com', email_verified: false });
    idp.addAccount('mallory', { email: 'mallory@fabrikam.com', email_verified: true });
    idp.addAccount('zoe', { email: 'zoe@contoso.com', email_verified: true });

    mfa = new MfaService({
      store: t.server.storage,
      masterKey: await loadOrCreateSecret(dataPaths(t.dataDir).mfaKey),
      clock: systemClock,
      issuer: 'Fabrikam',
    });
    browser = await launchChromium(executable as string);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await idp?.close();
    await t?.stop();
  });

  async function addProvider(name: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
    const secretFile = path.join(srv().dataDir, `idp-secret-${randomUUID()}.txt`);
    const caFile = path.join(srv().dataDir, 'idp-ca.pem');
    await writeFile(secretFile, `${idp.clientSecret}\n`, { mode: 0o600 });
    await writeFile(caFile, idp.caPem);
    const args = ['oidc', 'add', '--name', name, '--issuer', idp.issuer, '--client-id', idp.clientId];
    return winroll([...args, '--client-secret-file', secretFile, '--ca-file', caFile, ...extra, '--json', ...cliData()]);
  }

  async function signInPage(hint: string): Promise<{ context: BrowserContext; page: Page }> {
    // Both sites use private test CAs; the browser is not given them. Without scripts the hand-off
    // form stays on screen, so the test reads what would be posted to appru.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${srv().base}/EnrollmentServer/Auth?appru=${encodeURIComponent(APPRU)}&login_hint=${encodeURIComponent(hint)}`);
    return { context, page };
  }

  /** From Windows' sign-in page through the provider's login page; resolves on the page Winroll answers. */
  async function viaProvider(hint: string, login: string, opts: { provider?: string; mfa?: boolean } = {}) {
    const { context, page } = await signInPage(hint);
    await page.getByRole('link', { name: `Sign in with ${opts.provider ?? 'Fabrikam IdP'}` }).click();
    await expect.poll(() => page.locator('#hint').textContent()).toBe(hint);
    await page.getByLabel('IdP user').fill(login);
    if (opts.mfa) await page.getByLabel('Second factor used').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((u) => u.pathname.toLowerCase() === CALLBACK.toLowerCase());
    return { context, page };
  }

  /**
   * A flow for bob whose authorization response the provider sends back changed by `rewrite` (what
   * someone tampering with that URL would send); `beforeReturn` may change the browser's cookies first.
   */
  async function tamperedFlow(rewrite: (u: URL) => URL, beforeReturn?: (context: BrowserContext) => Promise<void>) {
    const { context, page } = await signInPage('bob@fabrikam.com');
    await page.getByRole('link', { name: 'Sign in with Fabrikam IdP' }).click();
    await page.getByLabel('IdP user').fill('bob');
    await beforeReturn?.(context);
    idp.rewriteResponse = rewrite;
    try {
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname === CALLBACK);
      await page.getByRole('button', { name: 'Continue' }).click();
      return { context, page, status: (await answered).status() };
    } finally {
      idp.rewriteResponse = undefined;
    }
  }

  const wresultOf = (page: Page) => page.locator('input[name="wresult"]').getAttribute('value');
  const alertOf = (page: Page) => page.getByRole('alert').textContent();

  run('winroll oidc add stores the provider without printing the secret and shows the redirect URI', async () => {
    const r = await addProvider('Fabrikam IdP', ['--domains', 'fabrikam.com']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(idp.clientSecret);
    const added = JSON.parse(r.stdout);
    expect(added).toMatchObject({
      name: 'Fabrikam IdP',
      issuer: idp.issuer,
      clientId: idp.clientId,
      claim: 'email',
      domains: ['fabrikam.com'],
      trustMfa: false,
      customCa: true,
      redirectUri: expect.stringMatching(/\/EnrollmentServer\/Auth\/oidc\/callback$/),
    });
    const listed = await winroll(['oidc', 'list', '--json', ...cliData()]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'Fabrikam IdP' })]);
    expect(listed.stdout).not.toContain(idp.clientSecret);
    const human = await winroll(['oidc', 'list', ...cliData()]);
    expect(human.stdout).toMatch(/Fabrikam IdP\s+https:\/\/127\.0\.0\.1/);

    const dup = await addProvider('fabrikam idp');
    expect(dup.code).toBe(1);
    expect(dup.stderr.trim().split('\n'), dup.stderr).toHaveLength(1);
    expect(dup.stderr).toMatch(/already exists/);
    const bad = await winroll([
      'oidc',
      'add',
      '--name',
      'X',
      '--issuer',
      'http://idp',
      '--client-id',
      'c',
      '--client-secret-file',
      '/nonexistent',
      ...cliData(),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot read the client secret file/);
  });

  run("offers the provider for the login hint's domain only, next to the password form", async () => {
    const { context, page } = await signInPage('bob@fabrikam.com');
    const link = page.getByRole('link', { name: 'Sign in with Fabrikam IdP' });
    expect(await link.count()).toBe(1);
    expect(await link.getAttribute('href')).toMatch(/^\/EnrollmentServer\/Auth\/oidc\?provider=[0-9a-f-]{36}&appru=ms-app/);
    expect(await page.getByLabel('Password').count()).toBe(1);
    await page.goto(`${srv().base}/EnrollmentServer/Auth?appru=${encodeURIComponent(APPRU)}&login_hint=zoe%40contoso.com`);
    expect(await page.getByRole('link', { name: /Sign in with/ }).count()).toBe(0);
    expect(await page.getByLabel('Password').count()).toBe(1);
    await context.close();
  });

  run('signs in through the provider and hands appru a token that enrolls a device', async () => {
    const { context, page } = await viaProvider('bob@fabrikam.com', 'bob');
    await expect.poll(() => page.locator('form[method="post"]').getAttribute('action')).toBe(APPRU);
    const wresult = await wresultOf(page);
    expect(wresult).toBeTruthy();
    // The flow's state cookie is gone once the callback answered.
    expect((await context.cookies()).filter((c) => c.name === '__Host-winroll_oidc')).toEqual([]);
    await context.close();

    const { device, doc } = await enrollWithWresult(srv(), wresult ?? '');
    expect(doc.myCerts[0]?.store).toBe('User');
    expect((await srv().server.storage.getDevice(device.deviceId))?.upn).toBe('bob@fabrikam.com');
    const logs = srv().logs.join('\n');
    expect(logs).toContain('OIDC sign-in succeeded');
    expect(logs).not.toContain(wresult);
    expect(logs).not.toContain(idp.clientSecret);
  });

  run('a user the MFA setting covers still passes the code step after the provider', async () => {
    await mfa.setRequirement('all');
    try {
      const { secret } = await mfa.enroll('carol@fabrikam.com');
      await mfa.confirm('carol@fabrikam.com', await codeFor(secret));
      // The provider claims MFA, but it is not trusted to: Winroll asks for its own code.
      const { context, page } = await viaProvider('carol@fabrikam.com', 'carol', { mfa: true });
      await expect.poll(() => page.getByLabel('Verification code').count()).toBe(1);
      expect(await page.textContent('main')).toContain('carol@fabrikam.com');
      expect(await page.content()).not.toContain('wresult');
      await page.getByLabel('Verification code').fill(await codeFor(secret, 30));
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect.poll(() => page.locator('form[method="post"]').getAttribute('action')).toBe(APPRU);
      const wresult = await wresultOf(page);
      await context.close();
      const { device } = await enrollWithWresult(srv(), wresult ?? '');
      expect((await srv().server.storage.getDevice(device.deviceId))?.upn).toBe('carol@fabrikam.com');

      // Bob is covered too and has no factor: refused, as after a password.
      const bob = await viaProvider('bob@fabrikam.com', 'bob');
      await expect.poll(() => alertOf(bob.page)).toContain('authenticator app');
      expect(await bob.page.content()).not.toContain('wresult');
      await bob.context.close();

      // A provider trusted for MFA: its amr=mfa stands in for the code; without it the code is still asked.
      const trusted = await addProvider('Trusted IdP', ['--domains', 'fabrikam.com', '--trust-mfa']);
      expect(trusted.code, trusted.stderr).toBe(0);
      const withMfa = await viaProvider('carol@fabrikam.com', 'carol', { provider: 'Trusted IdP', mfa: true });
      await expect.poll(() => withMfa.page.locator('form[method="post"]').getAttribute('action')).toBe(APPRU);
      expect(await wresultOf(withMfa.page)).toBeTruthy();
      await withMfa.context.close();
      const withoutMfa = await viaProvider('carol@fabrikam.com', 'carol', { provider: 'Trusted IdP' });
      await expect.poll(() => withoutMfa.page.getByLabel('Verification code').count()).toBe(1);
      await withoutMfa.context.close();
      const removed = await winroll(['oidc', 'remove', 'trusted idp', '--json', ...cliData()]);
      expect(removed.code, removed.stderr).toBe(0);
      expect(JSON.parse(removed.stdout)).toMatchObject({ removed: 'Trusted IdP' });
    } finally {
      await mfa.setRequirement('off');
    }
  });

  run('refuses unknown, disabled and unverified accounts with a readable page and no token', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['mallory@fabrikam.com', 'mallory', /as mallory@fabrikam\.com, which is not an account that may enroll/],
      ['dave@fabrikam.com', 'dave', /can no longer enroll/],
      ['erin@fabrikam.com', 'erin', /has not verified the email address/],
    ];
    for (const [hint, login, message] of cases) {
      const { context, page } = await viaProvider(hint, login);
      await expect.poll(() => alertOf(page)).toMatch(message);
      expect(await page.content()).not.toContain('wresult');
      // Still the sign-in page for this appru, so the user can try another way.
      expect(await page.locator('input[name="appru"]').getAttribute('value')).toBe(APPRU);
      expect(await page.getByRole('link', { name: 'Sign in with Fabrikam IdP' }).count()).toBe(1);
      await context.close();
    }
  });

  run('refuses an account other than the one Windows is enrolling', async () => {
    const { context, page } = await viaProvider('bob@fabrikam.com', 'carol');
    await expect.poll(() => alertOf(page)).toContain('as carol@fabrikam.com, but this device is being enrolled for bob@fabrikam.com');
    expect(await page.content()).not.toContain('wresult');
    await context.close();
  });

  run('refuses a tampered state, a tampered code, a tampered cookie and a callback without the cookie', async () => {
    const refusedWithPage = async (flow: { context: BrowserContext; page: Page; status: number }, message: string) => {
      expect(flow.status).toBe(200);
      await expect.poll(() => alertOf(flow.page)).toContain(message);
      expect(await flow.page.content()).not.toContain('wresult');
      await flow.context.close();
    };
    // State changed: not the flow this browser started.
    await refusedWithPage(
      await tamperedFlow((u) => {
        u.searchParams.set('state', `${u.searchParams.get('state')}x`);
        return u;
      }),
      'could not be completed',
    );
    // Code changed: the provider refuses to redeem it.
    await refusedWithPage(
      await tamperedFlow((u) => {
        u.searchParams.set('code', `${u.searchParams.get('code')}x`);
        return u;
      }),
      'could not be completed',
    );
    // The user cancelled at the provider.
    await refusedWithPage(
      await tamperedFlow((u) => new URL(`${u.origin}${u.pathname}?error=access_denied&state=${u.searchParams.get('state')}`)),
      'was cancelled',
    );

    // Sealed cookie altered: nothing says where a token could go.
    const altered = await tamperedFlow(
      (u) => u,
      async (context) => {
        const cookie = (await context.cookies()).find((x) => x.name === '__Host-winroll_oidc');
        expect(cookie?.value).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
        const v = cookie?.value ?? '';
        await context.addCookies([
          { ...(cookie as NonNullable<typeof cookie>), value: `${v.slice(0, -3)}${v.endsWith('AAA') ? 'BBB' : 'AAA'}` },
        ]);
      },
    );
    expect(altered.status).toBe(400);
    expect(await altered.page.textContent('h1')).toBe('Start again');
    expect(await altered.page.content()).not.toContain('wresult');
    await altered.context.close();

    // No cookie (the response lands in a browser that did not start the flow).
    const none = await tamperedFlow(
      (u) => u,
      (context) => context.clearCookies({ name: '__Host-winroll_oidc' }),
    );
    expect(none.status).toBe(400);
    expect(await none.page.content()).not.toContain('wresult');
    await none.context.close();
  });

  run('starts only for Windows return addresses and known providers', async () => {
    const providerId = (await srv().server.storage.getOidcProviderByName('Fabrikam IdP'))?.id ?? '';
    const start = (q: Record<string, string>) => fetchPage(`${srv().base}/EnrollmentServer/Auth/oidc?${new URLSearchParams(q)}`);
    const evil = await start({ provider: providerId, appru: 'https://evil.example/steal' });
    expect(evil.status).toBe(400);
    expect(evil.location).toBeUndefined();
    const unknown = await start({ provider: randomUUID(), appru: APPRU, login_hint: 'bob@fabrikam.com' });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toContain('no longer available');
    const otherDomain = await start({ provider: providerId, appru: APPRU, login_hint: 'zoe@contoso.com' });
    expect(otherDomain.body).toContain('does not sign in accounts of your organisation');
    const ok = await start({ provider: providerId, appru: APPRU, login_hint: 'bob@fabrikam.com' });
    expect(ok.status).toBe(302);
    const to = new URL(ok.location ?? '');
    expect(to.origin).toBe(idp.issuer);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('login_hint')).toBe('bob@fabrikam.com');
    expect(to.searchParams.get('redirect_uri')).toBe(`${srv().base}${CALLBACK}`);
    expect(to.searchParams.get('nonce')).toBeTruthy();
    // The state cookie is sealed: neither the verifier, the nonce nor appru can be read from it.
    expect(ok.setCookie).toMatch(/^__Host-winroll_oidc=v1\.[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=600; Secure; HttpOnly; SameSite=Lax$/);
    expect(ok.setCookie).not.toContain(to.searchParams.get('nonce') ?? '');
    expect(ok.setCookie).not.toContain('ms-app');
  });

  run('the admin API lists, adds and removes providers by role, audited, never returning the secret', async () => {
    await srv().addUser('boss@contoso.com', PW);
    await srv().addUser('help@contoso.com', PW);
    await srv().addUser('auditor@contoso.com', PW);
    const {
      administrator: boss,
      helpdesk: help,
      readonly: auditor,
    } = await signInAdmins(srv(), signIn, PW, {
      administrator: 'boss@contoso.com',
      helpdesk: 'help@contoso.com',
      readonly: 'auditor@contoso.com',
    });

    const body = {
      name: 'Contoso Keycloak',
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      domains: ['contoso.com'],
      caPem: idp.caPem,
    };
    expectProblem(await call('POST', '/oidc-providers', { ...help, body }), 403, 'forbidden');
    expectProblem(await call('POST', '/oidc-providers', { ...auditor, body }), 403, 'forbidden');
    expectProblem(await call('POST', '/oidc-providers', { ...boss, body: { ...body, issuer: 'http://plain' } }), 422, 'invalid_input');
    const added = await call('POST', '/oidc-providers', { ...boss, body });
    expect(added.status, added.text).toBe(201);
    expect(added.json).toMatchObject({
      name: 'Contoso Keycloak',
      domains: ['contoso.com'],
      customCa: true,
      redirectUri: `${srv().base}${CALLBACK}`,
    });
    expect(added.text).not.toContain(idp.clientSecret);
    expectProblem(await call('POST', '/oidc-providers', { ...boss, body }), 409, 'conflict');

    const listed = await call('GET', '/oidc-providers', auditor);
    expect(listed.status).toBe(200);
    expect(listed.json.items.map((p: { name: string }) => p.name)).toEqual(['Contoso Keycloak', 'Fabrikam IdP']);
    expect(listed.text).not.toMatch(/secret/i);

    // Added through the API, it works on the page: zoe signs in at it.
    const zoe = await viaProvider('zoe@contoso.com', 'zoe', { provider: 'Contoso Keycloak' });
    await expect.poll(() => zoe.page.locator('form[method="post"]').getAttribute('action')).toBe(APPRU);
    await zoe.context.close();

    expectProblem(await call('DELETE', '/oidc-providers/Contoso%20Keycloak', help), 403, 'forbidden');
    expect((await call('DELETE', '/oidc-providers/contoso%20keycloak', boss)).status).toBe(204);
    expectProblem(await call('DELETE', '/oidc-providers/contoso%20keycloak', boss), 404, 'not_found');

    const audit = await call('GET', '/audit?limit=100&targetType=oidc_provider', boss);
    expect(audit.status, audit.text).toBe(200);
    const entries = audit.json.items as Array<{ action: string; targetId: string; outcome: string; actor: unknown }>;
    expect(entries.map((e) => [e.action, e.targetId, e.outcome])).toEqual(
      expect.arrayContaining([
        ['oidc_provider.add', 'Contoso Keycloak', 'succeeded'],
        ['oidc_provider.remove', 'Contoso Keycloak', 'succeeded'],
        ['oidc_provider.add', 'Fabrikam IdP', 'succeeded'],
      ]),
    );
    expect(audit.text).not.toContain(idp.clientSecret);

    // Removed, it is gone from the page.
    const { context, page } = await signInPage('zoe@contoso.com');
    expect(await page.getByRole('link', { name: /Sign in with/ }).count()).toBe(0);
    await context.close();
  });
});

/** One GET without following redirects, over the test server's TLS root. */
async function fetchPage(
  url: string,
): Promise<{ status: number; body: string; location?: string | undefined; setCookie?: string | undefined }> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          location: res.headers.location,
          setCookie: res.headers['set-cookie']?.[0],
        }),
      );
    });
    req.on('error', reject);
  });
}
