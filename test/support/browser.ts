/** Debian's Chromium driven by playwright-core. Missing Chromium skips browser tests outside CI only. */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const CHROMIUM = process.env.WINROLL_TEST_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumPath(): string | undefined {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: browser tests must run in CI`);
  console.warn(`[winroll tests] skipping browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  return undefined;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
