/**
 * Certificate renewal "on behalf of" (ROBO) end to end, over real TLS: the enrollment advertises it with a
 * ServerURL on the management listener, a device renews inside its window with its current certificate
 * and a PKCS#7-wrapped CSR, sessions move to the new certificate and the old one is refused; every
 * refusal is a SOAP fault Windows parses and changes nothing.
 */
import { X509Certificate, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { CertificateAuthority } from '../../src/pki/authority.js';
import { createRootCa } from '../../src/pki/ca.js';
import { buildRenewalRequest } from '../../src/pki/renewal-request.js';
import { randomSerial } from '../../src/pki/serial.js';
import { spkiOf } from '../../src/pki/spki.js';
import { sha1Thumbprint } from '../../src/pki/thumbprint.js';
import { buildWindowsCsr } from '../../src/pki/windows-csr.js';
import { encodeRequestSecurityToken } from '../../src/protocol/wstep/request-security-token.js';
import type { Clock } from '../../src/shared/clock.js';
import { EnrollmentFailed } from '../../src/simulator/enroll.js';
import { createAgent } from '../../src/simulator/https-client.js';
import { DeviceSideState, checkIn } from '../../src/simulator/manage.js';
import { type RenewOptions, type RenewalOutcome, renew } from '../../src/simulator/renew.js';
import { faultOf, postSoap } from '../support/http.js';
import { type ManagedPc, enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const PW = 'correct horse battery';
const UPN = 'alice@contoso.com';
const DAY = 86_400_000;

/** Real time plus an offset the tests move, so certificates can age without waiting. */
function offsetClock(): Clock & { offsetMs: number } {
  const c = { offsetMs: 0, now: () => new Date(Date.now() + c.offsetMs) };
  return c;
}

async function refusal(
  p: Promise<unknown>,
): Promise<{ subcode: string | undefined; errorType: string | undefined; hresult: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof EnrollmentFailed)
      return { subcode: err.faultSubcode, errorType: err.faultErrorType, hresult: err.hresult, message: err.message };
    throw err;
  }
  throw new Error('expected the renewal to be refused');
}

