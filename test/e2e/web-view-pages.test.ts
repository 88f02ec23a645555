/**
 * The pages Windows itself opens, in Chromium at the sizes of Windows' enrollment web view (600x700 and
 * 1024x768): the MDM terms of use (opened as Windows' web host opens it, with the user's Entra token as a
 * bearer and CXH-HOST naming the host) and the compliance page of a PC the simulator enrolled. Each is read,
 * answered with the keyboard only, checked for sideways scrolling, screenshotted and checked with axe; the
 * dark and high-contrast (forced colours) renderings are screenshotted too. Accept ends in a redirect to the
 * ms-appx-web: callback, which Chromium cannot open: the test reads it from the form's response.
 */
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { healthySecurityState, newSimulatedDevice } from '../../src/simulator/device.js';
import { enroll } from '../../src/simulator/enroll.js';
import { signInAdmins } from '../support/admins.js';
import { apiClient } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { type TenantKey, mintEntraToken, newTenantKey, saveTenant } from '../support/entra.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { PASSWORD, SHOTS, openWebPage, pageCheck } from '../support/web-page.js';

const chromium = chromiumPath();
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '0000000a-0000-0000-c000-000000000000';
const REDIRECT = 'ms-appx-web://Microsoft.AAD.BrokerPlugin/TermsOfUse';
const CRID = '4d1c2b3a-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const SIZES = [
  { width: 600, height: 700 },
  { width: 1024, height: 768 },
] as const;

