/**
 * The Company Portal's device page as each kind of user sees it, in Chromium against a real server with devices
 * enrolled by the simulator: the primary user resets their personal device through the confirmation dialog (and the
 * device receives the wipe); a user who enrolled a device that now belongs to someone else reads it with the reason
 * and no controls; on a shared device (no primary user) a user may install Available apps and nothing else. The
 * same refusals come from the API (403), so hiding the buttons is not the only guard.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { PASSWORD, openWebPage, pageCheck, signInPortal } from '../support/web-page.js';

const chromium = chromiumPath();

describe.skipIf(!chromium)('Company Portal device page by relation', () => {
  let t: TestServer | undefined;
  let browser: Browser;
  let page: Page;
  let mine: ManagedPc;
  let reassigned: ManagedPc;
  let shared: ManagedPc;
  const srv = () => t as TestServer;
  const check = pageCheck(() => page, 'portal-relation');

  async function openDevice(pc: ManagedPc): Promise<void> {
    await page.goto(`${srv().base}/portal/devices/${pc.device.deviceId}`);
    await page.getByRole('heading', { level: 2, name: 'Actions', exact: true }).waitFor();
  }

  async function signOutAndIn(upn: string): Promise<void> {
    await page.context().clearCookies();
    await page.goto(`${srv().base}/portal/`);
    await signInPortal(page, upn);
  }

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    for (const u of ['alice', 'carol']) await t.addUser(`${u}@contoso.com`, PASSWORD);
    const s = t.server.storage;
    mine = await enrollPc(t, 'carol@contoso.com', PASSWORD);
    reassigned = await enrollPc(t, 'carol@contoso.com', PASSWORD);
    shared = await enrollPc(t, 'carol@contoso.com', PASSWORD);
    for (const pc of [mine, reassigned, shared]) await pc.checkIn();
    const record = async (pc: ManagedPc) => (await s.getDevice(pc.device.deviceId))?.id ?? '';
    const alice = await t.directory.findUser('alice@contoso.com');
    await s.setPrimaryUser(await record(reassigned), alice?.id ?? null);
    await s.setPrimaryUser(await record(shared), null);
    for (const pc of [mine, reassigned, shared]) await s.setOwnership(await record(pc), 'personal');
    // An Available app for everyone in Staff, so the shared device has something to install.
    const staff = await s.addGroup({ name: 'Staff', now: new Date() });
    const carol = await t.directory.findUser('carol@contoso.com');
    await s.addGroupMember(staff.id, carol?.id ?? '');
    const app = await s.addApp({
      name: 'Company Notes',
      publisher: 'Contoso',
      version: '2.1.0',
      kind: 'store',
      packageFamilyName: 'Contoso.CompanyNotes_8wekyb3d8bbwe',
      storeProductId: '9WZDNCRFJ3PZ',
      minWindowsBuild: 19041,
      now: new Date(),
    });
    await s.assignApp({ appId: app.id, groupId: staff.id, intent: 'available', now: new Date() });
    ({ browser, page } = await openWebPage(chromium as string, t, { width: 1100, height: 800 }));
    await page.goto(`${t.base}/portal/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await signInPortal(page, 'carol@contoso.com');
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('my devices lists each device with how the user relates to it', async () => {
    const table = page.getByRole('table', { name: 'Your devices' });
    await table.getByRole('row').nth(3).waitFor();
    const text = (await table.textContent()) ?? '';
    expect(text).toContain('You are the primary user');
    expect(text).toContain('Another person is the primary user');
    expect(text).toContain('Shared device');
  });

  it('another person is the primary user: read-only with the reason, and the API refuses with 403', async () => {
    await openDevice(reassigned);
    await page.getByText('Another person is the primary user').waitFor();
    await page.getByText(/Remove:.*only its primary user can change it/).waitFor();
    await page.getByText(/Reset:.*only its primary user can change it/).waitFor();
    expect(await page.getByRole('button', { name: 'Remove device' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Reset device' }).count()).toBe(0);
    await page.getByText(/Install apps:.*not available/).waitFor();
    expect(await page.getByRole('button', { name: 'Install Company Notes' }).count()).toBe(0);
    await check('other');

    // Calling the API directly with the browser's own session changes nothing.
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === '__Host-winroll_portal');
    const me = await requestJson(srv(), 'GET', '/portal/api/session', { cookie: `${session?.name}=${session?.value}` }, undefined);
    const headers = { cookie: `${session?.name}=${session?.value}`, 'x-csrf-token': me.json.csrfToken as string };
    for (const action of ['retire', 'wipe']) {
      const res = await requestJson(srv(), 'POST', `/portal/api/devices/${reassigned.device.deviceId}/${action}`, headers, undefined);
      expect(res.status, res.text).toBe(403);
      expect(res.json.detail).toMatch(/only its primary user/);
    }
  }, 60_000);

  it('a shared device: Install Available apps only, with the reason for the rest', async () => {
    await openDevice(shared);
    await page.getByText('none (shared device)').waitFor();
    await page.getByText(/Remove:.*shared device/).waitFor();
    expect(await page.getByRole('button', { name: 'Remove device' }).count()).toBe(0);
    const install = page.getByRole('button', { name: 'Install Company Notes' });
    await install.waitFor();
    await check('shared');
    await install.click();
    await page.getByText(/Company Notes: install requested/).waitFor();
    await shared.checkIn();
    expect(
      shared.state.received.some((r) => r.includes('EnterpriseModernAppManagement/AppInstallation/Contoso.CompanyNotes_8wekyb3d8bbwe')),
    ).toBe(true);
  }, 60_000);

  it('the primary user resets their personal device through the confirmation dialog; the device receives the wipe', async () => {
    await signOutAndIn('carol@contoso.com');
    await openDevice(mine);
    await page.getByRole('button', { name: 'Reset device' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reset this device?' });
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toMatch(/including your own files, is erased/);
    await check('reset-confirm');
    // Cancel first: nothing is queued.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await mine.checkIn();
    expect(mine.state.received.some((r) => r.includes('RemoteWipe'))).toBe(false);

    await page.getByRole('button', { name: 'Reset device' }).click();
    await page.getByRole('dialog', { name: 'Reset this device?' }).getByRole('button', { name: 'Reset device' }).click();
    await page
      .getByRole('status')
      .getByText(/Reset requested/)
      .waitFor();
    await page.getByRole('table', { name: 'Actions requested on this device' }).getByText('wipe').waitFor();
    await check('reset-requested');
    await mine.checkIn();
    expect(mine.state.received.some((r) => r.includes('./Device/Vendor/MSFT/RemoteWipe/doWipe'))).toBe(true);
  }, 60_000);
});
