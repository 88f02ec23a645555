/**
 * One record per physical device (S16), through the real endpoints: directory joins with real Entra tokens
 * (signed by the loopback JWKS stand-in), manual enrollments, management sessions whose inventory reports
 * the BIOS serial. A re-join, a reset and a manual enrollment after a join keep one record with the whole
 * history; two clones of one image (same hardware id, different serials, both checking in) stay two.
 */
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { EntraTenants } from '../../src/core/entra/tenants.js';
import { systemClock } from '../../src/shared/clock.js';
import { type SimulatedDevice, generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { enroll } from '../../src/simulator/enroll.js';
import { createAgent } from '../../src/simulator/https-client.js';
import { DeviceSideState, checkIn } from '../../src/simulator/manage.js';
import { apiClient } from '../support/api-client.js';
import { type EntraStandIn, startEntraStandIn } from '../support/entra-stand-in.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/winroll.js');
const exec = promisify(execFile);
const KEY = generateDeviceKey();
const TID = '5b1f0c1e-7d2a-4c3b-9e8f-0a1b2c3d4e5f';
const CLIENT_ID = '6c2e1d2f-8e3b-4d4c-8f90-1b2c3d4e5f60';
const PW = 'correct horse battery staple';
const SERIAL_NODE = './devdetail/ext/microsoft/smbiosserialnumber';
const hex = (n: number) => randomUUID().replaceAll('-', '').repeat(2).slice(0, n).toUpperCase();

