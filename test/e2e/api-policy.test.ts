/**
 * Who may enroll, through the admin REST API on a real server (SQLite and PostgreSQL): licenses and seats,
 * the automatic-enrollment settings, restrictions, device enrollment managers, corporate identifiers, group
 * nesting, user import, explain (equal to `winroll explain --json`), the enrollment attempts a real
 * simulator enrollment leaves, the "allow unlicensed admins" setting at sign-in and on every request, the
 * role matrix of these routes and their audit entries; then the CLI's policy commands leave audit entries
 * too. The CLI parts run the compiled build: `npx tsc -p tsconfig.json` first (npm test does).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../src/http/api/index.js';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { EnrollmentFailed, enroll } from '../../src/simulator/enroll.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { grantAdmin, signInAdmins } from '../support/admins.js';
import { type ApiResponse, type Creds, apiClient, expectProblem } from '../support/api-client.js';
import { dataFlags, winroll } from '../support/cli.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const PW = 'correct horse battery';
const KEY = generateDeviceKey();

type Role = 'administrator' | 'helpdesk' | 'readonly';
// biome-ignore lint/suspicious/noExplicitAny: audit entries are inspected field by field
type Entry = any;

describe.each(ENGINES)('admin API: who may enroll (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  let sessions: Record<Role, Creds> = { administrator: {}, helpdesk: {}, readonly: {} };
  const admin = () => sessions.administrator;
  const audit = async (query: string): Promise<Entry[]> => {
    const res = await call('GET', `/audit?limit=200&${query}`, admin());
    expect(res.status, res.text).toBe(200);
    return res.json.items;
  };
  const cliData = () => dataFlags(srv());

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    for (const u of ['boss', 'help', 'auditor', 'alice', 'carol', 'dave']) await t.addUser(`${u}@contoso.com`, PW);
    for (const u of ['bob', 'free']) await t.addUser(`${u}@contoso.com`, PW, { license: false });
    sessions = await signInAdmins(t, signIn, PW, {
      administrator: 'boss@contoso.com',
      helpdesk: 'help@contoso.com',
      readonly: 'auditor@contoso.com',
    });
    // An administrator without a license: refused unless the tenant allows unlicensed admins.
    await grantAdmin(t, 'free@contoso.com', 'administrator');
    for (const name of ['engineering', 'staff', 'empty'])
      expect((await call('POST', '/groups', { ...admin(), body: { name } })).status).toBe(201);
    expect((await call('POST', '/groups/engineering/members', { ...admin(), body: { upn: 'alice@contoso.com' } })).status).toBe(204);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  run('reads for every role, explain for help desk too, changes for administrators only', async () => {
    const everyone: Array<[string, string]> = [
      ['GET', '/licenses'],
      ['GET', '/settings/enrollment'],
      ['GET', '/restrictions'],
      ['GET', '/restrictions/platform/Default'],
      ['GET', '/dems'],
      ['GET', '/enrollment-attempts'],
    ];
    for (const [method, p] of everyone) {
      for (const role of ['readonly', 'helpdesk', 'administrator'] as Role[]) {
        const res = await call(method, p, sessions[role]);
        expect(res.status, `${role} ${method} ${p}: ${res.text}`).toBe(200);
      }
    }
    const explain = { upn: 'alice@contoso.com', ownership: 'personal' };
    expectProblem(await call('POST', '/explain', { ...sessions.readonly, body: explain }), 403, 'forbidden');
    expect((await call('POST', '/explain', { ...sessions.helpdesk, body: explain })).status).toBe(200);

    const changes: Array<[string, string, unknown?]> = [
      ['PUT', '/licenses/carol@contoso.com'],
      ['DELETE', '/licenses/carol@contoso.com'],
      ['PUT', '/licenses/seats', { seats: null }],
      ['PUT', '/settings/scopes', { mdm: { mode: 'all' } }],
      ['PUT', '/settings/urls', { compliance: 'https://compliance.contoso.com/check' }],
      ['POST', '/settings/urls/restore-defaults'],
      ['PUT', '/settings/unlicensed-admins', { allow: false }],
      ['POST', '/restrictions', { type: 'deviceLimit', name: 'Matrix', limit: 3 }],
      ['PATCH', '/restrictions/deviceLimit/Matrix', { limit: 4 }],
      ['PUT', '/restrictions/deviceLimit/Matrix/priority', { priority: 1 }],
      ['PUT', '/restrictions/deviceLimit/Matrix/groups/engineering'],
      ['DELETE', '/restrictions/deviceLimit/Matrix/groups/engineering'],
      ['DELETE', '/restrictions/deviceLimit/Matrix'],
      ['PUT', '/dems/dave@contoso.com'],
      ['DELETE', '/dems/dave@contoso.com'],
      ['POST', '/corporate-identifiers', { rows: [{ manufacturer: 'Contoso', model: 'Matrix', serial: 'M-1' }] }],
      ['POST', '/groups/staff/groups', { group: 'empty' }],
      ['DELETE', '/groups/staff/groups/empty'],
      ['POST', '/users/import', { csv: 'upn,password\nmatrix@contoso.com,matrix password\n' }],
    ];
    for (const [method, p, body] of changes) {
      for (const role of ['readonly', 'helpdesk'] as Role[]) {
        const res = await call(method, p, { ...sessions[role], body });
        expectProblem(res, 403, 'forbidden');
        expect(res.json.detail).toContain(role);
      }
      const ok = await call(method, p, { ...admin(), body });
      expect(ok.status, `${method} ${p}: ${ok.text}`).toBeLessThan(300);
    }
    // Without the CSRF token a session cannot change anything here either.
    expectProblem(await call('PUT', '/licenses/carol@contoso.com', { cookie: admin().cookie }), 403, 'forbidden');
  });

  run('licenses: counts, seats, assign and remove, audited with before and after', async () => {
    const list = await call('GET', '/licenses?limit=200', admin());
    expect(list.json).toMatchObject({ seats: null, available: null });
    const upns = list.json.items.map((l: { upn: string }) => l.upn);
    expect(upns).toContain('alice@contoso.com');
    expect(upns).not.toContain('bob@contoso.com');
    expect(list.json.assigned).toBe(upns.length);
    const page = await call('GET', '/licenses?limit=1', admin());
    expect(page.json.items).toHaveLength(1);
    expect(page.json.nextCursor).toEqual(expect.any(String));

    const full = await call('PUT', '/licenses/seats', { ...admin(), body: { seats: list.json.assigned } });
    expect(full.status, full.text).toBe(200);
    expect(full.json.licenses).toMatchObject({ seats: list.json.assigned, available: 0 });
    expectProblem(await call('PUT', '/licenses/bob@contoso.com', admin()), 409, 'conflict');
    expectProblem(await call('PUT', '/licenses/seats', { ...admin(), body: { seats: -1 } }), 400, 'invalid_request');
    expect((await call('PUT', '/licenses/seats', { ...admin(), body: { seats: null } })).json.licenses.seats).toBeNull();

    const assigned = await call('PUT', '/licenses/Bob@Contoso.com', admin());
    expect(assigned.json).toEqual({ upn: 'bob@contoso.com', licensed: true, changed: true });
    expect((await call('PUT', '/licenses/bob@contoso.com', admin())).json.changed).toBe(false);
    const removed = await call('DELETE', '/licenses/bob@contoso.com', admin());
    expect(removed.json).toEqual({ upn: 'bob@contoso.com', licensed: false, changed: true });
    expectProblem(await call('PUT', '/licenses/nobody@contoso.com', admin()), 404, 'not_found');

    const entries = await audit('targetType=license&targetId=bob@contoso.com');
    expect(entries.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'license.remove succeeded',
      'license.assign succeeded',
      'license.assign succeeded',
      'license.assign failed',
    ]);
    expect(entries[0]).toMatchObject({
      actor: { kind: 'admin', upn: 'boss@contoso.com' },
      before: { licensed: true },
      after: { licensed: false, changed: true },
      traceId: removed.headers['x-trace-id'],
    });
    expect(entries[3].error).toContain('conflict');
    const seats = await audit('targetType=settings&targetId=licenseSeats');
    expect(seats[0]).toMatchObject({
      action: 'license.set_seats',
      before: { licenseSeats: list.json.assigned },
      after: { licenseSeats: null },
    });
  });

  run('enrollment settings: scopes with group names and warnings, URLs, restore defaults', async () => {
    const shown = await call('GET', '/settings/enrollment', sessions.readonly);
    expect(shown.json).toMatchObject({
      mdmScope: { mode: 'all', groups: [] },
      mamScope: { mode: 'none', groups: [] },
      warnings: [],
      urls: { discovery: `${srv().base}/EnrollmentServer/Discovery.svc` },
      customUrls: { termsOfUse: null, discovery: null, compliance: null },
      allowUnlicensedAdmins: false,
      licenses: { assigned: expect.any(Number) },
    });

    const empty = await call('PUT', '/settings/scopes', { ...admin(), body: { mdm: { mode: 'some', groups: ['empty'] } } });
    expectProblem(empty, 422, 'invalid_input');
    expect(empty.json.detail).toContain('group "empty" contains no users');
    expectProblem(await call('PUT', '/settings/scopes', { ...admin(), body: {} }), 400, 'invalid_request');
    const both = await call('PUT', '/settings/scopes', {
      ...admin(),
      body: { mdm: { mode: 'some', groups: ['engineering'] }, mam: { mode: 'all' } },
    });
    expect(both.status, both.text).toBe(200);
    expect(both.json.mdmScope).toEqual({ mode: 'some', groups: [{ id: expect.any(String), name: 'engineering' }] });
    expect(both.json.warnings[0]).toMatch(/1 user is in both the MDM and the MAM scope/);

    const urls = await call('PUT', '/settings/urls', { ...admin(), body: { termsOfUse: 'https://tou.contoso.com/terms' } });
    expect(urls.json.urls).toMatchObject({
      termsOfUse: 'https://tou.contoso.com/terms',
      discovery: `${srv().base}/EnrollmentServer/Discovery.svc`,
    });
    expect(urls.json.customUrls).toEqual({ termsOfUse: 'https://tou.contoso.com/terms', discovery: null, compliance: null });
    expectProblem(
      await call('PUT', '/settings/urls', { ...admin(), body: { termsOfUse: 'ftp://tou.contoso.com/' } }),
      400,
      'invalid_request',
    );
    const restored = await call('POST', '/settings/urls/restore-defaults', admin());
    expect(restored.json.customUrls).toEqual({ termsOfUse: null, discovery: null, compliance: null });

    const scopes = await audit('targetType=settings&targetId=scopes');
    expect(scopes.map((e) => `${e.action} ${e.outcome}`).slice(0, 2)).toEqual([
      'settings.set_scopes succeeded',
      'settings.set_scopes failed',
    ]);
    expect(scopes[0]).toMatchObject({
      before: { mdmScope: { mode: 'all' }, mamScope: { mode: 'none' } },
      after: {
        mdmScope: { mode: 'some', groups: ['engineering'] },
        mamScope: { mode: 'all' },
        warnings: [expect.stringContaining('both')],
      },
    });
    const urlEntries = await audit('targetType=settings&targetId=urls');
    expect(urlEntries.slice(0, 2).map((e) => e.action)).toEqual(['settings.restore_default_urls', 'settings.set_urls']);
    expect(urlEntries[0]).toMatchObject({
      before: { urls: { termsOfUse: 'https://tou.contoso.com/terms' } },
      after: { urls: { termsOfUse: null } },
    });

    // Back to the defaults for the other tests.
    const reset = await call('PUT', '/settings/scopes', { ...admin(), body: { mdm: { mode: 'all' }, mam: { mode: 'none' } } });
    expect(reset.json.warnings).toEqual([]);
  });

  run('restrictions: add, change, prioritize, assign, delete, each audited', async () => {
    const win11 = await call('POST', '/restrictions', {
      ...admin(),
      body: { type: 'platform', name: 'Win11', minOsVersion: '10.0.22000' },
    });
    expect(win11.status, win11.text).toBe(201);
    expect(win11.json).toMatchObject({
      type: 'platform',
      name: 'Win11',
      priority: 1,
      isDefault: false,
      groups: [],
      config: { minOsVersion: '10.0.22000', windowsMdm: 'allow' },
    });
    expectProblem(await call('POST', '/restrictions', { ...admin(), body: { type: 'platform', name: 'win11' } }), 409, 'conflict');
    expectProblem(
      await call('POST', '/restrictions', { ...admin(), body: { type: 'platform', name: 'Bad', limit: 3 } }),
      422,
      'invalid_input',
    );
    expectProblem(
      await call('POST', '/restrictions', { ...admin(), body: { type: 'deviceLimit', name: 'Bad', windowsMdm: 'block' } }),
      422,
      'invalid_input',
    );
    expectProblem(
      await call('POST', '/restrictions', { ...admin(), body: { type: 'platform', name: 'Bad', minOsVersion: 'eleven' } }),
      422,
      'invalid_input',
    );
    expectProblem(
      await call('POST', '/restrictions', { ...admin(), body: { type: 'platform', name: 'Bad', surprise: true } }),
      400,
      'invalid_request',
    );
    expect(
      (await call('POST', '/restrictions', { ...admin(), body: { type: 'platform', name: 'No personal', blockPersonal: true } })).json
        .priority,
    ).toBe(2);

    const moved = await call('PUT', '/restrictions/platform/No%20personal/priority', { ...admin(), body: { priority: 1 } });
    expect(moved.json.priority).toBe(1);
    const list = await call('GET', '/restrictions?type=platform', admin());
    expect(list.json.items.map((r: { name: string }) => r.name)).toEqual(['No personal', 'Win11', 'Default']);
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await call('GET', `/restrictions?limit=1${cursor ? `&cursor=${cursor}` : ''}`, admin());
      names.push(...res.json.items.map((r: { type: string; name: string }) => `${r.type}/${r.name}`));
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(names).toEqual(['platform/No personal', 'platform/Win11', 'platform/Default', 'deviceLimit/Default']);

    const assigned = await call('PUT', '/restrictions/platform/Win11/groups/engineering', admin());
    expect(assigned.json.groups).toEqual([{ id: expect.any(String), name: 'engineering' }]);
    expectProblem(await call('PUT', '/restrictions/platform/Default/groups/engineering', admin()), 422, 'invalid_input');
    expectProblem(await call('PUT', '/restrictions/platform/Win11/groups/nope', admin()), 404, 'not_found');
    const renamed = await call('PATCH', '/restrictions/platform/win11', {
      ...admin(),
      body: { name: 'Win11 range', maxOsVersion: '10.0.26100' },
    });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json).toMatchObject({ name: 'Win11 range', config: { minOsVersion: '10.0.22000', maxOsVersion: '10.0.26100' } });
    expect((await call('DELETE', '/restrictions/platform/Win11%20range/groups/engineering', admin())).json.groups).toEqual([]);
    expectProblem(await call('DELETE', '/restrictions/platform/Default', admin()), 422, 'invalid_input');
    expect((await call('DELETE', '/restrictions/platform/Win11%20range', admin())).status).toBe(204);
    expectProblem(await call('GET', '/restrictions/platform/Win11%20range', admin()), 404, 'not_found');
    expect((await call('DELETE', '/restrictions/platform/No%20personal', admin())).status).toBe(204);
    expectProblem(await call('GET', '/restrictions/fancy/Default', admin()), 400, 'invalid_request');

    const entries = await audit('targetType=restriction');
    const seen = entries.map((e) => `${e.action} ${e.targetId} ${e.outcome}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'restriction.add platform/Win11 succeeded',
        'restriction.add platform/win11 failed',
        'restriction.set_priority platform/No personal succeeded',
        'restriction.assign platform/Win11 succeeded',
        'restriction.update platform/Win11 succeeded',
        'restriction.unassign platform/Win11 range succeeded',
        'restriction.delete platform/Win11 range succeeded',
      ]),
    );
    expect(entries.find((e) => e.action === 'restriction.update' && e.targetId === 'platform/Win11')).toMatchObject({
      before: { name: 'Win11', config: { maxOsVersion: null }, groups: ['engineering'] },
      after: { name: 'Win11 range', config: { maxOsVersion: '10.0.26100' } },
    });
    expect(entries.find((e) => e.action === 'restriction.set_priority')).toMatchObject({ before: { priority: 2 }, after: { priority: 1 } });
  });

  run('device enrollment managers and corporate identifiers (CSV or JSON rows)', async () => {
    expect((await call('PUT', '/dems/dave@contoso.com', admin())).status).toBe(204);
    expect((await call('GET', '/dems', sessions.readonly)).json.items).toEqual([
      { userId: expect.any(String), upn: 'dave@contoso.com', addedAt: expect.any(String) },
    ]);
    expect((await call('DELETE', '/dems/dave@contoso.com', admin())).status).toBe(204);
    expect((await call('GET', '/dems', admin())).json.items).toEqual([]);
    expectProblem(await call('PUT', '/dems/nobody@contoso.com', admin()), 404, 'not_found');
    const dems = await audit('targetType=dem&targetId=dave@contoso.com');
    expect(dems.slice(0, 2).map((e) => [e.action, e.before, e.after])).toEqual([
      ['dem.remove', { dem: true }, { dem: false }],
      ['dem.add', { dem: false }, { dem: true }],
    ]);

    const csv = await call('POST', '/corporate-identifiers', {
      ...admin(),
      raw: 'Contoso,Laptop 7,SN-1\r\nContoso,Laptop 7,SN-2\r\nbroken line\r\n',
      contentType: 'text/csv',
    });
    expect(csv.status, csv.text).toBe(200);
    expect(csv.json).toEqual({ imported: 2, errors: [{ row: 3, error: 'expected manufacturer,model,serial' }] });
    const rows = await call('POST', '/corporate-identifiers', {
      ...admin(),
      body: { rows: [{ manufacturer: 'Contoso', model: 'Laptop 7', serial: 'SN-3' }], replace: true },
    });
    expect(rows.json).toEqual({ imported: 1, errors: [] });
    expectProblem(
      await call('POST', '/corporate-identifiers?replace=true', { ...admin(), raw: 'nonsense\n', contentType: 'text/csv' }),
      422,
      'invalid_input',
    );
    expectProblem(await call('POST', '/corporate-identifiers', { ...admin(), body: { csv: 'a,b,c', rows: [] } }), 400, 'invalid_request');
    // CSV is taken only where an import expects it.
    expectProblem(await call('POST', '/groups', { ...admin(), raw: 'name\nx\n', contentType: 'text/csv' }), 415, 'unsupported_media_type');

    const ids = await audit('targetType=corporate_identifiers');
    expect(ids.slice(0, 3).map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'corporate_identifiers.import failed',
      'corporate_identifiers.import succeeded',
      'corporate_identifiers.import succeeded',
    ]);
    expect(ids[1]).toMatchObject({ before: { count: 3 }, after: { mode: 'replace', imported: 1, count: 1 } });
    expect(ids[2]).toMatchObject({ after: { mode: 'add', imported: 2, errors: [{ row: 3 }] } });
  });

  run('nested groups: nesting reaches restrictions at once, cycles are refused, all audited', async () => {
    expect((await call('POST', '/groups/staff/groups', { ...admin(), body: { group: 'engineering' } })).status).toBe(204);
    expect((await call('POST', '/groups/staff/groups', { ...admin(), body: { group: 'engineering' } })).status).toBe(204);
    const cycle = await call('POST', '/groups/engineering/groups', { ...admin(), body: { group: 'staff' } });
    expectProblem(cycle, 422, 'invalid_input');
    expectProblem(await call('POST', '/groups/staff/groups', { ...admin(), body: { group: 'nope' } }), 404, 'not_found');

    // A restriction on the parent group reaches alice, a member of the nested group.
    await call('POST', '/restrictions', { ...admin(), body: { type: 'platform', name: 'Block staff', windowsMdm: 'block' } });
    await call('PUT', '/restrictions/platform/Block%20staff/groups/staff', admin());
    const refused = await call('POST', '/explain', { ...admin(), body: { upn: 'alice@contoso.com', ownership: 'personal' } });
    expect(refused.json).toMatchObject({ outcome: 'refused', errorType: 'DeviceNotSupported', policies: { platform: 'Block staff' } });
    expect((await call('DELETE', '/groups/staff/groups/engineering', admin())).status).toBe(204);
    const allowed = await call('POST', '/explain', { ...admin(), body: { upn: 'alice@contoso.com', ownership: 'personal' } });
    expect(allowed.json).toMatchObject({ outcome: 'mdm', policies: { platform: 'Default' } });
    await call('DELETE', '/restrictions/platform/Block%20staff', admin());

    const staff = await audit('targetType=group&targetId=staff');
    expect(staff.slice(0, 3).map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'group.remove_group succeeded',
      'group.add_group succeeded',
      'group.add_group succeeded',
    ]);
    expect(staff[0]).toMatchObject({ before: { childGroups: ['engineering'] }, after: { removed: 'engineering' } });
    expect((await audit('targetType=group&targetId=engineering'))[0]).toMatchObject({ action: 'group.add_group', outcome: 'failed' });
  });

  run('imports users from CSV with a per-row report; the audit entry names them, never a password', async () => {
    const res = await call('POST', '/users/import', {
      ...admin(),
      raw: 'upn,password,displayName,groups,license\nimp1@contoso.com,imp1 password!,Imp One,engineering,yes\nbad-row,x,,,\nimp2@contoso.com,imp2 password!,,,no\n',
      contentType: 'text/csv; charset=utf-8',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ added: 2, errors: [{ row: 3, error: expect.any(String) }] });
    expect((await call('GET', '/users/imp1@contoso.com', admin())).json).toMatchObject({ displayName: 'Imp One', enabled: true });
    const licensed = (await call('GET', '/licenses?limit=200', admin())).json.items.map((l: { upn: string }) => l.upn);
    expect(licensed).toContain('imp1@contoso.com');
    expect(licensed).not.toContain('imp2@contoso.com');
    expectProblem(await call('POST', '/users/import', { ...admin(), body: { csv: 'who,what\nx,y\n' } }), 422, 'invalid_input');

    const entries = await audit('targetType=user');
    const imported = entries.find(
      (e) => e.action === 'user.import' && e.outcome === 'succeeded' && e.after.upns.includes('imp1@contoso.com'),
    );
    expect(imported).toMatchObject({ after: { added: 2, upns: ['imp1@contoso.com', 'imp2@contoso.com'], errors: [{ row: 3 }] } });
    expect(entries.some((e) => e.action === 'user.import' && e.outcome === 'failed')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('imp1 password!');
  });

  run('explain through the API equals `winroll explain --json`', async () => {
    const cases: Array<{ body: Record<string, string>; cli: string[] }> = [
      { body: { upn: 'bob@contoso.com', ownership: 'personal' }, cli: ['bob@contoso.com'] },
      {
        body: { upn: 'alice@contoso.com', ownership: 'corporate', method: 'automatic', osVersion: '10.0.22631' },
        cli: ['alice@contoso.com', '--ownership', 'corporate', '--method', 'automatic', '--os-version', '10.0.22631'],
      },
      {
        body: { upn: 'carol@contoso.com', ownership: 'corporate', method: 'bulk' },
        cli: ['carol@contoso.com', '--ownership', 'corporate', '--method', 'bulk'],
      },
    ];
    for (const c of cases) {
      const api = await call('POST', '/explain', { ...sessions.helpdesk, body: c.body });
      expect(api.status, api.text).toBe(200);
      const cli = await winroll(['explain', ...c.cli, '--json', ...cliData()]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(api.json).toEqual(JSON.parse(cli.stdout));
    }
    const bob = await call('POST', '/explain', { ...admin(), body: { upn: 'bob@contoso.com', ownership: 'personal' } });
    expect(bob.json).toMatchObject({
      outcome: 'refused',
      errorType: 'UserLicense',
      subcode: 'Authorization',
      ownership: 'personal',
      userMessage: expect.any(String),
    });
    expectProblem(
      await call('POST', '/explain', { ...admin(), body: { upn: 'alice@contoso.com', ownership: 'corporate' } }),
      422,
      'invalid_input',
    );
    expectProblem(
      await call('POST', '/explain', { ...admin(), body: { upn: 'nobody@contoso.com', ownership: 'personal' } }),
      404,
      'not_found',
    );
    expectProblem(
      await call('POST', '/explain', { ...admin(), body: { upn: 'alice@contoso.com', ownership: 'personal', osVersion: 'eleven' } }),
      400,
      'invalid_request',
    );
    const parsed = apiRoutes()
      .find((r) => r.operationId === 'explainEnrollment')
      ?.response.schema?.safeParse(bob.json);
    expect(parsed?.success).toBe(true);
  });

  run('lists the enrollment attempts a real enrollment leaves, filtered and paged', async () => {
    const device = newSimulatedDevice({ ...KEY });
    await enroll({ server: srv().base, upn: 'alice@contoso.com', password: PW, device, agent: srv().agent });
    const err = await enroll({
      server: srv().base,
      upn: 'bob@contoso.com',
      password: PW,
      device: newSimulatedDevice({ ...KEY }),
      agent: srv().agent,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof EnrollmentFailed)) throw new Error(`expected a refusal, got ${String(err)}`);

    const alice = await call('GET', '/enrollment-attempts?upn=Alice@contoso.com', sessions.readonly);
    expect(alice.status, alice.text).toBe(200);
    expect(alice.json.items[0]).toMatchObject({
      upn: 'alice@contoso.com',
      deviceId: device.deviceId,
      outcome: 'mdm',
      method: 'user',
      ownership: 'personal',
      errorType: null,
      traceId: expect.any(String),
      policies: { platform: 'Default', deviceLimit: 'Default' },
    });
    expect(alice.json.items[0].reasons.length).toBeGreaterThan(1);
    const bob = await call('GET', '/enrollment-attempts?upn=bob@contoso.com&outcome=refused', admin());
    expect(bob.json.items[0]).toMatchObject({ outcome: 'refused', errorType: 'UserLicense', traceId: err.traceId });
    expect((await call('GET', '/enrollment-attempts?outcome=mam', admin())).json.items).toEqual([]);
    const future = new Date(Date.now() + 86400_000).toISOString();
    expect((await call('GET', `/enrollment-attempts?since=${encodeURIComponent(future)}`, admin())).json.items).toEqual([]);

    const all = (await call('GET', '/enrollment-attempts?limit=200', admin())).json.items.map((a: { id: string }) => a.id);
    expect(all.length).toBeGreaterThanOrEqual(2);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await call('GET', `/enrollment-attempts?limit=1${cursor ? `&cursor=${cursor}` : ''}`, admin());
      expect(res.status, res.text).toBe(200);
      paged.push(...res.json.items.map((a: { id: string }) => a.id));
      cursor = res.json.nextCursor;
    } while (cursor && paged.length < 100);
    expect(paged).toEqual(all);
    expectProblem(await call('GET', '/enrollment-attempts?cursor=bm9wZQ', admin()), 400, 'invalid_request');
    const schema = apiRoutes().find((r) => r.operationId === 'listEnrollmentAttempts')?.response.schema;
    expect(schema?.safeParse(alice.json).success).toBe(true);
  });

  run('an unlicensed admin signs in only while the tenant allows it, checked on every request', async () => {
    expectProblem((await signIn('free@contoso.com', PW)).res, 401, 'unauthenticated');
    const on = await call('PUT', '/settings/unlicensed-admins', { ...admin(), body: { allow: true } });
    expect(on.json.allowUnlicensedAdmins).toBe(true);
    const free = await signIn('free@contoso.com', PW);
    expect(free.res.status, free.res.text).toBe(201);
    const token = await call('POST', '/tokens', { ...free, body: { name: 'free-script' } });
    expect(token.status, token.text).toBe(201);
    expect((await call('GET', '/session', { bearer: token.json.token })).status).toBe(200);

    const off = await call('PUT', '/settings/unlicensed-admins', { ...admin(), body: { allow: false } });
    expect(off.json.allowUnlicensedAdmins).toBe(false);
    expectProblem(await call('GET', '/session', { cookie: free.cookie }), 401, 'unauthenticated');
    expectProblem(await call('GET', '/session', { bearer: token.json.token }), 401, 'unauthenticated');
    // A license lets them in whatever the setting.
    await call('PUT', '/licenses/free@contoso.com', admin());
    expect((await call('GET', '/session', { bearer: token.json.token })).status).toBe(200);
    await call('DELETE', '/licenses/free@contoso.com', admin());
    expectProblem(await call('GET', '/session', { bearer: token.json.token }), 401, 'unauthenticated');

    // Refusing unlicensed admins while no administrator holds a license would lock everyone out.
    await call('PUT', '/settings/unlicensed-admins', { ...admin(), body: { allow: true } });
    await call('DELETE', '/licenses/boss@contoso.com', admin());
    const lockout = await call('PUT', '/settings/unlicensed-admins', { ...admin(), body: { allow: false } });
    expectProblem(lockout, 409, 'conflict');
    expect(lockout.json.detail).toContain('lock every administrator out');
    await call('PUT', '/licenses/boss@contoso.com', admin());
    expect((await call('PUT', '/settings/unlicensed-admins', { ...admin(), body: { allow: false } })).status).toBe(200);

    const entries = await audit('targetType=settings&targetId=allowUnlicensedAdmins');
    expect(entries.slice(0, 3).map((e) => `${e.outcome} ${JSON.stringify(e.after)}`)).toEqual([
      'succeeded {"allowUnlicensedAdmins":false}',
      'failed null',
      'succeeded {"allowUnlicensedAdmins":true}',
    ]);
  });

  run('the OpenAPI document still validates and lists the new paths', async () => {
    const doc = (await call('GET', '/openapi.json')).json;
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/licenses',
        '/licenses/seats',
        '/licenses/{upn}',
        '/settings/enrollment',
        '/settings/scopes',
        '/settings/urls',
        '/settings/urls/restore-defaults',
        '/settings/unlicensed-admins',
        '/restrictions',
        '/restrictions/{type}/{name}',
        '/restrictions/{type}/{name}/priority',
        '/restrictions/{type}/{name}/groups/{group}',
        '/dems',
        '/dems/{upn}',
        '/corporate-identifiers',
        '/groups/{name}/groups',
        '/users/import',
        '/explain',
        '/enrollment-attempts',
      ]),
    );
    expect(doc.paths['/explain'].post['x-winroll-roles']).toEqual(['administrator', 'helpdesk']);
    expect(Object.keys(doc.paths['/users/import'].post.requestBody.content)).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(doc.paths['/settings/scopes'].put.requestBody.content)).toEqual(['application/json']);
    expect(doc.components.schemas.Explanation.required).toEqual(expect.arrayContaining(['outcome', 'ownership', 'reasons', 'errorType']));
  });
});

describe('policy commands of the CLI are audited as actor cli', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'winroll-policy-audit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records every policy change with before and after', async () => {
    const cli = async (...args: string[]) => {
      const r = await winroll([...args, '--data-dir', dir]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    await writeFile(path.join(dir, 'ids.csv'), 'Contoso,Laptop 7,SN-1\nContoso,Laptop 7,SN-2\n');
    await writeFile(path.join(dir, 'users.csv'), 'upn,password,license\ngina@contoso.com,gina password!,yes\n');
    await cli('domains', 'add', 'contoso.com');
    for (const u of ['alice', 'bob']) await cli('users', 'add', `${u}@contoso.com`, '--password', 'correct horse battery');
    await cli('groups', 'add', 'eng');
    await cli('groups', 'add', 'all-staff');
    await cli('groups', 'add-member', 'eng', 'alice@contoso.com');
    const nested = await cli('groups', 'add-member', 'all-staff', 'eng', '--json');
    expect(JSON.parse(nested.stdout)).toEqual({ ok: true, kind: 'group' });
    await cli('licenses', 'assign', 'alice@contoso.com');
    await cli('licenses', 'seats', '10');
    await cli('scope', 'set', '--mdm', 'some', '--mdm-group', 'all-staff');
    await cli('settings', 'urls', '--compliance', 'https://compliance.contoso.com/');
    await cli('settings', 'urls', '--restore-defaults');
    await cli('settings', 'unlicensed-admins', 'allow');
    await cli('restrictions', 'add', 'platform', 'P', '--min-os', '10.0.22000');
    await cli('restrictions', 'set', 'platform', 'P', '--max-os', '10.0.26100');
    await cli('restrictions', 'add', 'device-limit', 'L', '--limit', '3');
    await cli('restrictions', 'add', 'device-limit', 'L2', '--limit', '2');
    await cli('restrictions', 'priority', 'device-limit', 'L2', '1');
    await cli('restrictions', 'assign', 'platform', 'P', '--group', 'eng');
    await cli('restrictions', 'unassign', 'platform', 'P', '--group', 'eng');
    await cli('restrictions', 'delete', 'platform', 'P');
    await cli('dem', 'add', 'alice@contoso.com');
    await cli('dem', 'remove', 'alice@contoso.com');
    await cli('identifiers', 'import', path.join(dir, 'ids.csv'));
    await cli('users', 'disable', 'bob@contoso.com');
    await cli('users', 'enable', 'bob@contoso.com');
    await cli('users', 'import', path.join(dir, 'users.csv'));
    await cli('licenses', 'remove', 'alice@contoso.com');

    const storage = await openStorage(`sqlite:${path.join(dir, 'winroll.db')}`);
    try {
      const entries = await storage.listAudit({ actor: 'cli', limit: 200 });
      const seen = entries.map((e) => `${e.action} ${e.targetId} ${e.outcome}`);
      expect(seen).toEqual(
        expect.arrayContaining([
          'group.add_member eng succeeded',
          'group.add_group all-staff succeeded',
          'license.assign alice@contoso.com succeeded',
          'license.set_seats licenseSeats succeeded',
          'settings.set_scopes scopes succeeded',
          'settings.set_urls urls succeeded',
          'settings.restore_default_urls urls succeeded',
          'settings.set_unlicensed_admins allowUnlicensedAdmins succeeded',
          'restriction.add platform/P succeeded',
          'restriction.update platform/P succeeded',
          'restriction.add deviceLimit/L succeeded',
          'restriction.set_priority deviceLimit/L2 succeeded',
          'restriction.assign platform/P succeeded',
          'restriction.unassign platform/P succeeded',
          'restriction.delete platform/P succeeded',
          'dem.add alice@contoso.com succeeded',
          'dem.remove alice@contoso.com succeeded',
          'corporate_identifiers.import null succeeded',
          'user.disable bob@contoso.com succeeded',
          'user.enable bob@contoso.com succeeded',
          'user.import null succeeded',
          'license.remove alice@contoso.com succeeded',
        ]),
      );
      expect(entries.find((e) => e.action === 'settings.set_scopes')).toMatchObject({
        actorName: 'cli',
        traceId: null,
        before: { mdmScope: { mode: 'all', groups: [] } },
        after: { mdmScope: { mode: 'some', groups: ['all-staff'] } },
      });
      expect(entries.find((e) => e.action === 'user.disable')).toMatchObject({ before: { enabled: true }, after: { enabled: false } });
      expect(entries.find((e) => e.action === 'restriction.set_priority')).toMatchObject({
        before: { priority: 2 },
        after: { priority: 1 },
      });
      expect(JSON.stringify(entries)).not.toContain('gina password!');
    } finally {
      await storage.close();
    }
  }, 180_000);
});
