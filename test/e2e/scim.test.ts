/**
 * SCIM 2.0 at /scim/v2 on a real server (SQLite and PostgreSQL), driven the way Entra provisioning and
 * Okta drive it: users and groups created, read, filtered, paged, patched in both IdPs' shapes, replaced,
 * deactivated and deleted; errors as SCIM Error messages; the bearer token from `winroll scim token
 * create`. A SCIM user's enabled state and groups drive the enrollment decision (EnrollmentPolicy, the
 * one the enrollment endpoints and `winroll explain` use).
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { EnrollmentPolicy } from '../../src/core/policy/enrollment-policy.js';
import { systemClock } from '../../src/shared/clock.js';
import { type ApiResponse, scimClient } from '../support/api-client.js';
import { dataFlags, winroll } from '../support/cli.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe.each(ENGINES)('SCIM 2.0 provisioning (%s)', (engine) => {
  let t: TestServer | undefined;
  let token = '';
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const s = () => srv().server.storage;
  const cliData = () => dataFlags(srv());

  const scim = scimClient(srv, () => token);
  const expectError = (r: ApiResponse, status: number, scimType?: string) => {
    expect(r.status, r.text).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(r.json).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
    if (scimType) expect(r.json.scimType).toBe(scimType);
  };
  const newUser = (userName: string, extra: Record<string, unknown> = {}) =>
    scim('POST', '/Users', { body: { schemas: [USER], userName, active: true, ...extra } });
  const decide = async (upn: string) => {
    const user = (await s().getUserByUpn(upn)) ?? null;
    return new EnrollmentPolicy({ storage: s(), clock: systemClock }).decide({
      user,
      method: 'automatic',
      enrollmentType: 'Device',
      osVersion: '10.0.22631.4391',
      deviceId: null,
    });
  };

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com', 'Federated');
    await t.addUser('erin@contoso.com', 'erin local password');
    await t.addUser('frank@contoso.com', 'frank local password');
    const r = await winroll(['scim', 'token', 'create', '--name', 'okta', '--json', ...cliData()]);
    expect(r.code, r.stderr).toBe(0);
    token = JSON.parse(r.stdout).token;
    expect(token).toMatch(/^scim_[\w-]{43}$/);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  run('the token is shown once and stored hashed; discovery documents are public', async () => {
    const list = await winroll(['scim', 'token', 'list', '--json', ...cliData()]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'okta', createdBy: 'cli', revokedAt: null })]);
    expect(list.stdout).not.toContain(token);
    const [stored] = await s().listScimTokens();
    expect(stored?.tokenHash).not.toContain(token.slice(5));

    const spc = await scim('GET', '/ServiceProviderConfig', { bearer: null });
    expect(spc.status).toBe(200);
    expect(spc.json).toMatchObject({
      patch: { supported: true },
      filter: { supported: true },
      authenticationSchemes: [{ type: 'oauthbearertoken' }],
    });
    expect((await scim('GET', '/ResourceTypes', { bearer: null })).json.Resources.map((x: { id: string }) => x.id)).toEqual([
      'User',
      'Group',
    ]);
    expect((await scim('GET', '/Schemas', { bearer: null })).json.Resources.map((x: { id: string }) => x.id)).toContain(USER);
  });

  run('no token or a bad token: 401 with a SCIM error', async () => {
    expectError(await scim('GET', '/Users', { bearer: null }), 401);
    const bad = await scim('GET', '/Users', { bearer: 'scim_not-a-real-token' });
    expectError(bad, 401);
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer/);
    expectError(await scim('POST', '/Users', { bearer: 'wr_admin-api-token', body: { userName: 'x@contoso.com' } }), 401);
  });

  run('user create / read / filter / update / deactivate round-trip (Entra and Okta shapes)', async () => {
    const created = await newUser('Alice@Contoso.com', {
      externalId: 'a-ext-1',
      name: { givenName: 'Alice', familyName: 'Liddell' },
      emails: [{ value: 'alice@contoso.com', type: 'work', primary: true }],
      [ENTERPRISE]: { department: 'R&D' },
      password: 'never stored',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.headers['content-type']).toMatch(/^application\/scim\+json/);
    const id = created.json.id as string;
    expect(created.json).toMatchObject({
      schemas: [USER, ENTERPRISE],
      userName: 'alice@contoso.com',
      displayName: 'Alice Liddell',
      active: true,
      externalId: 'a-ext-1',
      emails: [{ value: 'alice@contoso.com', type: 'work', primary: true }],
      [ENTERPRISE]: { department: 'R&D' },
      meta: { resourceType: 'User', location: `${srv().base}/scim/v2/Users/${id}` },
    });
    expect(created.text).not.toContain('never stored');
    const user = await s().getUserByUpn('alice@contoso.com');
    expect(user?.id).toBe(id);
    expect(await s().getIdentity('user', id)).toMatchObject({ source: 'scim', externalId: 'a-ext-1', linkedLocal: false });
    expect((await srv().directory.signIn('alice@contoso.com', 'never stored')).ok).toBe(false);

    expect((await scim('GET', `/Users/${id}`)).json).toEqual(created.json);
    const byName = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "ALICE@contoso.com"')}`);
    expect(byName.json).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [{ id }] });
    const byExt = await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "a-ext-1"')}`);
    expect(byExt.json.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody@contoso.com"')}`)).json.totalResults).toBe(0);

    expectError(await newUser('alice@contoso.com'), 409, 'uniqueness');
    expectError(await newUser('other@contoso.com', { externalId: 'a-ext-1' }), 409, 'uniqueness');

    // Entra: capitalised ops, a string boolean, attribute paths with filters and extension URNs.
    const entra = await scim('PATCH', `/Users/${id}`, {
      body: {
        schemas: [PATCH],
        Operations: [
          { op: 'Replace', path: 'displayName', value: 'Alice L.' },
          { op: 'Replace', path: 'emails[type eq "work"].value', value: 'alice.l@contoso.com' },
          { op: 'Add', path: `${ENTERPRISE}:employeeNumber`, value: '42' },
          { op: 'Replace', path: 'active', value: 'False' },
        ],
      },
    });
    expect(entra.status, entra.text).toBe(200);
    expect(entra.json).toMatchObject({
      displayName: 'Alice L.',
      active: false,
      emails: [{ value: 'alice.l@contoso.com', type: 'work' }],
      [ENTERPRISE]: { department: 'R&D', employeeNumber: '42' },
    });
    expect(await s().getUserByUpn('alice@contoso.com')).toMatchObject({ enabled: false, displayName: 'Alice L.' });

    // Okta: lower-case op, no path, a plain boolean.
    const okta = await scim('PATCH', `/Users/${id}`, {
      body: { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: true } }] },
    });
    expect(okta.json.active).toBe(true);
    expect((await s().getUserByUpn('alice@contoso.com'))?.enabled).toBe(true);

    const put = await scim('PUT', `/Users/${id}`, {
      body: { schemas: [USER], userName: 'alice@contoso.com', externalId: 'a-ext-1', displayName: 'Alice Replaced', active: true },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.json.displayName).toBe('Alice Replaced');
    expect(put.json.emails).toBeUndefined();

    // Audited with the token as actor.
    const audit = await s().listAudit({ limit: 50 } as never);
    const mine = audit.filter((e) => e.action.startsWith('scim.user') && e.targetId === 'alice@contoso.com');
    expect(mine.map((e) => e.action)).toEqual(expect.arrayContaining(['scim.user.create', 'scim.user.patch', 'scim.user.replace']));
    expect(mine[0]?.actor).toMatchObject({ kind: 'token', name: 'scim:okta' });
  });

  run('a userName equal to a local user links it (same id, password kept); other local users stay invisible', async () => {
    const erin = await s().getUserByUpn('erin@contoso.com');
    const r = await newUser('erin@contoso.com', { displayName: 'Erin from the IdP' });
    expect(r.status, r.text).toBe(201);
    expect(r.json.id).toBe(erin?.id);
    expect(await s().getIdentity('user', erin?.id as string)).toMatchObject({ linkedLocal: true });
    expect((await srv().directory.signIn('erin@contoso.com', 'erin local password')).ok).toBe(true);
    expect((await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "frank@contoso.com"')}`)).json.totalResults).toBe(0);
    expectError(await scim('GET', `/Users/${(await s().getUserByUpn('frank@contoso.com'))?.id}`), 404);
  });

  run('paging with startIndex and count', async () => {
    for (const n of [1, 2, 3, 4, 5]) expect((await newUser(`page${n}@contoso.com`)).status).toBe(201);
    const all = await scim('GET', '/Users?count=200');
    const total = all.json.totalResults as number;
    expect(total).toBeGreaterThanOrEqual(7);
    const page = await scim('GET', '/Users?startIndex=2&count=2');
    expect(page.json).toMatchObject({ totalResults: total, startIndex: 2, itemsPerPage: 2 });
    expect(page.json.Resources.map((x: { id: string }) => x.id)).toEqual(all.json.Resources.slice(1, 3).map((x: { id: string }) => x.id));
    const last = await scim('GET', `/Users?startIndex=${total}&count=5`);
    expect(last.json.Resources).toHaveLength(1);
    expect((await scim('GET', '/Users?count=0')).json).toMatchObject({ totalResults: total, Resources: [] });
  });

  run('errors: bad filters, bad values, unknown ids, bad JSON', async () => {
    expectError(await scim('GET', `/Users?filter=${encodeURIComponent('userName co "a"')}`), 400, 'invalidFilter');
    expectError(await scim('GET', `/Users?filter=${encodeURIComponent('title eq "x"')}`), 400, 'invalidFilter');
    expectError(await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`), 400, 'invalidFilter');
    expectError(await scim('POST', '/Users', { body: { schemas: [USER], displayName: 'no user name' } }), 400, 'invalidValue');
    expectError(await newUser('not-a-upn'), 400, 'invalidValue');
    expectError(await newUser('maybe@contoso.com', { active: 'maybe' }), 400, 'invalidValue');
    expectError(await scim('GET', '/Users/00000000-0000-0000-0000-000000000000'), 404);
    expectError(await scim('GET', '/Groups/00000000-0000-0000-0000-000000000000'), 404);
    expectError(await scim('POST', '/Users', { raw: '{"userName": ' }), 400, 'invalidSyntax');
    const alice = (await s().getUserByUpn('alice@contoso.com'))?.id;
    expectError(await scim('PATCH', `/Users/${alice}`, { body: { schemas: [PATCH], Operations: [{ op: 'frobnicate', path: 'x' }] } }), 400);
    expectError(await scim('PATCH', `/Users/${alice}`, { body: { Operations: [{ op: 'remove' }] } }), 400, 'noTarget');
    expect(await s().getUserByUpn('maybe@contoso.com')).toBeUndefined();
  });

  run('group create / filter / membership PATCH (Entra and Okta shapes) / nesting / replace / delete round-trip', async () => {
    const ids: Record<string, string> = {};
    for (const u of ['gina', 'hank', 'ivan']) ids[u] = (await newUser(`${u}@contoso.com`)).json.id;
    const g = await scim('POST', '/Groups', {
      body: { schemas: [GROUP], displayName: 'Field Staff', externalId: 'g-ext-1', members: [{ value: ids.gina }] },
    });
    expect(g.status, g.text).toBe(201);
    const gid = g.json.id as string;
    expect(g.json).toMatchObject({ schemas: [GROUP], displayName: 'Field Staff', members: [{ value: ids.gina, type: 'User' }] });
    expect((await s().getGroupByName('Field Staff'))?.id).toBe(gid);
    expectError(await scim('POST', '/Groups', { body: { schemas: [GROUP], displayName: 'field staff' } }), 409, 'uniqueness');

    const found = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Field Staff"')}&excludedAttributes=members`);
    expect(found.json.Resources).toEqual([expect.objectContaining({ id: gid })]);
    expect(found.json.Resources[0].members).toBeUndefined();

    // Entra adds with a value list; Okta removes by a value filter in the path.
    let r = await scim('PATCH', `/Groups/${gid}`, {
      body: { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: ids.hank }, { value: ids.ivan }] }] },
    });
    expect(r.status, r.text).toBe(200);
    expect((await s().listGroupMembers(gid)).sort()).toEqual([ids.gina, ids.hank, ids.ivan].sort());
    r = await scim('PATCH', `/Groups/${gid}`, {
      body: { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${ids.gina}"]` }] },
    });
    expect(r.status, r.text).toBe(200);
    r = await scim('PATCH', `/Groups/${gid}`, {
      body: { schemas: [PATCH], Operations: [{ op: 'Remove', path: 'members', value: [{ value: ids.hank }] }] },
    });
    expect((await s().listGroupMembers(gid)).sort()).toEqual([ids.ivan]);
    // Entra's membership check.
    const check = await scim('GET', `/Groups?filter=${encodeURIComponent(`id eq "${gid}" and members[value eq "${ids.ivan}"]`)}`);
    expect(check.json.totalResults).toBe(1);
    expect(
      (await scim('GET', `/Groups?filter=${encodeURIComponent(`id eq "${gid}" and members[value eq "${ids.gina}"]`)}`)).json.totalResults,
    ).toBe(0);

    // Nesting: Field Staff inside Everyone; Okta renames with a path-less replace.
    const everyone = await scim('POST', '/Groups', {
      body: { schemas: [GROUP], displayName: 'Everyone', members: [{ value: gid, type: 'Group' }] },
    });
    expect(everyone.status, everyone.text).toBe(201);
    expect((await s().groupsOfUser(ids.ivan as string)).sort()).toEqual([gid, everyone.json.id].sort());
    r = await scim('PATCH', `/Groups/${gid}`, {
      body: { schemas: [PATCH], Operations: [{ op: 'replace', value: { id: gid, displayName: 'Field Team' } }] },
    });
    expect(r.json.displayName).toBe('Field Team');
    expect((await s().getGroupByName('Field Team'))?.id).toBe(gid);
    // A cycle is refused.
    expectError(
      await scim('PATCH', `/Groups/${gid}`, {
        body: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: everyone.json.id }] }] },
      }),
      400,
      'invalidValue',
    );
    expectError(
      await scim('PATCH', `/Groups/${gid}`, {
        body: { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: 'no-such-id' }] }] },
      }),
      400,
      'invalidValue',
    );

    const put = await scim('PUT', `/Groups/${gid}`, {
      body: { schemas: [GROUP], displayName: 'Field Team', members: [{ value: ids.gina }] },
    });
    expect(put.status, put.text).toBe(200);
    expect(await s().listGroupMembers(gid)).toEqual([ids.gina]);

    expect((await scim('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expectError(await scim('GET', `/Groups/${gid}`), 404);
    expect(await s().listGroupMembers(gid)).toEqual([]);
    expect(await s().groupsOfUser(ids.gina as string)).toEqual([]);
  });

  run('a SCIM user in a SCIM group in the MDM scope enrolls; deactivated, or out of the group, it does not', async () => {
    const jo = await newUser('jo@contoso.com');
    const joId = jo.json.id as string;
    await s().assignLicense(joId, new Date());
    const team = await scim('POST', '/Groups', { body: { schemas: [GROUP], displayName: 'Pilot', members: [{ value: joId }] } });
    const scope = await scim('POST', '/Groups', {
      body: { schemas: [GROUP], displayName: 'MDM Users', members: [{ value: team.json.id }] },
    });
    const settings = await s().getTenantSettings();
    await s().saveTenantSettings({ ...settings, mdmScope: { mode: 'some', groupIds: [scope.json.id] } }, new Date());

    expect((await decide('jo@contoso.com')).outcome).toBe('mdm');

    await scim('PATCH', `/Users/${joId}`, { body: { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] } });
    const off = await decide('jo@contoso.com');
    expect(off.outcome).toBe('refused');
    expect(off.reasons.at(-1)).toMatch(/jo@contoso.com is disabled/);

    await scim('PATCH', `/Users/${joId}`, { body: { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'True' }] } });
    expect((await decide('jo@contoso.com')).outcome).toBe('mdm');
    await scim('PATCH', `/Groups/${team.json.id}`, {
      body: { schemas: [PATCH], Operations: [{ op: 'Remove', path: 'members', value: [{ value: joId }] }] },
    });
    const out = await decide('jo@contoso.com');
    expect(out.outcome).toBe('refused');
    expect(out.reasons.at(-1)).toMatch(/neither the MDM nor the MAM user scope/);

    // DELETE: disabled, out of its SCIM groups, invisible to SCIM; the user row stays for its devices.
    await scim('PATCH', `/Groups/${team.json.id}`, {
      body: { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: joId }] }] },
    });
    expect((await scim('DELETE', `/Users/${joId}`)).status).toBe(204);
    expectError(await scim('GET', `/Users/${joId}`), 404);
    expect(await s().getUserById(joId)).toMatchObject({ enabled: false });
    expect(await s().groupsOfUser(joId)).toEqual([]);
    // The IdP may create it again: the same user comes back.
    const again = await newUser('jo@contoso.com');
    expect(again.status, again.text).toBe(201);
    expect(again.json.id).toBe(joId);
  });

  run('a revoked token stops working at once', async () => {
    const created = await winroll(['scim', 'token', 'create', '--name', 'temp', '--json', ...cliData()]);
    const temp = JSON.parse(created.stdout).token as string;
    expect((await scim('GET', '/Users', { bearer: temp })).status).toBe(200);
    const r = await winroll(['scim', 'token', 'revoke', 'temp', ...cliData()]);
    expect(r.code, r.stderr).toBe(0);
    expectError(await scim('GET', '/Users', { bearer: temp }), 401);
    expect((await scim('GET', '/Users')).status).toBe(200);
  });
});
