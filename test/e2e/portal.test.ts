/**
 * The Company Portal in Debian's Chromium against a real server with devices enrolled by the simulator: an
 * end user signs in, sees their devices, opens the enrollment page (link and QR code), reads what the
 * organisation can see on a personal device, and removes a device through the confirmation dialog. Every
 * page is screenshotted (test-artifacts/screenshots/) and checked with axe-core.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath } from '../support/browser.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { openWebPage, PASSWORD as PW, pageCheck, signInPortal, type WebPage } from '../support/web-page.js';

const chromium = chromiumPath();

describe.skipIf(!chromium)('Company Portal in the browser', () => {
  let t: TestServer | undefined;
  let web: WebPage;
  let page: WebPage['page'];
  let pcs: ManagedPc[] = [];
  const titles: string[] = [];
  const shot = pageCheck(() => page, 'portal');

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    await t.addUser('alice@contoso.com', PW);
    pcs = [await enrollPc(t, 'alice@contoso.com', PW), await enrollPc(t, 'alice@contoso.com', PW)];
    for (const pc of pcs) {
      await pc.checkIn();
      const m = await t.server.storage.getManagedDevice(pc.device.deviceId);
      titles.push(m?.inventory?.deviceName ?? m?.device.deviceName ?? pc.device.deviceId);
    }
    web = await openWebPage(chromium as string, t, { width: 1100, height: 800 });
    page = web.page;
  }, 120_000);
  afterAll(async () => {
    await web?.browser.close();
    await t?.stop();
  });

  it('walks sign-in, my devices, enroll, what your organisation can see, and Remove with confirmation', async () => {
    const base = (t as TestServer).base;
    await page.goto(`${base}/portal/`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    await shot('sign-in');
    await signInPortal(page, 'alice@contoso.com');

    // My devices: both simulated PCs, as the primary user.
    const table = page.getByRole('table', { name: 'Your devices' });
    await table.getByRole('row').nth(2).waitFor();
    for (const title of titles) await expect(table.getByRole('link', { name: title }).count()).resolves.toBeGreaterThan(0);
    expect(await table.getByText('You are the primary user').count()).toBe(2);
    await shot('my-devices');

    // Enroll this device: steps, the ms-device-enrollment link and its QR code.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Enroll this device' }).click();
    await page.getByRole('heading', { level: 1, name: 'Enroll this device' }).waitFor();
    const link = page.getByRole('link', { name: 'Enroll this device' }).last();
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe('ms-device-enrollment:?mode=mdm&username=alice%40contoso.com&servername=localhost');
    const qr = page.getByRole('img', { name: /QR code of the enrollment link/ });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    expect(await qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    await shot('enroll');

    // From the instructions to what the organisation can see on a personal device.
    await page.getByRole('link', { name: 'what your organisation can see on your device' }).click();
    await page.getByRole('heading', { level: 1, name: 'What your organisation can see' }).waitFor();
    await page.getByText('Windows version and build').waitFor();
    const orgActions = page.getByRole('table', { name: 'Actions your organisation can take on this device' });
    const wipeRow = orgActions.getByRole('row', { name: /Erase the device/ });
    await expect(wipeRow.textContent()).resolves.toMatch(/Cannot.*personal device cannot be wiped by the organisation/);
    expect(await page.getByText('Your browsing history').count()).toBe(1);
    await shot('privacy-personal');

    // A device where alice is primary user: Remove through the confirmation dialog.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My devices' }).click();
    await page
      .getByRole('link', { name: titles[0] as string })
      .first()
      .click();
    await page.getByRole('heading', { level: 1, name: titles[0] as string }).waitFor();
    await page.getByRole('button', { name: 'Remove device' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove this device?' });
    await dialog.waitFor();
    await shot('remove-confirm');
    await dialog.getByRole('button', { name: 'Remove device' }).click();
    await page
      .getByRole('status')
      .getByText(/Removal requested/)
      .waitFor();
    await page.getByRole('table', { name: 'Actions requested on this device' }).getByText('retire').waitFor();
    // Once removal is under way, the server allows nothing more and the page says why.
    await page
      .getByText(/being removed from management/)
      .first()
      .waitFor();
    expect(await page.getByRole('button', { name: 'Remove device' }).count()).toBe(0);
    await shot('device-removed');
    await pcs[0]?.checkIn();
    expect(pcs[0]?.state.received.some((r) => r.includes('DMClient/Unenroll'))).toBe(true);
    expect(web.foreign).toEqual([]);
  }, 120_000);

  it('installs an Available app from the device page and shows it installed after the check-in', async () => {
    const srv = t as TestServer;
    const s = srv.server.storage;
    const group = await s.addGroup({ name: 'Portal apps', now: new Date() });
    const alice = await srv.directory.findUser('alice@contoso.com');
    await s.addGroupMember(group.id, alice?.id ?? '');
    const app = await s.addApp({
      name: 'Company Notes',
      publisher: 'Contoso',
      version: '2.1.0',
      kind: 'store',
      packageFamilyName: 'Contoso.CompanyNotes_8wekyb3d8bbwe',
      storeProductId: '9WZDNCRFJ3PZ',
      minWindowsBuild: 22000,
      now: new Date(),
    });
    await s.assignApp({ appId: app.id, groupId: group.id, intent: 'available', now: new Date() });
    const pc = pcs[1] as ManagedPc;
    await page.goto(`${srv.base}/portal/devices/${pc.device.deviceId}`);
    await page.getByRole('heading', { level: 2, name: 'Available apps' }).waitFor();
    await page.getByRole('button', { name: 'Install Company Notes' }).click();
    await page.getByText(/Company Notes: install requested/).waitFor();
    await page.getByText('Install requested').first().waitFor();
    await shot('app-install-requested');
    await pc.checkIn();
    expect(
      pc.state.received.some((r) => r.includes('EnterpriseModernAppManagement/AppInstallation/Contoso.CompanyNotes_8wekyb3d8bbwe')),
    ).toBe(true);
    await page.reload();
    await page.getByText('Installed', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Install Company Notes' }).count()).toBe(0);
    await shot('app-installed');
  }, 120_000);
});
