/**
 * The three SOAP endpoints a Windows device calls to enroll: Discovery (MS-MDE2 3.1), policy (MS-XCEP)
 * and certificate enrollment (MS-WSTEP). Each takes the raw request body and always returns SOAP: the
 * response, or the fault Windows understands (protocol.md 9). Transports only move the bytes.
 */
import { randomBytes } from 'node:crypto';
import { type CertificateAuthority } from '../../pki/authority.js';
import { randomSerial } from '../../pki/serial.js';
import { CertificateRequestError, assertAcceptableKey, parseCertificateRequest, verifyCertificateRequest } from '../../pki/windows-csr.js';
import { decodeDiscoverRequest, encodeDiscoverResponse, negotiateEnrollmentVersion } from '../../protocol/mde2/discover.js';
import { decodeSoapEnvelope } from '../../protocol/soap/envelope.js';
import { SoapFault, encodeSoapFault } from '../../protocol/soap/fault.js';
import { ACTIONS, VALUE_TYPES } from '../../protocol/soap/namespaces.js';
import type { WsSecurityToken } from '../../protocol/soap/ws-security.js';
import { decodeGetPoliciesRequest, encodeGetPoliciesResponse } from '../../protocol/xcep/get-policies.js';
import { decodeRequestSecurityToken } from '../../protocol/wstep/request-security-token.js';
import { encodeProvisioningDoc } from '../../protocol/wstep/provisioning-doc.js';
import { encodeRequestSecurityTokenResponse } from '../../protocol/wstep/response.js';
import { parseXml } from '../../protocol/xml/reader.js';
import { XmlError } from '../../protocol/xml/errors.js';
import type { Clock } from '../../shared/clock.js';
import { ConflictError, WinrollError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { AuthPolicy, EnrollmentType, Storage, User } from '../ports.js';
import type { EnrollmentUrls } from './endpoints.js';
import type { EnrollmentTokenClaims, EnrollmentTokens } from './enrollment-token.js';

/** The DMClient provider id and w7 PROVIDER-ID; must stay stable for every device we ever enroll. */
export const PROVIDER_ID = 'Winroll';

/** Minimum RSA key size we ask for in policy and enforce on CSRs. */
export const MINIMUM_KEY_BITS = 2048;

/**
 * Poll schedule delivered through DMClient: frequent check-ins right after enrollment (policies land
 * quickly), then a few hours apart. Minutes, as the DMClient CSP defines them.
 */
export const POLL_SCHEDULE = {
  numberOfFirstRetries: 10,
  intervalForFirstSetOfRetries: 3,
  numberOfSecondRetries: 6,
  intervalForSecondSetOfRetries: 30,
  numberOfRemainingScheduledRetries: 0,
  intervalForRemainingScheduledRetries: 480,
  pollOnLogin: true,
  allUsersPollOnFirstLogin: true,
} as const;

export interface SoapResult {
  xml: string;
  /** Set when the answer is a fault, for the transport's log line. */
  fault?: { subcode: string; errorType?: string | undefined; message: string; detail?: string | undefined };
  /** Facts worth logging on success. */
  info?: Record<string, unknown>;
}

export interface EnrollmentServiceDeps {
  storage: Storage;
  directory: DirectoryService;
  tokens: EnrollmentTokens;
  ca: CertificateAuthority;
  clock: Clock;
  logger: Logger;
  urls: () => EnrollmentUrls;
  organizationName: string;
  deviceCertValidityDays: number;
}

interface Authenticated {
  user: User;
  via: 'password' | 'token';
  token?: EnrollmentTokenClaims;
}

const DEVICE_ID = /^(?:[0-9A-Fa-f]{32}|\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?)$/;
const HW_DEV_ID = /^[0-9A-Fa-f]{16,128}$/;

export class EnrollmentService {
  readonly #d: EnrollmentServiceDeps;

  constructor(deps: EnrollmentServiceDeps) {
    this.#d = deps;
  }

  /** POST Discovery.svc: which auth policy and which URLs, for the domain of the address the user typed. */
  discover(body: Buffer, traceId: string): Promise<SoapResult> {
    return this.#answer(ACTIONS.discoverResponse, traceId, body, async (envelope) => {
      const req = decodeDiscoverRequest(envelope);
      const enrollmentVersion = negotiateEnrollmentVersion(req.requestVersion);
      const domainName = req.emailAddress.includes('@') ? req.emailAddress.slice(req.emailAddress.lastIndexOf('@') + 1) : '';
      const domain = domainName ? await this.#d.directory.findDomain(domainName) : undefined;
      if (!domain) {
        throw new SoapFault({
          subcode: 'Authorization',
          errorType: 'NotSupported',
          message: `Device management is not set up for ${domainName || 'this account'}. Check the address you typed, or ask your IT administrator to add the domain to Winroll.`,
        });
      }
      const offered = req.authPolicies.map((p) => p.toLowerCase());
      if (!offered.includes(domain.authPolicy.toLowerCase())) {
        throw new SoapFault({
          subcode: 'Authorization',
          errorType: 'NotSupported',
          message: `${domain.name} requires ${domain.authPolicy === 'Federated' ? 'web sign-in' : 'password sign-in'}, which this version of Windows did not offer.`,
        });
      }
      const urls = this.#d.urls();
      return {
        xml: encodeDiscoverResponse({
          relatesTo: req.messageId,
          activityId: traceId,
          authPolicy: domain.authPolicy,
          enrollmentVersion,
          policyServiceUrl: urls.policy,
          enrollmentServiceUrl: urls.enrollment,
          ...(domain.authPolicy === 'Federated' ? { authenticationServiceUrl: urls.authentication } : {}),
        }),
        info: { domain: domain.name, authPolicy: domain.authPolicy, requestVersion: req.requestVersion, enrollmentVersion },
      };
    });
  }

  /** POST Policy.svc: authenticate, then describe the key and hash Windows must use for its CSR. */
  getPolicies(body: Buffer, traceId: string): Promise<SoapResult> {
    return this.#answer(ACTIONS.getPoliciesResponse, traceId, body, async (envelope) => {
      const req = decodeGetPoliciesRequest(envelope);
      const auth = await this.#authenticate(req.security);
      const validitySeconds = this.#d.deviceCertValidityDays * 86400;
      return {
        xml: encodeGetPoliciesResponse({
          relatesTo: req.messageId,
          activityId: traceId,
          minimalKeyLength: MINIMUM_KEY_BITS,
          validitySeconds,
          renewalSeconds: Math.floor(validitySeconds / 2),
        }),
        info: { upn: auth.user.upn, via: auth.via },
      };
    });
  }

  /** POST Enrollment.svc: authenticate, check the CSR, issue the device certificate, provision. */
  requestSecurityToken(body: Buffer, traceId: string): Promise<SoapResult> {
    return this.#answer(ACTIONS.requestSecurityTokenResponse, traceId, body, async (envelope) => {
      const req = decodeRequestSecurityToken(envelope);
      const auth = await this.#authenticate(req.security);
      if (req.requestType === 'Renew') {
        throw new SoapFault({
          subcode: 'Authorization',
          errorType: 'NotEligibleToRenew',
          message: 'This server does not renew certificates yet; re-enroll the device.',
        });
      }
      if (req.requestType !== 'Issue') {
        throw new SoapFault({ subcode: 'Authorization', errorType: 'NotSupported', message: 'Enrollment recovery is not supported.' });
      }
      if (!req.binaryToken.valueType.endsWith('#PKCS10')) {
        throw new SoapFault({ subcode: 'MessageFormat', message: 'An enrollment request must carry a PKCS#10 certificate request.' });
      }

      const ctx = req.context;
      const deviceIdRaw = ctx.get('DeviceID');
      if (!deviceIdRaw || !DEVICE_ID.test(deviceIdRaw)) {
        throw new SoapFault({ subcode: 'MessageFormat', message: 'The DeviceID context item is missing or malformed.' });
      }
      const deviceId = deviceIdRaw.replace(/[{}]/g, '').toUpperCase();
      const hwDevIdRaw = ctx.get('HWDevID');
      const hwDevId = hwDevIdRaw && HW_DEV_ID.test(hwDevIdRaw) ? hwDevIdRaw.toUpperCase() : null;
      const enrollmentType = parseEnrollmentType(ctx.get('EnrollmentType'));

      const csr = parseAndCheckCsr(req.binaryToken.value, deviceId);

      // Everything about the request is valid: only now spend a one-time token, so a retry after a
      // malformed request does not force the user to sign in again.
      if (auth.token && !(await this.#d.storage.spendToken(auth.token.jti, auth.token.expiresAt, this.#d.clock.now()))) {
        throw new SoapFault({ subcode: 'Authentication', message: 'This sign-in was already used to enroll a device. Sign in again.' });
      }

      const now = this.#d.clock.now();
      const notAfter = new Date(now.getTime() + this.#d.deviceCertValidityDays * 86400_000);
      const osEditionRaw = ctx.get('OSEdition');
      const osEdition = osEditionRaw && /^\d{1,5}$/.test(osEditionRaw) ? Number(osEditionRaw) : null;
      const certStore = enrollmentType === 'Device' ? 'System' : 'User';

      // Serials are 128 random bits; the unique index is the backstop, so one retry covers a collision.
      for (let attempt = 0; ; attempt++) {
        const cert = this.#d.ca.issueDeviceCertificate({
          subjectCommonName: deviceId,
          publicKeySpki: csr.publicKeySpki,
          serial: randomSerial(randomBytes),
          notBefore: now,
          notAfter,
        });
        try {
          const recorded = await this.#d.storage.recordEnrollment({
            deviceId,
            hwDevId,
            userId: auth.user.id,
            upn: auth.user.upn,
            enrollmentType,
            authPolicy: auth.via === 'token' ? 'Federated' : 'OnPremise',
            deviceName: clip(ctx.get('DeviceName'), 64),
            osVersion: clip(ctx.get('OSVersion'), 64),
            osEdition,
            locale: clip(ctx.get('Locale'), 32),
            macAddresses: ctx.getAll('MAC').slice(0, 32).map((m) => m.slice(0, 32)),
            certSerial: cert.serialHex,
            certThumbprint: cert.thumbprint,
            certNotBefore: cert.notBefore,
            certNotAfter: cert.notAfter,
            certDer: cert.der,
            now,
          });
          const doc = encodeProvisioningDoc({
            rootCertificate: { thumbprint: this.#d.ca.thumbprint, der: this.#d.ca.certDer },
            clientCertificate: { thumbprint: cert.thumbprint, der: cert.der },
            certStore,
            providerId: PROVIDER_ID,
            name: this.#d.organizationName,
            managementUrl: this.#d.urls().management,
            clientCertSubjectCommonName: deviceId,
            clientNonce: randomBytes(16).toString('base64'),
            serverNonce: randomBytes(16).toString('base64'),
            entDeviceName: ctx.get('DeviceName') ?? deviceId,
            upn: auth.user.upn,
            entDmId: deviceId,
            poll: POLL_SCHEDULE,
          });
          return {
            xml: encodeRequestSecurityTokenResponse({
              relatesTo: req.messageId,
              activityId: traceId,
              provisioningDocXml: doc,
              created: now,
              expires: new Date(now.getTime() + 5 * 60_000),
            }),
            info: {
              upn: auth.user.upn,
              deviceId,
              enrollmentType,
              certSerial: cert.serialHex,
              superseded: recorded.superseded.length,
              sharedHwDevIdWith: recorded.sharedHwDevIdWith,
            },
          };
        } catch (err) {
          if (err instanceof ConflictError && attempt === 0) continue;
          throw err;
        }
      }
    });
  }

  async #authenticate(token: WsSecurityToken | undefined): Promise<Authenticated> {
    if (!token) {
      throw new SoapFault({ subcode: 'InvalidSecurity', message: 'The request carries no WS-Security credentials.' });
    }
    if (token.kind === 'username') {
      const result = await this.#d.directory.signIn(token.username, token.password);
      if (!result.ok) {
        throw new SoapFault({ subcode: 'Authentication', message: 'The user name or password is incorrect.', detail: `sign-in refused: ${result.reason}` });
      }
      const domain = await this.#d.directory.findDomain(result.user.upn.slice(result.user.upn.lastIndexOf('@') + 1));
      if (domain?.authPolicy !== 'OnPremise') {
        // The admin chose web sign-in for this domain; a bare password must not bypass it.
        throw new SoapFault({ subcode: 'Authentication', message: 'Your organisation requires web sign-in for enrollment.', detail: 'password token for a federated domain' });
      }
      return { user: result.user, via: 'password' };
    }
    if (token.valueType === VALUE_TYPES.deviceEnrollmentUserToken) {
      const check = await this.#d.tokens.verify(token.value.toString('utf8'));
      if (!check.ok) {
        throw new SoapFault({
          subcode: 'Authentication',
          message: check.reason === 'expired' ? 'Your sign-in has expired. Sign in again.' : 'The sign-in token is not valid.',
          detail: `enrollment token ${check.reason}`,
        });
      }
      const user = await this.#d.directory.getUserById(check.claims.userId);
      if (!user || !user.enabled || user.upn !== check.claims.upn) {
        throw new SoapFault({ subcode: 'Authentication', message: 'The account behind this sign-in is no longer allowed to enroll.', detail: 'token user missing or disabled' });
      }
      return { user, via: 'token', token: check.claims };
    }
    throw new SoapFault({ subcode: 'Authentication', message: 'This kind of credential is not accepted by this server.', detail: `token value type ${token.valueType}` });
  }

  /** Runs one endpoint: parse, handle, and turn every refusal into the fault Windows parses. */
  async #answer(
    action: string,
    traceId: string,
    body: Buffer,
    handle: (envelope: ReturnType<typeof decodeSoapEnvelope>) => Promise<Omit<SoapResult, 'fault'>>,
  ): Promise<SoapResult> {
    let relatesTo: string | undefined;
    try {
      const envelope = decodeSoapEnvelope(parseXml(body));
      relatesTo = envelope.messageId;
      return await handle(envelope);
    } catch (err) {
      const fault = toSoapFault(err);
      if (!(err instanceof SoapFault) && !(err instanceof XmlError)) {
        this.#d.logger.error({ err, traceId }, 'enrollment endpoint failed');
      }
      return {
        xml: encodeSoapFault({ fault, action, ...(relatesTo ? { relatesTo } : {}), traceId }),
        fault: { subcode: fault.subcode, errorType: fault.errorType, message: fault.message, detail: fault.detail },
      };
    }
  }
}

