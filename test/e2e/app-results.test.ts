/**
 * Installs that finish in the background, end to end on a real server (SQLite and PostgreSQL) with a
 * simulated PC that behaves like Windows: an MSI's DownloadInstall is accepted (202) and shows installing;
 * the device's result alert at its next session settles it (installed, or failed with the result code, and
 * then the automatic retry policy applies); without the alert the next session Gets the MSI's Status and
 * LastError; a Store app settles from its AppInstallation Status (removed once installed, 2 = failed). The
 * admin API, the Apps page's counts, the Company Portal and the console's device page (Chromium) agree.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { fixedClock, systemClock } from '../../src/shared/clock.js';
import { type Creds, apiClient, expectSignedIn, portalClient } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';
import { type WebPage, openWebPage, pageCheck, signInConsole } from '../support/web-page.js';

const PW = 'correct horse battery';
const HOUR = 60 * 60_000;

const msi = (name: string, guid: string) => ({
  name,
  publisher: 'Contoso',
  version: '2.0',
  kind: 'msi',
  productCode: `{${guid}}`,
  downloadUrl: `https://downloads.contoso.com/${guid}.msi`,
  sha256: 'b'.repeat(64),
  minWindowsBuild: 10240,
});
const msiNode = (guid: string) => `./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/%7B${guid}%7D`;
const store = (name: string, pfn: string) => ({
  name,
  publisher: 'Contoso',
  version: '1.0',
  kind: 'store',
  packageFamilyName: `${pfn}_8wekyb3d8bbwe`,
  storeProductId: '9WZDNCRFJ3PZ',
  minWindowsBuild: 10240,
});
const storeInstallNode = (pfn: string) => `./Device/Vendor/MSFT/EnterpriseModernAppManagement/AppInstallation/${pfn}_8wekyb3d8bbwe`;

const VPN = '11111111-2222-3333-4444-555555555501';
const BROKEN = '11111111-2222-3333-4444-555555555502';
const SILENT = '11111111-2222-3333-4444-555555555503';
const SILENT_BAD = '11111111-2222-3333-4444-555555555504';

interface DeviceAppJson {
  name: string | null;
  state: string;
  attempts: number;
  lastStatus: { code: number; meaning: string } | null;
  result: { code: number | null; meaning: string } | null;
  nextRetryAt: string | null;
}

describe.each(ENGINES)('background app install results (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const admin = apiClient(srv);
  const clock = fixedClock(new Date());
  let pc: ManagedPc; // alice is its primary user
  let boss: Creds;
  let reader: Creds;
  let alice: { cookie: string };

  const count = (line: string) => pc.state.received.filter((r) => r === line).length;

  async function signInAll(): Promise<void> {
    // Moving the clock may end sessions; sign in again.
    boss = await admin.signIn('boss@contoso.com', PW);
    reader = await admin.signIn('reader@contoso.com', PW);
    alice = await portalSignIn('alice@contoso.com');
  }

  async function appOn(name: string): Promise<DeviceAppJson | undefined> {
    const res = await admin.call('GET', `/devices/${pc.device.deviceId}/apps`, reader);
    expect(res.status, res.text).toBe(200);
    return (res.json.items as DeviceAppJson[]).find((a) => a.name === name);
  }
  async function installs(name: string): Promise<{ installed: number; failed: number; pending: number }> {
    const res = await admin.call('GET', '/apps', reader);
    expect(res.status, res.text).toBe(200);
    return res.json.items.find((a: { name: string }) => a.name === name).installs;
  }
  async function portalStatus(name: string): Promise<string> {
    const res = await portalGet(`/devices/${pc.device.deviceId}/apps`, alice.cookie);
    expect(res.status, res.text).toBe(200);
    return (res.json as { items: Array<{ name: string; status: string }> }).items.find((a) => a.name === name)?.status ?? 'absent';
  }

  const portalApi = portalClient(srv);
  const portalGet = (p: string, cookie: string) => portalApi.call('GET', p, { cookie });
  const portalSignIn = (upn: string) => expectSignedIn(portalApi.signIn(upn, PW));

  async function addAndRequire(def: object & { name: string }): Promise<void> {
    const added = await admin.call('POST', '/apps', { ...boss, body: def });
    expect(added.status, added.text).toBe(201);
    const res = await admin.call('PUT', `/apps/${encodeURIComponent(def.name)}/assignments/Staff`, {
      ...boss,
      body: { intent: 'required' },
    });
    expect(res.status, res.text).toBe(200);
  }

  beforeAll(async () => {
    t = await startTestServer(engine, {}, {}, { clock });
    if (!t) return;
    await t.addDomain('contoso.com');
    for (const u of ['alice', 'boss', 'reader']) await t.addUser(`${u}@contoso.com`, PW);
    const accounts = new AdminAccounts({ storage: t.server.storage, directory: t.directory, clock: systemClock });
    await accounts.add(CLI_CONTEXT, 'boss@contoso.com', 'administrator');
    await accounts.add(CLI_CONTEXT, 'reader@contoso.com', 'readonly');
    const user = await t.directory.findUser('alice@contoso.com');
    const staff = await t.server.storage.addGroup({ name: 'Staff', now: new Date() });
    await t.server.storage.addGroupMember(staff.id, user?.id ?? '');
    pc = await enrollPc(srv(), 'alice@contoso.com', PW);
    await pc.checkIn();
    await signInAll();
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  });

  run("an MSI shows installing after the session and installed after the device's alert, alike in the API, counts and portal", async () => {
    await addAndRequire(msi('Contoso VPN', VPN));
    await pc.checkIn();
    expect(count(`Exec ${msiNode(VPN)}/DownloadInstall`)).toBe(1);
    expect(await appOn('Contoso VPN')).toMatchObject({ state: 'installing', lastStatus: { code: 202 }, result: null });
    expect(await installs('Contoso VPN')).toEqual({ installed: 0, failed: 0, pending: 1 });
    expect(await portalStatus('Contoso VPN')).toBe('installing');

    await pc.checkIn(); // package 1 carries the result alert
    expect(await appOn('Contoso VPN')).toMatchObject({ state: 'installed', attempts: 1, result: { code: 0, meaning: 'installed' } });
    expect(await installs('Contoso VPN')).toEqual({ installed: 1, failed: 0, pending: 0 });
    expect(await portalStatus('Contoso VPN')).toBe('installed');
    // Settled by the alert: nothing is asked, nothing sent again.
    await pc.checkIn();
    expect(count(`Get ${msiNode(VPN)}/Status`)).toBe(0);
    expect(count(`Exec ${msiNode(VPN)}/DownloadInstall`)).toBe(1);
  });

  run('a failing MSI shows failed with its result code, and the automatic retry policy applies', async () => {
    const install = `Exec ${msiNode(BROKEN)}/DownloadInstall`;
    pc.state.failWith.set(`${msiNode(BROKEN)}/DownloadInstall`, 1603);
    await addAndRequire(msi('Contoso Broken', BROKEN));
    await pc.checkIn();
    expect(await appOn('Contoso Broken')).toMatchObject({ state: 'installing', lastStatus: { code: 202 } });
    await pc.checkIn();
    const failed = await appOn('Contoso Broken');
    expect(failed).toMatchObject({
      state: 'failed',
      attempts: 1,
      result: { code: 1603, meaning: expect.stringMatching(/installer failed/) },
    });
    expect(new Date(failed?.nextRetryAt ?? 0).getTime()).toBe(clock.now().getTime() + HOUR);
    expect(await installs('Contoso Broken')).toEqual({ installed: 0, failed: 1, pending: 0 });
    expect(await portalStatus('Contoso Broken')).toBe('failed');

    await pc.checkIn(); // too soon for the retry
    expect(count(install)).toBe(1);
    pc.state.failWith.clear(); // the cause is fixed on the device
    clock.advance(HOUR + 60_000);
    await signInAll();
    await pc.checkIn();
    expect(count(install)).toBe(2);
    expect(await appOn('Contoso Broken')).toMatchObject({ state: 'installing', attempts: 2 });
    await pc.checkIn();
    expect(await appOn('Contoso Broken')).toMatchObject({ state: 'installed', attempts: 2, result: { code: 0 }, nextRetryAt: null });
    expect(await installs('Contoso Broken')).toEqual({ installed: 1, failed: 0, pending: 0 });
  });

  run("without the alert, the next session Gets the MSI's Status and LastError and settles it", async () => {
    pc.state.dropInstallAlerts = true;
    pc.state.failWith.set(`${msiNode(SILENT_BAD)}/DownloadInstall`, -2147023293); // 0x80070643
    try {
      await addAndRequire(msi('Contoso Silent', SILENT));
      await addAndRequire(msi('Contoso Silent Bad', SILENT_BAD));
      await pc.checkIn();
      expect(count(`Get ${msiNode(SILENT)}/Status`)).toBe(0);
      expect(await appOn('Contoso Silent')).toMatchObject({ state: 'installing' });
      await pc.checkIn(); // no alert: the server asks
      expect(count(`Get ${msiNode(SILENT)}/Status`)).toBe(1);
      expect(count(`Get ${msiNode(SILENT)}/LastError`)).toBe(1);
      expect(await appOn('Contoso Silent')).toMatchObject({ state: 'installed', result: { code: null, meaning: 'installed' } });
      expect(await appOn('Contoso Silent Bad')).toMatchObject({
        state: 'failed',
        result: { code: -2147023293, meaning: expect.stringMatching(/msiexec 1603/) },
      });
      await pc.checkIn(); // settled: asked once
      expect(count(`Get ${msiNode(SILENT)}/Status`)).toBe(1);
    } finally {
      pc.state.dropInstallAlerts = false;
      pc.state.failWith.clear();
    }
  });

  run(
    'a Store app settles from its Status: installing while the Store works, failed with LastError, installed once the node is gone',
    async () => {
      const node = storeInstallNode('Contoso.FieldReader');
      // The Store is still downloading when asked.
      pc.state.nodes.set(`${node}/Status`.toLowerCase(), '1');
      await addAndRequire(store('Field Reader', 'Contoso.FieldReader'));
      await pc.checkIn();
      expect(count(`Exec ${node}/StoreInstall`)).toBe(1);
      expect(count(`Get ${node}/Status`)).toBe(1); // asked right after it was accepted
      expect(await appOn('Field Reader')).toMatchObject({ state: 'installing', lastStatus: { code: 200 } });
      expect(await portalStatus('Field Reader')).toBe('installing');
      expect(await installs('Field Reader')).toEqual({ installed: 0, failed: 0, pending: 1 });

      pc.state.nodes.set(`${node}/Status`.toLowerCase(), '2');
      pc.state.nodes.set(`${node}/LastError`.toLowerCase(), '-2147009287'); // 0x80073CF9
      await pc.checkIn();
      expect(count(`Get ${node}/Status`)).toBe(2);
      const failed = await appOn('Field Reader');
      expect(failed).toMatchObject({
        state: 'failed',
        attempts: 1,
        result: { code: -2147009287, meaning: 'the device reported HRESULT 0x80073CF9' },
      });
      expect(failed?.nextRetryAt).not.toBeNull();
      expect(await installs('Field Reader')).toEqual({ installed: 0, failed: 1, pending: 0 });

      // A Store app with nothing preset installs at once: its Status node is gone when asked (404).
      await addAndRequire(store('Company Notes', 'Contoso.CompanyNotes'));
      await pc.checkIn();
      expect(count(`Get ${storeInstallNode('Contoso.CompanyNotes')}/Status`)).toBe(1);
      expect(await appOn('Company Notes')).toMatchObject({ state: 'installed', result: { code: null, meaning: 'installed' } });
      expect(await portalStatus('Company Notes')).toBe('installed');
    },
  );

  // The page is the same whatever the database: checked once, on SQLite (not registered for PostgreSQL).
  if (engine === 'sqlite')
    run.skipIf(!chromiumPath())('the console shows the background states and result codes (Chromium)', async () => {
      const chromium = chromiumPath() as string;
      let web: WebPage | undefined;
      try {
        web = await openWebPage(chromium, srv());
        const page = web.page;
        const check = pageCheck(() => page, 'admin-device-app-results');
        await page.goto(`${srv().base}/admin/`);
        await signInConsole(page, 'boss@contoso.com', PW);
        await page.goto(`${srv().base}/admin/devices/${pc.device.deviceId}`);
        const table = page.getByRole('table', { name: 'Apps on this device' });
        await table.getByRole('row', { name: /Field Reader.*Install failed.*Result 0x80073CF9/ }).waitFor();
        await table.getByRole('row', { name: /Contoso Silent Bad.*Install failed.*Result 0x80070643: the installer failed/ }).waitFor();
        await table.getByRole('row', { name: /Contoso VPN.*Installed.*installed/ }).waitFor();
        await check('results');
        expect(web.foreign).toEqual([]);
      } finally {
        await web?.browser.close();
      }
    });
});