describe.skipIf(!chromium)("pages Windows opens, in its web view's sizes", () => {
  let t: TestServer | undefined;
  let key: TenantKey;
  let pc: ManagedPc;
  let browser: Browser | undefined;
  let page: Page;
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  const check = pageCheck(() => page, 'webview');
  const mint = (upn: string) => mintEntraToken(upn, { tid: TID, aud: srv().base, key: key.privateKey });

  /** A fresh Chromium page of this size; `headers` go with every request (Windows' web host sends them). */
  async function open(size: { width: number; height: number }, headers: Record<string, string> = {}) {
    await browser?.close();
    const w = await openWebPage(chromium as string, srv(), size);
    browser = w.browser;
    page = w.page;
    await page.setExtraHTTPHeaders(headers);
    return w;
  }
  const termsUrl = (join: boolean) => {
    const q = new URLSearchParams({ redirect_uri: REDIRECT, 'api-version': '1.0', 'client-request-id': CRID });
    if (join) q.set('mode', 'azureadjoin');
    return `${srv().base}/EnrollmentServer/TermsOfUse?${q}`;
  };
  /** Nothing wider than the window: no sideways scrolling in the web view. */
  const noSidewaysScroll = async () => {
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    expect(scroll, 'page width').toBeLessThanOrEqual(inner as number);
  };
  /** The terms take focus on their own (autofocus, applied when the page first renders). */
  const termsFocused = () => page.waitForFunction(() => document.activeElement?.id === 'terms');
  const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim() || '');
  /** The focused element draws a focus ring (an outline a user can see). */
  const focusRing = () =>
    page.evaluate(() => {
      const s = getComputedStyle(document.activeElement as Element);
      return s.outlineStyle !== 'none' && Number.parseFloat(s.outlineWidth) >= 2;
    });
  /** Presses `key` on the focused control and returns the form's answer (the redirect Windows would follow). */
  async function submitWith(keyName: string): Promise<URLSearchParams> {
    const answer = page.waitForResponse(
      (r: Response) => r.request().method() === 'POST' && r.url().endsWith('/EnrollmentServer/TermsOfUse'),
    );
    await page.keyboard.press(keyName);
    const res = await answer;
    expect(res.status()).toBe(302);
    const location = res.headers().location ?? '';
    expect(location.startsWith(`${REDIRECT}?`), location).toBe(true);
    return new URL(location).searchParams;
  }

  beforeAll(async () => {
    t = await startTestServer('sqlite', { organizationName: 'Contoso' });
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    for (const u of ['alice', 'boss']) await t.addUser(`${u}@contoso.com`, PASSWORD);
    key = await newTenantKey();
    await saveTenant(t, TID, CLIENT_ID, key);
    const { administrator } = await signInAdmins(t, signIn, PASSWORD, { administrator: 'boss@contoso.com' });
    for (const [method, path, body] of [
      ['PUT', '/settings/scopes', { mdm: { mode: 'all' }, mam: { mode: 'none' } }],
      ['PUT', '/compliance/rules', { requireFirewall: true, requireEncryption: true }],
    ] as const) {
      const r = await call(method, path, { ...administrator, body });
      expect(r.status, `${method} ${path}: ${r.text}`).toBeLessThan(300);
    }
    // Alice's PC reports its firewall off: not compliant, with a fix to show.
    pc = await enrollPc(t, 'alice@contoso.com', PASSWORD, 'Full', { security: { ...healthySecurityState(), firewallStatus: 1 } });
    await pc.checkIn();
  }, 180_000);
  afterEach(async () => {
    await page?.emulateMedia({ colorScheme: null, forcedColors: null }).catch(() => {});
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it.each(SIZES)(
    'terms of use from Settings at $width x $height: read, Decline and Accept by keyboard, Accept redirects with the blob',
    async (size) => {
      const token = await mint('alice@contoso.com');
      const w = await open(size, { authorization: `Bearer ${token}`, 'CXH-HOST': 'MOSET' });
      await page.goto(termsUrl(false));
      await page.getByRole('heading', { level: 1, name: 'Contoso terms of use' }).waitFor();
      const terms = page.getByRole('region', { name: 'Contoso terms of use' });
      await expect(terms.textContent()).resolves.toContain('Contoso cannot see your personal files');
      expect(await page.getByRole('button', { name: 'Decline' }).isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Accept' }).isVisible()).toBe(true);
      await noSidewaysScroll();
      // The light theme Settings asks for.
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(243, 243, 243)');
      // Keyboard: the terms take the first focus (arrow keys scroll them), then Decline, then Accept.
      await termsFocused();
      expect(await focusRing()).toBe(true);
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('Decline');
      expect(await focusRing()).toBe(true);
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('Accept');
      expect(await focusRing()).toBe(true);
      await check(`terms-moset-${size.width}`);

      const accepted = await submitWith('Enter');
      expect(accepted.get('IsAccepted')).toBe('true');
      expect(accepted.get('client-request-id')).toBe(CRID);
      expect(accepted.get('OpaqueBlob')?.split('.')).toHaveLength(3);
      // Chromium follows the redirect to the ms-appx-web: callback (and cannot open it): that navigation is the hand-off.
      await expect
        .poll(() =>
          w.foreign.some((u) => u.startsWith(REDIRECT) && new URL(u).searchParams.get('OpaqueBlob') === accepted.get('OpaqueBlob')),
        )
        .toBe(true);

      // Decline, by Tab then Space, in a new web view (as Windows opens one for each attempt).
      const again = await open(size, { authorization: `Bearer ${token}`, 'CXH-HOST': 'MOSET' });
      await page.goto(termsUrl(false));
      await page.getByRole('button', { name: 'Decline' }).waitFor();
      await termsFocused();
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('Decline');
      const declined = await submitWith('Space');
      expect(declined.get('IsAccepted')).toBe('false');
      expect(declined.get('OpaqueBlob')).toBeNull();
      for (const run of [w, again]) expect(run.foreign.filter((u) => !u.startsWith(REDIRECT))).toEqual([]);
    },
  );

  it('terms of use in OOBE (Entra join) at 600 x 700: dark, Accept only, and the blob it returns enrolls the PC', async () => {
    const token = await mint('alice@contoso.com');
    const w = await open(SIZES[0], { authorization: `Bearer ${token}`, 'CXH-HOST': 'FRX' });
    await page.goto(termsUrl(true));
    await page.getByRole('button', { name: 'Accept' }).waitFor();
    expect(await page.getByRole('button', { name: 'Decline' }).count()).toBe(0);
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(31, 31, 31)');
    await noSidewaysScroll();
    await termsFocused();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Accept');
    expect(await focusRing()).toBe(true);
    await check('terms-frx-600');

    const accepted = await submitWith('Enter');
    expect(accepted.get('IsAccepted')).toBe('true');
    const blob = accepted.get('OpaqueBlob') as string;
    await expect.poll(() => w.foreign.some((u) => u.startsWith(REDIRECT) && u.includes(blob))).toBe(true);
    const outcome = await enroll({
      server: srv().base,
      upn: 'alice@contoso.com',
      password: '',
      directoryToken: await mint('alice@contoso.com'),
      device: newSimulatedDevice(),
      agent: srv().agent,
      enrollmentType: 'Device',
      enrollmentData: blob,
    });
    expect(outcome.store).toBe('System');
    expect(w.foreign.filter((u) => !u.startsWith(REDIRECT))).toEqual([]);
  });

  it('terms of use in a high-contrast theme and in a dark system theme (no host header)', async () => {
    const token = await mint('alice@contoso.com');
    await open(SIZES[0], { authorization: `Bearer ${token}`, 'CXH-HOST': 'MOSET' });
    await page.emulateMedia({ forcedColors: 'active' });
    await page.goto(termsUrl(false));
    await page.getByRole('button', { name: 'Accept' }).waitFor();
    expect(await page.evaluate(() => matchMedia('(forced-colors: active)').matches)).toBe(true);
    // The primary button keeps a fill of its own (the system's highlight) so it still stands out.
    const [accept, decline] = await Promise.all(
      ['Accept', 'Decline'].map((name) => page.getByRole('button', { name }).evaluate((b) => getComputedStyle(b).backgroundColor)),
    );
    expect(accept).not.toBe(decline);
    await noSidewaysScroll();
    await page.screenshot({ path: `${SHOTS}/webview-terms-forced-colors-600.png`, fullPage: true });

    // Without CXH-HOST the page follows the system's light or dark setting.
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${token}` });
    await page.emulateMedia({ forcedColors: 'none', colorScheme: 'dark' });
    await page.goto(termsUrl(false));
    await page.getByRole('button', { name: 'Accept' }).waitFor();
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(31, 31, 31)');
    await check('terms-system-dark-600');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(243, 243, 243)');
  });

  it.each(SIZES)(
    'compliance page opened by Windows (bearer) at $width x $height: the PC, what is wrong and how to fix it',
    async (size) => {
      const w = await open(size, { authorization: `Bearer ${await mint('alice@contoso.com')}` });
      await page.goto(`${srv().base}/compliance`);
      await page.getByRole('heading', { level: 1, name: 'Device compliance' }).waitFor();
      const body = (await page.locator('main').textContent()) ?? '';
      expect(body).toContain('Signed in as alice@contoso.com');
      const device = page.getByRole('region', { name: pc.device.deviceName });
      await expect(device.textContent()).resolves.toContain('Does not meet your organisation’s requirements');
      const firewall = page.getByRole('group', { name: 'Firewall: needs fixing' });
      await expect(firewall.textContent()).resolves.toMatch(/The firewall is off\..*Windows Security > Firewall & network protection/s);
      await expect(device.textContent()).resolves.toContain('Drive encryption (BitLocker): encrypted');
      await expect(device.textContent()).resolves.toMatch(/Recent check-in: \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC/);
      // Signed in by Windows: nothing to sign out of.
      expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
      await noSidewaysScroll();
      await check(`compliance-${size.width}`);

      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(31, 31, 31)');
      await check(`compliance-dark-${size.width}`);
      await page.emulateMedia({ colorScheme: 'light', forcedColors: 'active' });
      await noSidewaysScroll();
      await page.screenshot({ path: `${SHOTS}/webview-compliance-forced-colors-${size.width}.png`, fullPage: true });
      expect(w.foreign.filter((u) => !u.startsWith(REDIRECT))).toEqual([]);
    },
  );

  it('compliance page without a token at 600 x 700: sign in, read and sign out with the keyboard only', async () => {
    const w = await open(SIZES[0]);
    await page.goto(`${srv().base}/compliance`);
    await page.getByRole('heading', { level: 1, name: 'Device compliance' }).waitFor();
    await noSidewaysScroll();
    await check('compliance-sign-in-600');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('username');
    await page.keyboard.type('alice@contoso.com');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('password');
    expect(await focusRing()).toBe(true);
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as').waitFor();
    await page.getByRole('group', { name: 'Firewall: needs fixing' }).waitFor();

    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Sign out');
    expect(await focusRing()).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByLabel('Work account').waitFor();
    expect(await page.getByText('Signed in as').count()).toBe(0);
    expect(w.foreign.filter((u) => !u.startsWith(REDIRECT))).toEqual([]);
  });
});
