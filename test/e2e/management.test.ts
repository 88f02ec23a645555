/**
 * The management channel end to end over mTLS, as an enrolled Windows PC lives it: profiles reaching
 * devices and following edits, user settings waiting for a signed-in user, remote actions, unenrollment,
 * and refusals of certificates that are not an active enrollment's. On SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { ManagementAdmin } from '../../src/core/management/admin.js';
import { PROVIDER_ID } from '../../src/core/enrollment/enrollment-service.js';
import { systemClock } from '../../src/shared/clock.js';
import { enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const PW = 'correct horse battery';
const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const BLUETOOTH = './Device/Vendor/MSFT/Policy/Config/Connectivity/AllowBluetooth';
const WALLPAPER = './User/Vendor/MSFT/Personalization/DesktopImageUrl';

describe.each(ENGINES)('management over mTLS (%s)', (engine) => {
  let t: TestServer | undefined;
  let admin: ManagementAdmin;
  const run = itOn(engine);
  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    for (const u of ['alice', 'bob', 'carol']) await t.addUser(`${u}@contoso.com`, PW);
    admin = new ManagementAdmin({ storage: t.server.storage, clock: systemClock, providerId: PROVIDER_ID });
    await admin.addGroup('engineering');
    await admin.addGroupMember('engineering', 'alice@contoso.com');
    await admin.addGroupMember('engineering', 'bob@contoso.com');
  });
  afterAll(async () => {
    await t?.stop();
  });
  const srv = () => t as TestServer;

  run('first contact: inventory is read into the device record, then the session ends', async () => {
    const pc = await enrollPc(srv(), 'carol@contoso.com', PW);
    const first = await pc.checkIn();
    expect(first.headerStatus).toBe(200);
    expect(pc.state.received.filter((r) => r.startsWith('Get'))).toContain('Get ./DevDetail/SwV');
    const d = await admin.device(pc.device.deviceId);
    expect(d.inventory).toMatchObject({
      osVersion: pc.device.osVersion,
      serialNumber: `SN-${pc.device.deviceId.slice(0, 10)}`,
      manufacturer: 'Contoso Hardware',
      totalStorageMb: 512000,
    });
    expect(d.lastCheckInAt).not.toBeNull();
    // Nothing new to say: the next session is one message with no commands.
    const second = await pc.checkIn();
    expect(second).toMatchObject({ messages: 1, commandsReceived: 0 });
  });

  run('a profile assigned to a group reaches every member device; an edit sends only the change; removal sends Delete', async () => {
    const alice = await enrollPc(srv(), 'alice@contoso.com', PW);
    const bob = await enrollPc(srv(), 'bob@contoso.com', PW);
    const carol = await enrollPc(srv(), 'carol@contoso.com', PW);
    for (const pc of [alice, bob, carol]) await pc.checkIn();

    await admin.saveProfile({
      name: 'Lockdown',
      scope: 'device',
      settings: [
        { path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' },
        { path: 'Vendor/MSFT/Policy/Config/Connectivity/AllowBluetooth', format: 'int', value: '0' },
      ],
    });
    expect(await admin.assignProfile('Lockdown', { group: 'engineering' })).toBeGreaterThanOrEqual(4);
    for (const pc of [alice, bob, carol]) await pc.checkIn();
    for (const pc of [alice, bob]) {
      expect(pc.state.get(CAMERA)).toBe('0');
      expect(pc.state.get(BLUETOOTH)).toBe('0');
    }
    expect(carol.state.get(CAMERA)).toBeUndefined();

    // Edit one value: only that setting travels, as a Replace.
    await admin.saveProfile({
      name: 'Lockdown',
      scope: 'device',
      settings: [
        { path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '1' },
        { path: 'Vendor/MSFT/Policy/Config/Connectivity/AllowBluetooth', format: 'int', value: '0' },
      ],
    });
    const before = alice.state.received.length;
    await alice.checkIn();
    expect(alice.state.received.slice(before)).toEqual([`Replace ${CAMERA}`]);
    expect(alice.state.get(CAMERA)).toBe('1');

    // Unassign: both settings are deleted from the device.
    await admin.unassignProfile('Lockdown', { group: 'engineering' });
    const mark = bob.state.received.length;
    await bob.checkIn();
    expect(bob.state.received.slice(mark).sort()).toEqual([`Delete ${CAMERA}`, `Delete ${BLUETOOTH}`]);
    expect(bob.state.get(CAMERA)).toBeUndefined();
  });

  run('an Add for a node that exists (418) becomes a Replace', async () => {
    const pc = await enrollPc(srv(), 'carol@contoso.com', PW);
    await pc.checkIn();
    pc.state.nodes.set(CAMERA.toLowerCase(), '1');
    await admin.saveProfile({
      name: 'Camera off',
      scope: 'device',
      settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }],
    });
    await admin.assignProfile('Camera off', { device: pc.device.deviceId });
    await pc.checkIn();
    expect(pc.state.received.filter((r) => r.endsWith('AllowCamera'))).toEqual([`Add ${CAMERA}`, `Replace ${CAMERA}`]);
    expect(pc.state.get(CAMERA)).toBe('0');
  });

  run('a user-scoped setting waits for the user to sign in', async () => {
    const pc = await enrollPc(srv(), 'alice@contoso.com', PW);
    await admin.saveProfile({
      name: 'Wallpaper',
      scope: 'user',
      settings: [{ path: 'Vendor/MSFT/Personalization/DesktopImageUrl', format: 'chr', value: 'https://intranet/wall.jpg' }],
    });
    await admin.assignProfile('Wallpaper', { group: 'engineering' });
    await pc.checkIn({ loginStatus: 'none' });
    expect(pc.state.get(WALLPAPER)).toBeUndefined();
    await pc.checkIn({ loginStatus: 'user' });
    expect(pc.state.get(WALLPAPER)).toBe('https://intranet/wall.jpg');
    await admin.unassignProfile('Wallpaper', { group: 'engineering' });
  });

  run('each remote action reaches the device and shows acknowledged', async () => {
    const pc = await enrollPc(srv(), 'carol@contoso.com', PW, 'Device');
    await pc.checkIn();
    const id = pc.device.deviceId;
    const sync = await admin.queueAction(id, { kind: 'sync' });
    const restart = await admin.queueAction(id, { kind: 'restart' });
    const rename = await admin.queueAction(id, { kind: 'rename', name: 'LAB-042' });
    const wipe = await admin.queueAction(id, { kind: 'wipe', keepEnrollment: true });
    expect((await admin.device(id)).commands.find((c) => c.id === restart.id)?.state).toBe('pending');
    await pc.checkIn();
    expect(pc.state.reboots).toBe(1);
    expect(pc.state.computerName).toBe('LAB-042');
    expect(pc.state.wipes).toEqual(['doWipePersistProvisionedData']);
    const after = (await admin.device(id)).commands;
    for (const a of [sync, restart, rename, wipe])
      expect(after.find((c) => c.id === a.id)).toMatchObject({ state: 'acknowledged', status: 200 });
  });

  run('rename is refused for personal devices, with the reason', async () => {
    const pc = await enrollPc(srv(), 'carol@contoso.com', PW, 'Full');
    await expect(admin.queueAction(pc.device.deviceId, { kind: 'rename', name: 'X1' })).rejects.toThrow(/corporate/);
    const corp = await enrollPc(srv(), 'carol@contoso.com', PW, 'Device');
    await expect(admin.queueAction(corp.device.deviceId, { kind: 'rename', name: 'bad name!' })).rejects.toThrow(
      /letters, digits and hyphens/,
    );
  });

  run('retire tells the device to unenroll; afterwards its certificate gets no commands', async () => {
    const pc = await enrollPc(srv(), 'carol@contoso.com', PW);
    await pc.checkIn();
    const retire = await admin.queueAction(pc.device.deviceId, { kind: 'retire' });
    expect((await admin.device(pc.device.deviceId)).retiredAt).not.toBeNull();
    await pc.checkIn();
    expect(pc.state.unenrolled).toBe(true);
    const d = await admin.device(pc.device.deviceId);
    expect(d.device.status).toBe('unenrolled');
    expect(d.commands.find((c) => c.id === retire.id)?.state).toBe('acknowledged');
    expect((await pc.checkIn()).headerStatus).toBe(403);
  });

  run('delete retires the device and then removes its record', async () => {
    const pc = await enrollPc(srv(), 'carol@contoso.com', PW);
    await pc.checkIn();
    await admin.queueAction(pc.device.deviceId, { kind: 'delete' });
    await pc.checkIn();
    expect(pc.state.unenrolled).toBe(true);
    await expect(admin.device(pc.device.deviceId)).rejects.toThrow(/no enrolled device/);
  });

  run('the user pressing Disconnect (Alert 1226) unenrolls the device and revokes its certificate', async () => {
    const pc = await enrollPc(srv(), 'carol@contoso.com', PW);
    await pc.checkIn();
    await admin.queueAction(pc.device.deviceId, { kind: 'restart' });
    const bye = await pc.checkIn({ unenroll: true });
    expect(bye).toMatchObject({ messages: 1, commandsReceived: 0 });
    const d = await admin.device(pc.device.deviceId);
    expect(d.device.status).toBe('unenrolled');
    expect(d.enrollment.revokedAt).not.toBeNull();
    expect((await pc.checkIn()).headerStatus).toBe(403);
    expect(pc.state.reboots).toBe(0);
  });
});
