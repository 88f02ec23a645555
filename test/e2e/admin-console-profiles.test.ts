/**
 * Profiles in the browser against a real server (SQLite) and a simulated PC: in the admin console an
 * administrator assigns a profile to a group as Available (the intent shows in the assignments), edits its
 * settings and deletes another profile through the confirmation; in the Company Portal the primary user
 * installs the available profile, and after the PC's next check-in it shows installed, with the edited
 * value on the PC. Each page is screenshotted and passes axe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantAdmin } from '../support/admins.js';
import { apiClient } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { openWebPage, PASSWORD as PW, pageCheck, signInConsole, signInPortal, type WebPage } from '../support/web-page.js';

const chromium = chromiumPath();
const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';

describe.skipIf(!chromium)('profiles in the admin console and the Company Portal', () => {
  let t: TestServer | undefined;
  let web: WebPage;
  let page: WebPage['page'];
  let pc: ManagedPc;
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  const check = pageCheck(() => page, 'profiles');
  const outcome = (label: string) => () => page.locator(`[data-outcome="${label}"]`).textContent();

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    await t.addUser('alice@contoso.com', PW);
    await t.addUser('boss@contoso.com', PW);
    await grantAdmin(t, 'boss@contoso.com', 'administrator');
    const s = t.server.storage;
    const staff = await s.addGroup({ name: 'Staff', now: new Date() });
    await s.addGroupMember(staff.id, (await t.directory.findUser('alice@contoso.com'))?.id ?? '');
    pc = await enrollPc(srv(), 'alice@contoso.com', PW);
    await pc.checkIn();
    const boss = await signIn('boss@contoso.com', PW);
    for (const [name, value] of [
      ['Camera Off', '0'],
      ['Old Profile', '1'],
    ]) {
      const put = await call('PUT', `/profiles/${encodeURIComponent(name as string)}`, {
        ...boss,
        body: { scope: 'device', settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value }] },
      });
      expect(put.status, put.text).toBe(200);
    }
    web = await openWebPage(chromium as string, t, { width: 1200, height: 900 });
    page = web.page;
  }, 180_000);
  afterAll(async () => {
    await web?.browser.close();
    await t?.stop();
  });

  it('the console assigns as Available, edits settings and deletes a profile after confirming', async () => {
    const admin = await signIn('boss@contoso.com', PW);
    await page.goto(`${srv().base}/admin/`);
    await signInConsole(page, 'boss@contoso.com');

    await page.goto(`${srv().base}/admin/profiles/Camera%20Off`);
    await page.getByRole('heading', { level: 2, name: 'Camera Off' }).waitFor();
    const form = page.getByRole('form', { name: 'Assign the profile' });
    await form.getByLabel('Group', { exact: true }).selectOption('Staff');
    await form.getByLabel('Intent', { exact: true }).selectOption('available');
    await form.getByRole('button', { name: 'Assign' }).click();
    await expect.poll(outcome('Assignment change')).toContain('Assigned to group Staff as available.');
    await page
      .getByRole('table', { name: 'Assignments of Camera Off' })
      .getByRole('row')
      .filter({ hasText: 'Staff' })
      .filter({ hasText: 'Available' })
      .waitFor();
    expect((await call('GET', '/profiles/Camera%20Off', admin)).json.assignments).toEqual([
      { kind: 'group', group: 'Staff', device: null, intent: 'available' },
    ]);
    // Nothing was pushed to the member's PC: it waits for an Install in the portal.
    await pc.checkIn();
    expect(pc.state.get(CAMERA)).toBeUndefined();

    // Edit: the camera stays on (1) rather than off.
    const edit = page.getByRole('form', { name: 'Edit settings' });
    await edit.getByLabel('Value 1', { exact: true }).fill('1');
    await edit.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(outcome('Settings change')).toContain('Settings of Camera Off saved.');
    const saved = (await call('GET', '/profiles/Camera%20Off', admin)).json;
    expect(saved).toMatchObject({ version: 2, settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', value: '1' }] });
    await page.getByRole('cell', { name: '1', exact: true }).first().waitFor();
    await check('console-profile');

    // Delete another profile, through the confirmation.
    await page.goto(`${srv().base}/admin/profiles/Old%20Profile`);
    await page.getByRole('heading', { level: 2, name: 'Old Profile' }).waitFor();
    await page.getByRole('region', { name: 'Delete' }).getByRole('button', { name: 'Delete profile' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Old Profile?' });
    await dialog.waitFor();
    await check('console-delete-confirm');
    await dialog.getByRole('button', { name: 'Delete profile' }).click();
    await page
      .getByRole('table', { name: /^Profiles, page 1/ })
      .getByRole('link', { name: 'Camera Off' })
      .waitFor();
    expect(await page.getByRole('link', { name: 'Old Profile' }).count()).toBe(0);
    expect((await call('GET', '/profiles/Old%20Profile', admin)).status).toBe(404);
    await check('console-list');
  }, 120_000);

  it('the primary user installs the available profile in the portal; the next check-in delivers it', async () => {
    await page.goto(`${srv().base}/portal/`);
    await signInPortal(page, 'alice@contoso.com');
    await page.goto(`${srv().base}/portal/devices/${pc.device.deviceId}`);
    const section = page.getByRole('region', { name: 'Available profiles' });
    await section.getByRole('heading', { level: 3, name: 'Camera Off' }).waitFor();
    await section.getByText('Not installed', { exact: true }).waitFor();
    await section.getByRole('button', { name: 'Install Camera Off' }).click();
    await section.getByText(/Camera Off: install requested/).waitFor();
    await section.getByText('Install requested', { exact: true }).waitFor();
    await check('portal-install-requested');

    await pc.checkIn();
    expect(pc.state.received).toContain(`Add ${CAMERA}`);
    expect(pc.state.get(CAMERA)).toBe('1');
    await page.reload();
    await section.getByText('Installed', { exact: true }).waitFor();
    expect(await section.getByRole('button', { name: 'Install Camera Off' }).count()).toBe(0);
    await check('portal-installed');
    expect(web.foreign).toEqual([]);
  }, 120_000);
});
