/**
 * The app catalog end to end on a real server (SQLite and PostgreSQL) with simulated PCs: an app available
 * to a group (nested) shows in the Company Portal only on a member's device whose reported build meets
 * the minimum; Install as primary user queues the Store CSP command, the device acknowledges it and the
 * status becomes installed; a non-primary user gets 403 with the reason; a shared device's user may
 * install; a required app reaches the device at its next session, once; CLI and admin API roles.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { dataFlags, winroll as runCli } from '../support/cli.js';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { systemClock } from '../../src/shared/clock.js';
import { apiClient, expectSignedIn, portalClient } from '../support/api-client.js';
import { axeViolations } from '../support/axe.js';
import { chromiumPath, launchChromium } from '../support/browser.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const PW = 'correct horse battery';

const PORTAL_APP = {
  name: 'Company Notes',
  publisher: 'Contoso',
  version: '2.1.0',
  kind: 'store',
  packageFamilyName: 'Contoso.CompanyNotes_8wekyb3d8bbwe',
  storeProductId: '9WZDNCRFJ3PZ',
  minWindowsBuild: 22000,
};
const REQUIRED_APP = {
  name: 'Contoso VPN',
  publisher: 'Contoso',
  version: '5.0.1',
  kind: 'msi',
  productCode: '{12345678-1234-1234-1234-1234567890AB}',
  downloadUrl: 'https://downloads.contoso.com/vpn-5.0.1.msi',
  sha256: 'a'.repeat(64),
  minWindowsBuild: 10240,
};

describe.each(ENGINES)('app catalog (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const admin = apiClient(srv);
  let win11: ManagedPc; // alice, build 26100
  let win10: ManagedPc; // alice, build 19045
  let shared: ManagedPc; // enrolled by alice, no primary user
  let bobs: ManagedPc; // bob is primary user
  let boss: { cookie?: string | undefined; csrf?: string | undefined };
  let reader: { cookie?: string | undefined; csrf?: string | undefined };

  const portalApi = portalClient(srv);
  const portal = portalApi.call;
  const portalSignIn = (upn: string) => expectSignedIn(portalApi.signIn(upn, PW));

  const winroll = (args: string[]) => runCli([...args, ...dataFlags(srv())]);

  let tmp: string;

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    tmp = await mkdtemp(path.join(tmpdir(), 'winroll-apps-'));
    await t.addDomain('contoso.com');
    for (const u of ['alice', 'bob', 'carol', 'boss', 'reader']) await t.addUser(`${u}@contoso.com`, PW);
    const accounts = new AdminAccounts({ storage: t.server.storage, directory: t.directory, clock: systemClock });
    await accounts.add(CLI_CONTEXT, 'boss@contoso.com', 'administrator');
    await accounts.add(CLI_CONTEXT, 'reader@contoso.com', 'readonly');
    const s = t.server.storage;
    // Sales is nested in Staff; the apps are assigned to Staff; alice and bob are in Sales.
    const staff = await s.addGroup({ name: 'Staff', now: new Date() });
    const sales = await s.addGroup({ name: 'Sales', now: new Date() });
    await s.addGroupToGroup(staff.id, sales.id);
    for (const u of ['alice', 'bob']) {
      const user = await t.directory.findUser(`${u}@contoso.com`);
      await s.addGroupMember(sales.id, user?.id ?? '');
    }
    win11 = await enrollPc(srv(), 'alice@contoso.com', PW);
    win10 = await enrollPc(srv(), 'alice@contoso.com', PW, 'Full', { osVersion: '10.0.19045.5011' });
    shared = await enrollPc(srv(), 'carol@contoso.com', PW);
    bobs = await enrollPc(srv(), 'bob@contoso.com', PW);
    for (const pc of [win11, win10, shared, bobs]) await pc.checkIn();
    await s.setPrimaryUser((await s.getDevice(shared.device.deviceId))?.id ?? '', null);
    boss = await admin.signIn('boss@contoso.com', PW);
    reader = await admin.signIn('reader@contoso.com', PW);
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  run('the CLI adds, assigns and lists apps (--json), refusing an app that cannot be installed', async () => {
    const file = path.join(tmp, 'vpn.json');
    await writeFile(file, JSON.stringify(REQUIRED_APP));
    const added = await winroll(['apps', 'add', file, '--json']);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'Contoso VPN', kind: 'msi', assignments: [] });
    const bad = path.join(tmp, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...REQUIRED_APP, name: 'Broken', downloadUrl: 'http://x/y.msi' }));
    const refused = await winroll(['apps', 'add', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/https:\/\/ download URL/);
    const assigned = await winroll(['apps', 'assign', 'Contoso VPN', '--group', 'Staff', '--intent', 'required']);
    expect(assigned.code, assigned.stderr).toBe(0);
    expect(assigned.stdout).toContain('Contoso VPN is required to Staff');
    const list = await winroll(['apps', 'list', '--json']);
    expect(JSON.parse(list.stdout).items).toEqual([
      expect.objectContaining({ name: 'Contoso VPN', assignments: [expect.objectContaining({ group: 'Staff', intent: 'required' })] }),
    ]);
    const audit = await srv().server.storage.listAudit({ actor: 'cli', limit: 50 });
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['app.add', 'app.assign']));
  });

  run('the admin API: administrators change the catalog, every role reads it', async () => {
    const denied = await admin.call('POST', '/apps', { ...reader, body: PORTAL_APP });
    expect(denied.status, denied.text).toBe(403);
    const created = await admin.call('POST', '/apps', { ...boss, body: PORTAL_APP });
    expect(created.status, created.text).toBe(201);
    const dup = await admin.call('POST', '/apps', { ...boss, body: PORTAL_APP });
    expect(dup.status).toBe(409);
    const invalid = await admin.call('POST', '/apps', { ...boss, body: { ...PORTAL_APP, name: 'X', storeProductId: 'short' } });
    expect(invalid.status).toBe(422);
    expect(invalid.json.detail).toMatch(/12-character Store product id/);
    const assigned = await admin.call('PUT', `/apps/${encodeURIComponent('Company Notes')}/assignments/Staff`, {
      ...boss,
      body: { intent: 'available' },
    });
    expect(assigned.status, assigned.text).toBe(200);
    expect(assigned.json.assignments).toEqual([expect.objectContaining({ group: 'Staff', intent: 'available' })]);
    const readerAssign = await admin.call('PUT', `/apps/${created.json.id}/assignments/Sales`, { ...reader, body: { intent: 'required' } });
    expect(readerAssign.status).toBe(403);
    const list = await admin.call('GET', '/apps', reader);
    expect(list.status).toBe(200);
    expect(list.json.items.map((a: { name: string }) => a.name)).toEqual(['Company Notes', 'Contoso VPN']);
  });

  run(
    'the portal lists an available app only on a device whose build meets the minimum; Install queues the Store CSP and the device installs it',
    async () => {
      const alice = await portalSignIn('alice@contoso.com');
      const on11 = await portal('GET', `/devices/${win11.device.deviceId}/apps`, alice);
      expect(on11.status, on11.text).toBe(200);
      expect(on11.json.canInstall).toBe(true);
      const notes = on11.json.items.find((a: { name: string }) => a.name === 'Company Notes');
      expect(notes).toMatchObject({ intent: 'available', fit: 'yes', status: 'not_installed' });
      const on10 = await portal('GET', `/devices/${win10.device.deviceId}/apps`, alice);
      expect(on10.json.items.map((a: { name: string }) => a.name)).toEqual(['Contoso VPN']);
      // Not offered, and not installable by calling the endpoint either.
      const refused = await portal('POST', `/devices/${win10.device.deviceId}/apps/${notes.id}/install`, alice);
      expect(refused.status).toBe(403);
      expect(refused.json.detail).toMatch(/needs Windows build 22000/);

      const install = await portal('POST', `/devices/${win11.device.deviceId}/apps/${notes.id}/install`, alice);
      expect(install.status, install.text).toBe(202);
      expect(install.json.status).toBe('queued');
      await win11.checkIn();
      expect(win11.state.received).toContain(
        'Exec ./Device/Vendor/MSFT/EnterpriseModernAppManagement/AppInstallation/Contoso.CompanyNotes_8wekyb3d8bbwe/StoreInstall',
      );
      const after = await portal('GET', `/devices/${win11.device.deviceId}/apps`, alice);
      expect(after.json.items.find((a: { name: string }) => a.name === 'Company Notes').status).toBe('installed');
      // Installing again changes nothing.
      const again = await portal('POST', `/devices/${win11.device.deviceId}/apps/${notes.id}/install`, alice);
      expect(again.json.status).toBe('installed');
    },
  );

  run('a non-primary user gets 403 with the reason; a shared device lets its user install', async () => {
    const bob = await portalSignIn('bob@contoso.com');
    const alice = await portalSignIn('alice@contoso.com');
    const notes = (await admin.call('GET', '/apps/Company%20Notes', reader)).json;
    // bob signed in to the shared device (no primary user): it is his to see.
    const sharedDevice = await srv().server.storage.getDevice(shared.device.deviceId);
    await srv().server.storage.recordDeviceUser(
      sharedDevice?.id ?? '',
      (await srv().directory.findUser('bob@contoso.com'))?.id ?? '',
      new Date(),
    );
    // alice enrolled win10 and is its primary user; make carol primary of win10 so alice is "other" there.
    const carol = await srv().directory.findUser('carol@contoso.com');
    await srv().server.storage.setPrimaryUser((await srv().server.storage.getDevice(win10.device.deviceId))?.id ?? '', carol?.id ?? null);
    const asOther = await portal('POST', `/devices/${win10.device.deviceId}/apps/${notes.id}/install`, alice);
    expect(asOther.status, asOther.text).toBe(403);
    expect(asOther.json.detail).toMatch(/not the primary user/);
    const list = await portal('GET', `/devices/${win10.device.deviceId}/apps`, alice);
    expect(list.json).toMatchObject({ canInstall: false, reason: expect.stringMatching(/not the primary user/) });

    const onShared = await portal('POST', `/devices/${shared.device.deviceId}/apps/${notes.id}/install`, bob);
    expect(onShared.status, onShared.text).toBe(202);
    expect(onShared.json.status).toBe('queued');
  });

  // The page is the same whatever the database: checked once, on SQLite (not registered for PostgreSQL).
  if (engine === 'sqlite')
    run.skipIf(!chromiumPath())('the console Apps page lists the apps with their assignments (Chromium)', async () => {
      const chromium = chromiumPath() as string;
      const browser = await launchChromium(chromium);
      try {
        const page = await (await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 800 } })).newPage();
        await page.goto(`${srv().base}/admin/apps`);
        await page.getByLabel('Work account').fill('boss@contoso.com');
        await page.getByLabel('Password').fill(PW);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { level: 1, name: 'Apps' }).waitFor();
        const table = page.getByRole('table', { name: 'Apps' });
        await table.getByRole('row', { name: /Company Notes.*Microsoft Store.*22000.*Staff \(available\)/ }).waitFor();
        await table.getByRole('row', { name: /Contoso VPN.*MSI.*Staff \(required\)/ }).waitFor();
        mkdirSync('test-artifacts/screenshots', { recursive: true });
        await page.screenshot({ path: 'test-artifacts/screenshots/admin-apps.png', fullPage: true });
        expect(await axeViolations(page)).toEqual([]);
      } finally {
        await browser.close();
      }
    });

  run('a required app reaches the devices of members at their next session, once', async () => {
    await bobs.checkIn();
    const msi = 'Exec ./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/%7B12345678-1234-1234-1234-1234567890AB%7D/DownloadInstall';
    expect(bobs.state.received).toContain(msi);
    await bobs.checkIn();
    expect(bobs.state.received.filter((r) => r === msi)).toHaveLength(1);
    const bob = await portalSignIn('bob@contoso.com');
    const apps = await portal('GET', `/devices/${bobs.device.deviceId}/apps`, bob);
    expect(apps.json.items.find((a: { name: string }) => a.name === 'Contoso VPN')).toMatchObject({
      intent: 'required',
      status: 'installed',
    });
  });
});
