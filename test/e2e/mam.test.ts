/**
 * App protection without MDM (MAM) through the real endpoints: a connected Entra tenant, tokens minted
 * here with a key pair whose JWKS the tenant holds, and the MDM/MAM user scopes. A work-account (Full)
 * token is tried at both the MDM enrollment endpoint and the MAM registration endpoint for each scope
 * cell; a MAM registration then syncs over one-way TLS with the bearer token and gets only the CSPs a MAM
 * registration allows (the WIP profile), the rest shown as not applicable.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { MAM_PATHS } from '../../src/core/enrollment/mam-registration.js';
import { ManagementAdmin } from '../../src/core/management/admin.js';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { enroll } from '../../src/simulator/enroll.js';
import { DeviceSideState } from '../../src/simulator/manage.js';
import { mamSync, registerForAppProtection } from '../../src/simulator/mam.js';
import { apiClient } from '../support/api-client.js';
import { type TenantKey, enrollmentFailure, mintEntraToken, newTenantKey, saveTenant, setUserScopes } from '../support/entra.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const KEY = generateDeviceKey();
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '0000000a-0000-0000-c000-000000000000';

const cells = {
  'MDM only': { upn: 'mdmonly@contoso.com', groups: ['mdm'] },
  'MAM only': { upn: 'mamonly@contoso.com', groups: ['mam'] },
  both: { upn: 'both@contoso.com', groups: ['mdm', 'mam'] },
  neither: { upn: 'neither@contoso.com', groups: [] as string[] },
} as const;
const oids = new Map<string, string>();

const WIP = {
  name: 'Contoso WIP',
  type: 'wip',
  wip: {
    enterpriseId: 'contoso.com',
    enforcement: 'override',
    protectedDomains: ['contoso.net'],
    ipRanges: ['10.0.0.0-10.255.255.255'],
    cloudResources: ['contoso.sharepoint.com'],
    allowedApps: [
      {
        kind: 'store',
        publisher: 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US',
        product: 'Microsoft.Office.OneNote',
      },
    ],
    revokeOnUnenroll: true,
  },
};
const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';

describe.each(ENGINES)('app protection (MAM) registration and WIP (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  let tenantKey: TenantKey;
  const api = apiClient(srv);
  let admin: { cookie?: string | undefined; csrf?: string | undefined };

  const mint = (upn: string, o: { expSeconds?: number } = {}) => {
    let oid = oids.get(upn);
    if (!oid) {
      oid = randomUUID();
      oids.set(upn, oid);
    }
    return mintEntraToken(upn, {
      tid: TID,
      aud: srv().base,
      key: tenantKey.privateKey,
      oid,
      expSeconds: o.expSeconds,
      extra: { scp: 'mdm_delegation' },
    });
  };
  const mamUrl = () => srv().base + MAM_PATHS.enrollment;
  const mdmEnroll = async (upn: string, type: 'Full' | 'Device' = 'Full') => {
    const device = newSimulatedDevice(KEY);
    return enroll({
      server: srv().base,
      upn,
      password: '',
      directoryToken: await mint(upn),
      device,
      agent: srv().agent,
      enrollmentType: type,
    });
  };
  const mamRegister = async (upn: string, device = newSimulatedDevice(KEY), token?: string) => ({
    device,
    registered: await registerForAppProtection({
      enrollmentUrl: mamUrl(),
      directoryToken: token ?? (await mint(upn)),
      device,
      agent: srv().agent,
    }),
  });
  const lastAttempt = async (deviceId: string) => (await srv().server.storage.listEnrollmentAttempts({ limit: 1, deviceId }))[0];

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com', 'Federated');
    const s = t.server.storage;
    const groups: Record<string, string> = {};
    for (const g of ['mdm', 'mam']) groups[g] = (await s.addGroup({ name: g, now: new Date() })).id;
    for (const cell of Object.values(cells)) {
      await t.addUser(cell.upn, 'unused password 123');
      const user = await s.getUserByUpn(cell.upn);
      for (const g of cell.groups) await s.addGroupMember(groups[g] as string, user?.id as string);
    }
    await setUserScopes(t, { mdm: [groups.mdm as string], mam: [groups.mam as string] });
    tenantKey = await newTenantKey();
    await saveTenant(t, TID, CLIENT_ID, tenantKey);
    // An administrator for the API, and the profiles: WIP plus a setting Windows blocks on MAM.
    await t.addUser('admin@contoso.com', 'admin password 123');
    const adminUser = await s.getUserByUpn('admin@contoso.com');
    await s.setAdminRole({ userId: adminUser?.id as string, role: 'administrator', now: new Date() });
    admin = await api.signIn('admin@contoso.com', 'admin password 123');
    const saved = await api.call('PUT', `/profiles/${encodeURIComponent(WIP.name)}`, { ...admin, body: { type: 'wip', wip: WIP.wip } });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.json).toMatchObject({ type: 'wip', scope: 'device', wip: { enterpriseId: 'contoso.com', enforcement: 'override' } });
    const camera = await api.call('PUT', '/profiles/Camera', {
      ...admin,
      body: { scope: 'device', settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }] },
    });
    expect(camera.status, camera.text).toBe(200);
    for (const name of [WIP.name, 'Camera']) {
      const r = await api.call('POST', `/profiles/${encodeURIComponent(name)}/assignments`, { ...admin, body: { group: 'mam' } });
      expect(r.status, r.text).toBe(200);
    }
  });
  afterAll(async () => {
    await t?.stop();
  });

  run('MDM only: MDM enrollment succeeds, MAM registration is refused with its own fault', async () => {
    const upn = cells['MDM only'].upn;
    expect((await mdmEnroll(upn)).store).toBe('User');
    const device = newSimulatedDevice(KEY);
    const err = await enrollmentFailure(mamRegister(upn, device));
    expect(err.step).toBe('enroll');
    expect(err.faultErrorType).toBe('NotSupported');
    expect(err.hresult).toBe(0x80180015);
    expect(err.message).toMatch(/device management \(MDM\), not app protection/);
    const logged = await lastAttempt(device.deviceId);
    expect(logged).toMatchObject({ outcome: 'refused', method: 'automatic', upn });
    expect(logged?.reasons.join('\n')).toMatch(/MAM registration \(app protection\) refused: the decision is MDM, not MAM/);
    expect(await srv().server.storage.getDevice(device.deviceId)).toBeUndefined();
  });

  run('MAM only: MDM enrollment is refused, MAM registration succeeds without a certificate', async () => {
    const upn = cells['MAM only'].upn;
    const mdm = await enrollmentFailure(mdmEnroll(upn));
    expect(mdm.faultErrorType).toBe('NotSupported');
    expect(mdm.message).toMatch(/app protection \(MAM\) instead of device management/);
    const { device, registered } = await mamRegister(upn);
    expect(registered.syncUrl).toBe(`${srv().base}${MAM_PATHS.sync}`);
    expect(registered.w7).toMatchObject({ APPID: 'w7', 'PROVIDER-ID': 'Winroll', DEFAULTENCODING: 'application/vnd.syncml.dm+xml' });
    const logged = await lastAttempt(device.deviceId);
    expect(logged).toMatchObject({ outcome: 'mam', ownership: 'personal', upn, enrollmentType: 'Full' });
    expect(logged?.reasons.join('\n')).toMatch(
      /in the MAM scope only[\s\S]*MAM registration \(app protection\): registered without a certificate/,
    );
  });

  run('both scopes, work account: MDM refused, MAM succeeds, and the attempts log says MAM with the precedence reason', async () => {
    const upn = cells.both.upn;
    const device = newSimulatedDevice(KEY);
    const mdm = await enrollmentFailure(
      enroll({
        server: srv().base,
        upn,
        password: '',
        directoryToken: await mint(upn),
        device,
        agent: srv().agent,
        enrollmentType: 'Full',
      }),
    );
    expect(mdm.hresult).toBe(0x80180015);
    const mdmLogged = await lastAttempt(device.deviceId);
    expect(mdmLogged).toMatchObject({ outcome: 'mam', errorType: 'NotSupported' });
    expect(mdmLogged?.reasons.join('\n')).toMatch(/MAM takes precedence/);
    // The same PC then registers for app protection: one record, in MAM mode.
    await mamRegister(upn, device);
    const logged = await lastAttempt(device.deviceId);
    expect(logged).toMatchObject({ outcome: 'mam', method: 'automatic', ownership: 'personal' });
    expect(logged?.reasons.join('\n')).toMatch(/in both scopes on a personal device: MAM takes precedence/);
    expect(logged?.reasons.join('\n')).toMatch(/MAM registration/);
  });

  run('neither scope: both endpoints refuse, with the same fault', async () => {
    const upn = cells.neither.upn;
    const mdm = await enrollmentFailure(mdmEnroll(upn));
    const device = newSimulatedDevice(KEY);
    const mam = await enrollmentFailure(mamRegister(upn, device));
    for (const err of [mdm, mam]) {
      expect(err.faultSubcode).toMatch(/(^|:)Authorization$/);
      expect(err.faultErrorType).toBeUndefined();
      expect(err.hresult).toBe(0x80180003);
    }
    expect(mam.message).toBe(mdm.message);
    expect((await lastAttempt(device.deviceId))?.reasons.join('\n')).toMatch(
      /neither the MDM nor the MAM user scope[\s\S]*MAM registration/,
    );
  });

  run('join (Device) with both scopes: MDM wins and enrolls', async () => {
    const r = await mdmEnroll(cells.both.upn, 'Device');
    expect(r.store).toBe('System');
  });

  run('a MAM session with the bearer token gets the WIP nodes and never a blocked CSP, which shows as not applicable', async () => {
    const upn = cells['MAM only'].upn;
    const { device, registered } = await mamRegister(upn);
    const state = new DeviceSideState(device);
    const token = await mint(upn);
    const first = await mamSync({ syncUrl: registered.syncUrl, state, agent: srv().agent, bearerToken: token, sessionId: '1' });
    expect(first.headerStatus).toBe(200);
    const edp = './Device/Vendor/MSFT/EnterpriseDataProtection/Settings';
    expect(state.get(`${edp}/EDPEnforcementLevel`)).toBe('2');
    expect(state.get(`${edp}/EnterpriseProtectedDomainNames`)).toBe('contoso.com|contoso.net');
    expect(state.get(`${edp}/RevokeOnUnenroll`)).toBe('1');
    expect(state.get('./Device/Vendor/MSFT/Policy/Config/NetworkIsolation/EnterpriseIPRange')).toBe('10.0.0.0-10.255.255.255');
    expect(state.get('./Device/Vendor/MSFT/Policy/Config/NetworkIsolation/EnterpriseCloudResources')).toBe('contoso.sharepoint.com');
    const storeApps = [...state.nodes.entries()].find(([k]) => /applocker\/enterprisedataprotection\/[^/]+\/storeapps\/policy$/.test(k));
    expect(storeApps?.[1]).toMatch(/<RuleCollection Type="Appx" EnforcementMode="Enabled">.*ProductName="Microsoft.Office.OneNote"/);
    // Only allowed CSPs ever arrive: no Camera policy, no DevDetail inventory.
    expect(state.get(CAMERA)).toBeUndefined();
    expect(state.received.some((r) => /Camera|DevDetail|HWDevID/i.test(r))).toBe(false);
    expect(state.received).toContain('Get ./DevInfo/Man');

    // A second session sends nothing again.
    const again = await mamSync({ syncUrl: registered.syncUrl, state, agent: srv().agent, bearerToken: token, sessionId: '2' });
    expect(again.commandsReceived).toBe(0);

    // The admin sees why the Camera setting never arrives (core and API).
    const details = await new ManagementAdmin({
      storage: srv().server.storage,
      clock: { now: () => new Date() },
      providerId: 'Winroll',
    }).device(device.deviceId);
    expect(details.notApplicable).toEqual([
      { profile: 'Camera', locUri: CAMERA, reason: expect.stringMatching(/not applicable to app-protection \(MAM\) registrations/) },
    ]);
    const shown = await api.call('GET', `/devices/${device.deviceId}`, admin);
    expect(shown.status, shown.text).toBe(200);
    expect(shown.json).toMatchObject({
      managementMode: 'mam',
      certThumbprint: null,
      notApplicable: [{ profile: 'Camera', locUri: CAMERA }],
    });
    const camera = (shown.json.commands as Array<{ locUri?: string; item?: { locUri: string }; state: string }>).filter((c) =>
      JSON.stringify(c).includes('Camera/AllowCamera'),
    );
    for (const c of camera) expect(c.state).toBe('canceled');
  });

  run('a MAM session without a token, with an expired one or another user’s gets the SyncML refusal', async () => {
    const upn = cells['MAM only'].upn;
    const { device, registered } = await mamRegister(upn);
    const sync = (bearerToken: string | undefined) =>
      mamSync({ syncUrl: registered.syncUrl, state: new DeviceSideState(device), agent: srv().agent, bearerToken });
    const none = await sync(undefined);
    expect(none).toMatchObject({ headerStatus: 401, commandsReceived: 0, messages: 1 });
    const expired = await sync(await mint(upn, { expSeconds: -400 }));
    expect(expired).toMatchObject({ headerStatus: 401, commandsReceived: 0 });
    const other = await sync(await mint(cells.both.upn));
    expect(other).toMatchObject({ headerStatus: 403, commandsReceived: 0 });
    // An MDM device's DeviceID is not a MAM registration either.
    const logs = srv().logs.join('\n');
    expect(logs).toMatch(/MAM policy sync message/);
    expect(logs).not.toContain((await mint(upn)).split('.')[2] as string);
  });

  run('a MAM-registered device appears once in the device list, with mode MAM', async () => {
    const upn = cells['MAM only'].upn;
    const device = newSimulatedDevice(KEY);
    await mamRegister(upn, device);
    await mamRegister(upn, device);
    const listed = (await srv().server.storage.listDevices()).filter((d) => d.deviceId === device.deviceId);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ managementMode: 'mam', status: 'enrolled', upn, certThumbprint: null });
    expect(await srv().server.storage.listMamRegistrations(device.deviceId)).toMatchObject([
      { status: 'superseded' },
      { status: 'active' },
    ]);
    const page = await api.call('GET', `/devices?upn=${encodeURIComponent(upn)}&limit=200`, admin);
    expect(page.status, page.text).toBe(200);
    expect((page.json.items as Array<{ deviceId: string; managementMode: string }>).filter((d) => d.deviceId === device.deviceId)).toEqual([
      expect.objectContaining({ managementMode: 'mam' }),
    ]);
  });

  run('WIP profiles are refused with the field named when a field is wrong', async () => {
    const bad = await api.call('PUT', '/profiles/Bad%20WIP', {
      ...admin,
      body: { type: 'wip', wip: { enterpriseId: 'contoso.com', enforcement: 'block' } },
    });
    expect(bad.status, bad.text).toBe(422);
    expect(bad.json.detail).toMatch(/wip\.allowedApps/);
    const range = await api.call('PUT', '/profiles/Bad%20WIP', {
      ...admin,
      body: { type: 'wip', wip: { enterpriseId: 'contoso.com', enforcement: 'off', ipRanges: ['10.0.0.0'] } },
    });
    expect(range.status, range.text).toBe(422);
    expect(range.json.detail).toMatch(/wip\.ipRanges\[0\]/);
  });
});
