/**
 * The Company Portal's end-user API (/portal/api) on a real server, SQLite and PostgreSQL, with devices
 * enrolled by the simulator: the primary user may remove and reset; anybody else gets 403 with the reason;
 * a shared device allows installing Available apps only; portal and admin sessions never cross; the
 * enrollment link, QR code and client hints; "What your organisation can see" matches what is collected.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { INVENTORY_NODES } from '../../src/core/management/inventory.js';
import { systemClock } from '../../src/shared/clock.js';
import { type ApiResponse, apiClient, portalClient } from '../support/api-client.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const PW = 'correct horse battery';

describe.each(ENGINES)('portal API (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const admin = apiClient(srv);
  let own: ManagedPc; // alice is primary user
  let toWipe: ManagedPc; // alice is primary user (personal)
  let reassigned: ManagedPc; // enrolled by alice, primary user changed to carol
  let shared: ManagedPc; // enrolled by alice, no primary user
  let bobs: ManagedPc;

  const portalApi = portalClient(srv);
  const portal = portalApi.call;
  const signIn = (upn: string) => portalApi.signIn(upn, PW);

  function expectProblem(res: ApiResponse, status: number, detail: RegExp): void {
    expect(res.status, res.text).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json.detail).toMatch(detail);
  }

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
    [own, toWipe, reassigned, shared] = (await Promise.all([1, 2, 3, 4].map(() => enrollPc(srv(), 'alice@contoso.com', PW)))) as [
      ManagedPc,
      ManagedPc,
      ManagedPc,
      ManagedPc,
    ];
    bobs = await enrollPc(srv(), 'bob@contoso.com', PW);
    for (const pc of [own, toWipe, reassigned, shared, bobs]) await pc.checkIn();
    const s = t.server.storage;
    const carol = await t.directory.findUser('carol@contoso.com');
    const rec = async (pc: ManagedPc) => (await s.getDevice(pc.device.deviceId))?.id ?? '';
    await s.setPrimaryUser(await rec(reassigned), carol?.id ?? null);
    await s.setPrimaryUser(await rec(shared), null);
    for (const pc of [own, toWipe, reassigned, shared, bobs]) await s.setOwnership(await rec(pc), 'personal');
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
  });

  run('signs in with the directory password into a hardened cookie of its own', async () => {
    const { res, cookie } = await signIn('alice@contoso.com');
    expect(res.status, res.text).toBe(201);
    const set = [res.headers['set-cookie'] ?? []].flat()[0] ?? '';
    expect(set).toMatch(/^__Host-winroll_portal=[A-Za-z0-9_-]{43};/);
    for (const flag of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) expect(set).toContain(flag);
    expect((await portal('GET', '/session', { cookie })).json.upn).toBe('alice@contoso.com');
    expectProblem(await portal('POST', '/session', { body: { upn: 'alice@contoso.com', password: 'wrong password' } }), 401, /wrong/);
    expectProblem(await portal('GET', '/devices'), 401, /sign in/);
  });

  run('an admin session is not accepted by the portal API, and a portal session not by the admin API', async () => {
    const a = await admin.signIn('boss@contoso.com', PW);
    expect(a.res.status).toBe(201);
    expectProblem(await portal('GET', '/devices', { cookie: a.cookie }), 401, /sign in/);
    // The admin session's value under the portal cookie's name is no portal session either.
    const value = a.cookie?.split('=')[1] ?? '';
    expectProblem(await portal('GET', '/devices', { cookie: `__Host-winroll_portal=${value}` }), 401, /ended/);
    const p = await signIn('boss@contoso.com');
    expect(p.res.status).toBe(201);
    const viaPortal = await admin.call('GET', '/devices', { cookie: p.cookie });
    expect(viaPortal.status, viaPortal.text).toBe(401);
    const swapped = await admin.call('GET', '/devices', { cookie: `__Host-winroll_session=${p.cookie.split('=')[1]}` });
    expect(swapped.status).toBe(401);
  });

  run('lists the devices of the signed-in user only, with how they relate to each', async () => {
    const { cookie } = await signIn('alice@contoso.com');
    const res = await portal('GET', '/devices', { cookie });
    expect(res.status, res.text).toBe(200);
    const rel = Object.fromEntries(res.json.items.map((d: { deviceId: string; relation: string }) => [d.deviceId, d.relation]));
    expect(rel).toEqual({
      [own.device.deviceId]: 'primary',
      [toWipe.device.deviceId]: 'primary',
      [reassigned.device.deviceId]: 'other',
      [shared.device.deviceId]: 'shared',
    });
    const one = res.json.items.find((d: { deviceId: string }) => d.deviceId === own.device.deviceId);
    expect(one.osVersion).toMatch(/^10\.0\./);
    // Bob's device is not alice's to know about.
    expectProblem(await portal('GET', `/devices/${bobs.device.deviceId}`, { cookie }), 404, /no device/);
  });

  run('a user who is not the primary user gets 403 with the reason for Remove and Reset', async () => {
    const { cookie, csrf } = await signIn('alice@contoso.com');
    const id = reassigned.device.deviceId;
    const detail = await portal('GET', `/devices/${id}`, { cookie });
    expect(detail.json.permissions.retire).toEqual({ allowed: false, reason: expect.stringMatching(/not the primary user/) });
    for (const action of ['retire', 'wipe']) {
      const res = await portal('POST', `/devices/${id}/${action}`, { cookie, csrf });
      expectProblem(res, 403, /not the primary user of this device/);
      expect(res.json.code).toBe('forbidden');
    }
    // Carol, the primary user, has not signed in to it and is not its enroller, yet it is hers.
    const carol = await signIn('carol@contoso.com');
    expect((await portal('GET', `/devices/${id}`, { cookie: carol.cookie })).json.relation).toBe('primary');
  });

  run('on a shared device Available apps may be installed, Remove and Reset are refused', async () => {
    const { cookie, csrf } = await signIn('alice@contoso.com');
    const id = shared.device.deviceId;
    const detail = await portal('GET', `/devices/${id}`, { cookie });
    expect(detail.json.permissions.installApp).toEqual({ allowed: true, reason: null });
    expect(detail.json.permissions.wipe.reason).toMatch(/shared device/);
    expectProblem(await portal('POST', `/devices/${id}/retire`, { cookie, csrf }), 403, /shared device .* only install Available apps/);
  });

  run('the primary user removes (retire) and resets (wipe) their own personal device; the device gets the commands', async () => {
    const { cookie, csrf } = await signIn('alice@contoso.com');
    expectProblem(await portal('POST', `/devices/${own.device.deviceId}/retire`, { cookie }), 403, /X-CSRF-Token/);
    const retire = await portal('POST', `/devices/${own.device.deviceId}/retire`, { cookie, csrf });
    expect(retire.status, retire.text).toBe(202);
    await own.checkIn();
    expect(own.state.received.some((r) => r.includes('DMClient/Unenroll'))).toBe(true);

    const wipe = await portal('POST', `/devices/${toWipe.device.deviceId}/wipe`, { cookie, csrf });
    expect(wipe.status, wipe.text).toBe(202);
    const after = await portal('GET', `/devices/${toWipe.device.deviceId}`, { cookie });
    expect(after.json.actions).toEqual([expect.objectContaining({ kind: 'wipe', state: 'pending' })]);
    await toWipe.checkIn();
    expect(toWipe.state.wipes).toEqual(['doWipe']);
    // The organisation itself may not wipe a personal device (same table, other side).
    const a = await admin.signIn('boss@contoso.com', PW);
    const byAdmin = await admin.call('POST', `/devices/${bobs.device.deviceId}/actions`, {
      cookie: a.cookie,
      csrf: a.csrf,
      body: { kind: 'wipe' },
    });
    expect(byAdmin.status, byAdmin.text).toBe(422);
    expect(byAdmin.json.detail).toMatch(/personal device cannot be wiped by the organisation/);
  });

  run('"What your organisation can see" lists every inventory node collected and what cannot be done', async () => {
    const { cookie } = await signIn('alice@contoso.com');
    const res = await portal('GET', `/devices/${toWipe.device.deviceId}/transparency`, { cookie });
    expect(res.status, res.text).toBe(200);
    expect(res.json.collected.map((c: { locUri: string }) => c.locUri)).toEqual(INVENTORY_NODES.map((n) => n.locUri));
    const wipe = res.json.organisationActions.find((a: { action: string }) => a.action === 'wipe');
    expect(wipe).toMatchObject({ verdict: 'cannot', reason: expect.stringMatching(/personal device/) });
    expect(res.json.neverCollected).toContain('Your browsing history');
    const corporate = await portal('GET', '/transparency?ownership=corporate');
    expect(corporate.json.organisationActions.find((a: { action: string }) => a.action === 'wipe').verdict).toBe('can');
  });

  run('enroll this device: the ms-device-enrollment link, a QR code, and Windows from client hints', async () => {
    const { cookie } = await signIn('alice@contoso.com');
    const res = await portal('GET', '/enroll', {
      cookie,
      headers: { 'sec-ch-ua-platform': '"Windows"', 'sec-ch-ua-platform-version': '"15.0.0"' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['accept-ch']).toMatch(/Sec-CH-UA-Platform-Version/);
    expect(res.json.link).toBe('ms-device-enrollment:?mode=mdm&username=alice%40contoso.com&servername=localhost');
    expect(res.json.qrSvg).toMatch(/^<svg/);
    expect(res.json.thisDevice).toEqual({ windows: true, platformVersion: '15.0.0', release: 'Windows 11' });
    const win10 = await portal('GET', '/enroll', {
      cookie,
      headers: { 'sec-ch-ua-platform': '"Windows"', 'sec-ch-ua-platform-version': '"10.0.0"' },
    });
    expect(win10.json.thisDevice.release).toBe('Windows 10');
    expect((await portal('GET', '/enroll', { cookie })).json.thisDevice).toBeNull();
  });
});
