/**
 * Profiles assigned to a group reach the devices of members of groups nested in it, over mTLS with the
 * simulator: the fan-out at assignment time queues them, a nesting made after the assignment is picked
 * up at the next session, and unnesting removes the settings again. On SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { PROVIDER_ID } from '../../src/core/enrollment/enrollment-service.js';
import { ManagementAdmin } from '../../src/core/management/admin.js';
import { systemClock } from '../../src/shared/clock.js';
import { enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const PW = 'correct horse battery';
const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const BLUETOOTH = './Device/Vendor/MSFT/Policy/Config/Connectivity/AllowBluetooth';

describe.each(ENGINES)('profiles through nested groups (%s)', (engine) => {
  let t: TestServer | undefined;
  let admin: ManagementAdmin;
  const run = itOn(engine);
  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    for (const u of ['dana', 'erin', 'frank']) await t.addUser(`${u}@contoso.com`, PW);
    admin = new ManagementAdmin({ storage: t.server.storage, clock: systemClock, providerId: PROVIDER_ID });
  });
  afterAll(async () => {
    await t?.stop();
  });
  const srv = () => t as TestServer;
  const groupId = async (name: string) => {
    const g = await srv().server.storage.getGroupByName(name);
    if (!g) throw new Error(`no group ${name}`);
    return g.id;
  };

  run('a profile assigned to a parent group reaches the device of a member of a nested group', async () => {
    const storage = srv().server.storage;
    // all-staff ∋ engineering ∋ platform ∋ dana (three levels); frank is in no group.
    for (const g of ['all-staff', 'engineering', 'platform']) await admin.addGroup(g);
    await storage.addGroupToGroup(await groupId('all-staff'), await groupId('engineering'));
    await storage.addGroupToGroup(await groupId('engineering'), await groupId('platform'));
    await admin.addGroupMember('platform', 'dana@contoso.com');
    const dana = await enrollPc(srv(), 'dana@contoso.com', PW);
    const frank = await enrollPc(srv(), 'frank@contoso.com', PW);
    for (const pc of [dana, frank]) await pc.checkIn();

    await admin.saveProfile({
      name: 'Staff baseline',
      scope: 'device',
      settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }],
    });
    // The fan-out at assignment queues the setting for dana's device (and not frank's).
    expect(await admin.assignProfile('Staff baseline', { group: 'all-staff' })).toBe(1);
    for (const pc of [dana, frank]) await pc.checkIn();
    expect(dana.state.get(CAMERA)).toBe('0');
    expect(frank.state.get(CAMERA)).toBeUndefined();
    // Sent once, not again by the session's own reconciliation.
    expect(dana.state.received.filter((r) => r.endsWith('/AllowCamera'))).toEqual([`Add ${CAMERA}`]);
    await admin.unassignProfile('Staff baseline', { group: 'all-staff' });
    await dana.checkIn();
    expect(dana.state.get(CAMERA)).toBeUndefined();
  });

  run('nesting a group after the assignment reaches its members at their next session; unnesting removes the setting', async () => {
    const storage = srv().server.storage;
    for (const g of ['contractors', 'vendors']) await admin.addGroup(g);
    await admin.addGroupMember('vendors', 'erin@contoso.com');
    const erin = await enrollPc(srv(), 'erin@contoso.com', PW);
    await erin.checkIn();

    await admin.saveProfile({
      name: 'No Bluetooth',
      scope: 'device',
      settings: [{ path: 'Vendor/MSFT/Policy/Config/Connectivity/AllowBluetooth', format: 'int', value: '0' }],
    });
    expect(await admin.assignProfile('No Bluetooth', { group: 'contractors' })).toBe(0);
    await erin.checkIn();
    expect(erin.state.get(BLUETOOTH)).toBeUndefined();

    await storage.addGroupToGroup(await groupId('contractors'), await groupId('vendors'));
    await erin.checkIn();
    expect(erin.state.get(BLUETOOTH)).toBe('0');

    await storage.removeGroupFromGroup(await groupId('contractors'), await groupId('vendors'));
    const mark = erin.state.received.length;
    await erin.checkIn();
    expect(erin.state.received.slice(mark)).toEqual([`Delete ${BLUETOOTH}`]);
    expect(erin.state.get(BLUETOOTH)).toBeUndefined();
  });
});
