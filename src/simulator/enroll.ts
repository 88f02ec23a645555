/**
 * The enrollment half of the Windows client simulator: discovery probe and Discover, federated sign-in
 * or a UsernameToken, GetPolicies, a CSR with Windows' quirks, RequestSecurityToken, and then the checks
 * Windows' certificate-store, w7 and DMClient CSPs would make on the provisioning document.
 */
import { X509Certificate, randomUUID } from 'node:crypto';
import type https from 'node:https';
import { spkiOf } from '../pki/spki.js';
import { sha1Thumbprint } from '../pki/thumbprint.js';
import { buildWindowsCsr } from '../pki/windows-csr.js';
import { type DiscoverResponse, decodeDiscoverResponse, encodeDiscoverRequest } from '../protocol/mde2/discover.js';
import { MalformedResponseError, ReceivedFaultError } from '../protocol/soap/client-errors.js';
import { decodeSoapEnvelope } from '../protocol/soap/envelope.js';
import { windowsHResultForFault, windowsHResultForUnparsedFault } from '../protocol/soap/fault-hresult.js';
import { VALUE_TYPES, WSS } from '../protocol/soap/namespaces.js';
import type { WsSecurityToken } from '../protocol/soap/ws-security.js';
import { decodeGetPoliciesResponse, encodeGetPoliciesRequest } from '../protocol/xcep/get-policies.js';
import { type ProvisioningDocView, decodeProvisioningDoc } from '../protocol/wstep/provisioning-doc.js';
import { encodeRequestSecurityToken } from '../protocol/wstep/request-security-token.js';
import { decodeRequestSecurityTokenResponse } from '../protocol/wstep/response.js';
import type { SimulatedDevice } from './device.js';
import { type HttpResponse, request } from './https-client.js';

// Windows sends these fixed MessageIDs on every run (captures README); so do we.
const MESSAGE_IDS = {
  discover: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
  getPolicies: 'urn:uuid:72048B64-0F19-448F-8C2E-B4C661860AA0',
  rst: 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749',
};
const SOAP_HEADERS = { 'content-type': 'application/soap+xml; charset=utf-8', 'user-agent': 'ENROLLClient' };
const APPRU = 'ms-app://windows.immersivecontrolpanel';

export type EnrollmentStep = 'probe' | 'discover' | 'sign-in' | 'policy' | 'enroll' | 'provisioning' | 'renew';

/** Why an enrollment failed, in the terms Windows would report it (the HRESULT a real PC would show). */
export class EnrollmentFailed extends Error {
  readonly step: EnrollmentStep;
  readonly hresult: number | undefined;
  readonly faultSubcode: string | undefined;
  readonly faultErrorType: string | undefined;
  readonly traceId: string | undefined;
  constructor(
    step: EnrollmentStep,
    message: string,
    extra: { hresult?: number; subcode?: string; errorType?: string; traceId?: string; cause?: unknown } = {},
  ) {
    super(`${step}: ${message}${extra.hresult !== undefined ? ` (0x${extra.hresult.toString(16).toUpperCase()})` : ''}`, {
      cause: extra.cause,
    });
    this.name = 'EnrollmentFailed';
    this.step = step;
    this.hresult = extra.hresult;
    this.faultSubcode = extra.subcode;
    this.faultErrorType = extra.errorType;
    this.traceId = extra.traceId;
  }
}

