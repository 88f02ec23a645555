/**
 * Company Portal sign-in through an OpenID Connect provider, in Debian's Chromium: a local provider
 * (test/support/oidc-provider.ts, real TLS) configured with `winroll oidc add`, the portal's sign-in page
 * offering "Sign in with <provider>", the provider's login page, the portal callback, and My devices
 * showing the user's simulator-enrolled device (and nobody else's). A disabled or unknown user comes back
 * to the sign-in page with the reason and no session. The public provider list carries no secret.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { dataFlags, winroll } from '../support/cli.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { type TestIdp, startTestIdp } from '../support/oidc-provider.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { PASSWORD as PW, type WebPage, openWebPage, pageCheck } from '../support/web-page.js';

const chromium = chromiumPath();
const PROVIDER = 'Fabrikam IdP';

describe.skipIf(!chromium)('Company Portal sign-in with an OIDC provider', () => {
  let t: TestServer | undefined;
  let idp: TestIdp;
  let web: WebPage;
  let page: Page;
  let bobs: ManagedPc;
  let carols: ManagedPc;
  let bobsTitle: string;
  const contexts: BrowserContext[] = [];
  const srv = () => t as TestServer;
  const shot = pageCheck(() => page, 'portal-oidc');

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('fabrikam.com');
    // bob and carol enroll their PCs with the simulator; in the portal bob signs in at the provider only.
    for (const u of ['bob', 'carol', 'dave']) await t.addUser(`${u}@fabrikam.com`, PW);
    bobs = await enrollPc(t, 'bob@fabrikam.com', PW);
    carols = await enrollPc(t, 'carol@fabrikam.com', PW);
    for (const pc of [bobs, carols]) await pc.checkIn();
    const m = await t.server.storage.getManagedDevice(bobs.device.deviceId);
    bobsTitle = m?.inventory?.deviceName ?? m?.device.deviceName ?? bobs.device.deviceId;
    const dave = await t.directory.findUser('dave@fabrikam.com');
    await t.server.storage.setUserEnabled(dave?.id ?? '', false, new Date());

    idp = await startTestIdp({
      redirectUris: [`${t.base}/EnrollmentServer/Auth/oidc/callback`, `${t.base}/portal/api/oidc/callback`],
    });
    idp.addAccount('bob', { email: 'bob@fabrikam.com', email_verified: true });
    idp.addAccount('dave', { email: 'dave@fabrikam.com', email_verified: true });
    idp.addAccount('mallory', { email: 'mallory@fabrikam.com', email_verified: true });

    const secretFile = path.join(t.dataDir, 'idp-secret.txt');
    const caFile = path.join(t.dataDir, 'idp-ca.pem');
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
      '--json',
      ...dataFlags(t),
    ]);
    expect(added.code, added.stderr).toBe(0);
    // Both redirect URIs to register are printed, the portal's derived from the enrollment one.
    const shown = JSON.parse(added.stdout) as { redirectUri: string; portalRedirectUri: string };
    expect(shown.redirectUri).toMatch(/\/EnrollmentServer\/Auth\/oidc\/callback$/);
    expect(shown.portalRedirectUri).toBe(`${new URL(shown.redirectUri).origin}/portal/api/oidc/callback`);

    web = await openWebPage(chromium as string, t, { width: 1100, height: 800 });
    page = web.page;
  }, 180_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await web?.browser.close();
    await idp?.close();
    await t?.stop();
  });

  /** A fresh browser context (no provider session left from an earlier sign-in) on the portal's sign-in page. */
  async function freshSignInPage(): Promise<Page> {
    const context = await web.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 800 } });
    contexts.push(context);
    const p = await context.newPage();
    await p.goto(`${srv().base}/portal/`);
    await p.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    return p;
  }

  /** From the portal's sign-in page through the provider's login page; resolves once back on the portal. */
  async function viaProvider(p: Page, login: string): Promise<void> {
    await p.getByRole('link', { name: `Sign in with ${PROVIDER}` }).click();
    await p.getByLabel('IdP user').fill(login);
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.waitForURL((u) => u.origin === new URL(srv().base).origin && u.pathname === '/portal/');
  }

  it('lists the providers publicly by id and name only, never the issuer, client or secret', async () => {
    const res = await requestJson(srv(), 'GET', '/portal/api/oidc/providers', {}, undefined);
    expect(res.status, res.text).toBe(200);
    expect(res.json.items).toEqual([{ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: PROVIDER, href: expect.any(String) }]);
    for (const secret of [idp.clientSecret, idp.clientId, idp.issuer]) expect(res.text).not.toContain(secret);
  });

  it('signs a user in at the provider and lands on My devices with their simulator-enrolled device', async () => {
    await page.goto(`${srv().base}/portal/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByRole('link', { name: `Sign in with ${PROVIDER}` }).waitFor();
    await shot('sign-in-with-provider');

    await viaProvider(page, 'bob');
    await page.getByRole('heading', { level: 1, name: 'My devices' }).waitFor();
    const table = page.getByRole('table', { name: 'Your devices' });
    await table.getByRole('link', { name: bobsTitle }).first().waitFor();
    expect(await table.getByText('You are the primary user').count()).toBe(1);
    expect(await page.content()).not.toContain(carols.device.deviceId);
    await expect.poll(() => page.getByText('bob@fabrikam.com').count()).toBeGreaterThan(0);
    await shot('my-devices');

    // The same session cookie and limits as the password sign-in; the flow's state cookie is gone.
    const cookies = await page.context().cookies(srv().base);
    const session = cookies.find((c) => c.name === '__Host-winroll_portal');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(cookies.find((c) => c.name === '__Host-winroll_portal_oidc')).toBeUndefined();
    // The only other origin the browser visited is the provider's.
    for (const u of web.foreign) expect(new URL(u).origin).toBe(idp.issuer);
  });

  it('refuses a disabled user with the reason on the sign-in page, and opens no session', async () => {
    page = await freshSignInPage();
    await viaProvider(page, 'dave');
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Your account is disabled/);
    // The reason code is not left in the address bar.
    expect(new URL(page.url()).search).toBe('');
    expect((await page.context().cookies(srv().base)).find((c) => c.name === '__Host-winroll_portal')).toBeUndefined();
    await shot('disabled-user');
  });

  it('refuses an account the directory does not know with the reason', async () => {
    page = await freshSignInPage();
    await viaProvider(page, 'mallory');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not an account of this Company Portal/);
    expect((await page.context().cookies(srv().base)).find((c) => c.name === '__Host-winroll_portal')).toBeUndefined();
  });

  it('sends a callback without this browser’s state back to the sign-in page to start again', async () => {
    page = await freshSignInPage();
    await page.goto(`${srv().base}/portal/api/oidc/callback?code=forged&state=forged`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Start again/);
  });
});
