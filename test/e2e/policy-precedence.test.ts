/**
 * The precedence table through the real enrollment endpoint, for the enrollments that exist today
 * (user-started, personal, and device-context, corporate): whatever the MDM/MAM scopes say, they enroll,
 * and the recorded explanation says why. The automatic-enrollment half of the table needs directory
 * tokens (the Entra issue); it is covered cell by cell in test/policy/decide.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { enroll } from '../../src/simulator/enroll.js';
import { type TestServer, startTestServer } from '../support/server.js';

const PW = 'correct horse battery';
const KEY = generateDeviceKey();

describe('scopes do not gate user or device-context enrollment', () => {
  let t: TestServer;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    t = (await startTestServer('sqlite')) as TestServer;
    await t.addDomain('contoso.com');
    const s = t.server.storage;
    for (const g of ['mdm', 'mam']) ids[g] = (await s.addGroup({ name: g, now: new Date() })).id;
    for (const [u, groups] of Object.entries({ mdmonly: ['mdm'], mamonly: ['mam'], both: ['mdm', 'mam'], neither: [] as string[] })) {
      await t.addUser(`${u}@contoso.com`, PW);
      const user = await s.getUserByUpn(`${u}@contoso.com`);
      for (const g of groups) await s.addGroupMember(ids[g] as string, user?.id as string);
    }
    const settings = await s.getTenantSettings();
    await s.saveTenantSettings(
      { ...settings, mdmScope: { mode: 'some', groupIds: [ids.mdm as string] }, mamScope: { mode: 'some', groupIds: [ids.mam as string] } },
      new Date(),
    );
  });
  afterAll(async () => {
    await t?.stop();
  });

  for (const user of ['mdmonly', 'mamonly', 'both', 'neither']) {
    for (const [ownership, type] of [
      ['personal', 'Full'],
      ['corporate', 'Device'],
    ] as const) {
      it(`${user}, ${ownership} device: MDM-enrolled`, async () => {
        const device = newSimulatedDevice(KEY);
        const r = await enroll({ server: t.base, upn: `${user}@contoso.com`, password: PW, device, agent: t.agent, enrollmentType: type });
        expect(r.store).toBe(type === 'Full' ? 'User' : 'System');
        const [logged] = await t.server.storage.listEnrollmentAttempts({ limit: 1, deviceId: device.deviceId });
        expect(logged).toMatchObject({ outcome: 'mdm', ownership, method: type === 'Full' ? 'user' : 'bulk' });
        expect(logged?.reasons.join('\n')).toMatch(
          type === 'Full' ? /user enrollment: the MDM user scope does not apply/ : /per-user device limit does not apply/,
        );
      });
    }
  }
});