function toSoapFault(err: unknown): SoapFault {
  if (err instanceof SoapFault) return err;
  if (err instanceof XmlError) return new SoapFault({ subcode: 'MessageFormat', message: 'The request is not well-formed XML.', detail: err.message });
  if (err instanceof CertificateRequestError) return csrFault(err);
  if (err instanceof WinrollError && err.code === 'storage_unavailable') {
    return new SoapFault({ subcode: 'EnrollmentServer', message: 'The enrollment server is temporarily unavailable. Try again later.', detail: err.message });
  }
  return new SoapFault({ subcode: 'InternalServiceFault', message: 'The enrollment server hit an unexpected error.', detail: err instanceof Error ? err.message : String(err) });
}

function csrFault(err: CertificateRequestError): SoapFault {
  const messages: Record<string, string> = {
    key_too_small: `The device key is too short; at least ${MINIMUM_KEY_BITS}-bit RSA is required.`,
    bad_signature: 'The certificate request signature does not verify.',
    malformed: 'The certificate request could not be read.',
    unsupported_algorithm: 'The certificate request uses an unsupported signature algorithm.',
    unsupported_key_type: 'The certificate request must use an RSA key.',
    device_mismatch: 'The certificate request names a different device.',
  };
  return new SoapFault({ subcode: 'CertificateRequest', message: messages[err.reason] ?? 'The certificate request was refused.', detail: err.message });
}

function parseAndCheckCsr(der: Buffer, deviceId: string) {
  const csr = parseCertificateRequest(der);
  verifyCertificateRequest(csr);
  assertAcceptableKey(csr, MINIMUM_KEY_BITS);
  if (csr.publicKeyAlgorithm !== 'rsa') throw new CertificateRequestError('unsupported_key_type', 'device keys must be RSA');
  const extId = csr.deviceIdExtension?.replace(/[{}]/g, '').toUpperCase();
  if (extId && extId !== deviceId) {
    throw new CertificateRequestError('device_mismatch', `CSR names device ${extId}, context names ${deviceId}`);
  }
  return csr;
}

function parseEnrollmentType(raw: string | undefined): EnrollmentType {
  if (raw === undefined) return 'Full';
  const v = raw.trim().toLowerCase();
  if (v === 'full') return 'Full';
  if (v === 'device') return 'Device';
  throw new SoapFault({ subcode: 'MessageFormat', message: `Unknown EnrollmentType "${raw.slice(0, 32)}".` });
}

function clip(v: string | undefined, max: number): string | null {
  return v === undefined || v === '' ? null : v.slice(0, max);
}

export type { AuthPolicy };