describe.each(ENGINES)('one record per physical device (%s)', (engine) => {
  let t: TestServer | undefined;
  let entra: EntraStandIn;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const s = () => srv().server.storage;
  const { call, signIn } = apiClient(srv);
  let auditor: { cookie?: string; csrf?: string } = {};

  /** A PC that enrolled (join with a directory token, or manually with a password) and can check in. */
  const enrollPc = async (
    how: 'join' | 'manual',
    upn: string,
    device: Partial<SimulatedDevice> & { serial: string; entraDeviceId?: string },
  ) => {
    const d = newSimulatedDevice({ ...KEY, ...device });
    const token =
      how === 'join'
        ? await entra.mint(upn, { tid: TID, aud: srv().base, extra: { deviceid: device.entraDeviceId ?? randomUUID() } })
        : undefined;
    const enrolled = await enroll({
      server: srv().base,
      upn,
      password: how === 'join' ? '' : PW,
      enrollmentType: how === 'join' ? 'Device' : 'Full',
      device: d,
      agent: srv().agent,
      ...(token ? { directoryToken: token } : {}),
    });
    const agent = createAgent({
      ca: srv().server.tlsRootCaPem,
      cert: enrolled.certificate.toString(),
      key: d.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    });
    const state = new DeviceSideState(d);
    // What the firmware reports as DevDetail/Ext/Microsoft/SMBIOSSerialNumber.
    state.nodes.set(SERIAL_NODE, device.serial);
    let session = 0;
    return {
      device: d,
      checkIn: () => checkIn({ managementUrl: srv().server.urls.management, state, agent, sessionId: String(++session) }),
    };
  };
  /** Devices in the list that are this machine (by serial, or by any DeviceID it had). */
  const recordsOf = async (serial: string, deviceIds: string[]) =>
    (await s().listDevices()).filter((d) => d.serialNumber === serial || deviceIds.includes(d.deviceId));

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    entra = await startEntraStandIn();
    await t.addDomain('contoso.com');
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'auditor']) await t.addUser(`${u}@contoso.com`, PW);
    await new EntraTenants({ store: s(), clock: systemClock }).connect({ tenantId: TID, clientId: CLIENT_ID, jwksUrl: entra.jwksUrl });
    await new AdminAccounts({ storage: s(), directory: t.directory, clock: systemClock }).add(
      CLI_CONTEXT,
      'auditor@contoso.com',
      'readonly',
    );
    const signedIn = await signIn('auditor@contoso.com', PW);
    auditor = { cookie: signedIn.cookie, csrf: signedIn.csrf };
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await entra?.close();
  });

  run('a joined device that re-joins under a new DeviceID keeps one record with both enrollments', async () => {
    const hw = hex(64);
    const entraId = randomUUID();
    const serial = `SN-REJOIN-${hex(6)}`;
    const first = await enrollPc('join', 'alice@contoso.com', { hwDevId: hw, entraDeviceId: entraId, serial });
    expect((await first.checkIn()).headerStatus).toBe(200);
    const again = await enrollPc('join', 'alice@contoso.com', { hwDevId: hw, entraDeviceId: entraId, serial });
    expect(again.device.deviceId).not.toBe(first.device.deviceId);

    // One record at once (the Entra device id matched), carrying the new DeviceID.
    const records = await recordsOf(serial, [first.device.deviceId, again.device.deviceId]);
    expect(records.map((r) => r.deviceId)).toEqual([again.device.deviceId]);
    const history = await s().deviceHistory(again.device.deviceId);
    expect(history?.deviceIds).toEqual([first.device.deviceId, again.device.deviceId]);
    expect(history?.enrollments.map((e) => [e.deviceId, e.method, e.status, e.entraDeviceId])).toEqual([
      [first.device.deviceId, 'join', 'superseded', entraId],
      [again.device.deviceId, 'join', 'active', entraId],
    ]);
    // The old DeviceID still finds the machine; its certificate no longer opens sessions.
    expect((await s().deviceHistory(first.device.deviceId))?.device.id).toBe(history?.device.id);
    expect((await first.checkIn()).headerStatus).toBe(403);
    expect((await again.checkIn()).headerStatus).toBe(200);

    // The API device resource shows the history (read-only admins may read it).
    const res = await call('GET', `/devices/${first.device.deviceId}/history`, auditor);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      deviceId: again.device.deviceId,
      serialNumber: serial,
      deviceIds: [first.device.deviceId, again.device.deviceId],
      enrollments: [
        { deviceId: first.device.deviceId, how: 'join', status: 'superseded' },
        { deviceId: again.device.deviceId, how: 'join', status: 'active' },
      ],
    });
  });

  run('a reset device (new DeviceID, same hardware id, same serial) becomes one record once inventory arrives', async () => {
    const hw = hex(64);
    const serial = `SN-RESET-${hex(6)}`;
    const before = await enrollPc('join', 'bob@contoso.com', { hwDevId: hw, serial });
    expect((await before.checkIn()).headerStatus).toBe(200);
    // After a reset Windows has a new DeviceID and, re-joined, a new Entra device object.
    const after = await enrollPc('join', 'bob@contoso.com', { hwDevId: hw, serial });
    const ids = [before.device.deviceId, after.device.deviceId];
    // A hardware id alone does not merge (it could be a cloned image): flagged until the serial is known.
    const pending = await recordsOf(serial, ids);
    expect(pending).toHaveLength(2);
    expect((await s().getDevice(after.device.deviceId))?.warnings.map((w) => w.kind)).toEqual(['shared_hwdevid']);

    expect((await after.checkIn()).headerStatus).toBe(200);
    const records = await recordsOf(serial, ids);
    expect(records.map((r) => r.deviceId)).toEqual([after.device.deviceId]);
    const [record] = records;
    expect(record?.warnings).toEqual([]);
    const history = await s().deviceHistory(after.device.deviceId);
    expect(history?.deviceIds).toEqual(ids);
    expect(history?.enrollments.map((e) => [e.deviceId, e.status])).toEqual([
      [before.device.deviceId, 'superseded'],
      [after.device.deviceId, 'active'],
    ]);
    expect(history?.merges).toEqual([
      expect.objectContaining({ mergedDeviceId: before.device.deviceId, reason: expect.stringContaining(serial) }),
    ]);
    expect(history?.device.firstEnrolledAt.getTime()).toBeLessThan(history?.enrollments[1]?.createdAt.getTime() ?? 0);
    // The session in progress went on, and the next one too.
    expect((await after.checkIn()).headerStatus).toBe(200);

    // `winroll devices show` prints the history.
    const data = ['--data-dir', srv().dataDir, ...(srv().databaseUrl ? ['--database-url', srv().databaseUrl as string] : [])];
    const shown = await exec(process.execPath, [BIN, 'devices', 'show', after.device.deviceId, ...data], { timeout: 60_000 });
    expect(shown.stdout).toContain(`DeviceIDs ${before.device.deviceId} → ${after.device.deviceId}`);
    expect(shown.stdout).toMatch(new RegExp(`MERGED\\s+${before.device.deviceId}.*same serial number ${serial}`));
    expect(shown.stdout).toMatch(/directory join/);
    const asJson = JSON.parse((await exec(process.execPath, [BIN, 'devices', 'show', after.device.deviceId, '--json', ...data])).stdout);
    expect(asJson.history.deviceIds).toEqual(ids);
  });

  run('a manual enrollment of a device known from a join lands on the same record', async () => {
    const hw = hex(64);
    const serial = `SN-MANUAL-${hex(6)}`;
    const joined = await enrollPc('join', 'carol@contoso.com', { hwDevId: hw, serial });
    expect((await joined.checkIn()).headerStatus).toBe(200);
    // Same Windows installation, same enrollment-client DeviceID: the same record at once.
    const manual = await enrollPc('manual', 'carol@contoso.com', { deviceId: joined.device.deviceId, hwDevId: hw, serial });
    expect((await manual.checkIn()).headerStatus).toBe(200);
    const records = await recordsOf(serial, [joined.device.deviceId]);
    expect(records).toHaveLength(1);
    const history = await s().deviceHistory(joined.device.deviceId);
    expect(history?.enrollments.map((e) => [e.method, e.status])).toEqual([
      ['join', 'superseded'],
      ['manual', 'active'],
    ]);

    // Under another DeviceID (another enrollment client): one record once inventory shows the serial.
    const other = await enrollPc('manual', 'carol@contoso.com', { hwDevId: hw, serial });
    expect((await other.checkIn()).headerStatus).toBe(200);
    const after = await recordsOf(serial, [joined.device.deviceId, other.device.deviceId]);
    expect(after.map((r) => r.deviceId)).toEqual([other.device.deviceId]);
    expect((await s().deviceHistory(other.device.deviceId))?.enrollments.map((e) => e.method)).toEqual(['join', 'manual', 'manual']);
  });

  run('two machines cloned from one image (same hardware id, different serials, both checking in) stay two', async () => {
    const hw = hex(64);
    const a = await enrollPc('join', 'dave@contoso.com', { hwDevId: hw, serial: `SN-CLONE-A-${hex(4)}` });
    expect((await a.checkIn()).headerStatus).toBe(200);
    const b = await enrollPc('join', 'erin@contoso.com', { hwDevId: hw, serial: `SN-CLONE-B-${hex(4)}` });
    for (const pc of [b, a, b]) expect((await pc.checkIn()).headerStatus).toBe(200);
    const both = (await s().listDevices()).filter((d) => d.hwDevId === hw);
    expect(both.map((d) => d.deviceId).sort()).toEqual([a.device.deviceId, b.device.deviceId].sort());
    for (const d of both) {
      expect(d.warnings).toEqual([
        expect.objectContaining({ kind: 'shared_hwdevid', detail: expect.stringMatching(/cloned Windows image/) }),
      ]);
    }
    expect((await s().deviceHistory(b.device.deviceId))?.merges).toEqual([]);
  });

  run('the device list never shows two live records for one machine', async () => {
    const live = (await s().listDevices()).filter((d) => d.status === 'enrolled' && d.serialNumber !== null);
    const serials = live.map((d) => d.serialNumber);
    expect(live.length).toBeGreaterThanOrEqual(5);
    expect(new Set(serials).size).toBe(serials.length);
    const res = await call('GET', '/devices?limit=200', auditor);
    expect(res.status).toBe(200);
    const listed = (res.json as { items: Array<{ deviceId: string }> }).items.map((d) => d.deviceId);
    expect(new Set(listed).size).toBe(listed.length);
    for (const d of live) expect(listed).toContain(d.deviceId);
  });
});
