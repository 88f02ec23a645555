/**
 * Certificate renewal as Windows does it unattended (ROBO; MS-MDE2 §3.5, protocol.md §8.3): over TLS
 * with the current MDM certificate, a PKCS#10 for a new key wrapped in a PKCS#7 signed with the current
 * key, posted as a Renew RequestSecurityToken to CertificateStore/My/WSTEP/Renew/ServerURL; then the
 * checks the certificate-store CSP would make on the answer, which must hold only the new certificate.
 */
import { type KeyObject, X509Certificate, randomUUID } from 'node:crypto';
import type https from 'node:https';
import { buildRenewalRequest } from '../pki/renewal-request.js';
import { spkiOf } from '../pki/spki.js';
import { sha1Thumbprint } from '../pki/thumbprint.js';
import { buildWindowsCsr } from '../pki/windows-csr.js';
import { type ProvisioningDocView, decodeProvisioningDoc } from '../protocol/wstep/provisioning-doc.js';
import { encodeRequestSecurityToken } from '../protocol/wstep/request-security-token.js';
import { decodeRequestSecurityTokenResponse } from '../protocol/wstep/response.js';
import type { SimulatedDevice } from './device.js';
import { generateDeviceKey } from './device.js';
import { EnrollmentFailed, soap } from './enroll.js';
import { createAgent } from './https-client.js';

const RENEW_MESSAGE_ID = 'urn:uuid:61a17f2c-42e9-4a45-9c85-f15c1c8baee8';
const CLOCK_SKEW_MS = 5 * 60_000;

export interface RenewOptions {
  /** CertificateStore/My/WSTEP/Renew/ServerURL from the enrollment's provisioning document. */
  serverUrl: string;
  device: SimulatedDevice;
  /** The certificate being renewed and its key (the device key it was issued for). */
  certificate: X509Certificate;
  privateKey: KeyObject;
  /** The enrollment root it must chain to (from the enrollment's provisioning document). */
  root: X509Certificate;
  enrollmentType?: 'Full' | 'Device';
  /** Trust anchor for the server's TLS certificate; used to build the mTLS agent. */
  tlsCaPem?: string | undefined;
  /** Use this agent instead (tests: no client certificate, or someone else's). */
  agent?: https.Agent;
  /** The key pair to certify. Default: a fresh RSA-2048 pair, as Windows makes a new key to renew. */
  newKey?: { privateKey: KeyObject; publicKey: KeyObject };
  /** CMS digest; see buildRenewalRequest. */
  digest?: 'sha1' | 'sha256';
  /** Send these PKCS#7 bytes instead of the ones built here (tests). */
  pkcs7?: Buffer;
  /** Replaces the ContextItems (tests). */
  context?: Array<[string, string]>;
  /** "Now" for the NotBefore check (the server's clock in tests that move it). Default: Date.now(). */
  now?: Date;
}

export interface RenewalOutcome {
  certificate: X509Certificate;
  privateKey: KeyObject;
  publicKey: KeyObject;
  store: 'User' | 'System';
  provisioning: ProvisioningDocView;
  provisioningXml: string;
}

export async function renew(opts: RenewOptions): Promise<RenewalOutcome> {
  const enrollmentType = opts.enrollmentType ?? 'Full';
  const newKey = opts.newKey ?? generateDeviceKey();
  const csrDer = buildWindowsCsr({
    privateKey: newKey.privateKey,
    publicKey: newKey.publicKey,
    deviceId: opts.device.deviceId,
    requestGuid: randomUUID(),
  });
  const pkcs7 =
    opts.pkcs7 ??
    buildRenewalRequest({
      oldCertDer: opts.certificate.raw,
      oldKey: opts.privateKey,
      newCsrDer: csrDer,
      ...(opts.digest ? { digest: opts.digest } : {}),
    });
  const rstXml = encodeRequestSecurityToken({
    messageId: RENEW_MESSAGE_ID,
    to: opts.serverUrl,
    csrDer: pkcs7,
    requestType: 'Renew',
    context: opts.context ?? [
      ['DeviceType', 'CIMClient_Windows'],
      ['ApplicationVersion', opts.device.osVersion],
      ['DeviceID', opts.device.deviceId],
      ['EnrollmentType', enrollmentType],
    ],
  });
  const agent =
    opts.agent ??
    createAgent({
      ca: opts.tlsCaPem,
      keepAlive: false,
      cert: opts.certificate.toString(),
      key: opts.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    });
  try {
    const provisioningXml = await soap('renew', opts.serverUrl, rstXml, agent, decodeRequestSecurityTokenResponse);
    const store = enrollmentType === 'Device' ? 'System' : 'User';
    const { certificate, provisioning } = checkRenewal(provisioningXml, opts, store, newKey.publicKey);
    return { certificate, privateKey: newKey.privateKey, publicKey: newKey.publicKey, store, provisioning, provisioningXml };
  } finally {
    if (!opts.agent) agent.destroy();
  }
}

function checkRenewal(xml: string, opts: RenewOptions, store: 'User' | 'System', newPublicKey: KeyObject) {
  const CERTSTORE = 0x8018001e;
  const fail = (msg: string): never => {
    throw new EnrollmentFailed('provisioning', msg, { hresult: CERTSTORE });
  };
  let doc: ProvisioningDocView;
  try {
    doc = decodeProvisioningDoc(xml);
  } catch (err) {
    throw new EnrollmentFailed('provisioning', `renewal document unreadable: ${(err as Error).message}`, {
      hresult: 0x80180023,
      cause: err,
    });
  }
  // Only the new certificate (protocol.md §8.3): no Root, no APPLICATION, no DMClient, no schedule.
  if (doc.rootCerts.length > 0 || doc.caCerts.length > 0) fail('a renewal document must not provision CA certificates');
  if (Object.keys(doc.w7).length > 0 || doc.appAuth.length > 0) fail('a renewal document must not carry the w7 APPLICATION');
  if (doc.dmClient !== undefined || doc.renewal !== undefined) fail('a renewal document must carry only the new certificate');
  const mine = doc.myCerts.filter((c) => c.store === store);
  if (mine.length !== 1 || doc.myCerts.length !== 1) fail(`expected exactly the new certificate in My/${store}`);
  const entry = mine[0] as (typeof mine)[number];
  if (!entry.hasPrivateKeyContainer) fail('My store has no PrivateKeyContainer');
  if (sha1Thumbprint(entry.der) !== entry.thumbprint) fail('certificate thumbprint does not match its certificate');

  const certificate = new X509Certificate(entry.der);
  if (!spkiOf(certificate.publicKey).equals(spkiOf(newPublicKey))) fail('certificate key is not the key of the new CSR');
  if (!certificate.checkIssued(opts.root) || !certificate.verify(opts.root.publicKey))
    fail('certificate does not chain to the enrollment root');
  if (!(certificate.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.2')) fail('certificate lacks the clientAuth EKU');
  // SSLCLIENTCERTSEARCHCRITERIA finds the certificate by subject: it must not change.
  if (certificate.subject !== opts.certificate.subject) fail(`subject changed from ${opts.certificate.subject} to ${certificate.subject}`);
  if (certificate.serialNumber === opts.certificate.serialNumber) fail('the renewed certificate reuses the old serial');
  const now = (opts.now ?? new Date()).getTime();
  const notBefore = Date.parse(certificate.validFrom);
  if (notBefore > now + CLOCK_SKEW_MS) fail('certificate is not yet valid');
  if (notBefore < now - CLOCK_SKEW_MS) fail(`certificate is back-dated to ${certificate.validFrom}`);
  return { certificate, provisioning: doc };
}
