import { afterAll, beforeAll, describe, expect } from 'vitest';
import { dataFlags, winroll as runCli } from '../support/cli.js';
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

const store = (name: string, pfn: string) => ({
  name,
  publisher: 'Contoso',
  version: '1.0',
  kind: 'store',
  packageFamilyName: `${pfn}_8wekyb3d8bbwe`,
  storeProductId: '9WZDNCRFJ3PZ',
  minWindowsBuild: 10240,
});
const VPN = {
  name: 'Contoso VPN',
  publisher: 'Contoso',
  version: '5.0.1',
  kind: 'msi',
  productCode: '{12345678-1234-1234-1234-1234567890AB}',
  downloadUrl: 'https://downloads.contoso.com/vpn-5.0.1.msi',
  sha256: 'a'.repeat(64),
  minWindowsBuild: 10240,
};
const MSI_NODE = './Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/%7B12345678-1234-1234-1234-1234567890AB%7D';
const storeInstall = (pfn: string) =>
  `./Device/Vendor/MSFT/EnterpriseModernAppManagement/AppInstallation/${pfn}_8wekyb3d8bbwe/StoreInstall`;
const storeNode = (pfn: string) => `./Device/Vendor/MSFT/EnterpriseModernAppManagement/AppManagement/AppStore/${pfn}_8wekyb3d8bbwe`;

interface DeviceAppJson {
  appId: string;
  name: string | null;
  intent: string | null;
  groups: Array<{ group: string; intent: string }>;
  state: string;
  installedBy: string | null;
  attempts: number;
  lastStatus: { code: number; meaning: string } | null;
  nextRetryAt: string | null;
}