export interface EnrollOptions {
  /** `https://host[:port]`, or the full discovery URL. */
  server: string;
  upn: string;
  password: string;
  enrollmentType?: 'Full' | 'Device';
  device: SimulatedDevice;
  agent: https.Agent;
  /** RequestVersion to send in Discover; Windows 10 sends 4.0, current Windows 11 up to 9.0. */
  requestVersion?: string;
  /** Offered auth policies; Settings offers both. */
  authPolicies?: string[];
  /**
   * The PKCS#10 to send, already built with buildWindowsCsr for this device (benchmarks sign theirs before
   * timing, as they generate keys beforehand: both are the PC's work). Default: built here.
   */
  csrDer?: Buffer;
  /**
   * The user's authenticator app: returns the current one-time code when the federated sign-in page asks
   * for a second factor (the MFA setting). Without it such a sign-in fails at step 'sign-in'.
   */
  totp?: () => string | Promise<string>;
  /**
   * An Entra ID access token (a JWT): sent as the BinarySecurityToken (ValueType
   * urn:ietf:params:oauth:token-type:jwt) to policy and enrollment, as Windows does for a directory join or
   * "add work account". There is no sign-in page then (Entra ID authenticated the user); discovery still
   * supplies the URLs.
   */
  directoryToken?: string;
  /**
   * The OpaqueBlob the terms-of-use page returned (`IsAccepted=true&OpaqueBlob=…`), sent back as the
   * ContextItem `EnrollmentData`, as Windows does after Entra join shows the page.
   */
  enrollmentData?: string;
}

export interface EnrollmentOutcome {
  discovery: DiscoverResponse;
  authPolicy: 'OnPremise' | 'Federated';
  certificate: X509Certificate;
  root: X509Certificate;
  store: 'User' | 'System';
  managementUrl: string;
  provisioning: ProvisioningDocView;
  provisioningXml: string;
}

export function discoveryUrlFor(server: string): string {
  const u = new URL(server);
  if (u.protocol !== 'https:') throw new EnrollmentFailed('discover', `the server must be an https URL, not ${u.protocol}`);
  return /\.svc$/i.test(u.pathname) ? u.toString() : new URL('/EnrollmentServer/Discovery.svc', u).toString();
}

export async function enroll(opts: EnrollOptions): Promise<EnrollmentOutcome> {
  const enrollmentType = opts.enrollmentType ?? 'Full';
  const discoveryUrl = discoveryUrlFor(opts.server);

  const probe = await call('probe', {
    method: 'GET',
    url: discoveryUrl,
    headers: { 'user-agent': 'ENROLLClient', 'cache-control': 'no-cache', pragma: 'no-cache' },
    agent: opts.agent,
  });
  if (probe.status !== 200) throw new EnrollmentFailed('probe', `GET ${discoveryUrl} answered HTTP ${probe.status}`);

  const discoverXml = encodeDiscoverRequest({
    messageId: MESSAGE_IDS.discover,
    to: discoveryUrl,
    emailAddress: opts.upn,
    requestVersion: opts.requestVersion ?? '4.0',
    applicationVersion: opts.device.osVersion,
    osEdition: String(opts.device.osEdition),
    authPolicies: opts.authPolicies ?? ['OnPremise', 'Federated'],
  });
  const discovery = await soap('discover', discoveryUrl, discoverXml, opts.agent, decodeDiscoverResponse);
  const authPolicy =
    discovery.authPolicy.toLowerCase() === 'federated'
      ? 'Federated'
      : discovery.authPolicy.toLowerCase() === 'onpremise'
        ? 'OnPremise'
        : undefined;
  if (!authPolicy) throw new EnrollmentFailed('discover', `unsupported AuthPolicy ${discovery.authPolicy}`, { hresult: 0x80180006 });
  if (!discovery.policyServiceUrl) throw new EnrollmentFailed('discover', 'no EnrollmentPolicyServiceUrl');
  if (new URL(discovery.policyServiceUrl).host !== new URL(discovery.enrollmentServiceUrl).host) {
    throw new EnrollmentFailed('discover', 'policy and enrollment services are on different hosts');
  }

  const security: WsSecurityToken =
    opts.directoryToken !== undefined
      ? { kind: 'binary', valueType: VALUE_TYPES.jwt, encodingType: WSS.base64Binary, value: Buffer.from(opts.directoryToken, 'utf8') }
      : authPolicy === 'OnPremise'
        ? { kind: 'username', username: opts.upn, password: opts.password }
        : {
            kind: 'binary',
            valueType: VALUE_TYPES.deviceEnrollmentUserToken,
            encodingType: WSS.base64Binary,
            value: Buffer.from(await federatedSignIn(discovery, opts), 'utf8'),
          };

  const policy = await soap(
    'policy',
    discovery.policyServiceUrl,
    encodeGetPoliciesRequest({ messageId: MESSAGE_IDS.getPolicies, to: discovery.policyServiceUrl, security }),
    opts.agent,
    decodeGetPoliciesResponse,
  );
  const keyBits = opts.device.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (policy.minimalKeyLength !== undefined && keyBits < policy.minimalKeyLength) {
    throw new EnrollmentFailed('policy', `policy requires ${policy.minimalKeyLength}-bit keys; the device key has ${keyBits}`, {
      hresult: 0x80180027,
    });
  }

  const csrDer =
    opts.csrDer ??
    buildWindowsCsr({
      privateKey: opts.device.privateKey,
      publicKey: opts.device.publicKey,
      deviceId: opts.device.deviceId,
      requestGuid: randomUUID(),
    });
  const rstXml = encodeRequestSecurityToken({
    messageId: MESSAGE_IDS.rst,
    to: discovery.enrollmentServiceUrl,
    security,
    csrDer,
    requestType: 'Issue',
    context: [
      ...contextItems(opts.device, enrollmentType, opts.requestVersion),
      ...(opts.enrollmentData !== undefined ? [['EnrollmentData', opts.enrollmentData] as [string, string]] : []),
    ],
  });
  const provisioningXml = await soap('enroll', discovery.enrollmentServiceUrl, rstXml, opts.agent, decodeRequestSecurityTokenResponse);
  const checked = checkProvisioning(provisioningXml, opts.device, enrollmentType);
  return { discovery, authPolicy, provisioningXml, ...checked };
}

