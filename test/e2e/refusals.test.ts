/**
 * Every refusal on the enrollment endpoints is the SOAP fault Windows understands (never a bare HTTP
 * error, an HTML page or an empty 200), writes nothing, and leaves the server serving.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildWindowsCsr } from '../../src/pki/windows-csr.js';
import { encodeDiscoverRequest } from '../../src/protocol/mde2/discover.js';
import type { WsSecurityToken } from '../../src/protocol/soap/ws-security.js';
import { encodeGetPoliciesRequest } from '../../src/protocol/xcep/get-policies.js';
import { encodeRequestSecurityToken } from '../../src/protocol/wstep/request-security-token.js';
import { type SimulatedDevice, generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { enroll } from '../../src/simulator/enroll.js';
import { request } from '../../src/simulator/https-client.js';
import { capture } from '../support/captures.js';
import { faultOf, postSoap } from '../support/http.js';
import { type TestServer, startTestServer } from '../support/server.js';

const PASSWORD = 'correct horse battery';
const KEY = generateDeviceKey();
const ALICE: WsSecurityToken = { kind: 'username', username: 'alice@contoso.com', password: PASSWORD };

function rst(
  opts: {
    device?: SimulatedDevice;
    security?: WsSecurityToken;
    csr?: Buffer;
    context?: Array<[string, string]>;
    requestType?: 'Issue' | 'Renew';
  } = {},
): string {
  const d = opts.device ?? newSimulatedDevice(KEY);
  return encodeRequestSecurityToken({
    messageId: 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749',
    to: 'https://localhost/EnrollmentServer/Enrollment.svc',
    security: opts.security ?? ALICE,
    csrDer:
      opts.csr ?? buildWindowsCsr({ privateKey: d.privateKey, publicKey: d.publicKey, deviceId: d.deviceId, requestGuid: randomUUID() }),
    requestType: opts.requestType ?? 'Issue',
    context: opts.context ?? [
      ['HWDevID', d.hwDevId],
      ['DeviceID', d.deviceId],
      ['EnrollmentType', 'Full'],
    ],
  });
}

describe('refusals', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = (await startTestServer('sqlite')) as TestServer;
    await t.addDomain('contoso.com', 'OnPremise');
    await t.addDomain('fabrikam.com', 'Federated');
    await t.addUser('alice@contoso.com', PASSWORD);
    await t.addUser('bob@fabrikam.com', PASSWORD);
  });
  afterAll(async () => {
    await t?.stop();
  });
  // After every refusal the server still enrolls a PC, and the refusal recorded nothing.
  let devicesBefore = 0;
  const snapshot = async () => {
    devicesBefore = (await t.server.storage.listDevices()).length;
  };
  afterEach(async () => {
    expect((await t.server.storage.listDevices()).length).toBe(devicesBefore);
    // A device-context enrollment: corporate, so these many PCs of one user stay outside the device limit.
    const r = await enroll({
      server: t.base,
      upn: 'alice@contoso.com',
      password: PASSWORD,
      device: newSimulatedDevice(KEY),
      agent: t.agent,
      enrollmentType: 'Device',
    });
    expect(r.store).toBe('System');
    await snapshot();
  });
  const url = (p: string) => `${t.base}${p}`;
  const enrollUrl = () => url('/EnrollmentServer/Enrollment.svc');

  it('wrong password: Authentication fault (0x80180002), same answer as an unknown user', async () => {
    await snapshot();
    const wrong = faultOf(
      await postSoap(
        t.agent,
        url('/EnrollmentServer/Policy.svc'),
        encodeGetPoliciesRequest({ messageId: 'urn:uuid:1', to: 'x', security: { ...ALICE, password: 'not the password' } }),
      ),
    );
    const unknown = faultOf(
      await postSoap(
        t.agent,
        url('/EnrollmentServer/Policy.svc'),
        encodeGetPoliciesRequest({ messageId: 'urn:uuid:1', to: 'x', security: { ...ALICE, username: 'mallory@contoso.com' } }),
      ),
    );
    expect(wrong.subcode).toBe('s:Authentication');
    expect(unknown.subcode).toBe('s:Authentication');
    expect(unknown.reason).toBe(wrong.reason);
    expect(faultOf(await postSoap(t.agent, enrollUrl(), rst({ security: { ...ALICE, password: 'nope nope nope' } }))).subcode).toBe(
      's:Authentication',
    );
  });

  it('unknown domain: a fault telling the user the organisation is not set up', async () => {
    await snapshot();
    const xml = encodeDiscoverRequest({
      messageId: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
      to: 'x',
      emailAddress: 'eve@unknown.example',
      requestVersion: '4.0',
      applicationVersion: '10.0.19045.1',
      osEdition: '48',
      authPolicies: ['OnPremise', 'Federated'],
    });
    const f = faultOf(await postSoap(t.agent, url('/EnrollmentServer/Discovery.svc'), xml));
    expect(f.errorType).toBe('NotSupported');
    expect(f.reason).toContain('unknown.example');
    expect(f.reason).toMatch(/not set up/);
  });

  it('a domain whose policy the client did not offer is refused, not answered with another policy', async () => {
    await snapshot();
    const xml = encodeDiscoverRequest({
      messageId: 'urn:uuid:1',
      to: 'x',
      emailAddress: 'bob@fabrikam.com',
      requestVersion: '4.0',
      applicationVersion: '10.0.19045.1',
      osEdition: '48',
      authPolicies: ['OnPremise'],
    });
    expect(faultOf(await postSoap(t.agent, url('/EnrollmentServer/Discovery.svc'), xml)).errorType).toBe('NotSupported');
  });

  it('RequestVersion below 4.0 is refused as DeviceNotSupported', async () => {
    await snapshot();
    const xml = capture('fleet-poc-win10-19043/01-discover.request.xml')
      .replace('<RequestVersion>4.0<', '<RequestVersion>3.0<')
      .replace('demo@fleetdm.ngrok.io', 'alice@contoso.com');
    const f = faultOf(await postSoap(t.agent, url('/EnrollmentServer/Discovery.svc'), xml));
    expect(f.subcode).toBe('s:MessageFormat');
    expect(f.errorType).toBe('DeviceNotSupported');
  });

  it.each([
    ['malformed XML', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'],
    ['not XML at all', 'hello'],
    ['an empty body', ''],
    [
      'billion laughs',
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol3;</s:Body></s:Envelope>',
    ],
    [
      'an external entity',
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&xxe;</s:Body></s:Envelope>',
    ],
    ['a SOAP 1.1 envelope', '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>'],
  ])('%s: MessageFormat fault on every endpoint, nothing leaked', async (_name, body) => {
    await snapshot();
    for (const p of ['Discovery.svc', 'Policy.svc', 'Enrollment.svc']) {
      const res = await postSoap(t.agent, url(`/EnrollmentServer/${p}`), body);
      const f = faultOf(res);
      expect(f.subcode).toBe('s:MessageFormat');
      expect(res.body.toString('utf8')).not.toContain('root:');
    }
  });

  it('an oversized body gets a MessageFormat fault, not HTTP 413', async () => {
    await snapshot();
    const res = await postSoap(t.agent, enrollUrl(), `<x>${'A'.repeat(200_000)}</x>`);
    expect(res.status).toBe(200);
    expect(faultOf(res).subcode).toBe('s:MessageFormat');
    expect(faultOf(res).reason).toMatch(/larger than/);
  });

  it('an unexpected content type still gets SOAP', async () => {
    await snapshot();
    const res = await postSoap(t.agent, enrollUrl(), 'x', { 'content-type': 'text/plain' });
    expect(faultOf(res).subcode).toBe('s:MessageFormat');
  });

  it('a 1024-bit key is refused with a CertificateRequest fault', async () => {
    await snapshot();
    const d = newSimulatedDevice(generateDeviceKey(1024));
    const f = faultOf(await postSoap(t.agent, enrollUrl(), rst({ device: d })));
    expect(f.subcode).toBe('s:CertificateRequest');
    expect(f.reason).toMatch(/2048/);
    expect(await t.server.storage.getDevice(d.deviceId)).toBeUndefined();
  });

  it('a CSR whose signature does not verify is refused', async () => {
    await snapshot();
    const d = newSimulatedDevice(KEY);
    const csr = buildWindowsCsr({ privateKey: d.privateKey, publicKey: d.publicKey, deviceId: d.deviceId, requestGuid: randomUUID() });
    csr[csr.length - 5] = (csr[csr.length - 5] ?? 0) ^ 0xff;
    expect(faultOf(await postSoap(t.agent, enrollUrl(), rst({ device: d, csr }))).subcode).toBe('s:CertificateRequest');
  });

  it('a CSR naming another device than the DeviceID context item is refused', async () => {
    await snapshot();
    const d = newSimulatedDevice(KEY);
    const csr = buildWindowsCsr({
      privateKey: d.privateKey,
      publicKey: d.publicKey,
      deviceId: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      requestGuid: randomUUID(),
    });
    expect(faultOf(await postSoap(t.agent, enrollUrl(), rst({ device: d, csr }))).subcode).toBe('s:CertificateRequest');
  });

  it('a request without DeviceID, or with an unknown EnrollmentType, is a MessageFormat fault', async () => {
    await snapshot();
    expect(faultOf(await postSoap(t.agent, enrollUrl(), rst({ context: [['EnrollmentType', 'Full']] }))).subcode).toBe('s:MessageFormat');
    const d = newSimulatedDevice(KEY);
    expect(
      faultOf(
        await postSoap(
          t.agent,
          enrollUrl(),
          rst({
            device: d,
            context: [
              ['DeviceID', d.deviceId],
              ['EnrollmentType', 'Sideways'],
            ],
          }),
        ),
      ).subcode,
    ).toBe('s:MessageFormat');
  });

  it('no WS-Security header: InvalidSecurity with the a: prefix', async () => {
    await snapshot();
    const xml = rst().replace(/<wsse:Security[\s\S]*<\/wsse:Security>/, '');
    expect(faultOf(await postSoap(t.agent, enrollUrl(), xml)).subcode).toBe('a:InvalidSecurity');
  });

  it('a password for a federated domain is refused: the web sign-in cannot be bypassed', async () => {
    await snapshot();
    const f = faultOf(
      await postSoap(t.agent, enrollUrl(), rst({ security: { kind: 'username', username: 'bob@fabrikam.com', password: PASSWORD } })),
    );
    expect(f.subcode).toBe('s:Authentication');
  });

  it('a Renew posted to the enrollment URL (no client certificate there) is refused as NotEligibleToRenew', async () => {
    await snapshot();
    expect(faultOf(await postSoap(t.agent, enrollUrl(), rst({ requestType: 'Renew' }))).errorType).toBe('NotEligibleToRenew');
  });

  it('the sign-in page refuses a wrong password on the page and never posts a token to a web site', async () => {
    await snapshot();
    const page = (q: string, body?: Record<string, string>) =>
      request({
        method: body ? 'POST' : 'GET',
        url: url(`/EnrollmentServer/Auth?${q}`),
        agent: t.agent,
        ...(body ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() } : {}),
      });
    const wrong = await page('appru=ms-app%3A%2F%2Fwindows.immersivecontrolpanel', {
      appru: 'ms-app://windows.immersivecontrolpanel',
      username: 'bob@fabrikam.com',
      password: 'wrong wrong',
    });
    expect(wrong.body.toString()).toContain('role="alert"');
    expect(wrong.body.toString()).not.toContain('wresult');
    const evil = await page('appru=https%3A%2F%2Fevil.example%2F', {
      appru: 'https://evil.example/',
      username: 'bob@fabrikam.com',
      password: PASSWORD,
    });
    expect(evil.status).toBe(400);
    expect(evil.body.toString()).not.toContain('wresult');
    expect((await page('appru=https%3A%2F%2Fevil.example%2F')).status).toBe(400);
  });
});
