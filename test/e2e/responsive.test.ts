/**
 * The admin console and the Company Portal on a phone (375x740) in Chromium, against a real server with a PC the
 * simulator enrolled: every page the console's navigation lists, and the portal's pages, fit the screen (a wide
 * table scrolls inside its own box, never the page); the first Tab from the top reaches "Skip to content",
 * which moves focus to the main content; the navigation folds behind a Menu button (aria-expanded) that opens
 * and closes it with the keyboard. Pages pass axe; a few are screenshotted at phone width.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantAdmin } from '../support/admins.js';
import { chromiumPath } from '../support/browser.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { PASSWORD, SHOTS, type WebPage, openWebPage, pageCheck, signInConsole, signInPortal } from '../support/web-page.js';
import { axeViolations } from '../support/axe.js';

const chromium = chromiumPath();
const PHONE = { width: 375, height: 740 };

describe.skipIf(!chromium)('console and portal at phone width', () => {
  let t: TestServer | undefined;
  let pc: ManagedPc;
  let w: WebPage | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const srv = () => t as TestServer;
  const check = pageCheck(() => page, 'phone');

  const nav = () => page.getByRole('navigation', { name: 'Main' });
  const menu = () => nav().getByRole('button', { name: 'Menu' });
  /** Every page must fit the phone's width: the document never scrolls sideways. */
  async function fits(where: string): Promise<void> {
    const { scroll, inner, wide } = await page.evaluate(() => {
      // The innermost elements that stick out on the right: what to fix when the page is too wide.
      const out = [...document.querySelectorAll('body *')].filter(
        (e) =>
          !e.closest('.table-wrap') &&
          e.getBoundingClientRect().right > window.innerWidth + 1 &&
          ![...e.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1),
      );
      const name = (e: Element) =>
        `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className && typeof e.className === 'string' ? `.${e.className.split(' ').join('.')}` : ''}`;
      return {
        scroll: document.documentElement.scrollWidth,
        inner: window.innerWidth,
        wide: out.slice(0, 5).map((e) => `${name(e.parentElement as Element)} > ${name(e)}`),
      };
    });
    expect(scroll, `${where}: page width ${scroll} > ${inner}; too wide: ${wide.join(', ')}`).toBeLessThanOrEqual(inner);
  }
  /** Waits until the page has loaded what it shows (no "Loading…" left in main). */
  async function loaded(heading: string | RegExp): Promise<void> {
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Loading…'));
  }
  const focusedText = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
  /** From a freshly loaded page: the first Tab reaches the skip link, which sends focus to main. */
  async function skipLinkFirst(): Promise<void> {
    await page.keyboard.press('Tab');
    expect(await focusedText()).toBe('Skip to content');
    expect(await page.getByRole('link', { name: 'Skip to content' }).isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  }
  /** The Menu button opens the navigation from the keyboard, and choosing a link closes it. */
  async function openMenuByKeyboard(): Promise<void> {
    expect(await menu().getAttribute('aria-expanded')).toBe('false');
    await menu().focus();
    await page.keyboard.press('Enter');
    expect(await menu().getAttribute('aria-expanded')).toBe('true');
  }
  async function go(label: string): Promise<void> {
    await menu().click();
    expect(await menu().getAttribute('aria-expanded')).toBe('true');
    await nav().getByRole('link', { name: label, exact: true }).click();
    expect(await menu().getAttribute('aria-expanded')).toBe('false');
  }
  async function openBrowser(): Promise<void> {
    await browser?.close();
    w = await openWebPage(chromium as string, srv(), PHONE);
    browser = w.browser;
    page = w.page;
  }

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    for (const u of ['boss', 'alice']) await t.addUser(`${u}@contoso.com`, PASSWORD);
    await grantAdmin(t, 'boss@contoso.com', 'administrator');
    pc = await enrollPc(t, 'alice@contoso.com', PASSWORD);
    await pc.checkIn();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('admin console: sign-in, skip link, Menu, and every page in the navigation fits', async () => {
    await openBrowser();
    await page.goto(`${srv().base}/admin/`);
    await loaded('Sign in');
    await fits('sign-in');
    await check('admin-sign-in');
    await signInConsole(page, 'boss@contoso.com');

    // A fresh load of the dashboard: Tab from the top.
    await page.goto(`${srv().base}/admin/`);
    await loaded('Dashboard');
    await skipLinkFirst();
    // The navigation is folded: its links are hidden until the Menu button opens it.
    expect(await nav().getByRole('link', { name: 'Devices', exact: true }).isVisible()).toBe(false);
    await openMenuByKeyboard();
    const labels = await nav().getByRole('link').allInnerTexts();
    expect(labels).toEqual(expect.arrayContaining(['Dashboard', 'Devices', 'Users', 'Audit log']));
    await fits('menu open');
    await check('admin-menu-open');
    // Escape closes it and gives focus back to the button.
    await nav().getByRole('link', { name: 'Devices', exact: true }).focus();
    await page.keyboard.press('Escape');
    expect(await menu().getAttribute('aria-expanded')).toBe('false');
    expect(await focusedText()).toBe('Menu');

    for (const label of labels) {
      await go(label);
      await page.waitForFunction((l) => document.querySelector('nav [aria-current="page"]')?.textContent === l, label);
      await loaded(/./);
      await fits(label);
      expect(await axeViolations(page), `axe on ${label}`).toEqual([]);
    }
    // A few pages as a person sees them.
    for (const [label, name] of [
      ['Dashboard', 'admin-dashboard'],
      ['Devices', 'admin-devices'],
      ['Enrollment attempts', 'admin-attempts'],
      ['Audit log', 'admin-audit'],
    ] as const) {
      await go(label);
      await loaded(/./);
      await check(name);
    }
    // A wide table scrolls inside its own box, which the keyboard can reach.
    await go('Audit log');
    await loaded('Audit log');
    const box = page.locator('.table-wrap').first();
    expect(await box.evaluate((b) => b.scrollWidth > b.clientWidth)).toBe(true);
    expect(await box.getAttribute('tabindex')).toBe('0');
    expect(await box.getAttribute('aria-label')).toMatch(/scrolls sideways/);

    // The device page of the simulator's PC.
    await page.goto(`${srv().base}/admin/devices/${pc.device.deviceId}`);
    await loaded('Device');
    await page.getByText(pc.device.deviceName).first().waitFor();
    await fits('device');
    await check('admin-device');
    expect(w?.foreign).toEqual([]);
  });

  it('Company Portal: sign-in, skip link, Menu, my devices, a device, enroll and what your organisation can see fit', async () => {
    await openBrowser();
    await page.goto(`${srv().base}/portal/`);
    await loaded('Sign in');
    await fits('sign-in');
    await check('portal-sign-in');
    await signInPortal(page, 'alice@contoso.com');

    await page.goto(`${srv().base}/portal/`);
    await loaded('My devices');
    await skipLinkFirst();
    await page.getByRole('table', { name: 'Your devices' }).getByRole('link').first().waitFor();
    await fits('my devices');
    await check('portal-my-devices');

    await openMenuByKeyboard();
    expect(await nav().getByRole('link').allInnerTexts()).toEqual(['My devices', 'Enroll this device', 'What your organisation can see']);
    await check('portal-menu-open');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focusedText()).toBe('Enroll this device');
    await page.keyboard.press('Enter');
    await loaded('Enroll this device');
    expect(await menu().getAttribute('aria-expanded')).toBe('false');
    await page.getByRole('img', { name: /QR code of the enrollment link/ }).waitFor();
    await fits('enroll');
    await check('portal-enroll');

    await go('What your organisation can see');
    await loaded('What your organisation can see');
    await fits('privacy');
    expect(await axeViolations(page)).toEqual([]);

    await go('My devices');
    await loaded('My devices');
    await page.getByRole('table', { name: 'Your devices' }).getByRole('link').first().click();
    await page.getByRole('heading', { level: 2, name: 'Actions', exact: true }).waitFor();
    await loaded(/./);
    await fits('device');
    await check('portal-device');
    // In a high-contrast theme the Menu button still shows its icon and label.
    await page.emulateMedia({ forcedColors: 'active' });
    await page.screenshot({ path: `${SHOTS}/phone-portal-device-forced-colors.png`, fullPage: true });
    await page.emulateMedia({ forcedColors: 'none' });
    expect(w?.foreign).toEqual([]);
  });
});
