import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchChromium } from '../support/browser.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { enrollWithWresult } from '../support/wresult.js';

const executable = chromiumPath();
const APPRU = 'ms-app://windows.immersivecontrolpanel';

describe.skipIf(!executable)('federated sign-in page in Chromium', () => {
  let t: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    t = (await startTestServer('sqlite')) as TestServer;
    await t.addDomain('fabrikam.com', 'Federated');
    await t.addUser('bob@fabrikam.com', 'correct horse battery');
    browser = await launchChromium(executable as string);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const open = async (javaScriptEnabled: boolean) => {
    // The page is served over our real TLS; the browser is not given our private root, so skip its check.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled });
    const page = await context.newPage();
    await page.goto(`${t.base}/EnrollmentServer/Auth?appru=${encodeURIComponent(APPRU)}&login_hint=bob%40fabrikam.com`);
    return { context, page };
  };

  it('shows labelled fields with the login hint, and says so when the password is wrong', async () => {
    const { context, page } = await open(true);
    await expect.poll(() => page.getByLabel('Work account').inputValue()).toBe('bob@fabrikam.com');
    await page.getByLabel('Password').fill('not my password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('incorrect');
    // Still the sign-in form, with the account kept, and no token anywhere on the page.
    expect(await page.getByLabel('Work account').inputValue()).toBe('bob@fabrikam.com');
    expect(await page.content()).not.toContain('wresult');
    await context.close();
  });

  it('hands a token to appru that enrolls a device', async () => {
    // Without scripts the hand-off form stays on screen, so the test can read what would be posted.
    const { context, page } = await open(false);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const form = page.locator('form[method="post"]');
    await expect.poll(() => form.getAttribute('action')).toBe(APPRU);
    const wresult = await page.locator('input[name="wresult"]').getAttribute('value');
    expect(wresult).toBeTruthy();
    await context.close();

    const { device, doc } = await enrollWithWresult(t, wresult ?? '');
    expect(doc.myCerts[0]?.store).toBe('User');
    expect((await t.server.storage.getDevice(device.deviceId))?.upn).toBe('bob@fabrikam.com');
  });

  it('the page with scripts on submits the hand-off form to appru by itself', async () => {
    const { context, page } = await open(true);
    // Chromium cannot open ms-app: (that is Windows' broker's job), so record the submission instead.
    let submitted = '';
    await page.exposeFunction('recordSubmit', (v: string) => {
      submitted = v;
    });
    await page.addInitScript(() => {
      const submit = HTMLFormElement.prototype.submit;
      HTMLFormElement.prototype.submit = function (this: HTMLFormElement) {
        (window as unknown as { recordSubmit(v: string): void }).recordSubmit(
          `${this.getAttribute('action')} ${new FormData(this).has('wresult')}`,
        );
        return submit.call(this);
      };
    });
    await page.reload();
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => submitted, { timeout: 10_000 }).toBe(`${APPRU} true`);
    await context.close();
  });
});
