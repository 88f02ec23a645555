/**
 * The simulator enrolls end to end over HTTPS, as a Windows PC would: on SQLite and PostgreSQL, with
 * OnPremise and Federated sign-in, for EnrollmentType Full and Device.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { enroll } from '../../src/simulator/enroll.js';
import { createAgent } from '../../src/simulator/https-client.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const PASSWORD = 'correct horse battery';
// One key for the devices of this file: RSA key generation is the slow part and not under test.
const KEY = generateDeviceKey();
const device = (overrides = {}) => newSimulatedDevice({ ...KEY, ...overrides });

describe.each(ENGINES)('enrollment end to end (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com', 'OnPremise');
    await t.addDomain('fabrikam.com', 'Federated');
    await t.addUser('alice@contoso.com', PASSWORD);
    await t.addUser('bob@fabrikam.com', PASSWORD);
  });
  afterAll(async () => {
    await t?.stop();
  });
  const srv = () => t as TestServer;

  for (const [upn, policy] of [
    ['alice@contoso.com', 'OnPremise'],
    ['bob@fabrikam.com', 'Federated'],
  ] as const) {
    for (const type of ['Full', 'Device'] as const) {
      run(
        `${policy} sign-in, EnrollmentType ${type}: certificate in My/${type === 'Full' ? 'User' : 'System'}, chained to the provisioned root`,
        async () => {
          const d = device();
          const r = await enroll({ server: srv().base, upn, password: PASSWORD, enrollmentType: type, device: d, agent: srv().agent });
          expect(r.authPolicy).toBe(policy);
          expect(r.store).toBe(type === 'Full' ? 'User' : 'System');
          // The root Windows is given is the server's enrollment CA, and the certificate names the device.
          expect(r.root.toString()).toBe(new (await import('node:crypto')).X509Certificate(srv().server.enrollmentCaPem).toString());
          expect(r.certificate.subject).toBe(`CN=${d.deviceId}`);
          expect(r.managementUrl).toBe(`https://localhost:${srv().server.managementPort}/ManagementServer/MDM.svc`);
          // NotBefore is "now", never back-dated (certificate times are whole seconds).
          expect(Math.abs(Date.parse(r.certificate.validFrom) - Date.now())).toBeLessThan(60_000);
          expect(Date.parse(r.certificate.validTo) - Date.parse(r.certificate.validFrom)).toBe(365 * 86400_000);
          const rec = await srv().server.storage.getDevice(d.deviceId);
          expect(rec).toMatchObject({
            upn,
            enrollmentType: type,
            status: 'enrolled',
            hwDevId: d.hwDevId,
            deviceName: d.deviceName,
            osVersion: d.osVersion,
            osEdition: d.osEdition,
          });
          expect(rec?.certThumbprint).toBe(r.provisioning.myCerts[0]?.thumbprint);
        },
      );
    }
  }

  run('Windows 11 sending RequestVersion 9.0 is answered with a version it asked for or lower', async () => {
    const r = await enroll({
      server: srv().base,
      upn: 'alice@contoso.com',
      password: PASSWORD,
      device: device(),
      agent: srv().agent,
      requestVersion: '9.0',
    });
    expect(r.discovery.enrollmentVersion).toBe('4.0');
  });

  run('finds the server by enterpriseenrollment.<domain> with a TLS certificate covering that name', async () => {
    await srv().server.refreshTls();
    const agent = createAgent({ ca: srv().server.tlsRootCaPem, lookupAddress: '127.0.0.1' });
    try {
      const r = await enroll({
        server: `https://enterpriseenrollment.contoso.com:${srv().server.port}`,
        upn: 'alice@contoso.com',
        password: PASSWORD,
        device: device(),
        agent,
      });
      expect(r.authPolicy).toBe('OnPremise');
    } finally {
      agent.destroy();
    }
  });

  run('re-enrolling the same PC supersedes its enrollment and keeps one device record (S16)', async () => {
    const d = device();
    const first = await enroll({ server: srv().base, upn: 'alice@contoso.com', password: PASSWORD, device: d, agent: srv().agent });
    const second = await enroll({ server: srv().base, upn: 'alice@contoso.com', password: PASSWORD, device: d, agent: srv().agent });
    expect(second.certificate.serialNumber).not.toBe(first.certificate.serialNumber);
    const devices = (await srv().server.storage.listDevices()).filter((x) => x.deviceId === d.deviceId);
    expect(devices).toHaveLength(1);
    expect(devices[0]?.certThumbprint).toBe(second.provisioning.myCerts[0]?.thumbprint);
    const history = await srv().server.storage.listEnrollments(d.deviceId);
    expect(history.map((e) => e.status)).toEqual(['superseded', 'active']);
  });

  run('two PCs from one cloned image (same HWDevID) stay two records and are both flagged', async () => {
    const a = device();
    const b = device({ hwDevId: a.hwDevId });
    await enroll({ server: srv().base, upn: 'alice@contoso.com', password: PASSWORD, device: a, agent: srv().agent });
    await enroll({ server: srv().base, upn: 'alice@contoso.com', password: PASSWORD, device: b, agent: srv().agent });
    const ra = await srv().server.storage.getDevice(a.deviceId);
    const rb = await srv().server.storage.getDevice(b.deviceId);
    expect(ra?.id).not.toBe(rb?.id);
    expect(ra?.warnings.map((w) => w.kind)).toEqual(['shared_hwdevid']);
    expect(ra?.warnings[0]?.relatedDeviceIds).toEqual([b.deviceId]);
    expect(rb?.warnings[0]?.relatedDeviceIds).toEqual([a.deviceId]);
  });
});
