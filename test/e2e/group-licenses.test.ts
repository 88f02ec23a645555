/**
 * Licenses by group (issue 5 item 7) on a real server, SQLite and PostgreSQL: a license assigned to a group
 * reaches members of groups nested in it, at once. A SCIM-provisioned user put (by SCIM PATCH) into a group
 * nested in a licensed group enrolls through the real enrollment endpoint with an Entra token; taken out
 * by SCIM, the next enrollment is refused with the license reason. `winroll licenses assign|unassign
 * --group` (--json), the API (roles, seats), explain, the admin sign-in rule and the primary-user rule
 * all use the effective license.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { EnrollmentFailed, enroll } from '../../src/simulator/enroll.js';
import { type Creds, apiClient, expectProblem, scimClient } from '../support/api-client.js';
import { type AdminRole, grantAdmin, signInAdmins } from '../support/admins.js';
import { dataFlags, winroll } from '../support/cli.js';
import { type TenantKey, mintEntraToken, newTenantKey, saveTenant } from '../support/entra.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const KEY = generateDeviceKey();
const TID = '3c0ffee0-1111-4222-8333-444455556666';
const CLIENT_ID = '0a1b2c3d-0000-4000-8000-0000000011ce';
const PW = 'correct horse battery';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(ENGINES)('licenses by group (%s)', (engine) => {
  let t: TestServer | undefined;
  let tenantKey: TenantKey;
  let scimToken = '';
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const s = () => srv().server.storage;
  const { call, signIn } = apiClient(srv);
  let roles: Record<AdminRole, Creds> = { administrator: {}, helpdesk: {}, readonly: {} };
  const cliData = () => dataFlags(srv());
  const cli = async (...args: string[]) => {
    const r = await winroll([...args, ...cliData()]);
    expect(r.code, r.stderr).toBe(0);
    return args.includes('--json') ? JSON.parse(r.stdout) : r.stdout;
  };

  const scimCall = scimClient(srv, () => scimToken);
  const scim = (method: string, p: string, body?: unknown) => scimCall(method, p, { body });
  const members = (op: 'Add' | 'Remove', id: string) => ({
    schemas: [PATCH],
    Operations: [{ op, path: 'members', value: [{ value: id }] }],
  });

  /** A directory join (corporate, Device) with a real RS256 Entra token, through the enrollment endpoints. */
  const join = async (upn: string, oid: string) => {
    const jwt = await mintEntraToken(upn, { tid: TID, aud: srv().base, key: tenantKey.privateKey, oid });
    return enroll({
      server: srv().base,
      upn,
      password: '',
      directoryToken: jwt,
      device: newSimulatedDevice(KEY),
      enrollmentType: 'Device',
      agent: srv().agent,
    });
  };

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    for (const u of ['boss', 'help', 'auditor']) await t.addUser(`${u}@contoso.com`, PW);
    await t.addUser('pat@contoso.com', PW, { license: false });
    await grantAdmin(t, 'pat@contoso.com', 'readonly');
    roles = await signInAdmins(t, signIn, PW, {
      administrator: 'boss@contoso.com',
      helpdesk: 'help@contoso.com',
      readonly: 'auditor@contoso.com',
    });

    tenantKey = await newTenantKey();
    await saveTenant(t, TID, CLIENT_ID, tenantKey);
    const r = await winroll(['scim', 'token', 'create', '--name', 'idp', '--json', ...cliData()]);
    expect(r.code, r.stderr).toBe(0);
    scimToken = JSON.parse(r.stdout).token;
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  run(
    'a SCIM user added to a group nested in a licensed group enrolls; taken out by SCIM, it is refused for the license',
    async () => {
      // The IdP pushes "All staff" ⊃ "Sales", and a user who is in no group yet.
      const sam = await scim('POST', '/Users', { schemas: [USER], userName: 'sam@contoso.com', active: true, externalId: 'okta-sam' });
      expect(sam.status, sam.text).toBe(201);
      const sales = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Sales', members: [] });
      const all = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'All staff', members: [{ value: sales.json.id }] });
      expect(all.status, all.text).toBe(201);

      const assigned = await cli('licenses', 'assign', '--group', 'All staff', '--json');
      expect(assigned).toMatchObject({
        group: 'All staff',
        assigned: true,
        changed: true,
        assignment: { memberCount: 0, licensedCount: 0 },
      });

      const before = await winroll([
        'explain',
        'sam@contoso.com',
        '--method',
        'automatic',
        '--ownership',
        'corporate',
        '--json',
        ...cliData(),
      ]);
      expect(JSON.parse(before.stdout)).toMatchObject({ outcome: 'refused', errorType: 'UserLicense' });

      // SCIM PATCH puts Sam into Sales: licensed through Sales ← All staff, and in the MDM scope, at once.
      expect((await scim('PATCH', `/Groups/${sales.json.id}`, members('Add', sam.json.id))).status).toBe(200);
      await s().saveTenantSettings({ ...(await s().getTenantSettings()), mdmScope: { mode: 'some', groupIds: [all.json.id] } }, new Date());
      const enrolled = await join('sam@contoso.com', '40000000-0000-4000-8000-000000000001');
      expect(enrolled.store).toBe('System');
      const explained = await cli('explain', 'sam@contoso.com', '--method', 'automatic', '--ownership', 'corporate', '--json');
      expect(explained.outcome).toBe('mdm');
      expect(explained.reasons).toContain('sam@contoso.com is licensed through group Sales ← All staff (license assigned to All staff)');
      expect(await cli('licenses', 'show', 'sam@contoso.com', '--json')).toEqual({
        upn: 'sam@contoso.com',
        licensed: true,
        direct: false,
        groupPath: ['Sales', 'All staff'],
        beyondSeats: false,
        reason: 'sam@contoso.com is licensed through group Sales ← All staff (license assigned to All staff)',
      });
      expect(await s().listGroupLicenses()).toEqual([expect.objectContaining({ name: 'All staff', memberCount: 1, licensedCount: 1 })]);

      // SCIM takes Sam out of Sales: the next enrollment is refused, and the license is the reason.
      expect((await scim('PATCH', `/Groups/${sales.json.id}`, members('Remove', sam.json.id))).status).toBe(200);
      const err = await join('sam@contoso.com', '40000000-0000-4000-8000-000000000001').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EnrollmentFailed);
      const failed = err as EnrollmentFailed;
      expect(failed.faultSubcode).toMatch(/Authorization$/);
      expect(failed.faultErrorType).toBe('UserLicense');
      const [attempt] = await s().listEnrollmentAttempts({ limit: 1, upn: 'sam@contoso.com' });
      expect(attempt).toMatchObject({ outcome: 'refused', errorType: 'UserLicense', traceId: failed.traceId });
      expect(attempt?.reasons.at(-1)).toBe('sam@contoso.com holds no Winroll license');
    },
    180_000,
  );

  run(
    'assign and unassign --group from the CLI, audited; a group over the seats leaves the rest without a license, and explain says why',
    async () => {
      // Field ⊃ Field EMEA ∋ gus, gwen, gil (accounts created in that order).
      const field = await s().addGroup({ name: 'Field', now: new Date() });
      const emea = await s().addGroup({ name: 'Field EMEA', now: new Date() });
      await s().addGroupToGroup(field.id, emea.id);
      for (const u of ['gus', 'gwen', 'gil']) {
        await srv().addUser(`${u}@contoso.com`, PW, { license: false });
        await s().addGroupMember(emea.id, (await s().getUserByUpn(`${u}@contoso.com`))?.id as string);
      }
      // Exactly one seat left over what is in use: the group assignment still succeeds.
      const seats = (await s().licenseCounts()).assigned + 1;
      await s().saveTenantSettings({ ...(await s().getTenantSettings()), licenseSeats: seats }, new Date());

      const r = await cli('licenses', 'assign', '--group', 'Field', '--json');
      expect(r).toMatchObject({
        group: 'Field',
        changed: true,
        assignment: { memberCount: 3, licensedCount: 1 },
        usage: { withoutSeat: 2, available: 0 },
      });
      // The oldest account (Gus) has the seat; Gil's explanation names the route and the seats.
      expect(await s().hasLicense((await s().getUserByUpn('gus@contoso.com'))?.id as string)).toBe(true);
      const gil = await cli('explain', 'gil@contoso.com', '--json');
      expect(gil).toMatchObject({ outcome: 'refused', errorType: 'UserLicense' });
      expect(gil.reasons.at(-1)).toBe(
        `gil@contoso.com holds no Winroll license: group Field EMEA ← Field (license assigned to Field) is licensed, but all ${seats} license seats are in use by users ahead of them`,
      );
      // A direct license for someone outside is refused while the seats are full: one line, non-zero exit.
      const refused = await winroll(['licenses', 'assign', 'pat@contoso.com', ...cliData()]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`all ${seats} license seats are in use`);

      await s().saveTenantSettings({ ...(await s().getTenantSettings()), licenseSeats: null }, new Date());
      expect(await cli('licenses', 'show', 'gil@contoso.com', '--json')).toMatchObject({
        licensed: true,
        groupPath: ['Field EMEA', 'Field'],
      });

      const off = await cli('licenses', 'unassign', '--group', 'Field', '--json');
      expect(off).toMatchObject({ group: 'Field', assigned: false, changed: true });
      expect(await s().hasLicense((await s().getUserByUpn('gus@contoso.com'))?.id as string)).toBe(false);
      const bad = await winroll(['licenses', 'assign', '--group', 'Nope', ...cliData()]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('no group named "Nope"');

      const audit = await s().listAudit({ limit: 50 });
      const actions = audit.filter((a) => a.targetId === 'group:Field').map((a) => [a.action, a.outcome, a.actorName]);
      expect(actions).toEqual([
        ['license.remove_group', 'succeeded', 'cli'],
        ['license.assign_group', 'succeeded', 'cli'],
      ]);
    },
    180_000,
  );

  run(
    'the API assigns and removes group licenses for administrators only; reads show groups and effective licenses',
    async () => {
      await srv().addUser('api1@contoso.com', PW, { license: false });
      const team = await s().addGroup({ name: 'Api team', now: new Date() });
      await s().addGroupMember(team.id, (await s().getUserByUpn('api1@contoso.com'))?.id as string);

      for (const role of ['readonly', 'helpdesk'] as const) {
        expectProblem(await call('PUT', '/licenses/groups/Api%20team', roles[role]), 403, 'forbidden');
        expectProblem(await call('DELETE', '/licenses/groups/Api%20team', roles[role]), 403, 'forbidden');
      }
      expect((await call('GET', '/licenses/api1@contoso.com', roles.readonly)).json.licensed).toBe(false);

      const put = await call('PUT', '/licenses/groups/Api%20team', roles.administrator);
      expect(put.status, put.text).toBe(200);
      expect(put.json).toMatchObject({
        group: 'Api team',
        licensed: true,
        changed: true,
        assignment: { memberCount: 1, licensedCount: 1 },
      });
      expectProblem(await call('PUT', '/licenses/groups/Nobody', roles.administrator), 404, 'not_found');

      const list = await call('GET', '/licenses', roles.readonly);
      expect(list.status, list.text).toBe(200);
      expect(list.json.groups).toEqual(
        expect.arrayContaining([expect.objectContaining({ group: 'Api team', memberCount: 1, licensedCount: 1 })]),
      );
      expect(list.json).toMatchObject({ direct: expect.any(Number), throughGroups: expect.any(Number), withoutSeat: 0 });
      const shown = await call('GET', '/licenses/api1@contoso.com', roles.helpdesk);
      expect(shown.json).toMatchObject({
        licensed: true,
        direct: false,
        groupPath: ['Api team'],
        reason: 'api1@contoso.com is licensed through group Api team',
      });

      const del = await call('DELETE', '/licenses/groups/Api%20team', roles.administrator);
      expect(del.status, del.text).toBe(200);
      expect(del.json).toMatchObject({ licensed: false, changed: true, assignment: null });
      expect((await call('GET', '/licenses/api1@contoso.com', roles.readonly)).json.licensed).toBe(false);
      const [entry] = await s().listAudit({ limit: 1 });
      expect(entry).toMatchObject({
        action: 'license.remove_group',
        targetId: 'group:Api team',
        outcome: 'succeeded',
        actor: { upn: 'boss@contoso.com' },
      });
    },
    180_000,
  );

  run(
    'an admin licensed only through a group may sign in; a group-licensed user may become a primary user',
    async () => {
      // Pat (readonly, no direct license) cannot sign in while unlicensed admins are refused.
      expect((await signIn('pat@contoso.com', PW)).res.status).not.toBe(201);
      const admins = await s().addGroup({ name: 'Admins', now: new Date() });
      const ops = await s().addGroup({ name: 'Ops', now: new Date() });
      await s().addGroupToGroup(admins.id, ops.id);
      const patId = (await s().getUserByUpn('pat@contoso.com'))?.id as string;
      await s().addGroupMember(ops.id, patId);
      expect((await call('PUT', '/licenses/groups/Admins', roles.administrator)).status).toBe(200);
      const pat = await signIn('pat@contoso.com', PW);
      expect(pat.res.status, pat.res.text).toBe(201);
      expect((await call('GET', '/licenses', pat)).status).toBe(200);

      // The primary-user rule: Pat holds a license through Admins ← Ops, so a device may be Pat's.
      await srv().addUser('owner@contoso.com', PW);
      const device = newSimulatedDevice(generateDeviceKey());
      await enroll({ server: srv().base, upn: 'owner@contoso.com', password: PW, device, enrollmentType: 'Full', agent: srv().agent });
      const moved = await call('PUT', `/devices/${device.deviceId}/primary-user`, {
        ...roles.administrator,
        body: { upn: 'pat@contoso.com' },
      });
      expect(moved.status, moved.text).toBe(200);
      expect(moved.json.primaryUser).toMatchObject({ upn: 'pat@contoso.com' });

      // Taking Pat out of Ops ends the license, and with it the API session and the primary-user eligibility, at once.
      await s().removeGroupMember(ops.id, patId);
      expect((await call('GET', '/licenses', pat)).status).toBe(401);
      const again = await call('PUT', `/devices/${device.deviceId}/primary-user`, {
        ...roles.administrator,
        body: { upn: 'pat@contoso.com' },
      });
      expectProblem(again, 422, 'invalid_input');
      expect(again.json.detail).toContain('has no Winroll license');
    },
    180_000,
  );
});
