/**
 * The federated sign-in page with the MFA setting on, in a real browser (Chromium), as Windows' web
 * authentication broker shows it: the password first, then a labelled one-time-code field; the token
 * reaches appru only after a valid, unused code. Wrong, replayed and too many codes get a visible alert;
 * a user who must use MFA but has none is sent to IT; with MFA off nothing changes.
 */
import { randomUUID } from 'node:crypto';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPaths, loadOrCreateSecret } from '../../src/app/data-dir.js';
import { MFA_ATTEMPT_LIMIT, MfaService } from '../../src/core/mfa/mfa-service.js';
import type { MfaRequired } from '../../src/core/mfa/ports.js';
import { systemClock } from '../../src/shared/clock.js';
import { chromiumPath, launchChromium } from '../support/browser.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { enrollWithWresult } from '../support/wresult.js';

const executable = chromiumPath();
const APPRU = 'ms-app://windows.immersivecontrolpanel';
const PASSWORD = 'correct horse battery';

/** The code an authenticator app shows `offset` seconds from now. */
const codeFor = (secret: string, offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset });

describe.skipIf(!executable)('federated sign-in with a second factor, in Chromium', () => {
  let t: TestServer;
  let browser: Browser;
  let mfa: MfaService;

  beforeAll(async () => {
    t = (await startTestServer('sqlite')) as TestServer;
    await t.addDomain('fabrikam.com', 'Federated');
    // The same key the server loaded from its data folder, as the CLI would.
    mfa = new MfaService({
      store: t.server.storage,
      masterKey: await loadOrCreateSecret(dataPaths(t.dataDir).mfaKey),
      clock: systemClock,
      issuer: 'Fabrikam',
    });
    browser = await launchChromium(executable as string);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const requireMfa = (required: MfaRequired) => mfa.setRequirement(required);

  /** A user with a confirmed factor; the confirming code used the current step, so sign-ins start at the next. */
  async function userWithFactor(): Promise<{ upn: string; secret: string }> {
    const upn = `u-${randomUUID().slice(0, 8)}@fabrikam.com`;
    await t.addUser(upn, PASSWORD);
    const { secret } = await mfa.enroll(upn);
    await mfa.confirm(upn, await codeFor(secret));
    return { upn, secret };
  }

  async function passwordStep(upn: string, javaScriptEnabled = false): Promise<Page> {
    // The page is served over our real TLS; the browser is not given our private root, so skip its check.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled });
    const page = await context.newPage();
    await page.goto(`${t.base}/EnrollmentServer/Auth?appru=${encodeURIComponent(APPRU)}&login_hint=${encodeURIComponent(upn)}`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }

  async function submitCode(page: Page, code: string): Promise<void> {
    await page.getByLabel('Verification code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForLoadState();
  }

  it('asks for a code after the password, and hands a token that enrolls only after it', async () => {
    await requireMfa('all');
    const { upn, secret } = await userWithFactor();
    const page = await passwordStep(upn);
    const otp = page.getByLabel('Verification code');
    await expect.poll(() => otp.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await otp.getAttribute('inputmode')).toBe('numeric');
    expect(await otp.getAttribute('name')).toBe('otp');
    // The second step carries a signed state, never the password, and no token yet.
    const html = await page.content();
    expect(html).not.toContain(PASSWORD);
    expect(html).not.toContain('wresult');
    expect(await page.locator('input[name="state"]').getAttribute('value')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await page.textContent('main')).toContain(upn);

    await submitCode(page, await codeFor(secret, 30));
    const form = page.locator('form[method="post"]');
    await expect.poll(() => form.getAttribute('action')).toBe(APPRU);
    const wresult = await page.locator('input[name="wresult"]').getAttribute('value');
    expect(wresult).toBeTruthy();
    await page.context().close();

    const { device, doc } = await enrollWithWresult(t, wresult ?? '');
    expect(doc.myCerts[0]?.store).toBe('User');
    expect((await t.server.storage.getDevice(device.deviceId))?.upn).toBe(upn);
    // Nothing in the server's log carries the secret.
    expect(t.logs.join('\n')).not.toContain(secret);
  });

  it('says so when the code is wrong, and accepts the right one on the same step', async () => {
    await requireMfa('all');
    const { upn, secret } = await userWithFactor();
    const page = await passwordStep(upn);
    const right = await codeFor(secret, 30);
    await submitCode(page, right === '123456' ? '654321' : '123456');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not correct');
    expect(await page.getByLabel('Verification code').getAttribute('aria-describedby')).toContain('error');
    expect(await page.content()).not.toContain('wresult');
    await submitCode(page, right);
    await expect.poll(() => page.locator('form[method="post"]').getAttribute('action')).toBe(APPRU);
    await page.context().close();
  });

  it('refuses a code that was already used', async () => {
    await requireMfa('all');
    const { upn, secret } = await userWithFactor();
    const code = await codeFor(secret, 30);
    const first = await passwordStep(upn);
    await submitCode(first, code);
    await expect.poll(() => first.locator('input[name="wresult"]').count()).toBe(1);
    await first.context().close();

    const second = await passwordStep(upn);
    await submitCode(second, code);
    await expect.poll(() => second.getByRole('alert').textContent()).toContain('already used');
    expect(await second.content()).not.toContain('wresult');
    await second.context().close();
  });

  it(`stops after ${MFA_ATTEMPT_LIMIT} wrong codes, even for the right one`, async () => {
    await requireMfa('all');
    const { upn, secret } = await userWithFactor();
    const page = await passwordStep(upn);
    const right = await codeFor(secret, 30);
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < MFA_ATTEMPT_LIMIT; i++) {
      await submitCode(page, wrong);
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('not correct');
    }
    await submitCode(page, right);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Too many incorrect codes');
    expect(await page.content()).not.toContain('wresult');
    await page.context().close();
  });

  it('refuses a user who must use a second factor but has none, and tells them to contact IT', async () => {
    await requireMfa('all');
    const upn = `nofactor-${randomUUID().slice(0, 8)}@fabrikam.com`;
    await t.addUser(upn, PASSWORD);
    const page = await passwordStep(upn);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Contact your IT department');
    expect(await page.locator('input[name="otp"]').count()).toBe(0);
    expect(await page.content()).not.toContain('wresult');
    await page.context().close();
  });

  it('asks to sign in again when the code step was tampered with', async () => {
    await requireMfa('all');
    const { upn, secret } = await userWithFactor();
    const page = await passwordStep(upn, true);
    await page.locator('input[name="state"]').evaluate((el) => {
      const input = el as HTMLInputElement;
      input.value = `${input.value.slice(0, -4)}AAAA`;
    });
    await submitCode(page, await codeFor(secret, 30));
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Sign in again');
    expect(await page.getByLabel('Password').count()).toBe(1);
    await page.context().close();
  });

  it('with MFA off, the password alone hands the token over, as before', async () => {
    await requireMfa('off');
    const { upn } = await userWithFactor();
    const page = await passwordStep(upn);
    await expect.poll(() => page.locator('form[method="post"]').getAttribute('action')).toBe(APPRU);
    expect(await page.locator('input[name="wresult"]').getAttribute('value')).toBeTruthy();
    expect(await page.locator('input[name="otp"]').count()).toBe(0);
    await page.context().close();
  });
});