/** The ContextItems in the order real Windows 10 sends them (captures, 03-rst-enroll). */
function contextItems(device: SimulatedDevice, enrollmentType: 'Full' | 'Device', requestVersion?: string): Array<[string, string]> {
  const items: Array<[string, string]> = [
    ['UXInitiated', 'true'],
    ['HWDevID', device.hwDevId],
    ['Locale', 'en-US'],
    ['TargetedUserLoggedIn', 'true'],
    ['OSEdition', String(device.osEdition)],
    ['DeviceName', device.deviceName],
    ...device.macAddresses.map((m): [string, string] => ['MAC', m]),
    ['DeviceID', device.deviceId],
    ['EnrollmentType', enrollmentType],
    ['DeviceType', 'CIMClient_Windows'],
    ['OSVersion', device.osVersion],
    ['ApplicationVersion', device.osVersion],
    ['NotInOobe', 'false'],
  ];
  if (requestVersion && Number.parseFloat(requestVersion) >= 5) items.push(['RequestVersion', requestVersion]);
  return items;
}

/** What the web authentication broker does: show the page, post the form, take `wresult` from the handoff. */
async function federatedSignIn(discovery: DiscoverResponse, opts: EnrollOptions): Promise<string> {
  const authUrl = discovery.authenticationServiceUrl;
  if (!authUrl) throw new EnrollmentFailed('sign-in', 'Federated without AuthenticationServiceUrl', { hresult: 0x8018000f });
  const pageUrl = new URL(authUrl);
  pageUrl.searchParams.set('appru', APPRU);
  pageUrl.searchParams.set('login_hint', opts.upn);
  const page = await call('sign-in', { method: 'GET', url: pageUrl.toString(), agent: opts.agent });
  if (page.status !== 200) throw new EnrollmentFailed('sign-in', `sign-in page answered HTTP ${page.status}`, { hresult: 0x8018000f });
  const html = page.body.toString('utf8');
  for (const field of ['username', 'password']) {
    if (!new RegExp(`name="${field}"`).test(html)) throw new EnrollmentFailed('sign-in', `sign-in page has no ${field} field`);
  }
  const form = new URLSearchParams({ appru: APPRU, username: opts.upn, password: opts.password });
  const posted = await call('sign-in', {
    method: 'POST',
    url: pageUrl.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    agent: opts.agent,
  });
  let handoff = posted.body.toString('utf8');
  if (/name="otp"/.test(handoff)) handoff = await secondFactor(pageUrl, handoff, opts);
  const action = /<form[^>]*method="post"[^>]*action="([^"]*)"/i.exec(handoff)?.[1];
  const wresult = /<input[^>]*name="wresult"[^>]*value="([^"]*)"/i.exec(handoff)?.[1];
  if (!wresult) {
    const alert = /role="alert"[^>]*>([^<]*)</.exec(handoff)?.[1];
    throw new EnrollmentFailed('sign-in', `sign-in refused${alert ? `: ${unescapeHtml(alert)}` : ''}`, { hresult: 0x80180002 });
  }
  if (unescapeHtml(action ?? '') !== APPRU) throw new EnrollmentFailed('sign-in', `token form posts to ${action}, not to appru`);
  return unescapeHtml(wresult);
}

