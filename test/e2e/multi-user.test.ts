/**
 * Multi-user devices (seed S4) over real TLS with the simulator: a PC joined to a connected Entra tenant
 * runs management sessions for whoever is signed in, named by the Entra user token (Alert 1224
 * AADUserToken and the Bearer header). Each user gets their own user-scoped profiles, only in their own
 * sessions and in their own ./User tree; device profiles reach every session; a missing or refused token
 * means device policy only. The device lists the users who signed in, and has a primary user (the
 * enrolling user of a join or work-account enrollment, none for a bulk enrollment) that an admin can
 * change from the CLI and the API, audited. Tokens are real RS256 JWTs signed with the tenant's key.
 */
import type { CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { PROVIDER_ID } from '../../src/core/enrollment/enrollment-service.js';
import { ManagementAdmin } from '../../src/core/management/admin.js';
import { systemClock } from '../../src/shared/clock.js';
import { type Creds, apiClient, expectProblem } from '../support/api-client.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { type AdminRole, signInAdmins } from '../support/admins.js';
import { dataFlags, winroll } from '../support/cli.js';
import { type TenantKey, mintEntraToken, newTenantKey, saveTenant } from '../support/entra.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const PW = 'correct horse battery';
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TID = '11111111-2222-3333-4444-555555555555';
const CLIENT_ID = '0000000a-0000-0000-c000-000000000000';
const WALLPAPER = './User/Vendor/MSFT/Personalization/DesktopImageUrl';
const HIDE_SLEEP = './User/Vendor/MSFT/Policy/Config/Start/HideSleep';
const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const ALICE = 'alice@contoso.com';
const BOB = 'bob@contoso.com';

describe.each(ENGINES)('multi-user devices and the primary user (%s)', (engine) => {
  let t: TestServer | undefined;
  let admin: ManagementAdmin;
  let tenantKey: TenantKey;
  let strangerKey: CryptoKey;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  let sessions: Record<AdminRole, Creds> = { administrator: {}, helpdesk: {}, readonly: {} };
  const cliData = () => dataFlags(srv());

  /** An Entra access token for the MDM app (v1: aud = our URL). */
  const mint = (upn: string, o: { tid?: string; expSeconds?: number; key?: CryptoKey } = {}) =>
    mintEntraToken(upn, { tid: o.tid ?? TID, aud: srv().base, key: o.key ?? tenantKey.privateKey, expSeconds: o.expSeconds });
  /** A PC joined to the tenant by `upn` (EnrollmentType Device with the directory token). */
  const join = async (upn: string) => enrollPc(srv(), upn, '', 'Device', {}, { directoryToken: await mint(upn) });
  /** Runs a session as `upn` (token in the alert and the header, like Windows) and returns the ./User commands it got. */
  const sessionAs = async (pc: ManagedPc, upn: string | undefined, send?: 'alert' | 'bearer' | 'both') => {
    const mark = pc.state.received.length;
    const r = await pc.checkIn(upn ? { userToken: { jwt: await mint(upn), ...(send ? { send } : {}) } } : {});
    expect(r.headerStatus).toBe(200);
    return pc.state.received.slice(mark).filter((c) => c.includes(' ./User/'));
  };
  const userOf = async (upn: string) => (await srv().server.storage.getUserByUpn(upn))?.id as string;

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    for (const u of ['alice', 'bob', 'carol', 'dora', 'boss', 'help', 'auditor']) await t.addUser(`${u}@contoso.com`, PW);
    await t.addUser('nolicense@contoso.com', PW, { license: false });
    const s = t.server.storage;
    await s.setUserEnabled(await userOf('dora@contoso.com'), false, new Date());

    sessions = await signInAdmins(t, signIn, PW, {
      administrator: 'boss@contoso.com',
      helpdesk: 'help@contoso.com',
      readonly: 'auditor@contoso.com',
    });

    // The tenant, with its signing key stored in the database.
    tenantKey = await newTenantKey();
    strangerKey = (await newTenantKey()).privateKey;
    await saveTenant(t, TID, CLIENT_ID, tenantKey);

    // A's and B's user profiles (both set the wallpaper, differently), a device profile for everyone.
    admin = new ManagementAdmin({ storage: s, clock: systemClock, providerId: PROVIDER_ID });
    for (const g of ['team-a', 'team-b', 'everyone']) await admin.addGroup(g);
    await admin.addGroupMember('team-a', ALICE);
    await admin.addGroupMember('team-b', BOB);
    for (const u of ['alice', 'bob', 'carol']) await admin.addGroupMember('everyone', `${u}@contoso.com`);
    const wallpaper = 'Vendor/MSFT/Personalization/DesktopImageUrl';
    await admin.saveProfile({
      name: 'A wallpaper',
      scope: 'user',
      settings: [{ path: wallpaper, format: 'chr', value: 'https://intranet/a.jpg' }],
    });
    await admin.saveProfile({
      name: 'B wallpaper',
      scope: 'user',
      settings: [
        { path: wallpaper, format: 'chr', value: 'https://intranet/b.jpg' },
        { path: 'Vendor/MSFT/Policy/Config/Start/HideSleep', format: 'int', value: '1' },
      ],
    });
    await admin.saveProfile({
      name: 'Camera off',
      scope: 'device',
      settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }],
    });
    await admin.assignProfile('A wallpaper', { group: 'team-a' });
    await admin.assignProfile('B wallpaper', { group: 'team-b' });
    await admin.assignProfile('Camera off', { group: 'everyone' });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  run("each user gets their own profiles only in their own session, and keeps them through another user's", async () => {
    const pc = await join(ALICE);

    // Right after the join nobody has signed in: device policy only.
    expect(await sessionAs(pc, undefined)).toEqual([]);
    expect(pc.state.get(CAMERA)).toBe('0');

    // Alice signs in: her wallpaper, not Bob's settings.
    expect(await sessionAs(pc, ALICE)).toEqual([`Add ${WALLPAPER}`]);
    expect(pc.state.get(WALLPAPER, ALICE)).toBe('https://intranet/a.jpg');
    expect(pc.state.get(HIDE_SLEEP, ALICE)).toBeUndefined();

    // Bob signs in on the same PC: his settings in his tree, and nothing deleted from Alice's.
    expect((await sessionAs(pc, BOB)).sort()).toEqual([`Add ${WALLPAPER}`, `Add ${HIDE_SLEEP}`].sort());
    expect(pc.state.get(WALLPAPER, BOB)).toBe('https://intranet/b.jpg');
    expect(pc.state.get(HIDE_SLEEP, BOB)).toBe('1');
    expect(pc.state.get(WALLPAPER, ALICE)).toBe('https://intranet/a.jpg');

    // Alternating again sends nothing: each user's settings are applied and stay applied.
    expect(await sessionAs(pc, ALICE)).toEqual([]);
    expect(await sessionAs(pc, BOB)).toEqual([]);
    expect(await sessionAs(pc, undefined)).toEqual([]);
    expect(pc.state.get(WALLPAPER, ALICE)).toBe('https://intranet/a.jpg');
    expect(pc.state.get(WALLPAPER, BOB)).toBe('https://intranet/b.jpg');
    // The device profile went out once, whoever was signed in.
    expect(pc.state.received.filter((c) => c.endsWith('/AllowCamera'))).toEqual([`Add ${CAMERA}`]);

    const s = srv().server.storage;
    const applied = await s.listApplied((await s.getDevice(pc.device.deviceId))?.id as string);
    const [alice, bob] = [await userOf(ALICE), await userOf(BOB)];
    expect(applied.map((a) => [a.userId, a.locUri, a.value]).sort()).toEqual(
      [
        [alice, WALLPAPER, 'https://intranet/a.jpg'],
        [bob, HIDE_SLEEP, '1'],
        [bob, WALLPAPER, 'https://intranet/b.jpg'],
        [null, CAMERA, '0'],
      ].sort(),
    );

    // Unassigning Bob's profile removes it in Bob's next session, and Alice's sessions do not touch it.
    await admin.unassignProfile('B wallpaper', { group: 'team-b' });
    expect(await sessionAs(pc, ALICE)).toEqual([]);
    expect(pc.state.get(HIDE_SLEEP, BOB)).toBe('1');
    expect((await sessionAs(pc, BOB)).sort()).toEqual([`Delete ${WALLPAPER}`, `Delete ${HIDE_SLEEP}`].sort());
    expect(pc.state.get(WALLPAPER, BOB)).toBeUndefined();
    expect(pc.state.get(WALLPAPER, ALICE)).toBe('https://intranet/a.jpg');
    await admin.assignProfile('B wallpaper', { group: 'team-b' });
  });

  run('the token is read from the AADUserToken alert or the Bearer header alone', async () => {
    const viaAlert = await join(ALICE);
    expect(await sessionAs(viaAlert, BOB, 'alert')).toContain(`Add ${WALLPAPER}`);
    expect(viaAlert.state.get(WALLPAPER, BOB)).toBe('https://intranet/b.jpg');
    const viaHeader = await join(ALICE);
    expect(await sessionAs(viaHeader, BOB, 'bearer')).toContain(`Add ${WALLPAPER}`);
    expect(viaHeader.state.get(WALLPAPER, BOB)).toBe('https://intranet/b.jpg');
  });

  run(
    'a refused token (other tenant, expired, tampered, unknown or disabled user) means device policy only, logged without the token',
    async () => {
      const pc = await join(ALICE);
      const valid = await mint(ALICE);
      const [head, body, sig] = valid.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      const tampered = `${head}.${Buffer.from(JSON.stringify({ ...claims, upn: BOB })).toString('base64url')}.${sig}`;
      const cases: Array<[string, string, string]> = [
        ['another tenant', await mint(ALICE, { tid: OTHER_TID }), 'unknown_tenant'],
        ['expired', await mint(ALICE, { expSeconds: -400 }), 'expired'],
        ['tampered', tampered, 'invalid'],
        ['signed by another key', await mint(ALICE, { key: strangerKey }), 'invalid'],
        ['unknown user', await mint('ghost@contoso.com'), 'unknown_user'],
        ['disabled user', await mint('dora@contoso.com'), 'disabled'],
      ];
      for (const [what, jwt, reason] of cases) {
        const mark = pc.state.received.length;
        const logMark = srv().logs.length;
        const r = await pc.checkIn({ userToken: { jwt, as: ALICE } });
        expect(r.headerStatus, what).toBe(200);
        expect(
          pc.state.received.slice(mark).filter((c) => c.includes(' ./User/')),
          what,
        ).toEqual([]);
        const logs = srv().logs.slice(logMark);
        const ignored = logs.map((l) => JSON.parse(l)).filter((l) => l.msg?.startsWith('user token ignored'));
        expect(ignored.length, what).toBeGreaterThan(0);
        expect(ignored[0], what).toMatchObject({ reason, deviceId: pc.device.deviceId });
        const text = logs.join('\n');
        expect(text).not.toContain(jwt);
        expect(text).not.toContain(jwt.split('.')[2] as string);
      }
      expect(pc.state.get(CAMERA)).toBe('0');
      expect(pc.state.get(WALLPAPER, ALICE)).toBeUndefined();
      // Nobody was recorded as signed in.
      expect((await call('GET', `/devices/${pc.device.deviceId}`, sessions.readonly)).json.users).toEqual([]);
    },
  );

  run('a work-account (Full) enrollment stays single-user: the enrolling user, whatever token comes', async () => {
    const pc = await enrollPc(srv(), ALICE, '', 'Full', {}, { directoryToken: await mint(ALICE) });
    expect(await sessionAs(pc, BOB)).toEqual([`Add ${WALLPAPER}`]);
    // The simulator filed it under the token's user; what matters is the value: Alice's, not Bob's.
    expect(pc.state.get(WALLPAPER, BOB)).toBe('https://intranet/a.jpg');
    const shown = await call('GET', `/devices/${pc.device.deviceId}`, sessions.readonly);
    expect(shown.json).toMatchObject({ primaryUser: { upn: ALICE }, shared: false, ownership: 'personal' });
    expect(shown.json.users.map((u: { upn: string }) => u.upn)).toEqual([ALICE]);
  });

  run('the users who signed in are listed with first and last sighting (API and CLI)', async () => {
    const pc = await join(ALICE);
    await sessionAs(pc, ALICE);
    await sessionAs(pc, BOB);
    await sessionAs(pc, undefined);
    await sessionAs(pc, ALICE);
    const res = await call('GET', `/devices/${pc.device.deviceId}`, sessions.readonly);
    expect(res.status, res.text).toBe(200);
    const users = res.json.users as Array<{ upn: string; firstSeenAt: string; lastSeenAt: string }>;
    expect(users.map((u) => u.upn)).toEqual([ALICE, BOB]);
    const [a, b] = users as [(typeof users)[0], (typeof users)[0]];
    expect(Date.parse(a.lastSeenAt)).toBeGreaterThan(Date.parse(a.firstSeenAt));
    expect(Date.parse(a.firstSeenAt)).toBeLessThan(Date.parse(b.firstSeenAt));
    expect(b.firstSeenAt).toBe(b.lastSeenAt);

    const shown = await winroll(['devices', 'show', pc.device.deviceId, ...cliData()]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`primary user\\s+${ALICE}`));
    expect(shown.stdout).toMatch(/SIGNED-IN USER\s+FIRST SEEN\s+LAST SEEN/);
    expect(shown.stdout).toMatch(new RegExp(`${BOB}\\s+\\d{4}-`));
    const json = await winroll(['devices', 'show', pc.device.deviceId, '--json', ...cliData()]);
    expect(JSON.parse(json.stdout).users.map((u: { upn: string }) => u.upn)).toEqual([ALICE, BOB]);
  });

  run('the primary user is the joining user; an admin changes it from the CLI and the API, audited', async () => {
    const pc = await join(ALICE);
    const id = pc.device.deviceId;
    const shown = async () => (await call('GET', `/devices/${id}`, sessions.readonly)).json;
    expect(await shown()).toMatchObject({ upn: ALICE, primaryUser: { upn: ALICE, userId: await userOf(ALICE) }, shared: false });

    // CLI: to Bob, then shared.
    const toBob = await winroll(['devices', 'primary-user', id.toLowerCase(), BOB, '--json', ...cliData()]);
    expect(toBob.code, toBob.stderr).toBe(0);
    expect(JSON.parse(toBob.stdout)).toEqual({ deviceId: id, primaryUser: { userId: await userOf(BOB), upn: BOB }, shared: false });
    expect(await shown()).toMatchObject({ upn: ALICE, primaryUser: { upn: BOB } });
    const none = await winroll(['devices', 'primary-user', id, '--none', ...cliData()]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout.trim()).toBe(`${id} is now a shared device (no primary user)`);
    expect(await shown()).toMatchObject({ primaryUser: null, shared: true });
    const listed = await winroll(['devices', 'list', ...cliData()]);
    expect(listed.stdout.split('\n').find((l) => l.startsWith(id))).toMatch(new RegExp(`${ALICE}\\s+\\(shared\\)`));
    for (const [args, cause] of [
      [[id], 'give the new primary user (a UPN) or --none for a shared device'],
      [[id, BOB, '--none'], 'give a UPN or --none, not both'],
      [[id, 'nobody@contoso.com'], 'no user nobody@contoso.com'],
      [['0000000000000000000000000000FFFF', BOB], 'no enrolled device 0000000000000000000000000000FFFF'],
    ] as const) {
      const r = await winroll(['devices', 'primary-user', ...args, ...cliData()]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`winroll: ${cause}`);
    }

    // API: administrators only.
    const put = (creds: Creds, upn: string | null) => call('PUT', `/devices/${id}/primary-user`, { ...creds, body: { upn } });
    expectProblem(await put(sessions.readonly, BOB), 403, 'forbidden');
    expectProblem(await put(sessions.helpdesk, BOB), 403, 'forbidden');
    const set = await put(sessions.administrator, 'Carol@Contoso.com');
    expect(set.status, set.text).toBe(200);
    expect(set.json).toEqual({
      deviceId: id,
      primaryUser: { userId: await userOf('carol@contoso.com'), upn: 'carol@contoso.com' },
      shared: false,
    });
    expect(await shown()).toMatchObject({ primaryUser: { upn: 'carol@contoso.com' }, shared: false });
    expectProblem(await put(sessions.administrator, 'nobody@contoso.com'), 404, 'not_found');
    const unlicensed = await put(sessions.administrator, 'nolicense@contoso.com');
    expectProblem(unlicensed, 422, 'invalid_input');
    expect(unlicensed.json.detail).toBe('nolicense@contoso.com has no Winroll license; assign one before making them a primary user');
    expectProblem(await put(sessions.administrator, 'dora@contoso.com'), 422, 'invalid_input');
    expectProblem(
      await call('PUT', '/devices/NOSUCHDEVICE/primary-user', { ...sessions.administrator, body: { upn: BOB } }),
      404,
      'not_found',
    );
    expectProblem(await call('PUT', `/devices/${id}/primary-user`, { ...sessions.administrator, body: {} }), 400, 'invalid_request');
    const cleared = await put(sessions.administrator, null);
    expect(cleared.json).toEqual({ deviceId: id, primaryUser: null, shared: true });
    // Who enrolled it does not change.
    expect(await shown()).toMatchObject({ upn: ALICE, userId: await userOf(ALICE), primaryUser: null, shared: true });

    const audit = await call('GET', `/audit?limit=50&targetType=device&targetId=${id}`, sessions.readonly);
    expect(audit.status, audit.text).toBe(200);
    const entries = (audit.json.items as Array<Record<string, unknown>>).filter((e) => e.action === 'device.set_primary_user');
    // Newest first: API clear, refusals, API set, CLI none, CLI Bob (CLI refusals for unknown users included).
    expect(entries[0]).toMatchObject({
      actor: { kind: 'admin', upn: 'boss@contoso.com' },
      outcome: 'succeeded',
      before: { primaryUser: { upn: 'carol@contoso.com' } },
      after: { primaryUser: null, shared: true },
    });
    expect(entries.find((e) => e.outcome === 'failed' && String(e.error).includes('no Winroll license'))).toBeDefined();
    expect(entries.filter((e) => e.outcome === 'succeeded').map((e) => (e.actor as { kind: string }).kind)).toEqual([
      'admin',
      'admin',
      'cli',
      'cli',
    ]);
    expect(entries.at(-1)).toMatchObject({
      before: { primaryUser: { upn: ALICE } },
      after: { primaryUser: { upn: BOB }, shared: false },
    });
  });

  run('a bulk enrollment has no primary user (shared); a user enrollment belongs to its user', async () => {
    const bulk = await enrollPc(srv(), 'carol@contoso.com', PW, 'Device');
    const shownBulk = await call('GET', `/devices/${bulk.device.deviceId}`, sessions.readonly);
    expect(shownBulk.json).toMatchObject({ upn: 'carol@contoso.com', primaryUser: null, shared: true, ownership: 'corporate' });
    const personal = await enrollPc(srv(), 'carol@contoso.com', PW, 'Full');
    const shownPersonal = await call('GET', `/devices/${personal.device.deviceId}`, sessions.readonly);
    expect(shownPersonal.json).toMatchObject({ primaryUser: { upn: 'carol@contoso.com' }, shared: false });

    const page = await call('GET', '/devices?limit=200', sessions.readonly);
    const row = (page.json.items as Array<{ deviceId: string }>).find((d) => d.deviceId === bulk.device.deviceId);
    expect(row).toMatchObject({ primaryUser: null, shared: true });
    const show = await winroll(['devices', 'show', bulk.device.deviceId, ...cliData()]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/primary user\s+none \(shared device\)/);
    expect(show.stdout).toContain('Signed-in users: none seen yet');

    // A shared bulk device is multi-user too: a signed-in directory user gets their own profiles.
    await sessionAs(bulk, undefined);
    expect(await sessionAs(bulk, ALICE)).toEqual([`Add ${WALLPAPER}`]);
  });

  run('device profiles assigned to a group follow the primary user: an admin change moves them at the next session', async () => {
    const CORTANA = './Device/Vendor/MSFT/Policy/Config/Experience/AllowCortana';
    await admin.addGroup('kiosk-owners');
    await admin.addGroupMember('kiosk-owners', 'carol@contoso.com');
    await admin.saveProfile({
      name: 'No Cortana',
      scope: 'device',
      settings: [{ path: 'Vendor/MSFT/Policy/Config/Experience/AllowCortana', format: 'int', value: '0' }],
    });
    await admin.assignProfile('No Cortana', { group: 'kiosk-owners' });
    const pc = await join(ALICE);
    const id = pc.device.deviceId;
    const setPrimary = async (upn: string | null) => {
      const r = await call('PUT', `/devices/${id}/primary-user`, { ...sessions.administrator, body: { upn } });
      expect(r.status, r.text).toBe(200);
    };

    // Alice's PC: her groups' device profiles (everyone: camera off), not Carol's.
    await sessionAs(pc, undefined);
    expect(pc.state.get(CAMERA)).toBe('0');
    expect(pc.state.get(CORTANA)).toBeUndefined();

    // Carol becomes the primary user: her group's device profile arrives at the next session, even while
    // Alice is the one signed in (device scope follows the owner, not the session).
    await setPrimary('carol@contoso.com');
    await sessionAs(pc, ALICE);
    expect(pc.state.get(CORTANA)).toBe('0');
    expect(pc.state.get(CAMERA)).toBe('0');

    // Back to Alice: it leaves. Shared (no primary user): the device is reached through the account that
    // enrolled it (how bulk and DEM devices are targeted), so Alice's groups still apply and Carol's do not.
    await setPrimary(ALICE);
    await sessionAs(pc, undefined);
    expect(pc.state.get(CORTANA)).toBeUndefined();
    expect(pc.state.get(CAMERA)).toBe('0');
    await setPrimary('carol@contoso.com');
    await sessionAs(pc, undefined);
    expect(pc.state.get(CORTANA)).toBe('0');
    await setPrimary(null);
    await sessionAs(pc, undefined);
    expect(pc.state.get(CAMERA)).toBe('0');
    expect(pc.state.get(CORTANA)).toBeUndefined();
    // A shared device also gets what is assigned to the device itself.
    await admin.assignProfile('No Cortana', { device: id });
    await sessionAs(pc, undefined);
    expect(pc.state.get(CORTANA)).toBe('0');
  });
});
