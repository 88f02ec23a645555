
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { dataFlags, winroll as runCli } from '../support/cli.js';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { systemClock } from '../../src/shared/clock.js';
import { apiClient, expectSignedIn, portalClient } from '../support/api-client.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const PW = 'correct horse battery';
const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const PROFILE = 'Camera Off';

describe.each(ENGINES)('available profiles (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const admin = apiClient(srv);
  let alicePc: ManagedPc; // alice is its primary user
  let othersPc: ManagedPc; // enrolled by alice, carol is its primary user
  let shared: ManagedPc; // enrolled by carol, no primary user; bob signed in to it
  let boss: { cookie?: string | undefined; csrf?: string | undefined };
  let reader: { cookie?: string | undefined; csrf?: string | undefined };

  const portalApi = portalClient(srv);
  const portal = portalApi.call;
  const portalSignIn = (upn: string) => expectSignedIn(portalApi.signIn(upn, PW));

  const winroll = (args: string[]) => runCli([...args, ...dataFlags(srv())]);

  const profilesOn = async (pc: ManagedPc, who: { cookie: string }) => {
    const res = await portal('GET', `/devices/${pc.device.deviceId}/profiles`, who);
    expect(res.status, res.text).toBe(200);
    return res.json as {
      canInstall: boolean;
      reason: string | null;
      items: Array<{ name: string; state: string; installable: boolean; reason: string | null }>;
    };
  };
  const installPath = (pc: ManagedPc, name = PROFILE) => `/devices/${pc.device.deviceId}/profiles/${encodeURIComponent(name)}/install`;

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    for (const u of ['alice', 'bob', 'carol', 'boss', 'reader']) await t.addUser(`${u}@contoso.com`, PW);
    const accounts = new AdminAccounts({ storage: t.server.storage, directory: t.directory, clock: systemClock });
    await accounts.add(CLI_CONTEXT, 'boss@contoso.com', 'administrator');
    await accounts.add(CLI_CONTEXT, 'reader@contoso.com', 'readonly');
    const s = t.server.storage;
    // Sales is nested in Staff; the profile is offered to Staff; alice and bob are in Sales.
    const staff = await s.addGroup({ name: 'Staff', now: new Date() });
    const sales = await s.addGroup({ name: 'Sales', now: new Date() });
    await s.addGroupToGroup(staff.id, sales.id);
    for (const u of ['alice', 'bob']) await s.addGroupMember(sales.id, (await t.directory.findUser(`${u}@contoso.com`))?.id ?? '');
    alicePc = await enrollPc(srv(), 'alice@contoso.com', PW);
    othersPc = await enrollPc(srv(), 'alice@contoso.com', PW);
    shared = await enrollPc(srv(), 'carol@contoso.com', PW);
    for (const pc of [alicePc, othersPc, shared]) await pc.checkIn();
    const pk = async (pc: ManagedPc) => (await s.getDevice(pc.device.deviceId))?.id ?? '';
    await s.setPrimaryUser(await pk(othersPc), (await t.directory.findUser('carol@contoso.com'))?.id ?? null);
    await s.setPrimaryUser(await pk(shared), null);
    await s.recordDeviceUser(await pk(shared), (await t.directory.findUser('bob@contoso.com'))?.id ?? '', new Date());
    boss = await admin.signIn('boss@contoso.com', PW);
    reader = await admin.signIn('reader@contoso.com', PW);
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  });

  run('the admin API assigns with an intent (administrators only), shows it, and documents it', async () => {
    const put = await admin.call('PUT', `/profiles/${encodeURIComponent(PROFILE)}`, {
      ...boss,
      body: { scope: 'device', settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }] },
    });
    expect(put.status, put.text).toBe(200);
    const assignPath = `/profiles/${encodeURIComponent(PROFILE)}/assignments`;
    const denied = await admin.call('POST', assignPath, { ...reader, body: { group: 'Staff', intent: 'available' } });
    expect(denied.status).toBe(403);
    const toDevice = await admin.call('POST', assignPath, { ...boss, body: { device: alicePc.device.deviceId, intent: 'available' } });
    expect(toDevice.status).toBe(400);
    expect(toDevice.text).toMatch(/assign it to a group, not to a device/);
    const assigned = await admin.call('POST', assignPath, { ...boss, body: { group: 'Staff', intent: 'available' } });
    expect(assigned.status, assigned.text).toBe(200);
    expect(assigned.json).toEqual({ queued: 0 });
    const shown = await admin.call('GET', `/profiles/${encodeURIComponent(PROFILE)}`, reader);
    expect(shown.json.assignments).toEqual([{ kind: 'group', group: 'Staff', device: null, intent: 'available' }]);
    const doc = await admin.call('GET', '/openapi.json', reader);
    expect(JSON.stringify(doc.json.components?.schemas?.Assignment)).toContain('available');
  });

  run('the CLI assigns with --intent and refuses an unknown intent with its cause', async () => {
    const saved = await srv().server.storage.saveProfile({
      name: 'Lock Screen',
      scope: 'device',
      settings: [{ path: 'Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength', format: 'int', value: '8' }],
      now: new Date(),
    });
    const bad = await winroll(['profiles', 'assign', 'Lock Screen', '--group', 'Staff', '--intent', 'maybe']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/intent must be "required" or "available"/);
    const ok = await winroll(['profiles', 'assign', 'Lock Screen', '--group', 'Staff', '--intent', 'available', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ queued: 0 });
    expect(await srv().server.storage.listAssignmentIntents(saved.id)).toEqual([
      { target: { kind: 'group', groupId: expect.any(String) }, intent: 'available' },
    ]);
  });

  run('an available profile is not delivered until the primary user installs it; then the next check-in delivers it', async () => {
    await alicePc.checkIn();
    expect(alicePc.state.received).not.toContain(`Add ${CAMERA}`);
    expect(alicePc.state.get(CAMERA)).toBeUndefined();

    const alice = await portalSignIn('alice@contoso.com');
    const before = await profilesOn(alicePc, alice);
    expect(before).toMatchObject({ canInstall: true, reason: null });
    expect(before.items.find((p) => p.name === PROFILE)).toMatchObject({ state: 'available', installable: true });

    // Same rule as the other portal POSTs: no CSRF token, no install.
    const noCsrf = await portal('POST', installPath(alicePc), { cookie: alice.cookie });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.json.detail).toMatch(/X-CSRF-Token/);

    const install = await portal('POST', installPath(alicePc), alice);
    expect(install.status, install.text).toBe(202);
    expect(install.json).toEqual({ name: PROFILE, state: 'requested' });
    expect((await profilesOn(alicePc, alice)).items.find((p) => p.name === PROFILE)?.state).toBe('requested');

    await alicePc.checkIn();
    expect(alicePc.state.received).toContain(`Add ${CAMERA}`);
    expect(alicePc.state.get(CAMERA)).toBe('0');
    // The device's status for the Add was recorded: the profile shows installed.
    expect((await profilesOn(alicePc, alice)).items.find((p) => p.name === PROFILE)?.state).toBe('installed');
    // Not on alice's other device, where she did not ask for it.
    expect(othersPc.state.get(CAMERA)).toBeUndefined();

    const audit = await srv().server.storage.listAudit({ actorKind: 'user', limit: 50 });
    expect(audit.find((e) => e.action === 'device.profile_install' && e.targetId === alicePc.device.deviceId)).toMatchObject({
      outcome: 'succeeded',
    });
  });

  run('a user who is not the primary user, and a shared device, get 403 with the reason', async () => {
    const alice = await portalSignIn('alice@contoso.com');
    const asOther = await portal('POST', installPath(othersPc), alice);
    expect(asOther.status, asOther.text).toBe(403);
    expect(asOther.json.detail).toMatch(/not the primary user/);
    expect(await profilesOn(othersPc, alice)).toMatchObject({
      canInstall: false,
      reason: expect.stringMatching(/not the primary user/),
    });

    const bob = await portalSignIn('bob@contoso.com');
    const onShared = await portal('POST', installPath(shared), bob);
    expect(onShared.status, onShared.text).toBe(403);
    expect(onShared.json.detail).toMatch(/shared device/);
    const list = await profilesOn(shared, bob);
    expect(list).toMatchObject({ canInstall: false, reason: expect.stringMatching(/shared device/) });
    expect(list.items.find((p) => p.name === PROFILE)).toMatchObject({ state: 'available', installable: false });

    // Neither device got the settings, and the refusals are in the audit log with their reason.
    await othersPc.checkIn();
    await shared.checkIn();
    expect(othersPc.state.get(CAMERA)).toBeUndefined();
    expect(shared.state.get(CAMERA)).toBeUndefined();
    const failed = (await srv().server.storage.listAudit({ actorKind: 'user', limit: 50 })).filter(
      (e) => e.action === 'device.profile_install' && e.outcome === 'failed',
    );
    expect(failed.map((e) => e.targetId).sort()).toEqual([othersPc.device.deviceId, shared.device.deviceId].sort());

    // A profile that is not offered to the user is not found, whatever the device.
    const unknown = await portal('POST', installPath(alicePc, 'No Such Profile'), alice);
    expect(unknown.status).toBe(404);
  });

  run('a profile the device refuses shows failed in the portal', async () => {
    const s = srv().server.storage;
    const sleep = './Device/Vendor/MSFT/Policy/Config/Start/HideSleep';
    const broken = await s.saveProfile({
      name: 'Hide Sleep',
      scope: 'device',
      settings: [{ path: 'Vendor/MSFT/Policy/Config/Start/HideSleep', format: 'int', value: '1' }],
      now: new Date(),
    });
    const staff = await s.getGroupByName('Staff');
    await s.assignProfile(broken.id, { kind: 'group', groupId: staff?.id ?? '' }, new Date(), 'available');
    alicePc.state.failWith.set(sleep, 405);
    const alice = await portalSignIn('alice@contoso.com');
    expect((await portal('POST', installPath(alicePc, 'Hide Sleep'), alice)).status).toBe(202);
    await alicePc.checkIn();
    expect(alicePc.state.received).toContain(`Add ${sleep}`);
    expect((await profilesOn(alicePc, alice)).items.find((p) => p.name === 'Hide Sleep')?.state).toBe('failed');
  });

  run('unassigning the profile removes it at the next session', async () => {
    const removed = await admin.call('DELETE', `/profiles/${encodeURIComponent(PROFILE)}/assignments/group/Staff`, boss);
    expect(removed.status, removed.text).toBe(204);
    await alicePc.checkIn();
    expect(alicePc.state.received).toContain(`Delete ${CAMERA}`);
    expect(alicePc.state.get(CAMERA)).toBeUndefined();
    const alice = await portalSignIn('alice@contoso.com');
    expect((await profilesOn(alicePc, alice)).items.map((p) => p.name)).not.toContain(PROFILE);
  });
});