/** The code step after a correct password: the page's signed state and a code from the user's app. */
async function secondFactor(pageUrl: URL, html: string, opts: EnrollOptions): Promise<string> {
  if (!opts.totp)
    throw new EnrollmentFailed('sign-in', 'the sign-in page asks for a one-time code (MFA) and no authenticator was given', {
      hresult: 0x80180002,
    });
  const state = /<input[^>]*name="state"[^>]*value="([^"]*)"/i.exec(html)?.[1];
  if (!state) throw new EnrollmentFailed('sign-in', 'the code step carries no state');
  const form = new URLSearchParams({ appru: APPRU, state: unescapeHtml(state), otp: await opts.totp() });
  const posted = await call('sign-in', {
    method: 'POST',
    url: pageUrl.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    agent: opts.agent,
  });
  return posted.body.toString('utf8');
}

function checkProvisioning(xml: string, device: SimulatedDevice, enrollmentType: 'Full' | 'Device') {
  const fail = (msg: string, hresult: number): never => {
    throw new EnrollmentFailed('provisioning', msg, { hresult });
  };
  let doc: ProvisioningDocView;
  try {
    doc = decodeProvisioningDoc(xml);
  } catch (err) {
    throw new EnrollmentFailed('provisioning', `provisioning document unreadable: ${(err as Error).message}`, {
      hresult: 0x80180023,
      cause: err,
    });
  }
  const CERTSTORE = 0x8018001e;
  const W7 = 0x8018001f;
  const DMCLIENT = 0x80180020;
  if (doc.rootCerts.length !== 1) fail(`expected one root certificate, got ${doc.rootCerts.length}`, CERTSTORE);
  const rootEntry = doc.rootCerts[0] as (typeof doc.rootCerts)[number];
  if (sha1Thumbprint(rootEntry.der) !== rootEntry.thumbprint) fail('root thumbprint does not match its certificate', CERTSTORE);
  const store = enrollmentType === 'Device' ? 'System' : 'User';
  const mine = doc.myCerts.filter((c) => c.store === store);
  if (mine.length !== 1 || doc.myCerts.length !== 1) fail(`expected the client certificate in My/${store}`, CERTSTORE);
  const myEntry = mine[0] as (typeof mine)[number];
  if (!myEntry.hasPrivateKeyContainer) fail('My store has no PrivateKeyContainer', CERTSTORE);
  if (sha1Thumbprint(myEntry.der) !== myEntry.thumbprint) fail('client thumbprint does not match its certificate', CERTSTORE);

  const root = rootCertificate(rootEntry.der);
  const certificate = new X509Certificate(myEntry.der);
  if (!spkiOf(certificate.publicKey).equals(spkiOf(device.publicKey))) fail('certificate key is not the key of the CSR', CERTSTORE);
  if (!certificate.checkIssued(root) || !certificate.verify(root.publicKey))
    fail('certificate does not chain to the provisioned root', CERTSTORE);
  if (!root.ca) fail('provisioned root is not a CA', CERTSTORE);
  if (!(certificate.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.2')) fail('certificate lacks the clientAuth EKU', CERTSTORE);
  if (Date.parse(certificate.validFrom) > Date.now() + 5 * 60_000) fail('certificate is not yet valid', CERTSTORE);

  const w7 = doc.w7;
  if (w7.APPID?.value !== 'w7') fail('w7 APPLICATION missing', W7);
  const addr = w7.ADDR?.value;
  if (!addr?.startsWith('https://')) fail('w7 ADDR is not an https URL', W7);
  const providerId = w7['PROVIDER-ID']?.value;
  if (!providerId) fail('w7 PROVIDER-ID missing', W7);
  if (doc.appAuth.length < 2) fail('w7 needs CLIENT and APPSRV APPAUTH blocks', W7);
  if (doc.dmClient?.providerId !== providerId) fail('DMClient provider differs from PROVIDER-ID', DMCLIENT);
  return { certificate, root, store: store as 'User' | 'System', managementUrl: addr as string, provisioning: doc };
}

// Every enrollment against one server provisions the same root; node's X509Certificate parses eagerly
// (~140 µs), so the last one is kept and reused when the bytes are identical (the object is immutable).
let lastRoot: { der: Buffer; certificate: X509Certificate } | undefined;

function rootCertificate(der: Buffer): X509Certificate {
  if (lastRoot?.der.equals(der)) return lastRoot.certificate;
  const certificate = new X509Certificate(der);
  lastRoot = { der: Buffer.from(der), certificate };
  return certificate;
}

/** One HTTPS exchange, transport failures reported as the HRESULT Windows would show. */
export async function call(step: EnrollmentStep, req: Parameters<typeof request>[0]): Promise<HttpResponse> {
  try {
    return await request({ ...req, strictFraming: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const hresult = /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|ERR_TLS/.test(code) ? 0x80180012 : 0x80180010;
    throw new EnrollmentFailed(step, `${req.method} ${req.url}: ${(err as Error).message}`, { hresult, cause: err });
  }
}

/** One SOAP exchange: faults become EnrollmentFailed with Windows' HRESULT. */
export async function soap<T>(
  step: EnrollmentStep,
  url: string,
  xml: string,
  agent: https.Agent,
  decode: (env: ReturnType<typeof decodeSoapEnvelope>) => T,
): Promise<T> {
  const res = await call(step, { method: 'POST', url, headers: SOAP_HEADERS, body: xml, agent });
  if (res.body.length === 0) throw new EnrollmentFailed(step, `empty HTTP ${res.status} response`, { hresult: 0x80180029 });
  try {
    return decode(decodeSoapEnvelope(res.body));
  } catch (err) {
    if (err instanceof ReceivedFaultError) {
      const f = err.fault;
      throw new EnrollmentFailed(step, `server refused: ${f.reason}`, {
        hresult: windowsHResultForFault(f),
        ...(f.subcode ? { subcode: f.subcode } : {}),
        ...(f.errorType ? { errorType: f.errorType } : {}),
        ...(f.traceId ? { traceId: f.traceId } : {}),
        cause: err,
      });
    }
    if (err instanceof MalformedResponseError || res.status !== 200) {
      throw new EnrollmentFailed(step, `unusable response (HTTP ${res.status}): ${(err as Error).message}`, {
        hresult: windowsHResultForUnparsedFault(res.status),
        cause: err,
      });
    }
    throw new EnrollmentFailed(step, `unreadable response: ${(err as Error).message}`, {
      hresult: windowsHResultForUnparsedFault(res.status),
      cause: err,
    });
  }
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