describe.each(ENGINES)('app lifecycle (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const admin = apiClient(srv);
  const clock = fixedClock(new Date());
  let pc: ManagedPc; // alice is its primary user
  let boss: Creds;
  let reader: Creds;

  const count = (line: string) => pc.state.received.filter((r) => r === line).length;

  async function signInAdmins(): Promise<void> {
    // Moving the clock may end admin sessions; sign in again.
    boss = await admin.signIn('boss@contoso.com', PW);
    reader = await admin.signIn('reader@contoso.com', PW);
  }

  async function deviceApps(): Promise<DeviceAppJson[]> {
    const res = await admin.call('GET', `/devices/${pc.device.deviceId}/apps`, reader);
    expect(res.status, res.text).toBe(200);
    return res.json.items;
  }
  const appOn = async (name: string | null, appId?: string) =>
    (await deviceApps()).find((a) => (appId ? a.appId === appId : a.name === name));

  const portalApi = portalClient(srv);
  const portal = portalApi.call;
  const portalSignIn = (upn: string) => expectSignedIn(portalApi.signIn(upn, PW));

  const winroll = (args: string[]) => runCli([...args, ...dataFlags(srv())]);

  async function addApp(def: object): Promise<string> {
    const res = await admin.call('POST', '/apps', { ...boss, body: def });
    expect(res.status, res.text).toBe(201);
    return res.json.id;
  }
  async function assign(app: string, group: string, intent: string): Promise<void> {
    const res = await admin.call('PUT', `/apps/${encodeURIComponent(app)}/assignments/${group}`, { ...boss, body: { intent } });
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
    const s = t.server.storage;
    const alice = await t.directory.findUser('alice@contoso.com');
    for (const name of ['Staff', 'Field']) {
      const g = await s.addGroup({ name, now: new Date() });
      await s.addGroupMember(g.id, alice?.id ?? '');
    }
    pc = await enrollPc(srv(), 'alice@contoso.com', PW);
    await pc.checkIn();
    await signInAdmins();
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  });

  run('a required app is installed at the next session and shown with the group it comes from', async () => {
    await addApp(VPN);
    await addApp(store('Field Reader', 'Contoso.FieldReader'));
    await assign('Contoso VPN', 'Staff', 'required');
    await assign('Field Reader', 'Field', 'required');
    await pc.checkIn();
    expect(count(`Exec ${MSI_NODE}/DownloadInstall`)).toBe(1);
    expect(count(`Exec ${storeInstall('Contoso.FieldReader')}`)).toBe(1);
    // The MSI is accepted (202) and installs in the background: installing until the device reports.
    expect(await appOn('Contoso VPN')).toMatchObject({
      intent: 'required',
      groups: [{ group: 'Staff', intent: 'required' }],
      state: 'installing',
      installedBy: 'required',
      attempts: 1,
      lastStatus: { code: 202 },
      result: null,
      nextRetryAt: null,
    });
    const installs = async () =>
      (await admin.call('GET', '/apps', reader)).json.items.find((a: { name: string }) => a.name === 'Contoso VPN').installs;
    expect(await installs()).toEqual({ installed: 0, failed: 0, pending: 1 });
    // Its result alert comes with the next session.
    await pc.checkIn();
    expect(await appOn('Contoso VPN')).toMatchObject({ state: 'installed', attempts: 1, result: { code: 0, meaning: 'installed' } });
    expect(await installs()).toEqual({ installed: 1, failed: 0, pending: 0 });
    expect(count(`Exec ${MSI_NODE}/DownloadInstall`)).toBe(1);
    expect(count(`Get ${MSI_NODE}/Status`)).toBe(0);
  });

  run('unassigning sends the Delete of the app node and shows uninstalled; an app the user installed stays', async () => {
    const notesId = await addApp(store('Company Notes', 'Contoso.CompanyNotes'));
    await assign('Company Notes', 'Staff', 'available');
    const alice = await portalSignIn('alice@contoso.com');
    const install = await portal('POST', `/devices/${pc.device.deviceId}/apps/${notesId}/install`, alice);
    expect(install.status, install.text).toBe(202);
    await pc.checkIn();
    expect(pc.state.get(storeNode('Contoso.CompanyNotes'))).toBeDefined();
    expect(await appOn('Company Notes')).toMatchObject({ state: 'installed', installedBy: 'user' });

    const unassign = await admin.call('DELETE', '/apps/Contoso%20VPN/assignments/Staff', boss);
    expect(unassign.status, unassign.text).toBe(200);
    expect((await admin.call('DELETE', '/apps/Company%20Notes/assignments/Staff', boss)).status).toBe(200);
    await pc.checkIn();
    expect(count(`Delete ${MSI_NODE}`)).toBe(1);
    expect(pc.state.get(MSI_NODE)).toBeUndefined();
    expect(pc.state.received.filter((r) => r.startsWith('Delete') && r.includes('CompanyNotes'))).toEqual([]);
    expect(pc.state.get(storeNode('Contoso.CompanyNotes'))).toBeDefined();
    expect(await appOn('Contoso VPN')).toMatchObject({ intent: null, groups: [], state: 'uninstalled', lastStatus: { code: 200 } });
    expect(await appOn('Company Notes')).toMatchObject({ intent: null, state: 'installed', installedBy: 'user' });
    // Nothing is sent twice.
    await pc.checkIn();
    expect(count(`Delete ${MSI_NODE}`)).toBe(1);
  });

  run('leaving the group removes a required app; an uninstall assignment removes even what the user installed', async () => {
    const s = srv().server.storage;
    const field = await s.getGroupByName('Field');
    await s.removeGroupMember(field?.id ?? '', (await srv().directory.findUser('alice@contoso.com'))?.id ?? '');
    await pc.checkIn();
    expect(count(`Delete ${storeNode('Contoso.FieldReader')}`)).toBe(1);
    expect(await appOn('Field Reader')).toMatchObject({ intent: null, state: 'uninstalled' });

    await assign('Company Notes', 'Staff', 'uninstall');
    const alice = await portalSignIn('alice@contoso.com');
    const offered = await portal('GET', `/devices/${pc.device.deviceId}/apps`, alice);
    expect(offered.json.items.map((a: { name: string }) => a.name)).not.toContain('Company Notes');
    await pc.checkIn();
    expect(count(`Delete ${storeNode('Contoso.CompanyNotes')}`)).toBe(1);
    expect(pc.state.get(storeNode('Contoso.CompanyNotes'))).toBeUndefined();
    expect(await appOn('Company Notes')).toMatchObject({
      intent: 'uninstall',
      groups: [{ group: 'Staff', intent: 'uninstall' }],
      state: 'uninstalled',
    });
  });

  run('deleting a required app from the catalog removes it from the devices Winroll installed it on', async () => {
    const vpn = (await admin.call('GET', '/apps/Contoso%20VPN', reader)).json;
    await assign('Contoso VPN', 'Staff', 'required');
    await pc.checkIn();
    expect(count(`Exec ${MSI_NODE}/DownloadInstall`)).toBe(2);
    // Removed even before its result is in.
    expect(await appOn('Contoso VPN')).toMatchObject({ state: 'installing', attempts: 1 });
    expect((await admin.call('DELETE', '/apps/Contoso%20VPN', boss)).status).toBe(204);
    await pc.checkIn();
    expect(count(`Delete ${MSI_NODE}`)).toBe(2);
    expect(await appOn(null, vpn.id)).toMatchObject({ name: null, intent: null, state: 'uninstalled' });
  });

  run(
    'a failing required install is retried 1 hour then 8 hours later, then shown failed with its code; the admin retries it',
    async () => {
      const install = `Exec ${storeInstall('Contoso.Tool')}`;
      pc.state.failWith.set(storeInstall('Contoso.Tool'), 500);
      const toolId = await addApp(store('Contoso Tool', 'Contoso.Tool'));
      await assign('Contoso Tool', 'Staff', 'required');
      await pc.checkIn();
      expect(count(install)).toBe(1);
      const first = await appOn('Contoso Tool');
      expect(first).toMatchObject({
        state: 'failed',
        attempts: 1,
        lastStatus: { code: 500, meaning: expect.stringMatching(/install failed/) },
      });
      expect(new Date(first?.nextRetryAt ?? 0).getTime()).toBe(clock.now().getTime() + HOUR);

      await pc.checkIn(); // too soon
      expect(count(install)).toBe(1);
      clock.advance(HOUR + 60_000);
      await pc.checkIn();
      expect(count(install)).toBe(2);
      clock.advance(HOUR);
      await pc.checkIn(); // the third attempt waits 8 hours
      expect(count(install)).toBe(2);
      clock.advance(8 * HOUR);
      await pc.checkIn();
      expect(count(install)).toBe(3);
      clock.advance(48 * HOUR);
      await pc.checkIn(); // attempts spent
      expect(count(install)).toBe(3);
      await signInAdmins();
      expect(await appOn('Contoso Tool')).toMatchObject({
        state: 'failed',
        attempts: 3,
        nextRetryAt: null,
        lastStatus: { code: 500 },
        groups: [{ group: 'Staff', intent: 'required' }],
      });
      const listed = await admin.call('GET', '/apps', reader);
      expect(listed.json.items.find((a: { name: string }) => a.name === 'Contoso Tool').installs).toEqual({
        installed: 0,
        failed: 1,
        pending: 0,
      });

      const retryPath = `/devices/${pc.device.deviceId}/apps/${toolId}/retry`;
      const denied = await admin.call('POST', retryPath, reader);
      expect(denied.status, denied.text).toBe(403);
      expect(denied.json.detail).toMatch(/readonly role cannot/);
      const retried = await admin.call('POST', retryPath, boss);
      expect(retried.status, retried.text).toBe(202);
      expect(retried.json).toMatchObject({ state: 'queued', attempts: 4 });
      const audit = await srv().server.storage.listAudit({ actor: 'boss@contoso.com', limit: 50 });
      expect(audit.find((e) => e.action === 'app.retry')).toMatchObject({ targetType: 'device', targetId: pc.device.deviceId });
      await pc.checkIn();
      expect(count(install)).toBe(4);
      expect(await appOn('Contoso Tool')).toMatchObject({ state: 'failed', attempts: 4, nextRetryAt: null });

      // The CLI retries too; this time the device installs it.
      const cli = await winroll(['apps', 'retry', pc.device.deviceId, 'Contoso Tool']);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toContain('Contoso Tool is queued');
      pc.state.failWith.clear();
      await pc.checkIn();
      expect(count(install)).toBe(5);
      expect(await appOn('Contoso Tool')).toMatchObject({ state: 'installed', lastStatus: { code: 200 } });
      const again = await admin.call('POST', retryPath, boss);
      expect(again.status).toBe(409);
      expect(again.json.detail).toMatch(/Contoso Tool is installed on this device; only a failed install/);
      const cliAgain = await winroll(['apps', 'retry', pc.device.deviceId, 'Contoso Tool']);
      expect(cliAgain.code).toBe(1);
      expect(cliAgain.stderr).toMatch(/only a failed install or removal is retried/);
      const shown = await winroll(['apps', 'device', pc.device.deviceId, '--json']);
      expect(JSON.parse(shown.stdout).items).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'Contoso Tool', state: 'installed' })]),
      );
    },
  );

  run("the portal's Install sends a failed available app again", async () => {
    const id = await addApp(store('Company Board', 'Contoso.Board'));
    await assign('Company Board', 'Staff', 'available');
    pc.state.failWith.set(storeInstall('Contoso.Board'), 500);
    const alice = await portalSignIn('alice@contoso.com');
    const path = `/devices/${pc.device.deviceId}/apps`;
    expect((await portal('POST', `${path}/${id}/install`, alice)).status).toBe(202);
    await pc.checkIn();
    const failed = await portal('GET', path, alice);
    expect(failed.json.items.find((a: { name: string }) => a.name === 'Company Board').status).toBe('failed');
    // An available app is not retried automatically: the user decides.
    clock.advance(10 * HOUR);
    await signInAdmins();
    await pc.checkIn();
    expect(count(`Exec ${storeInstall('Contoso.Board')}`)).toBe(1);
    const again = await portal('POST', `${path}/${id}/install`, await portalSignIn('alice@contoso.com'));
    expect(again.status, again.text).toBe(202);
    expect(again.json.status).toBe('queued');
    pc.state.failWith.clear();
    await pc.checkIn();
    expect(count(`Exec ${storeInstall('Contoso.Board')}`)).toBe(2);
    expect(await appOn('Company Board')).toMatchObject({ state: 'installed', installedBy: 'user', attempts: 2 });
  });

  // The page is the same whatever the database: checked once, on SQLite (not registered for PostgreSQL).
  if (engine === 'sqlite')
    run.skipIf(!chromiumPath())("the console device page shows the device's apps and retries a failed one (Chromium)", async () => {
      const chromium = chromiumPath() as string;
      pc.state.failWith.set(storeInstall('Contoso.Agent'), 500);
      await signInAdmins();
      await addApp(store('Contoso Agent', 'Contoso.Agent'));
      await assign('Contoso Agent', 'Staff', 'required');
      await pc.checkIn();
      let web: WebPage | undefined;
      try {
        web = await openWebPage(chromium, srv());
        const page = web.page;
        const check = pageCheck(() => page, 'admin-device-apps');
        await page.goto(`${srv().base}/admin/`);
        await signInConsole(page, 'boss@contoso.com', PW);
        await page.goto(`${srv().base}/admin/devices/${pc.device.deviceId}`);
        const table = page.getByRole('table', { name: 'Apps on this device' });
        const agent = table.getByRole('row', { name: /Contoso Agent.*required via Staff.*Install failed.*500/ });
        await agent.waitFor();
        await table.getByRole('row', { name: /Contoso Tool.*Installed/ }).waitFor();
        await table.getByRole('row', { name: /Company Notes.*uninstall via Staff.*Uninstalled/ }).waitFor();
        await check('failed');
        await agent.getByRole('button', { name: 'Retry Contoso Agent' }).click();
        await page.getByRole('status').filter({ hasText: 'Contoso Agent: sent again' }).waitFor();
        await table.getByRole('row', { name: /Contoso Agent.*Install queued/ }).waitFor();
        await check('retried');
        expect(web.foreign).toEqual([]);

        await page.goto(`${srv().base}/admin/apps`);
        await page
          .getByRole('table', { name: 'Apps' })
          .getByRole('row', { name: /Contoso Agent.*0 installed, 0 failed, 1 pending/ })
          .waitFor();
      } finally {
        await web?.browser.close();
      }
      pc.state.failWith.clear();
    });
});
