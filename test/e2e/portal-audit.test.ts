/**
 * End users in the audit log, and "My devices" reading only the user's devices, on a real server (SQLite
 * and PostgreSQL) with devices enrolled by the simulator: Remove (retire) and app installs from the
 * Company Portal are recorded with the end user as actor (`kind: 'user'`), the request's trace id, the
 * device and the outcome, and the admin API filters them by actor kind. A portal action refused by the
 * portal rule (403) is recorded as failed with the reason; a device the user cannot see (404) is not
 * recorded (nothing about it is theirs to know). Among many devices, each user lists only their own.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { systemClock } from '../../src/shared/clock.js';
import { type Creds, apiClient, expectSignedIn, portalClient } from '../support/api-client.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const PW = 'correct horse battery';
const APP = {
  name: 'Company Notes',
  publisher: 'Contoso',
  version: '2.1.0',
  kind: 'store',
  packageFamilyName: 'Contoso.CompanyNotes_8wekyb3d8bbwe',
  storeProductId: '9WZDNCRFJ3PZ',
  minWindowsBuild: 10240,
};

describe.each(ENGINES)('portal audit and my devices (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const admin = apiClient(srv);
  let boss: Creds;
  let alices: ManagedPc[]; // alice is the primary user
  let reassigned: ManagedPc; // enrolled by alice, carol is the primary user: alice may only read
  let shared: ManagedPc; // enrolled by alice, no primary user
  let others: ManagedPc[]; // bob's and carol's
  let appId: string;

  const portalApi = portalClient(srv);
  const portal = portalApi.call;
  const portalSignIn = (upn: string) => expectSignedIn(portalApi.signIn(upn, PW));

  const userEntries = async (query: Record<string, string>) => {
    const res = await admin.call('GET', `/audit?${new URLSearchParams({ actorKind: 'user', limit: '100', ...query })}`, boss);
    expect(res.status, res.text).toBe(200);
    return res.json.items as Array<Record<string, unknown> & { actor: Record<string, unknown> }>;
  };

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    for (const u of ['alice', 'bob', 'carol', 'boss']) await t.addUser(`${u}@contoso.com`, PW);
    await new AdminAccounts({ storage: t.server.storage, directory: t.directory, clock: systemClock }).add(
      CLI_CONTEXT,
      'boss@contoso.com',
      'administrator',
    );
    const s = t.server.storage;
    const staff = await s.addGroup({ name: 'Staff', now: new Date() });
    const alice = await t.directory.findUser('alice@contoso.com');
    const carol = await t.directory.findUser('carol@contoso.com');
    await s.addGroupMember(staff.id, alice?.id ?? '');

    const enrollAs = (upn: string, n: number) => Promise.all(Array.from({ length: n }, () => enrollPc(srv(), upn, PW)));
    alices = await enrollAs('alice@contoso.com', 2);
    [reassigned, shared] = (await enrollAs('alice@contoso.com', 2)) as [ManagedPc, ManagedPc];
    others = [...(await enrollAs('bob@contoso.com', 4)), ...(await enrollAs('carol@contoso.com', 3))];
    for (const pc of [...alices, reassigned, shared, ...others]) await pc.checkIn();
    const pk = async (pc: ManagedPc) => (await s.getDevice(pc.device.deviceId))?.id ?? '';
    await s.setPrimaryUser(await pk(reassigned), carol?.id ?? null);
    await s.setPrimaryUser(await pk(shared), null);
    // One of carol's devices becomes shared too: alice never signed in to it, so it is not hers.
    await s.setPrimaryUser(await pk(others.at(-1) as ManagedPc), null);

    boss = await admin.signIn('boss@contoso.com', PW);
    const created = await admin.call('POST', '/apps', { ...boss, body: APP });
    expect(created.status, created.text).toBe(201);
    appId = created.json.id;
    const assigned = await admin.call('PUT', `/apps/${appId}/assignments/Staff`, { ...boss, body: { intent: 'available' } });
    expect(assigned.status, assigned.text).toBe(200);
  }, 240_000);
  afterAll(async () => {
    await t?.stop();
  });

  run("My devices lists the user's own devices among many, and never anybody else's", async () => {
    const alice = await portalSignIn('alice@contoso.com');
    const res = await portal('GET', '/devices', alice);
    expect(res.status, res.text).toBe(200);
    const listed = (res.json.items as Array<{ deviceId: string; relation: string }>).map((d) => `${d.deviceId} ${d.relation}`).sort();
    const id = (pc: ManagedPc) => pc.device.deviceId;
    expect(listed).toEqual([...alices.map((pc) => `${id(pc)} primary`), `${id(reassigned)} other`, `${id(shared)} shared`].sort());
    for (const pc of others) expect(res.text).not.toContain(id(pc));

    const bob = await portalSignIn('bob@contoso.com');
    const bobs = (await portal('GET', '/devices', bob)).json.items as Array<{ deviceId: string }>;
    expect(bobs.map((d) => d.deviceId).sort()).toEqual(others.slice(0, 4).map(id).sort());
  });

  run('Remove and app install from the portal are audited with the end user as actor, the trace id and the device', async () => {
    const alice = await portalSignIn('alice@contoso.com');
    const [first, second] = alices as [ManagedPc, ManagedPc];
    const install = await portal('POST', `/devices/${second.device.deviceId}/apps/${appId}/install`, alice);
    expect(install.status, install.text).toBe(202);
    const retire = await portal('POST', `/devices/${first.device.deviceId}/retire`, alice);
    expect(retire.status, retire.text).toBe(202);

    const actor = { kind: 'user', upn: 'alice@contoso.com', userId: expect.any(String) };
    const retired = await userEntries({ targetType: 'device', targetId: first.device.deviceId });
    expect(retired).toEqual([
      expect.objectContaining({
        actor,
        actorName: 'alice@contoso.com',
        action: 'device.action.retire',
        targetType: 'device',
        targetId: first.device.deviceId,
        outcome: 'succeeded',
        traceId: retire.headers['x-trace-id'],
        error: null,
      }),
    ]);
    const installed = await userEntries({ targetId: second.device.deviceId });
    expect(installed).toEqual([
      expect.objectContaining({
        actor,
        action: 'device.app_install',
        targetId: second.device.deviceId,
        outcome: 'succeeded',
        before: { appId },
        after: expect.objectContaining({ appId, name: 'Company Notes', status: 'queued' }),
        traceId: install.headers['x-trace-id'],
      }),
    ]);
    // The admin-side filter: end users are not admins, and the kind is checked.
    const admins = await admin.call('GET', `/audit?actorKind=admin&targetId=${first.device.deviceId}`, boss);
    expect(admins.status).toBe(200);
    expect(admins.json.items).toEqual([]);
    const bad = await admin.call('GET', '/audit?actorKind=robot', boss);
    expect(bad.status).toBe(400);
    // Filtering by the end user's UPN finds the same entries.
    const byUpn = await admin.call('GET', `/audit?actor=alice@contoso.com&targetId=${first.device.deviceId}`, boss);
    expect(byUpn.json.items).toHaveLength(1);
  });

  run('a portal action the rule refuses (403) is audited as failed with the reason; an unseen device (404) is not recorded', async () => {
    const alice = await portalSignIn('alice@contoso.com');
    const refused = await portal('POST', `/devices/${reassigned.device.deviceId}/wipe`, alice);
    expect(refused.status, refused.text).toBe(403);
    expect(refused.json.detail).toMatch(/not the primary user/);
    const entries = await userEntries({ targetId: reassigned.device.deviceId });
    expect(entries).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ kind: 'user', upn: 'alice@contoso.com' }),
        action: 'device.action.wipe',
        outcome: 'failed',
        error: expect.stringMatching(/^forbidden: you are not the primary user/),
        traceId: refused.headers['x-trace-id'],
      }),
    ]);
    // The device was not touched: no wipe queued for it.
    const s = srv().server.storage;
    const commands = await s.listCommands((await s.getDevice(reassigned.device.deviceId))?.id ?? '', { limit: 500 });
    expect(commands.filter((c) => c.origin?.kind === 'action' && c.origin.actionId.startsWith('wipe'))).toEqual([]);

    const bobs = others[0] as ManagedPc;
    const unseen = await portal('POST', `/devices/${bobs.device.deviceId}/retire`, alice);
    expect(unseen.status).toBe(404);
    expect(await userEntries({ targetId: bobs.device.deviceId })).toEqual([]);
  });
});
