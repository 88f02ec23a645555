/**
 * The admin console's editing in Chromium against a real server (SQLite): an administrator creates a group,
 * adds a member, creates a device-limit restriction and assigns it to the group, creates a profile and assigns
 * it to the group — each visible afterwards in the console and in the API. A read-only admin sees the controls
 * disabled with the reason, and the API answers 403. Each edited page passes axe and is screenshotted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantAdmin } from '../support/admins.js';
import { apiClient } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { consoleNav, openWebPage, PASSWORD as PW, pageCheck, signInConsole, type WebPage } from '../support/web-page.js';

const chromium = chromiumPath();
const READ_ONLY = 'Only administrators may change this; your role may look.';

describe.skipIf(!chromium)('admin console editing in the browser', () => {
  let t: TestServer | undefined;
  let web: WebPage;
  let page: WebPage['page'];
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  const check = pageCheck(() => page, 'admin-edit');
  const nav = (name: string) => consoleNav(page, name);
  const outcome = () => page.getByRole('status').filter({ hasNotText: 'Loading' }).first().textContent();
  const signInAs = (upn: string) => signInConsole(page, upn);

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    await t.addUser('dana@contoso.com', PW);
    await t.addUser('boss@contoso.com', PW);
    await t.addUser('auditor@contoso.com', PW);
    await grantAdmin(t, 'boss@contoso.com', 'administrator');
    await grantAdmin(t, 'auditor@contoso.com', 'readonly');
    web = await openWebPage(chromium as string, t, { width: 1200, height: 900 });
    page = web.page;
  }, 180_000);
  afterAll(async () => {
    await web?.browser.close();
    await t?.stop();
  });

  it('an administrator edits groups, restrictions and profiles; a read-only admin cannot', async () => {
    await page.goto(`${srv().base}/admin/`);
    await signInAs('boss@contoso.com');
    const admin = await signIn('boss@contoso.com', PW);

    // Users: add a user, then disable them through the confirmation.
    await nav('Users').click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByLabel('User principal name', { exact: true }).fill('erin@contoso.com');
    await page.getByLabel('Initial password', { exact: true }).fill(PW);
    await page.getByRole('button', { name: 'Add user' }).click();
    await expect.poll(outcome).toContain('User erin@contoso.com added.');
    await page.getByRole('button', { name: 'Disable erin@contoso.com' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable erin@contoso.com?' });
    await dialog.getByRole('button', { name: 'Disable user' }).click();
    await expect.poll(outcome).toContain('User erin@contoso.com disabled.');
    expect((await call('GET', '/users/erin@contoso.com', admin)).json.enabled).toBe(false);
    // A refusal shows the API's reason.
    await page.getByLabel('User principal name', { exact: true }).fill('x@unknown.example');
    await page.getByLabel('Initial password', { exact: true }).fill(PW);
    await page.getByRole('button', { name: 'Add user' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/^Refused: .*unknown\.example/);
    await check('users');

    // Groups: create Field, add dana, nest nothing; then the table shows the member.
    await page.goto(`${srv().base}/admin/groups`);
    await page.getByRole('heading', { level: 1, name: 'Groups' }).waitFor();
    await page.getByLabel('Group name', { exact: true }).fill('Field');
    await page.getByRole('button', { name: 'Create group' }).click();
    await expect.poll(outcome).toContain('Group Field created.');
    await page.getByLabel('Member', { exact: true }).fill('dana@contoso.com');
    await page.getByRole('button', { name: 'Add member' }).click();
    await expect.poll(outcome).toContain('dana@contoso.com added to Field.');
    await page.getByRole('list', { name: 'Users in Field' }).getByText('dana@contoso.com').waitFor();
    expect((await call('GET', '/groups/Field/members', admin)).json.users.map((u: { upn: string }) => u.upn)).toEqual(['dana@contoso.com']);
    expect(await page.getByRole('button', { name: 'Remove dana@contoso.com from Field' }).isEnabled()).toBe(true);
    await check('groups');

    // Restrictions: a device limit of 2, assigned to Field.
    await nav('Restrictions').click();
    await page.getByRole('heading', { level: 1, name: 'Restrictions' }).waitFor();
    await page.getByLabel('Type', { exact: true }).selectOption('deviceLimit');
    await page.getByLabel('Restriction name', { exact: true }).fill('Field limit');
    await page.getByLabel('Device limit', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Add restriction' }).click();
    await expect.poll(outcome).toContain('Restriction Field limit added');
    await page.getByRole('button', { name: 'Edit Field limit' }).click();
    const editor = page.getByRole('region', { name: 'Edit “Field limit”' });
    await editor.getByRole('combobox', { name: 'Group' }).selectOption('Field');
    await editor.getByRole('button', { name: 'Assign' }).click();
    await expect.poll(outcome).toContain('Field limit assigned to Field.');
    const limits = page.getByRole('table', { name: 'Device limit restrictions' });
    await expect
      .poll(() => limits.getByRole('row').filter({ hasText: 'Field limit' }).textContent())
      .toMatch(/Up to 2 devices per user.*Field/);
    const r = await call('GET', '/restrictions/deviceLimit/Field%20limit', admin);
    expect(r.json.config.limit).toBe(2);
    expect(r.json.groups.map((g: { name: string }) => g.name)).toEqual(['Field']);
    await check('restrictions');
    // A platform restriction: created, edited (personal devices blocked), moved to priority 1, then deleted.
    await page.getByLabel('Type', { exact: true }).selectOption('platform');
    await page.getByLabel('Restriction name', { exact: true }).fill('Corp only');
    await page.getByRole('button', { name: 'Add restriction' }).click();
    await expect.poll(outcome).toContain('Restriction Corp only added');
    await page.getByRole('button', { name: 'Edit Corp only' }).click();
    const plat = page.getByRole('region', { name: 'Edit “Corp only”' });
    await plat.getByLabel('Block personally owned devices').check();
    await plat.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(outcome).toContain('Restriction Corp only saved.');
    const platforms = page.getByRole('table', { name: 'Platform restrictions' });
    await expect
      .poll(() => platforms.getByRole('row').filter({ hasText: 'Corp only' }).textContent())
      .toContain('personal devices blocked');
    await page.getByRole('button', { name: 'Edit Corp only' }).click();
    await page.getByLabel('Priority', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Move' }).click();
    await expect.poll(outcome).toContain('Corp only moved to priority 1.');
    expect((await call('GET', '/restrictions/platform/Corp%20only', admin)).json.config.blockPersonal).toBe(true);
    await page.getByRole('button', { name: 'Delete restriction' }).click();
    await page.getByRole('dialog', { name: 'Delete Corp only?' }).getByRole('button', { name: 'Delete restriction' }).click();
    await expect.poll(outcome).toContain('Restriction Corp only deleted.');
    expect((await call('GET', '/restrictions/platform/Corp%20only', admin)).status).toBe(404);

    // Profiles: a custom profile with one setting, assigned to Field.
    await nav('Profiles').click();
    await page.getByRole('heading', { level: 1, name: 'Profiles and assignments' }).waitFor();
    await page.getByLabel('Profile name', { exact: true }).fill('No camera');
    await page.getByLabel('OMA-URI 1', { exact: true }).fill('Vendor/MSFT/Policy/Config/Camera/AllowCamera');
    await page.getByLabel('Format 1', { exact: true }).selectOption('int');
    await page.getByLabel('Value 1', { exact: true }).fill('0');
    await check('profiles');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await page.getByRole('heading', { level: 1, name: 'Profile' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'No camera' }).waitFor();
    await page.getByRole('combobox', { name: 'Group' }).selectOption('Field');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await expect.poll(outcome).toContain('Assigned to group Field as required.');
    await page.getByRole('table', { name: 'Assignments of No camera' }).getByRole('cell', { name: 'Field', exact: true }).waitFor();
    const p = await call('GET', '/profiles/No%20camera', admin);
    expect(p.json.settings).toEqual([{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }]);
    expect(p.json.assignments).toEqual([{ kind: 'group', group: 'Field', device: null, intent: 'required' }]);
    await check('profile');
    // A WIP profile from its named fields.
    await nav('Profiles').click();
    await page.getByLabel('Profile name', { exact: true }).fill('Protect data');
    await page.getByLabel('Profile type', { exact: true }).selectOption('wip');
    await page.getByLabel('Enterprise ID', { exact: true }).fill('contoso.com');
    await page.getByLabel('Enterprise IP ranges', { exact: true }).fill('10.0.0.0-10.255.255.255');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/^Refused: .*allowed app/);
    await page
      .getByLabel('Allowed apps', { exact: true })
      .fill('CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US | Microsoft.MicrosoftEdge');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await page.getByRole('heading', { level: 2, name: 'Protect data' }).waitFor();
    const w = await call('GET', '/profiles/Protect%20data', admin);
    expect(w.json.type).toBe('wip');
    expect(w.json.wip.ipRanges).toEqual(['10.0.0.0-10.255.255.255']);
    expect(w.json.wip.allowedApps[0].product).toBe('Microsoft.MicrosoftEdge');

    // The changes are audited.
    const audit = await call('GET', '/audit?limit=50', admin);
    const actions = (audit.json.items as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['group.add_member', 'user.add']));

    // A read-only admin: the controls are disabled with the reason; the API refuses anyway.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInAs('auditor@contoso.com');
    await page.goto(`${srv().base}/admin/groups`);
    await page.getByRole('list', { name: 'Users in Field' }).waitFor();
    expect(await page.getByRole('button', { name: 'Create group' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Remove dana@contoso.com from Field' }).isDisabled()).toBe(true);
    expect(await page.getByText(READ_ONLY).first().isVisible()).toBe(true);
    await check('groups-readonly');
    await nav('Restrictions').click();
    await page.getByRole('button', { name: 'Details of Field limit' }).click();
    expect(await page.getByRole('button', { name: 'Delete restriction' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Add restriction' }).isDisabled()).toBe(true);
    await check('restrictions-readonly');
    await page.goto(`${srv().base}/admin/profiles/No%20camera`);
    await page.getByRole('heading', { level: 2, name: 'No camera' }).waitFor();
    expect(await page.getByRole('button', { name: 'Unassign from Field' }).isDisabled()).toBe(true);
    const ro = await signIn('auditor@contoso.com', PW);
    for (const [method, path, body] of [
      ['POST', '/groups', { name: 'Nope' }],
      ['DELETE', '/groups/Field/members/dana@contoso.com', undefined],
      ['DELETE', '/restrictions/deviceLimit/Field%20limit', undefined],
      ['DELETE', '/profiles/No%20camera/assignments/group/Field', undefined],
    ] as const) {
      const res = await call(method, path, { ...ro, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(403);
    }

    // Back as administrator: remove the member through the confirmation (DELETE /groups/{name}/members/{upn}).
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInAs('boss@contoso.com');
    await page.goto(`${srv().base}/admin/groups`);
    await page.getByRole('button', { name: 'Remove dana@contoso.com from Field' }).click();
    await page.getByRole('dialog', { name: 'Remove dana@contoso.com from Field?' }).getByRole('button', { name: 'Remove' }).click();
    await expect.poll(outcome).toContain('dana@contoso.com removed from Field.');
    expect((await call('GET', '/groups/Field/members', admin)).json.users).toEqual([]);
    const after = await call('GET', '/audit?limit=50', admin);
    expect((after.json.items as { action: string }[]).map((e) => e.action)).toContain('group.remove_member');
  }, 180_000);
});