describe.each(ENGINES)('certificate renewal (%s)', (engine) => {
  const clock = offsetClock();
  let t: TestServer | undefined;
  const run = itOn(engine);
  beforeAll(async () => {
    t = await startTestServer(engine, {}, {}, { clock });
    if (!t) return;
    await t.addDomain('contoso.com');
    await t.addUser(UPN, PW);
    // Let the TLS certificate take in the domain now, while the clock is real: a refresh with the clock
    // moved ahead would issue a TLS certificate that is not yet valid.
    await t.server.refreshTls();
    await new Promise((resolve) => setTimeout(resolve, 600));
  });
  afterAll(async () => {
    await t?.stop();
  });
  afterEach(() => {
    clock.offsetMs = 0;
  });
  const srv = () => t as TestServer;
  const renewalUrl = () => `https://localhost:${srv().server.managementPort}/EnrollmentServer/Renewal.svc`;

  /** Renew the PC's current certificate as Windows would. */
  const renewPc = (
    pc: ManagedPc,
    certificate: X509Certificate,
    privateKey: RenewOptions['privateKey'],
    opts: Partial<RenewOptions> = {},
  ): Promise<RenewalOutcome> =>
    renew({
      serverUrl: pc.enrolled.provisioning.renewal?.ServerURL?.value ?? '',
      device: pc.device,
      certificate,
      privateKey,
      root: pc.enrolled.root,
      enrollmentType: pc.enrolled.store === 'System' ? 'Device' : 'Full',
      tlsCaPem: srv().server.tlsRootCaPem,
      now: clock.now(),
      ...opts,
    });

  /** One management session presenting `certificate`; returns the SyncHdr status (200, 401, 403). */
  let session = 100;
  const sessionWith = async (pc: ManagedPc, certificate: X509Certificate, privateKey: RenewOptions['privateKey']): Promise<number> => {
    const agent = createAgent({
      ca: srv().server.tlsRootCaPem,
      keepAlive: false,
      cert: certificate.toString(),
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    });
    try {
      const r = await checkIn({
        managementUrl: srv().server.urls.management,
        state: new DeviceSideState(pc.device),
        agent,
        sessionId: String(++session),
      });
      return r.headerStatus;
    } finally {
      agent.destroy();
    }
  };
  const enrollments = async (pc: ManagedPc) => srv().server.storage.listEnrollments(pc.device.deviceId);

  run('the enrollment advertises ROBO renewal with a ServerURL on the management port, and GetPolicies agrees', async () => {
    const pc = await enrollPc(srv(), UPN, PW);
    expect(srv().server.urls.renewal).toBe(renewalUrl());
    expect(pc.enrolled.provisioning.renewal).toEqual({
      ROBOSupport: { value: 'true', datatype: 'boolean' },
      RenewPeriod: { value: '42', datatype: 'integer' },
      RetryInterval: { value: '5', datatype: 'integer' },
      ServerURL: { value: renewalUrl(), datatype: 'string' },
    });
    // DMClient EntDMID must be set for Windows to renew.
    expect(pc.enrolled.provisioning.dmClient?.params.EntDMID?.value).toBe(pc.device.deviceId);
    // Not back-dated: issued now, for the configured 365 days.
    const cert = pc.enrolled.certificate;
    expect(Math.abs(Date.parse(cert.validFrom) - Date.now())).toBeLessThan(5 * 60_000);
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(365 * DAY);
  });

  run('inside the window: a new certificate for a new key; sessions move to it and the old one is refused', async () => {
    const pc = await enrollPc(srv(), UPN, PW);
    expect((await pc.checkIn()).headerStatus).toBe(200);
    clock.offsetMs = 330 * DAY; // 35 days before expiry, inside the 42-day window

    const renewed = await renewPc(pc, pc.enrolled.certificate, pc.device.privateKey);
    const cert = renewed.certificate;
    expect(renewed.store).toBe('User');
    expect(renewed.provisioning.myCerts[0]?.thumbprint).toBe(sha1Thumbprint(cert.raw));
    expect(spkiOf(cert.publicKey).equals(spkiOf(renewed.publicKey))).toBe(true);
    expect(spkiOf(cert.publicKey).equals(spkiOf(pc.device.publicKey))).toBe(false);
    expect(cert.subject).toBe(`CN=${pc.device.deviceId}`);
    expect(Math.abs(Date.parse(cert.validFrom) - clock.now().getTime())).toBeLessThan(5 * 60_000);
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(365 * DAY);

    expect(await sessionWith(pc, cert, renewed.privateKey)).toBe(200);
    expect(await sessionWith(pc, pc.enrolled.certificate, pc.device.privateKey)).toBe(403);

    const [old, current] = await enrollments(pc);
    expect(old).toMatchObject({ status: 'superseded', certThumbprint: sha1Thumbprint(pc.enrolled.certificate.raw) });
    expect(old?.revokedAt).not.toBeNull();
    expect(current).toMatchObject({
      status: 'active',
      certThumbprint: sha1Thumbprint(cert.raw),
      upn: UPN,
      enrollmentType: 'Full',
      authPolicy: 'OnPremise',
    });
    const device = await srv().server.storage.getDevice(pc.device.deviceId);
    expect(device).toMatchObject({ status: 'enrolled', certThumbprint: sha1Thumbprint(cert.raw), currentEnrollmentId: current?.id });

    // The fresh certificate is far from its own window, and the old one cannot renew again once the new one was used.
    expect((await refusal(renewPc(pc, cert, renewed.privateKey))).errorType).toBe('NotEligibleToRenew');
    const again = await refusal(renewPc(pc, pc.enrolled.certificate, pc.device.privateKey));
    expect(again).toMatchObject({ subcode: 's:Authorization', errorType: 'NotEligibleToRenew', hresult: 0x80180016 });
    expect(await enrollments(pc)).toHaveLength(2);
  });

  run('a renewal whose answer was lost is retried with the old certificate and replaces the unused one', async () => {
    const pc = await enrollPc(srv(), UPN, PW);
    clock.offsetMs = 340 * DAY;
    const lost = await renewPc(pc, pc.enrolled.certificate, pc.device.privateKey);
    // The device never got `lost`: it still holds its old certificate, which sessions now refuse...
    expect(await sessionWith(pc, pc.enrolled.certificate, pc.device.privateKey)).toBe(403);
    // ...and at its next RetryInterval it renews again with it.
    clock.offsetMs = 345 * DAY;
    const retried = await renewPc(pc, pc.enrolled.certificate, pc.device.privateKey, { digest: 'sha256' });
    expect(await sessionWith(pc, lost.certificate, lost.privateKey)).toBe(403);
    expect(await sessionWith(pc, retried.certificate, retried.privateKey)).toBe(200);
    expect((await enrollments(pc)).map((e) => e.status)).toEqual(['superseded', 'superseded', 'active']);
    // Once the new certificate has opened a session, the old one is done for good.
    clock.offsetMs = 350 * DAY;
    expect((await refusal(renewPc(pc, pc.enrolled.certificate, pc.device.privateKey))).errorType).toBe('NotEligibleToRenew');
    expect(await enrollments(pc)).toHaveLength(3);
  });

  run('device enrollment renews into My/System; the device key may be reused and SHA-256 is accepted', async () => {
    const pc = await enrollPc(srv(), UPN, PW, 'Device');
    clock.offsetMs = 324 * DAY;
    const renewed = await renewPc(pc, pc.enrolled.certificate, pc.device.privateKey, {
      newKey: { privateKey: pc.device.privateKey, publicKey: pc.device.publicKey },
      digest: 'sha256',
    });
    expect(renewed.store).toBe('System');
    expect(renewed.provisioning.myCerts.map((c) => c.store)).toEqual(['System']);
    expect(renewed.certificate.serialNumber).not.toBe(pc.enrolled.certificate.serialNumber);
    expect(await sessionWith(pc, renewed.certificate, pc.device.privateKey)).toBe(200);
  });

  run('outside the window, or expired: NotEligibleToRenew, and nothing changes', async () => {
    const pc = await enrollPc(srv(), UPN, PW);
    for (const days of [0, 200, 320, 366]) {
      clock.offsetMs = days * DAY;
      const f = await refusal(renewPc(pc, pc.enrolled.certificate, pc.device.privateKey));
      expect(f, `day ${days}`).toMatchObject({ subcode: 's:Authorization', errorType: 'NotEligibleToRenew', hresult: 0x80180016 });
    }
    expect((await enrollments(pc)).map((e) => e.status)).toEqual(['active']);
    clock.offsetMs = 0;
    expect(await sessionWith(pc, pc.enrolled.certificate, pc.device.privateKey)).toBe(200);
  });

  run('refuses a foreign certificate, no client certificate, a CMS signed by another key or certificate', async () => {
    const pc = await enrollPc(srv(), UPN, PW);
    const other = await enrollPc(srv(), UPN, PW);
    clock.offsetMs = 330 * DAY;
    const now = clock.now();

    // A certificate for the same device and key from another CA.
    const foreignCa = new CertificateAuthority(
      await createRootCa({ commonName: 'Elsewhere', organization: 'Elsewhere', keyBits: 2048, validityYears: 2, now: new Date() }),
    );
    const foreign = foreignCa.issueDeviceCertificate({
      subjectCommonName: pc.device.deviceId,
      publicKeySpki: spkiOf(pc.device.publicKey),
      serial: randomSerial(randomBytes),
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 365 * DAY),
    });
    const f1 = await refusal(renewPc(pc, new X509Certificate(foreign.der), pc.device.privateKey));
    expect(f1).toMatchObject({ subcode: 's:Authentication', hresult: 0x80180002 });

    // No client certificate on the TLS connection.
    const f2 = await refusal(renewPc(pc, pc.enrolled.certificate, pc.device.privateKey, { agent: srv().agent }));
    expect(f2.subcode).toBe('s:Authentication');

    // The right TLS certificate, but the PKCS#7 is signed with another key.
    const newKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const csr = buildWindowsCsr({ ...newKey, deviceId: pc.device.deviceId, requestGuid: randomUUID() });
    const wrongKey = buildRenewalRequest({
      oldCertDer: pc.enrolled.certificate.raw,
      oldKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      newCsrDer: csr,
    });
    const f3 = await refusal(renewPc(pc, pc.enrolled.certificate, pc.device.privateKey, { pkcs7: wrongKey, newKey }));
    expect(f3).toMatchObject({ subcode: 's:CertificateRequest' });
    expect(f3.message).toMatch(/signature/);

    // Signed as another enrolled device (same key in these tests, so only the signer identity differs).
    const otherSigner = buildRenewalRequest({
      oldCertDer: other.enrolled.certificate.raw,
      oldKey: other.device.privateKey,
      newCsrDer: csr,
    });
    const f4 = await refusal(renewPc(pc, pc.enrolled.certificate, pc.device.privateKey, { pkcs7: otherSigner, newKey }));
    expect(f4).toMatchObject({ subcode: 's:CertificateRequest' });
    expect(f4.message).toMatch(/not signed with the certificate being renewed/);

    // A CSR for another DeviceID, or a DeviceID context item for another device.
    const otherCsr = buildWindowsCsr({ ...newKey, deviceId: other.device.deviceId, requestGuid: randomUUID() });
    const f5 = await refusal(
      renewPc(pc, pc.enrolled.certificate, pc.device.privateKey, {
        pkcs7: buildRenewalRequest({ oldCertDer: pc.enrolled.certificate.raw, oldKey: pc.device.privateKey, newCsrDer: otherCsr }),
        newKey,
      }),
    );
    expect(f5).toMatchObject({ subcode: 's:CertificateRequest' });
    const f6 = await refusal(
      renewPc(pc, pc.enrolled.certificate, pc.device.privateKey, { context: [['DeviceID', other.device.deviceId]] }),
    );
    expect(f6).toMatchObject({ subcode: 's:Authorization' });

    expect((await enrollments(pc)).map((e) => e.status)).toEqual(['active']);
    expect(now.getTime()).toBeLessThanOrEqual(clock.now().getTime());
    // After all that, the real renewal still works.
    await renewPc(pc, pc.enrolled.certificate, pc.device.privateKey);
  });

  run('an unenrolled or deleted device cannot renew', async () => {
    const gone = await enrollPc(srv(), UPN, PW);
    await gone.checkIn({ unenroll: true });
    const deleted = await enrollPc(srv(), UPN, PW);
    const record = await srv().server.storage.getDevice(deleted.device.deviceId);
    await srv().server.storage.deleteDevice(record?.id ?? '');
    clock.offsetMs = 330 * DAY;
    for (const pc of [gone, deleted]) {
      const f = await refusal(renewPc(pc, pc.enrolled.certificate, pc.device.privateKey));
      expect(f).toMatchObject({ subcode: 's:Authorization', errorType: 'NotEligibleToRenew' });
    }
    expect((await enrollments(gone)).map((e) => e.status)).toEqual(['unenrolled']);
  });

  run('the renewal endpoint answers SOAP faults with Content-Length for anything else', async () => {
    const pc = await enrollPc(srv(), UPN, PW);
    const url = renewalUrl();
    expect(faultOf(await postSoap(pc.agent, url, 'not xml')).subcode).toBe('s:MessageFormat');
    expect(faultOf(await postSoap(pc.agent, url, Buffer.alloc(70 * 1024, 0x41))).subcode).toBe('s:MessageFormat');
    const issue = encodeRequestSecurityToken({
      messageId: 'urn:uuid:1',
      to: url,
      csrDer: buildWindowsCsr({
        privateKey: pc.device.privateKey,
        publicKey: pc.device.publicKey,
        deviceId: pc.device.deviceId,
        requestGuid: randomUUID(),
      }),
      requestType: 'Issue',
      context: [['DeviceID', pc.device.deviceId]],
    });
    expect(faultOf(await postSoap(pc.agent, url, issue)).subcode).toBe('s:MessageFormat');
    // A Renew at the enrollment URL (web listener, which never sees client certificates) is pointed away.
    const renewAtEnrollment = encodeRequestSecurityToken({
      messageId: 'urn:uuid:2',
      to: url,
      csrDer: Buffer.from('x'),
      requestType: 'Renew',
      context: [],
    });
    expect(faultOf(await postSoap(srv().agent, srv().server.urls.enrollment, renewAtEnrollment)).errorType).toBe('NotEligibleToRenew');
    // The management endpoint on the same listener still speaks SyncML.
    expect((await pc.checkIn()).headerStatus).toBe(200);
  });
});
