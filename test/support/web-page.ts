/**
 * What every browser walk of the console and the portal shares: a Chromium page on the test server, a check
 * that saves a screenshot as a test artifact and runs axe-core, sign-in to each app, and a guard that the
 * page never fetched anything from another origin (no fonts or CDNs).
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { axeViolations } from './axe.js';
import { launchChromium } from './browser.js';
import type { TestServer } from './server.js';

export const SHOTS = 'test-artifacts/screenshots';
export const PASSWORD = 'correct horse battery';

export interface WebPage {
  browser: Browser;
  page: Page;
  /** URLs the page requested from any origin other than the server's. */
  foreign: string[];
}

/** Chromium with one page; requests to other origins are recorded in `foreign`. */
export async function openWebPage(
  chromium: string,
  t: TestServer,
  viewport: { width: number; height: number } = { width: 1200, height: 850 },
): Promise<WebPage> {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await launchChromium(chromium);
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
  const page = await context.newPage();
  const foreign: string[] = [];
  const origin = new URL(t.base).origin;
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.origin !== origin) foreign.push(r.url());
  });
  return { browser, page, foreign };
}

/** Screenshot `<prefix>-<name>.png` into the artifacts folder, then require no serious or critical axe violation. */
export function pageCheck(page: () => Page, prefix: string): (name: string) => Promise<void> {
  return async (name) => {
    await page().screenshot({ path: `${SHOTS}/${prefix}-${name}.png`, fullPage: true });
    expect(await axeViolations(page()), `axe on ${prefix} ${name}`).toEqual([]);
  };
}

/** Sign in on the admin console's form (the page must show it) and wait for the dashboard. */
export async function signInConsole(page: Page, upn: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Work account', { exact: true }).fill(upn);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
}

/** Sign in on the Company Portal's form (the page must show it) and wait for "My devices". */
export async function signInPortal(page: Page, upn: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Work account (e-mail address)').fill(upn);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'My devices' }).waitFor();
}

/** The console's main navigation link with this exact name. */
export const consoleNav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
