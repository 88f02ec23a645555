/**
 * The admin console's policy pages in Chromium against a real server (SQLite): an administrator sets the MAM
 * scope on automatic enrollment to a group overlapping the MDM scope and sees the API's overlap warning, opens
 * a user in both scopes and sees the preview (MAM on a personal device, MDM on a corporate one, with the
 * reason), sees a group license assignment and a restriction. Each page passes axe and is screenshotted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantAdmin } from '../support/admins.js';
import { apiClient } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { consoleNav, openWebPage, PASSWORD as PW, pageCheck, SHOTS, signInConsole, type WebPage } from '../support/web-page.js';

const chromium = chromiumPath();

describe.skipIf(!chromium)('admin console policy pages in the browser', () => {
  let t: TestServer | undefined;
  let web: WebPage;
  let page: WebPage['page'];
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  const check = pageCheck(() => page, 'admin');
  const nav = (name: string) => consoleNav(page, name);

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    await t.addUser('alice@contoso.com', PW, { license: false });
    await t.addUser('carol@contoso.com', PW);
    await t.addUser('boss@contoso.com', PW);
    await grantAdmin(t, 'boss@contoso.com', 'administrator');
    await t.addUser('auditor@contoso.com', PW);
    await grantAdmin(t, 'auditor@contoso.com', 'readonly');

    const admin = await signIn('boss@contoso.com', PW);
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, { ...admin, ...(body === undefined ? {} : { body }) });
      expect(r.status, `${method} ${path}: ${r.text}`).toBeLessThan(300);
    };
    await ok('POST', '/groups', { name: 'Sales' });
    await ok('POST', '/groups', { name: 'Staff' });
    await ok('POST', '/groups/Sales/members', { upn: 'alice@contoso.com' });
    await ok('POST', '/groups/Staff/members', { upn: 'carol@contoso.com' });
    await ok('POST', '/groups/Staff/groups', { group: 'Sales' });
    await ok('PUT', '/settings/scopes', { mdm: { mode: 'some', groups: ['Staff'] } });
    await ok('PUT', '/licenses/groups/Sales');
    await ok('POST', '/restrictions', { type: 'deviceLimit', name: 'Sales limit', limit: 3 });
    await ok('PUT', '/restrictions/deviceLimit/Sales%20limit/groups/Sales');

    web = await openWebPage(chromium as string, t);
    page = web.page;
  }, 180_000);
  afterAll(async () => {
    await web?.browser.close();
    await t?.stop();
  });

  it('an administrator sets an overlapping MAM scope, previews a user, sees licenses and restrictions', async () => {
    await page.goto(`${srv().base}/admin/`);
    await signInConsole(page, 'boss@contoso.com');

    // Automatic enrollment: MAM scope = Sales, which Staff (the MDM scope) contains → the overlap warning.
    await nav('Automatic enrollment').click();
    await page.getByRole('heading', { level: 1, name: 'Automatic enrollment' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'MAM user scope' }).waitFor();
    const mam = page.getByRole('region', { name: 'MAM user scope' });
    const mdm = page.getByRole('region', { name: 'MDM user scope' });
    expect(await mdm.getByRole('checkbox', { name: 'Staff' }).isChecked()).toBe(true);
    await mam.getByRole('radio', { name: /^Some/ }).check();
    await mam.getByRole('checkbox', { name: 'Sales' }).check();
    await mam.getByRole('button', { name: 'Save MAM scope' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('MAM scope saved');
    await expect
      .poll(() => page.getByRole('alert', { name: 'Scope warnings' }).textContent())
      .toContain('1 user is in both the MDM and the MAM scope');
    expect(await page.getByLabel('MDM discovery URL').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Restore defaults' }).isEnabled()).toBe(true);
    await check('automatic-enrollment');

    // Users → alice: MAM on personal, MDM on corporate, with the reason.
    await nav('Users').click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByLabel('Search users').fill('alice');
    await page.getByRole('button', { name: 'Search' }).click();
    const users = page.getByRole('table', { name: /Users matching/ });
    await expect.poll(() => users.getByRole('row').count()).toBe(2);
    await check('users');
    await users.getByRole('link', { name: 'alice@contoso.com' }).click();
    await page.getByRole('heading', { level: 1, name: 'User' }).waitFor();
    const preview = page.getByRole('list', { name: 'Scope preview' });
    await preview.waitFor();
    const personal = preview.getByRole('listitem').filter({ hasText: 'On a personal device' });
    const corporate = preview.getByRole('listitem').filter({ hasText: 'On a corporate device' });
    await expect
      .poll(() => personal.textContent())
      .toMatch(/MAM \(app protection only\), because in both scopes on a personal device: MAM takes precedence/);
    expect(await corporate.textContent()).toMatch(
      /MDM \(device management\), because in both scopes on a corporate device: MDM takes precedence/,
    );
    await expect
      .poll(() => page.getByRole('definition').filter({ hasText: 'Licensed' }).textContent())
      .toContain('Licensed through group Sales');
    await expect.poll(() => page.getByRole('list', { name: 'Groups of this user' }).textContent()).toBe('SalesStaff (through Sales)');
    await check('user');

    // Licenses: the group assignment.
    await nav('Licenses').click();
    await page.getByRole('heading', { level: 1, name: 'Licenses' }).waitFor();
    const groups = page.getByRole('table', { name: 'Group assignments' });
    await expect.poll(() => groups.getByRole('row').filter({ hasText: 'Sales' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Unassign Sales' }).isEnabled()).toBe(true);
    await check('licenses');

    // Restrictions: the device limit, with its setting and group.
    await nav('Restrictions').click();
    await page.getByRole('heading', { level: 1, name: 'Restrictions' }).waitFor();
    const limits = page.getByRole('table', { name: 'Device limit restrictions' });
    await expect.poll(() => limits.getByRole('row').filter({ hasText: 'Sales limit' }).textContent()).toContain('Up to 3 devices per user');
    expect(await limits.getByRole('row').filter({ hasText: 'Sales limit' }).textContent()).toContain('Sales');
    await check('restrictions');

    await page.goto(`${srv().base}/admin/groups`);
    await page.getByRole('heading', { level: 1, name: 'Groups' }).waitFor();
    await expect.poll(() => page.getByRole('table', { name: 'Groups' }).getByRole('row').count()).toBe(3);
    const groupRow = (name: string) => page.getByRole('table', { name: 'Groups' }).getByRole('row', { name: new RegExp(`^${name} `) });
    expect(await groupRow('Staff').textContent()).toMatch(/carol@contoso\.com.*Sales/);
    expect(await groupRow('Sales').textContent()).toMatch(/alice@contoso\.com.*Staff/);
    await check('groups');

    // A read-only admin: the controls are disabled with the reason, and the API refuses anyway.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInConsole(page, 'auditor@contoso.com');
    await nav('Automatic enrollment').click();
    const save = page.getByRole('button', { name: 'Save MAM scope' });
    await save.waitFor();
    expect(await save.isDisabled()).toBe(true);
    expect(await page.getByText('Only administrators may change this; your role may look.').first().isVisible()).toBe(true);
    await nav('Licenses').click();
    await page.getByRole('table', { name: 'Group assignments' }).getByRole('row').filter({ hasText: 'Sales' }).waitFor();
    expect(await page.getByRole('button', { name: 'Unassign Sales' }).isDisabled()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/admin-licenses-readonly.png`, fullPage: true });
    const ro = await signIn('auditor@contoso.com', PW);
    const refused = await call('DELETE', '/licenses/groups/Sales', ro);
    expect(refused.status, refused.text).toBe(403);
  }, 120_000);
});
