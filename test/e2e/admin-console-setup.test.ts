/**
 * The admin console's setup pages in Debian's Chromium against a real server: an administrator tests a
 * configured domain's DNS records against a DNS server on loopback (verdicts, then the zone-file records to
 * create), reads the Entra ID Mobility URLs of a connected tenant, opens a profile with its assignment, and sees
 * which enrollment methods are live for the organisation. Each page passes axe-core and is screenshotted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantAdmin } from '../support/admins.js';
import { apiClient, type Creds } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { type TestDnsServer, startDnsServer } from '../support/dns-server.js';
import { newTenantKey } from '../support/entra.js';
import { type TestServer, startTestServer } from '../support/server.js';
import { consoleNav, openWebPage, PASSWORD as PW, pageCheck, signInConsole, type WebPage } from '../support/web-page.js';

const TENANT = '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const CLIENT = '0000000a-0000-0000-c000-000000000000';
const chromium = chromiumPath();

describe.skipIf(!chromium)('admin console setup pages in the browser', () => {
  let t: TestServer | undefined;
  let dns: TestDnsServer | undefined;
  let web: WebPage;
  let page: WebPage['page'];
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  let admin: Creds = {};
  const check = pageCheck(() => page, 'admin');
  async function ok(method: string, path: string, body?: unknown): Promise<void> {
    const res = await call(method, path, { ...admin, body });
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.json)}`).toBeLessThan(300);
  }
  async function go(label: string, heading: string): Promise<void> {
    await consoleNav(page, label).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  beforeAll(async () => {
    dns = await startDnsServer();
    // The test server's public host is localhost: contoso.com's enrollment record points there.
    dns.setZone([
      { name: 'EnterpriseEnrollment.contoso.com', type: 'CNAME', value: 'localhost', ttl: 1800 },
      { name: 'localhost', type: 'A', value: '127.0.0.3' },
    ]);
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    await t.addUser('boss@contoso.com', PW);
    await t.addUser('dem@contoso.com', PW);
    await grantAdmin(t, 'boss@contoso.com', 'administrator');
    admin = await signIn('boss@contoso.com', PW);
    // Through the API: an Entra tenant, MDM scope all users (MAM none), a DEM, a profile assigned to a group.
    await ok('PUT', `/entra/tenants/${TENANT}`, { clientId: CLIENT, jwks: { keys: [(await newTenantKey()).jwk] } });
    await ok('PUT', '/settings/scopes', { mdm: { mode: 'all' }, mam: { mode: 'none' } });
    await ok('PUT', '/dems/dem@contoso.com');
    await ok('POST', '/groups', { name: 'Finance' });
    await ok('PUT', '/profiles/camera-off', {
      scope: 'device',
      settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }],
    });
    await ok('POST', '/profiles/camera-off/assignments', { group: 'Finance' });

    web = await openWebPage(chromium as string, t);
    page = web.page;
  }, 180_000);
  afterAll(async () => {
    await web?.browser.close();
    await t?.stop();
    await dns?.close();
  });

  it('DNS, Entra ID, profiles and enrollment methods, as an administrator sees them', async () => {
    await page.goto(`${srv().base}/admin/`);
    await signInConsole(page, 'boss@contoso.com');

    // DNS: the configured domain against the loopback resolver.
    await go('DNS', 'DNS validation');
    await expect.poll(() => page.getByText('Configured domains:').textContent()).toContain('contoso.com');
    await page.getByLabel('Domains').fill('contoso.com');
    await page.getByLabel('Resolvers').fill((dns as TestDnsServer).address);
    await page.getByLabel('HTTPS probe').uncheck();
    await page.getByRole('button', { name: 'Test' }).click();
    const checked = page.getByRole('table', { name: 'DNS records checked' });
    await checked.waitFor();
    const enrollment = checked.getByRole('row').filter({ hasText: 'Enrollment: EnterpriseEnrollment.contoso.com' });
    expect(await enrollment.textContent()).toMatch(/ok.*localhost.*1800 s/);
    expect(await enrollment.textContent()).toContain('not probed');
    const registration = checked.getByRole('row').filter({ hasText: 'Registration:' });
    expect(await registration.textContent()).toContain('missing');
    const toCreate = page.getByRole('table', { name: 'DNS records to create' });
    await toCreate.waitFor();
    expect(await toCreate.getByRole('row').count()).toBe(3);
    expect(await toCreate.textContent()).toContain('EnterpriseRegistration.contoso.com');
    expect(await page.getByRole('textbox', { name: 'Zone-file lines' }).inputValue()).toMatch(
      /EnterpriseEnrollment\.contoso\.com\.?\s+3600\s+IN\s+CNAME/i,
    );
    expect(await page.getByRole('button', { name: 'Copy the zone-file lines' }).count()).toBe(1);
    await check('dns');

    // Entra ID: the tenant and the URLs to paste.
    await go('Entra ID', 'Entra ID');
    const tenants = page.getByRole('table', { name: 'Connected Entra ID tenants' });
    await expect.poll(() => tenants.textContent()).toContain(TENANT);
    const urls = (await call('GET', '/entra/urls', admin)).json as { mdm: { discoveryUrl: string }; steps: string[] };
    expect(await page.getByText(urls.mdm.discoveryUrl, { exact: true }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Copy MDM discovery URL' }).count()).toBe(1);
    expect(
      await page
        .getByRole('listitem')
        .filter({ hasText: urls.steps[0] ?? '' })
        .count(),
    ).toBeGreaterThan(0);
    await check('entra');

    // Profiles: the list, then the profile with its setting and assignment.
    await go('Profiles', 'Profiles and assignments');
    const profiles = page.getByRole('table', { name: /^Profiles, page 1/ });
    await expect.poll(() => profiles.getByRole('row').count()).toBe(2);
    expect(await profiles.getByRole('row').nth(1).textContent()).toMatch(/camera-off.*Custom.*Device/);
    await check('profiles');
    await profiles.getByRole('link', { name: 'camera-off' }).click();
    await page.getByRole('heading', { level: 1, name: 'Profile' }).waitFor();
    const assigned = page.getByRole('table', { name: 'Assignments of camera-off' });
    await expect.poll(() => assigned.textContent()).toContain('Finance');
    expect(await page.getByRole('table', { name: 'Settings of camera-off' }).textContent()).toContain('AllowCamera');
    await check('profile');

    // Enrollment methods: what is live for this organisation.
    await go('Enrollment methods', 'Enrollment methods');
    const matrix = page.getByRole('table', { name: 'Enrollment methods' });
    await matrix.waitFor();
    const status = async (method: RegExp) =>
      (await matrix
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: method }) })
        .textContent()) ?? '';
    expect(await status(/^Manual/)).toMatch(/Live.*contoso\.com \(password on this server\).*found automatically/);
    expect(await status(/Entra join/)).toMatch(/Live.*Entra tenant connected.*MDM scope: all users/);
    expect(await status(/^Work account/)).toContain('Live');
    expect(await status(/^Bulk/)).toMatch(/Live.*dem@contoso\.com/);
    expect(await status(/^MAM/)).toMatch(/Not live.*MAM scope: nobody.*Missing: Set the MAM scope/);
    await check('enrollment-methods');
  }, 120_000);
});
