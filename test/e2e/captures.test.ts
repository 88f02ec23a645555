/**
 * Replays every client request in ../shared/conformance/captures against a running server, on SQLite
 * and PostgreSQL: what real Windows sent must get what real Windows accepts.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { spkiOf } from '../../src/pki/spki.js';
import { sha1Thumbprint } from '../../src/pki/thumbprint.js';
import { parseCertificateRequest } from '../../src/pki/windows-csr.js';
import { decodeDiscoverResponse } from '../../src/protocol/mde2/discover.js';
import { decodeSoapEnvelope } from '../../src/protocol/soap/envelope.js';
import { NS } from '../../src/protocol/soap/namespaces.js';
import { decodeGetPoliciesResponse } from '../../src/protocol/xcep/get-policies.js';
import { decodeProvisioningDoc } from '../../src/protocol/wstep/provisioning-doc.js';
import { decodeRequestSecurityTokenResponse } from '../../src/protocol/wstep/response.js';
import { child, descendant } from '../../src/protocol/xml/reader.js';
import { request } from '../../src/simulator/https-client.js';
import { capture, captureCsrDer } from '../support/captures.js';
import { faultOf, postSoap, soapBody } from '../support/http.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const DISCOVER = 'fleet-poc-win10-19043/01-discover.request.xml';
const GET_POLICIES = 'fleet-poc-win10-19043/02-getpolicies-onpremise.request.xml';
const RST = 'fleet-poc-win10-19043/03-rst-enroll-onpremise.request.xml';
const RST_CSR = 'fleet-poc-win10-19043/03-rst-enroll-onpremise.csr.pem';
const DISCOVER_PROGRAMMATIC = 'fleet-test-programmatic-win10-19045/discover-programmatic.request.xml';
const RST_PROGRAMMATIC = 'fleet-test-programmatic-win10-19045/rst-enroll-programmatic-usertoken.request.xml';
const RST_PROGRAMMATIC_CSR = 'fleet-test-programmatic-win10-19045/rst-enroll-programmatic.csr.pem';

const PASSWORD = 'demo-password-1';

/** The captured UsernameToken (demio/demo) swapped for credentials that exist on our server. */
function withValidPassword(xml: string): string {
  return xml
    .replace('<wsse:Username>demio</wsse:Username>', '<wsse:Username>demo@fleetdm.ngrok.io</wsse:Username>')
    .replace(/(#PasswordText">)demo(<\/wsse:Password>)/, `$1${PASSWORD}$2`);
}

describe.each(ENGINES)('captured Windows requests (%s)', (engine) => {
  let t: TestServer | undefined;
  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('fleetdm.ngrok.io', 'OnPremise');
    await t.addDomain('mdmwindows.com', 'Federated');
    await t.addUser('demo@fleetdm.ngrok.io', PASSWORD);
    await t.addUser('demo@mdmwindows.com', PASSWORD);
    // Re-issue the TLS certificate now rather than waiting for the domain poll.
    await t.server.refreshTls();
  });
  afterAll(async () => {
    await t?.stop();
  });
  const srv = () => {
    if (!t) throw new Error('server not started');
    return t;
  };
  const url = (p: string) => `${srv().base}${p}`;
  const run = itOn(engine);

  run('answers the discovery GET probe (Host enterpriseenrollment.<domain>, TLS name covered) with 200 and an empty body', async () => {
    const res = await request({
      method: 'GET',
      url: url('/EnrollmentServer/Discovery.svc'),
      headers: {
        'user-agent': 'ENROLLClient',
        'cache-control': 'no-cache',
        pragma: 'no-cache',
        host: 'enterpriseenrollment.fleetdm.ngrok.io',
      },
      agent: srv().agent,
    });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.headers['content-length']).toBe('0');
  });

  run('gives the captured Win10 19043 Discover a valid OnPremise DiscoverResponse', async () => {
    const res = await postSoap(srv().agent, url('/EnrollmentServer/Discovery.svc'), capture(DISCOVER));
    const root = soapBody(res);
    const header = child(root, NS.soap12, 'Header');
    expect(header && child(header, NS.wsa, 'Action')?.text).toBe(
      'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/DiscoverResponse',
    );
    expect(header && child(header, NS.wsa, 'RelatesTo')?.text).toBe('urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478');
    const d = decodeDiscoverResponse(decodeSoapEnvelope(root));
    expect(d.authPolicy).toBe('OnPremise');
    expect(d.enrollmentVersion).toBe('4.0');
    expect(d.authenticationServiceUrl).toBeUndefined();
    expect(new URL(d.enrollmentServiceUrl).protocol).toBe('https:');
    expect(new URL(d.policyServiceUrl ?? '').host).toBe(new URL(d.enrollmentServiceUrl).host);
    // The URLs carry the public host and the real bound port.
    expect(new URL(d.enrollmentServiceUrl).port).toBe(String(srv().server.port));
    // Windows parses the answer with exact-case XPath in the enrollment namespace.
    expect(descendant(root, NS.discovery, 'DiscoverResult')).toBeDefined();
  });

  run('gives the programmatic (RequestVersion 5.0) Discover a Federated answer no newer than 5.0', async () => {
    const d = decodeDiscoverResponse(
      decodeSoapEnvelope(soapBody(await postSoap(srv().agent, url('/EnrollmentServer/Discovery.svc'), capture(DISCOVER_PROGRAMMATIC)))),
    );
    expect(d.authPolicy).toBe('Federated');
    expect(Number.parseFloat(d.enrollmentVersion ?? '0')).toBeLessThanOrEqual(5.0);
    expect(d.authenticationServiceUrl).toMatch(/^https:\/\/localhost:\d+\/EnrollmentServer\/Auth$/);
  });

  run('refuses the captured GetPolicies credentials (demio/demo) with an Authentication fault', async () => {
    const fault = faultOf(await postSoap(srv().agent, url('/EnrollmentServer/Policy.svc'), capture(GET_POLICIES)));
    expect(fault.codeValue).toBe('s:Receiver');
    expect(fault.subcode).toBe('s:Authentication');
    expect(fault.traceId).toMatch(/^[0-9a-f-]{36}$/);
    // The same TraceId is in the server log so an admin can find the refusal.
    expect(srv().logs.some((l) => l.includes(fault.traceId ?? '!'))).toBe(true);
  });

  run('refuses the captured RST credentials with an Authentication fault', async () => {
    const fault = faultOf(await postSoap(srv().agent, url('/EnrollmentServer/Enrollment.svc'), capture(RST)));
    expect(fault.subcode).toBe('s:Authentication');
  });

  run('refuses the captured programmatic token ("helloworld") with an Authentication fault', async () => {
    const fault = faultOf(await postSoap(srv().agent, url('/EnrollmentServer/Enrollment.svc'), capture(RST_PROGRAMMATIC)));
    expect(fault.subcode).toBe('s:Authentication');
  });

  run('answers the captured GetPolicies shape with valid credentials', async () => {
    const root = soapBody(await postSoap(srv().agent, url('/EnrollmentServer/Policy.svc'), withValidPassword(capture(GET_POLICIES))));
    const policy = decodeGetPoliciesResponse(decodeSoapEnvelope(root));
    expect(policy.relatesTo).toBe('urn:uuid:72048B64-0F19-448F-8C2E-B4C661860AA0');
    expect(policy.minimalKeyLength).toBeGreaterThanOrEqual(2048);
  });

  run('enrolls the captured RST shape with valid credentials and provisions My/User', async () => {
    const root = soapBody(await postSoap(srv().agent, url('/EnrollmentServer/Enrollment.svc'), withValidPassword(capture(RST))));
    const header = child(root, NS.soap12, 'Header');
    expect(header && child(header, NS.wsa, 'RelatesTo')?.text).toBe('urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');
    const doc = decodeProvisioningDoc(decodeRequestSecurityTokenResponse(decodeSoapEnvelope(root)));
    expect(doc.myCerts.map((c) => c.store)).toEqual(['User']);
    const cert = new X509Certificate(doc.myCerts[0]?.der ?? Buffer.alloc(0));
    const rootCert = new X509Certificate(doc.rootCerts[0]?.der ?? Buffer.alloc(0));
    expect(doc.myCerts[0]?.thumbprint).toBe(sha1Thumbprint(cert.raw));
    expect(doc.rootCerts[0]?.thumbprint).toBe(sha1Thumbprint(rootCert.raw));
    expect(cert.subject).toBe('CN=B5B954E81FBCB94EB79BD08BE625F4EE');
    expect(cert.verify(rootCert.publicKey)).toBe(true);
    expect(spkiOf(cert.publicKey).equals(parseCertificateRequest(captureCsrDer(RST_CSR)).publicKeySpki)).toBe(true);
    expect(doc.w7.ADDR?.value).toBe(srv().server.urls.management);
    const device = await srv().server.storage.getDevice('B5B954E81FBCB94EB79BD08BE625F4EE');
    expect(device?.deviceName).toBe('DESKTOP-28FGAI6');
    expect(device?.upn).toBe('demo@fleetdm.ngrok.io');
  });

  run('enrolls the captured programmatic RST with a token from our sign-in page', async () => {
    const auth = url('/EnrollmentServer/Auth?appru=ms-app%3A%2F%2Fwindows.immersivecontrolpanel&login_hint=demo%40mdmwindows.com');
    const handoff = await request({
      method: 'POST',
      url: auth,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        appru: 'ms-app://windows.immersivecontrolpanel',
        username: 'demo@mdmwindows.com',
        password: PASSWORD,
      }).toString(),
      agent: srv().agent,
    });
    const token = /name="wresult" value="([^"]+)"/.exec(handoff.body.toString('utf8'))?.[1];
    expect(token).toBeDefined();
    const xml = capture(RST_PROGRAMMATIC).replace('aGVsbG93b3JsZA==', Buffer.from(token ?? '', 'utf8').toString('base64'));
    const doc = decodeProvisioningDoc(
      decodeRequestSecurityTokenResponse(
        decodeSoapEnvelope(soapBody(await postSoap(srv().agent, url('/EnrollmentServer/Enrollment.svc'), xml))),
      ),
    );
    const cert = new X509Certificate(doc.myCerts[0]?.der ?? Buffer.alloc(0));
    expect(spkiOf(cert.publicKey).equals(parseCertificateRequest(captureCsrDer(RST_PROGRAMMATIC_CSR)).publicKeySpki)).toBe(true);
    // The token was spent by that enrollment; presenting it again is refused.
    const again = faultOf(await postSoap(srv().agent, url('/EnrollmentServer/Enrollment.svc'), xml));
    expect(again.subcode).toBe('s:Authentication');
  });
});
