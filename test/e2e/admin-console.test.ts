/**
 * The admin console in Debian's Chromium against a real server with devices enrolled by the simulator: an
 * administrator signs in, walks dashboard → devices (search, a filter) → a device page, and runs Sync through
 * the confirmation dialog; a read-only admin sees the actions disabled with the reason, and the API refuses
 * them (403) whatever the page shows. Each main page passes an axe-core check and is screenshotted to
 * test-artifacts/screenshots/. The console never requests anything outside the server's origin.
 * A second part seeds 100,000 devices straight into the database and pages through them with the cursor.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminRole, grantAdmin } from '../support/admins.js';
import { apiClient, type Creds } from '../support/api-client.js';
import { chromiumPath } from '../support/browser.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';
import { consoleNav, openWebPage, PASSWORD as PW, pageCheck, SHOTS, signInConsole, type WebPage } from '../support/web-page.js';

const chromium = chromiumPath();

async function addAdmin(t: TestServer, upn: string, role: AdminRole, license = true): Promise<void> {
  await t.addUser(upn, PW, { license });
  await grantAdmin(t, upn, role);
}

describe.skipIf(!chromium)('admin console in the browser', () => {
  let t: TestServer | undefined;
  let web: WebPage;
  let page: WebPage['page'];
  let pcs: ManagedPc[] = [];
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  const check = pageCheck(() => page, 'admin');

  /** Submits the sign-in form without waiting for the dashboard: for refusals and deep links. */
  async function submitSignIn(upn: string): Promise<void> {
    await page.getByLabel('Work account').fill(upn);
    await page.getByLabel('Password').fill(PW);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    if (!t) throw new Error('no server');
    await t.addDomain('contoso.com');
    await t.addUser('alice@contoso.com', PW);
    await t.addUser('bob@contoso.com', PW, { license: false });
    await addAdmin(t, 'boss@contoso.com', 'administrator');
    await addAdmin(t, 'auditor@contoso.com', 'readonly');
    await addAdmin(t, 'free@contoso.com', 'administrator', false);
    pcs = [
      await enrollPc(t, 'alice@contoso.com', PW),
      await enrollPc(t, 'alice@contoso.com', PW),
      await enrollPc(t, 'alice@contoso.com', PW, 'Device'),
    ];
    for (const pc of pcs) await pc.checkIn();
    // A refused attempt (no license) for the dashboard's failure count.
    await expect(enrollPc(t, 'bob@contoso.com', PW)).rejects.toThrow();

    web = await openWebPage(chromium as string, t);
    page = web.page;
  }, 180_000);
  afterAll(async () => {
    await web?.browser.close();
    await t?.stop();
  });

  it('an administrator walks dashboard, devices (search, filter), a device, and queues Sync through the dialog', async () => {
    const admin = await signIn('boss@contoso.com', PW);
    const listed = (await call('GET', '/devices', admin)).json.items as Array<{
      deviceId: string;
      deviceName: string | null;
      ownership: string;
    }>;
    expect(listed).toHaveLength(3);
    const target = listed.find((d) => d.deviceId === pcs[0]?.device.deviceId.toUpperCase()) ?? listed[0];
    if (!target) throw new Error('no device');
    const targetName = target.deviceName ?? target.deviceId;

    await page.goto(`${srv().base}/admin/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await check('sign-in');

    // The unlicensed-admin rule: the API's reason is shown.
    await submitSignIn('free@contoso.com');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('no Winroll license');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('The UPN or password is wrong');

    await signInConsole(page, 'boss@contoso.com');
    const cards = page.getByRole('list', { name: 'Device counts' });
    await expect.poll(() => cards.getByRole('listitem').first().textContent()).toBe('3Enrolled devices');
    const enrollments = page.getByRole('list', { name: 'Enrollment counts' });
    expect(await enrollments.getByRole('listitem').nth(0).textContent()).toBe('3Enrolled');
    expect(await enrollments.getByRole('listitem').nth(1).textContent()).toBe('1Failed');
    expect(await page.getByRole('img', { name: /Enrollment attempts per hour/ }).count()).toBe(1);
    await check('dashboard');

    await consoleNav(page, 'Devices').click();
    await page.getByRole('heading', { level: 1, name: 'Devices' }).waitFor();
    const table = page.getByRole('table', { name: /^Devices, page 1/ });
    await expect.poll(() => table.getByRole('row').count()).toBe(4);
    await check('devices');

    // Search by the DeviceID's first characters: only that device.
    await page.getByLabel('Search').fill(target.deviceId.slice(0, 12).toLowerCase());
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => table.getByRole('row').count()).toBe(2);
    expect(await table.getByRole('link', { name: targetName }).count()).toBe(1);
    expect(page.url()).toContain('q=');

    // A filter: corporate devices only (the Device-type enrollment).
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Ownership').selectOption('corporate');
    await page.getByRole('button', { name: 'Apply' }).click();
    const corporate = listed.filter((d) => d.ownership === 'corporate').length;
    expect(corporate).toBeGreaterThan(0);
    await expect.poll(() => table.getByRole('row').count()).toBe(corporate + 1);
    await page.getByLabel('Ownership').selectOption('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => table.getByRole('row').count()).toBe(4);

    await table.getByRole('link', { name: targetName }).click();
    await page.getByRole('heading', { level: 1, name: 'Device' }).waitFor();
    await page.getByRole('heading', { level: 2, name: targetName }).waitFor();
    expect(await page.getByText('alice@contoso.com').first().isVisible()).toBe(true);
    await page.getByRole('table', { name: 'Enrollments of this device' }).getByRole('row').nth(1).waitFor();
    await page.getByRole('table', { name: 'Newest commands and remote actions' }).getByRole('row').nth(1).waitFor();
    await check('device');

    await page.getByRole('button', { name: 'Sync', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.getByRole('heading').textContent()).toBe(`Sync ${targetName}?`);
    await check('device-confirm-sync');
    await dialog.getByRole('button', { name: 'Sync device' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Sync queued');
    const commands = page.getByRole('table', { name: 'Newest commands and remote actions' });
    await expect
      .poll(async () => (await commands.getByRole('row').filter({ hasText: 'Remote action' }).allTextContents()).join('\n'))
      .toMatch(/Queued/);
    await page.screenshot({ path: `${SHOTS}/admin-device-sync-queued.png`, fullPage: true });

    // The API saw it: a queued sync action, audited.
    const detail = (await call('GET', `/devices/${target.deviceId}`, admin)).json;
    expect(
      detail.commands.some((c: { origin: { kind: string }; state: string }) => c.origin.kind === 'action' && c.state === 'pending'),
    ).toBe(true);
    const audit = (await call('GET', `/audit?targetType=device&targetId=${target.deviceId}`, admin)).json.items;
    expect(audit[0]).toMatchObject({ actorName: 'boss@contoso.com', outcome: 'succeeded' });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  }, 120_000);

  it('a read-only admin sees actions disabled with the reason, and the API refuses them with 403', async () => {
    const deviceId = pcs[0]?.device.deviceId.toUpperCase() as string;
    await page.goto(`${srv().base}/admin/devices/${deviceId}`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await submitSignIn('auditor@contoso.com');
    await page.getByRole('heading', { level: 1, name: 'Device' }).waitFor();
    const sync = page.getByRole('button', { name: 'Sync', exact: true });
    await sync.waitFor();
    expect(await sync.isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Wipe' }).isDisabled()).toBe(true);
    expect(await page.getByText('Your role (Read-only) may look but not run remote actions.').first().isVisible()).toBe(true);
    await check('device-readonly');

    const ro: Creds = await signIn('auditor@contoso.com', PW);
    const refused = await call('POST', `/devices/${deviceId}/actions`, { ...ro, body: { kind: 'sync' } });
    expect(refused.status, refused.text).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
  }, 60_000);

  it('shows the enrollment attempts log with reasons and TraceIDs, and the audit log', async () => {
    await page.goto(`${srv().base}/admin/enrollment-attempts`);
    const heading = page.getByRole('heading', { level: 1 });
    await expect.poll(() => heading.textContent()).toMatch(/^(Sign in|Enrollment attempts)$/);
    if ((await heading.textContent()) === 'Sign in') await submitSignIn('boss@contoso.com');
    await page.getByRole('heading', { level: 1, name: 'Enrollment attempts' }).waitFor();
    await page.getByLabel('Outcome').selectOption('refused');
    await page.getByRole('button', { name: 'Apply' }).click();
    const table = page.getByRole('table', { name: /^Enrollment attempts/ });
    await expect.poll(() => table.getByRole('row').count()).toBe(2);
    const row = table.getByRole('row').nth(1);
    expect(await row.textContent()).toContain('bob@contoso.com');
    expect(await row.textContent()).toMatch(/Refused/);
    expect(await row.textContent()).toMatch(/license/i);
    expect(await row.getByRole('cell').last().textContent()).toMatch(/^[\w-]{8,}$/);
    await check('enrollment-attempts');

    await consoleNav(page, 'Audit log').click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const audit = page.getByRole('table', { name: /^Audit log/ });
    await expect.poll(async () => (await audit.getByRole('row').allTextContents()).join('\n')).toMatch(/boss@contoso\.com.*device/);
    await check('audit');
  }, 60_000);

  it('serves the console with a same-origin CSP and makes no request outside the server', async () => {
    const res = await page.goto(`${srv().base}/admin/devices`);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
    expect(res?.headers()['cache-control']).toBe('no-cache');
    await page.getByRole('heading', { level: 1, name: 'Devices' }).waitFor();
    expect(web.foreign).toEqual([]);
  });
});

// -- 100,000 devices ---------------------------------------------------------------------------------------

const FLEET = 100_000;
const PAGE = 199; // 100,000 = 502 × 199 + 102: the last page is a partial one.

/** Inserts FLEET devices for one user in a single INSERT ... SELECT (DeviceIDs sort by i). */
async function seedFleet(t: TestServer, userId: string): Promise<void> {
  const now = new Date().toISOString();
  const cols = `id, device_id, device_name, os_version, mac_addresses, enrollment_type, user_id, upn, status, first_enrolled_at,
    last_enrolled_at, ownership, last_check_in_at`;
  if (t.databaseUrl) {
    const client = new pg.Client({ connectionString: t.databaseUrl });
    await client.connect();
    try {
      await client.query(
        `insert into devices (${cols})
         select 'fleet-' || lpad(i::text, 6, '0'), 'F' || lpad(upper(to_hex(i)), 31, '0'), 'FLEET-' || i,
           case when i % 2 = 0 then '10.0.26100.1' else '10.0.19045.1' end, '[]', 'Full', $1, 'fleet@contoso.com', 'enrolled', $2, $2,
           case when i % 10 = 0 then 'corporate' else 'personal' end, $2
         from generate_series(0, ${FLEET - 1}) as s(i)`,
        [userId, now],
      );
      await client.query('analyze devices');
    } finally {
      await client.end();
    }
    return;
  }
  const db = new Database(`${t.dataDir}/winroll.db`);
  try {
    db.pragma('busy_timeout = 10000');
    db.prepare(
      `with recursive s(i) as (select 0 union all select i + 1 from s where i < ${FLEET - 1})
       insert into devices (${cols})
       select 'fleet-' || printf('%06d', i), 'F' || printf('%031X', i), 'FLEET-' || i,
         case when i % 2 = 0 then '10.0.26100.1' else '10.0.19045.1' end, '[]', 'Full', ?, 'fleet@contoso.com', 'enrolled', ?, ?,
         case when i % 10 = 0 then 'corporate' else 'personal' end, ? from s`,
    ).run(userId, now, now, now);
  } finally {
    db.close();
  }
}

describe.each(ENGINES)('devices API with 100,000 devices (%s)', (engine) => {
  const run = itOn(engine);
  let t: TestServer | undefined;
  const { call, signIn } = apiClient(() => t as TestServer);
  let admin: Creds = {};

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    await t.addUser('fleet@contoso.com', PW);
    await addAdmin(t, 'boss@contoso.com', 'administrator');
    const user = await t.server.storage.getUserByUpn('fleet@contoso.com');
    await seedFleet(t, user?.id as string);
    admin = await signIn('boss@contoso.com', PW);
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  });

  run(
    'pages through every device with the cursor; the last page is partial and ends the list',
    async () => {
      let cursor: string | null = null;
      let pages = 0;
      let seen = 0;
      let previous = '';
      let firstMs = 0;
      let lastMs = 0;
      let last: { items: Array<{ deviceId: string }>; nextCursor: string | null } | undefined;
      do {
        const started = performance.now();
        const res = await call('GET', `/devices?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`, admin);
        const ms = performance.now() - started;
        expect(res.status, res.text).toBe(200);
        last = res.json;
        if (pages === 0) firstMs = ms;
        lastMs = ms;
        pages++;
        for (const d of last?.items ?? []) {
          expect(d.deviceId > previous, `${d.deviceId} after ${previous}`).toBe(true);
          previous = d.deviceId;
        }
        seen += last?.items.length ?? 0;
        cursor = last?.nextCursor ?? null;
      } while (cursor);
      expect(seen).toBe(FLEET);
      expect(pages).toBe(Math.ceil(FLEET / PAGE));
      expect(last?.items).toHaveLength(FLEET % PAGE);
      expect(last?.items.at(-1)?.deviceId).toBe(`F${(FLEET - 1).toString(16).toUpperCase().padStart(31, '0')}`);
      expect(last?.nextCursor).toBeNull();
      console.log(`[admin-console] ${engine}: ${pages} pages; first ${firstMs.toFixed(0)} ms, last ${lastMs.toFixed(0)} ms`);
      // Keyset paging: the deepest page costs about what the first one does.
      expect(lastMs).toBeLessThan(Math.max(1000, firstMs * 10));
    },
    300_000,
  );

  run('filters and search stay correct at that size', async () => {
    const corp = await call('GET', '/devices?ownership=corporate&os=windows11&limit=200', admin);
    expect(corp.status, corp.text).toBe(200);
    expect(corp.json.items).toHaveLength(200);
    expect(
      corp.json.items.every(
        (d: { ownership: string; osVersion: string }) => d.ownership === 'corporate' && d.osVersion.startsWith('10.0.26100'),
      ),
    ).toBe(true);
    const one = await call('GET', '/devices?q=fleet-99999', admin);
    expect(one.json.items.map((d: { deviceName: string }) => d.deviceName)).toEqual(['FLEET-99999']);
    const stale = await call('GET', '/devices?checkIn=stale7d', admin);
    expect(stale.json.items).toEqual([]);
    const dash = await call('GET', '/dashboard', admin);
    expect(dash.json.devices).toMatchObject({ total: FLEET, corporate: FLEET / 10, personal: FLEET - FLEET / 10, mdm: FLEET, mam: 0 });
    expect(dash.json.last24h.byHour).toHaveLength(25);
  });
});
