/**
 * Console forms the other browser walks leave out, in Chromium against a real server (SQLite) with a PC
 * enrolled by the simulator: an administrator changes a device's primary user, nests a group and sees the
 * scope preview of an inner member follow the outer group's MDM scope, renames a restriction and unassigns it,
 * disables then enables a user, and filters the audit log by kind of actor. Each outcome is checked in the
 * console and in the API; each page passes axe and is screenshotted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantAdmin } from '../support/admins.js';
import { apiClient, type Creds } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { consoleNav, openWebPage, PASSWORD, pageCheck, signInConsole, signInPortal, type WebPage } from '../support/web-page.js';

const chromium = chromiumPath();

describe.skipIf(!chromium)('admin console forms in the browser', () => {
  let t: TestServer | undefined;
  let web: WebPage;
  let pc: ManagedPc;
  let admin: Creds = {};
  const srv = () => t as TestServer;
  const page = () => web.page;
  const check = pageCheck(page, 'admin-forms');
  const { call, signIn } = apiClient(srv);
  const outcome = () => page().getByRole('status').filter({ hasNotText: 'Loading' }).first().textContent();
  async function ok(method: string, path: string, body?: unknown): Promise<void> {
    const res = await call(method, path, { ...admin, ...(body === undefined ? {} : { body }) });
    expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
  }

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    for (const upn of ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'erin@contoso.com', 'boss@contoso.com']) {
      await t.addUser(upn, PASSWORD);
    }
    await grantAdmin(t, 'boss@contoso.com', 'administrator');
    admin = await signIn('boss@contoso.com', PASSWORD);
    pc = await enrollPc(t, 'alice@contoso.com', PASSWORD);
    await pc.checkIn();
    // Outer holds the MDM scope; carol is only in Inner, which is not nested yet.
    await ok('POST', '/groups', { name: 'Outer' });
    await ok('POST', '/groups', { name: 'Inner' });
    await ok('POST', '/groups/Inner/members', { upn: 'carol@contoso.com' });
    // The API wants a scope group to hold users; alice is one.
    await ok('POST', '/groups/Outer/members', { upn: 'alice@contoso.com' });
    await ok('PUT', '/settings/scopes', { mdm: { mode: 'some', groups: ['Outer'] }, mam: { mode: 'none' } });
    await ok('POST', '/restrictions', { type: 'deviceLimit', name: 'Inner limit', limit: 4 });
    await ok('PUT', '/restrictions/deviceLimit/Inner%20limit/groups/Inner');
    web = await openWebPage(chromium as string, t);
  }, 180_000);
  afterAll(async () => {
    await web?.browser.close();
    await t?.stop();
  });

  it('an administrator changes the primary user, nests a group, renames and unassigns a restriction, re-enables a user', async () => {
    const p = page();
    await p.goto(`${srv().base}/admin/`);
    await signInConsole(p, 'boss@contoso.com');

    // Device: alice's PC now belongs to bob.
    const deviceId = pc.device.deviceId.toUpperCase();
    await p.goto(`${srv().base}/admin/devices/${deviceId}`);
    await p.getByRole('heading', { level: 1, name: 'Device' }).waitFor();
    const primary = p.getByRole('definition').filter({ has: p.locator('xpath=preceding-sibling::dt[1][. = "Primary user"]') });
    await expect.poll(() => primary.textContent()).toBe('alice@contoso.com');
    await p.getByLabel('New primary user', { exact: true }).fill('bob@contoso.com');
    await p.getByRole('button', { name: 'Change primary user' }).click();
    await expect.poll(outcome).toContain('Primary user changed to bob@contoso.com.');
    await expect.poll(() => primary.textContent()).toBe('bob@contoso.com');
    expect((await call('GET', `/devices/${deviceId}`, admin)).json.primaryUser.upn).toBe('bob@contoso.com');
    await check('device-primary-user');
    // The API's refusal reaches the page: an unknown user.
    await p.getByLabel('New primary user', { exact: true }).fill('nobody@contoso.com');
    await p.getByRole('button', { name: 'Change primary user' }).click();
    await expect.poll(() => p.getByRole('alert').first().textContent()).toMatch(/^Refused: /);
    expect((await call('GET', `/devices/${deviceId}`, admin)).json.primaryUser.upn).toBe('bob@contoso.com');

    // Groups: before nesting, carol (in Inner only) is out of the MDM scope.
    const preview = p.getByRole('list', { name: 'Scope preview' });
    const personal = preview.getByRole('listitem').filter({ hasText: 'On a personal device' });
    await p.goto(`${srv().base}/admin/users/carol@contoso.com`);
    await expect.poll(() => personal.textContent()).toMatch(/Refused, because in neither the MDM nor the MAM user scope/);
    await p.goto(`${srv().base}/admin/groups`);
    await p.getByRole('heading', { level: 1, name: 'Groups' }).waitFor();
    await p.getByLabel('To group', { exact: true }).selectOption('Outer');
    await p.getByLabel('Member', { exact: true }).fill('Inner');
    await p.getByRole('button', { name: 'Add member' }).click();
    await expect.poll(outcome).toContain('Group Inner nested in Outer.');
    const groupRow = (name: string) => p.getByRole('table', { name: 'Groups' }).getByRole('row', { name: new RegExp(`^${name} `) });
    await expect.poll(() => groupRow('Inner').textContent()).toMatch(/carol@contoso\.com.*Outer/);
    const nested = (await call('GET', '/groups/Outer/members', admin)).json.groups as { name: string }[];
    expect(nested.map((g) => g.name)).toEqual(['Inner']);
    await check('groups-nested');
    await p.goto(`${srv().base}/admin/users/carol@contoso.com`);
    await expect.poll(() => personal.textContent()).toMatch(/MDM \(device management\), because in the MDM user scope/);
    expect(await p.getByRole('list', { name: 'Groups of this user' }).textContent()).toBe('InnerOuter (through Inner)');
    const explained = await call('POST', '/explain', {
      ...admin,
      body: { upn: 'carol@contoso.com', ownership: 'personal', method: 'automatic' },
    });
    expect(explained.json.outcome).toBe('mdm');
    await check('user-preview-nested');

    // Restrictions: rename Inner limit, then unassign it from Inner.
    await consoleNav(p, 'Restrictions').click();
    await p.getByRole('heading', { level: 1, name: 'Restrictions' }).waitFor();
    await p.getByRole('button', { name: 'Edit Inner limit' }).click();
    const editor = p.getByRole('region', { name: 'Edit “Inner limit”' });
    await editor.getByLabel('Name', { exact: true }).fill('Team limit');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(outcome).toContain('Restriction Team limit saved.');
    const limits = p.getByRole('table', { name: 'Device limit restrictions' });
    await expect
      .poll(() => limits.getByRole('row').filter({ hasText: 'Team limit' }).textContent())
      .toMatch(/Up to 4 devices per user.*Inner/);
    expect(await limits.getByRole('row').filter({ hasText: 'Inner limit' }).count()).toBe(0);
    expect((await call('GET', '/restrictions/deviceLimit/Inner%20limit', admin)).status).toBe(404);
    await p.getByRole('button', { name: 'Edit Team limit' }).click();
    await p.getByRole('button', { name: 'Unassign Team limit from Inner' }).click();
    await p.getByRole('dialog', { name: 'Unassign Team limit from Inner?' }).getByRole('button', { name: 'Unassign' }).click();
    await expect.poll(outcome).toContain('Team limit unassigned from Inner.');
    await expect.poll(() => limits.getByRole('row').filter({ hasText: 'Team limit' }).textContent()).toContain('No groups');
    const renamed = await call('GET', '/restrictions/deviceLimit/Team%20limit', admin);
    expect(renamed.json.config.limit).toBe(4);
    expect(renamed.json.groups).toEqual([]);
    await check('restrictions-renamed');

    // Users: disable erin, then the Enable button brings her back.
    await consoleNav(p, 'Users').click();
    await p.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    const erin = p.getByRole('table', { name: 'Users' }).getByRole('row').filter({ hasText: 'erin@contoso.com' });
    await p.getByRole('button', { name: 'Disable erin@contoso.com' }).click();
    await p.getByRole('dialog', { name: 'Disable erin@contoso.com?' }).getByRole('button', { name: 'Disable user' }).click();
    await expect.poll(outcome).toContain('User erin@contoso.com disabled.');
    await expect.poll(() => erin.textContent()).toContain('Disabled');
    expect((await call('GET', '/users/erin@contoso.com', admin)).json.enabled).toBe(false);
    await p.getByRole('button', { name: 'Enable erin@contoso.com' }).click();
    await expect.poll(outcome).toContain('User erin@contoso.com enabled.');
    await expect.poll(() => erin.textContent()).toContain('Enabled');
    expect(await p.getByRole('button', { name: 'Disable erin@contoso.com' }).isEnabled()).toBe(true);
    expect((await call('GET', '/users/erin@contoso.com', admin)).json.enabled).toBe(true);
    await check('users-enabled');

    // Every change above is audited under boss.
    const audit = (await call('GET', '/audit?limit=100', admin)).json.items as { action: string; actorName: string }[];
    const mine = audit.filter((e) => e.actorName === 'boss@contoso.com').map((e) => e.action);
    expect(mine).toEqual(
      expect.arrayContaining(['device.set_primary_user', 'group.add_group', 'restriction.update', 'user.disable', 'user.enable']),
    );
    expect(web.foreign).toEqual([]);
  }, 180_000);

  it('filters the audit log by kind of actor, and names end users acting in the Company Portal', async () => {
    // bob, now the PC's primary user, removes it in the portal (in a browser context of his own).
    const context = await web.browser.newContext({ ignoreHTTPSErrors: true });
    const portal = await context.newPage();
    await portal.goto(`${srv().base}/portal/`);
    await signInPortal(portal, 'bob@contoso.com');
    await portal.getByRole('table', { name: 'Your devices' }).getByRole('link').first().click();
    await portal.getByRole('button', { name: 'Remove device' }).click();
    await portal.getByRole('dialog', { name: 'Remove this device?' }).getByRole('button', { name: 'Remove device' }).click();
    await portal
      .getByRole('status')
      .getByText(/Removal requested/)
      .waitFor();
    await context.close();

    const p = page();
    await p.goto(`${srv().base}/admin/audit`);
    await p.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const table = p.getByRole('table', { name: /^Audit log/ });
    // The second column is Who.
    const who = () => table.locator('tbody tr td:nth-child(2)').allTextContents();
    const actions = () => table.locator('tbody tr td:nth-child(3)').allTextContents();
    await expect.poll(async () => new Set(await who()).size).toBeGreaterThan(1);
    // grantAdmin ran through the CLI's context; everything else here was boss's.
    await p.getByLabel('Kind of actor', { exact: true }).selectOption('cli');
    await p.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(async () => [...new Set(await who())]).toEqual(['cli']);
    expect(await actions()).toContain('admin.add');
    await check('audit-cli');
    await p.getByLabel('Kind of actor', { exact: true }).selectOption('admin');
    await p.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(async () => [...new Set(await who())]).toEqual(['boss@contoso.com']);
    expect(await actions()).toContain('device.set_primary_user');
    await p.getByLabel('Kind of actor', { exact: true }).selectOption('user');
    await p.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(async () => [...new Set(await who())]).toEqual(['End user bob@contoso.com']);
    expect(await actions()).toEqual(['device.action.retire']);
    await check('audit-end-user');
    const api = (await call('GET', '/audit?actorKind=admin&limit=100', admin)).json.items as { actor: { kind: string } }[];
    expect(api.length).toBeGreaterThan(0);
    expect(api.every((e) => e.actor.kind === 'admin')).toBe(true);
    const users = (await call('GET', '/audit?actorKind=user', admin)).json.items as { actor: { kind: string; upn: string } }[];
    expect(users.map((e) => e.actor)).toEqual([expect.objectContaining({ kind: 'user', upn: 'bob@contoso.com' })]);
  }, 60_000);
});
