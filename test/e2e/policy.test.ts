/**
 * Who may enroll, through the real enrollment endpoint with the simulator: licenses, disabled users,
 * every restriction type (platform block, OS range, personal block, device limit, DEM), nested groups,
 * and changes taking effect on the next enrollment. Checks the fault the device gets (as the HRESULT
 * Windows would show) and the recorded explanation with the same TraceID.
 */
import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { EnrollmentPolicy } from '../../src/core/policy/enrollment-policy.js';
import { PolicyAdmin } from '../../src/core/policy/policy-admin.js';
import { systemClock } from '../../src/shared/clock.js';
import { type SimulatedDevice, generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { EnrollmentFailed, enroll } from '../../src/simulator/enroll.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const PW = 'correct horse battery';
const KEY = generateDeviceKey();

describe.each(ENGINES)('who may enroll, through the endpoint (%s)', (engine) => {
  let t: TestServer | undefined;
  let admin: PolicyAdmin;
  const run = itOn(engine);
  const srv = () => t as TestServer;

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    await t.addUser('alice@contoso.com', PW);
    await t.addUser('bob@contoso.com', PW, { license: false });
    await t.addUser('carol@contoso.com', PW);
    await t.addUser('dave@contoso.com', PW);
    admin = new PolicyAdmin({
      storage: t.server.storage,
      clock: systemClock,
      directory: t.directory,
      policy: new EnrollmentPolicy({ storage: t.server.storage, clock: systemClock }),
    });
    await t.server.storage.addGroup({ name: 'engineering', now: new Date() });
    await t.server.storage.addGroup({ name: 'staff', now: new Date() });
    await admin.addGroupMember(CLI_CONTEXT, 'engineering', 'alice@contoso.com');
    await admin.addGroupMember(CLI_CONTEXT, 'staff', 'engineering');
  });
  afterAll(async () => {
    await t?.stop();
  });
  // Each case starts from the defaults: no restriction assigned.
  beforeEach(async () => {
    if (!t) return;
    for (const r of await admin.listRestrictions()) if (!r.isDefault) await admin.deleteRestriction(CLI_CONTEXT, r.type, r.name);
  });

  const device = (o: Partial<SimulatedDevice> = {}) => newSimulatedDevice({ ...KEY, ...o });
  const attempt = (upn: string, d = device(), type: 'Full' | 'Device' = 'Full') =>
    enroll({ server: srv().base, upn, password: PW, device: d, agent: srv().agent, enrollmentType: type });
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof EnrollmentFailed)) throw new Error(`expected a refusal, got ${String(err)}`);
    // The explanation is recorded under the TraceID the device got.
    const [logged] = await srv().server.storage.listEnrollmentAttempts({ limit: 1 });
    expect(logged?.traceId).toBe(err.traceId);
    expect(logged?.outcome).toBe('refused');
    return { err, logged };
  };

  run('an unlicensed user gets UserLicense (0x80180018)', async () => {
    const { err, logged } = await refusal(attempt('bob@contoso.com'));
    expect(err.step).toBe('enroll');
    expect(err.hresult).toBe(0x80180018);
    expect(logged?.errorType).toBe('UserLicense');
    expect(logged?.reasons.at(-1)).toBe('bob@contoso.com holds no Winroll license');
  });

  run('a license assigned or removed takes effect on the next enrollment, without a restart', async () => {
    await admin.assignLicense(CLI_CONTEXT, 'bob@contoso.com');
    await attempt('bob@contoso.com');
    await admin.removeLicense(CLI_CONTEXT, 'bob@contoso.com');
    expect((await refusal(attempt('bob@contoso.com'))).err.hresult).toBe(0x80180018);
  });

  run('a disabled user is refused', async () => {
    await admin.setUserEnabled(CLI_CONTEXT, 'carol@contoso.com', false);
    try {
      const { err, logged } = await refusal(attempt('carol@contoso.com'));
      // Sign-in itself refuses a disabled account, at the first authenticated step.
      expect(err.step).toBe('policy');
      expect(err.hresult).toBe(0x80180002);
      expect(logged).toMatchObject({ upn: 'carol@contoso.com', reasons: ['sign-in refused: disabled'] });
    } finally {
      await admin.setUserEnabled(CLI_CONTEXT, 'carol@contoso.com', true);
    }
  });

  run('a platform restriction on a parent group reaches members of nested groups (DeviceNotSupported 0x80180014)', async () => {
    await admin.createRestriction(CLI_CONTEXT, 'platform', 'No Windows', { windowsMdm: 'block' });
    await admin.assignRestriction(CLI_CONTEXT, 'platform', 'No Windows', 'staff');
    const { err, logged } = await refusal(attempt('alice@contoso.com'));
    expect(err.hresult).toBe(0x80180014);
    expect(logged?.reasons.at(-1)).toBe('restriction "No Windows" blocks Windows MDM enrollment');
    expect(logged?.policies.platform).toBe('No Windows');
    // Not a member: the default applies.
    await attempt('carol@contoso.com');
  });

  run('an OS version below the minimum is refused with the version in the reason', async () => {
    await admin.createRestriction(CLI_CONTEXT, 'platform', 'Windows 11 only', { minOsVersion: '10.0.22000' });
    await admin.assignRestriction(CLI_CONTEXT, 'platform', 'Windows 11 only', 'engineering');
    const { err, logged } = await refusal(attempt('alice@contoso.com', device({ osVersion: '10.0.19045.2965' })));
    expect(err.hresult).toBe(0x80180014);
    expect(logged?.reasons.at(-1)).toMatch(/10\.0\.19045\.2965 is older than 10\.0\.22000/);
    await attempt('alice@contoso.com', device({ osVersion: '10.0.22631.4391' }));
  });

  run('personal devices blocked: a user enrollment is refused, a device-context (corporate) one passes', async () => {
    await admin.createRestriction(CLI_CONTEXT, 'platform', 'Corporate only', { blockPersonal: true });
    await admin.assignRestriction(CLI_CONTEXT, 'platform', 'Corporate only', 'engineering');
    const { err } = await refusal(attempt('alice@contoso.com'));
    expect(err.hresult).toBe(0x80180014);
    const d = device();
    await attempt('alice@contoso.com', d, 'Device');
    const rec = await srv().server.storage.getManagedDevice(d.deviceId);
    expect(rec?.ownership).toBe('corporate');
    const [logged] = await srv().server.storage.listEnrollmentAttempts({ limit: 1 });
    expect(logged).toMatchObject({ outcome: 'mdm', ownership: 'corporate' });
  });

  run('the device limit counts the user’s other devices (DeviceCapReached 0x80180013), not the one re-enrolling', async () => {
    await admin.createRestriction(CLI_CONTEXT, 'deviceLimit', 'One each', { limit: 1 });
    await admin.assignRestriction(CLI_CONTEXT, 'deviceLimit', 'One each', 'engineering');
    await srv().addUser('erin@contoso.com', PW);
    await admin.addGroupMember(CLI_CONTEXT, 'engineering', 'erin@contoso.com');
    const first = device();
    await attempt('erin@contoso.com', first);
    await attempt('erin@contoso.com', first); // the same PC again is not a second device
    const { err, logged } = await refusal(attempt('erin@contoso.com'));
    expect(err.hresult).toBe(0x80180013);
    expect(logged?.reasons.at(-1)).toBe('erin@contoso.com already has 1 enrolled devices; restriction "One each" allows 1');
  });

  run('a device enrollment manager enrolls shared corporate devices beyond the per-user limit', async () => {
    await admin.updateRestriction(CLI_CONTEXT, 'deviceLimit', 'Default', { limit: 1 });
    try {
      await admin.addDem(CLI_CONTEXT, 'dave@contoso.com');
      for (let i = 0; i < 3; i++) await attempt('dave@contoso.com');
      const [logged] = await srv().server.storage.listEnrollmentAttempts({ limit: 1 });
      expect(logged).toMatchObject({ outcome: 'mdm', ownership: 'corporate', method: 'dem' });
    } finally {
      await admin.updateRestriction(CLI_CONTEXT, 'deviceLimit', 'Default', { limit: 5 });
    }
  });

  run('explain gives the same answer as the endpoint', async () => {
    await admin.createRestriction(CLI_CONTEXT, 'platform', 'No Windows', { windowsMdm: 'block' });
    await admin.assignRestriction(CLI_CONTEXT, 'platform', 'No Windows', 'engineering');
    const d = await admin.explain('alice@contoso.com', { ownership: 'personal', osVersion: '10.0.22631' });
    expect(d).toMatchObject({ outcome: 'refused', errorType: 'DeviceNotSupported', policies: { platform: 'No Windows' } });
    expect(d.reasons).toContain('alice@contoso.com is licensed');
    const auto = await admin.explain('alice@contoso.com', { ownership: 'personal', method: 'automatic' });
    expect(auto.reasons.join('\n')).toMatch(/MDM user scope All: in scope/);
  });
});
