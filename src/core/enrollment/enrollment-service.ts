/**
 * The three SOAP endpoints a Windows device calls to enroll: Discovery (MS-MDE2 3.1), policy (MS-XCEP)
 * and certificate enrollment (MS-WSTEP). Each takes the raw request body and always returns SOAP: the
 * response, or the fault Windows understands (protocol.md 9). Transports only move the bytes.
 */
import { randomBytes } from 'node:crypto';
import type { CertificateAuthority, IssuedCertificate } from '../../pki/authority.js';
import { openRenewalRequest } from '../../pki/renewal-request.js';
import { randomSerial } from '../../pki/serial.js';
import { CertificateRequestError, assertAcceptableKey, parseCertificateRequest, verifyCertificateRequest } from '../../pki/windows-csr.js';
import { decodeDiscoverRequest, encodeDiscoverResponse, negotiateEnrollmentVersion } from '../../protocol/mde2/discover.js';
import type { decodeSoapEnvelope } from '../../protocol/soap/envelope.js';
import { SoapFault } from '../../protocol/soap/fault.js';
import { ACTIONS, VALUE_TYPES } from '../../protocol/soap/namespaces.js';
import type { WsSecurityToken } from '../../protocol/soap/ws-security.js';
import { decodeGetPoliciesRequest, encodeGetPoliciesResponse } from '../../protocol/xcep/get-policies.js';
import { decodeRequestSecurityToken } from '../../protocol/wstep/request-security-token.js';
import { encodeProvisioningDoc, encodeRenewalProvisioningDoc } from '../../protocol/wstep/provisioning-doc.js';
import type { Clock } from '../../shared/clock.js';
import { ConflictError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { DirectoryTokens } from '../entra/directory-token.js';
import type { Decision, EnrollmentMethod } from '../policy/decide.js';
import type { EnrollmentPolicy } from '../policy/enrollment-policy.js';
import { DeviceAuthenticator } from '../management/device-auth.js';
import type { AuthPolicy, EnrollmentHow, EnrollmentType, Storage, User } from '../ports.js';
import type { EnrollmentUrls } from './endpoints.js';
import type { EnrollmentTokenClaims, EnrollmentTokens } from './enrollment-token.js';
import {
  type SoapResult,
  answerSoap,
  clip,
  deviceIdOf,
  enrollmentTypeOf,
  hwDevIdOf,
  provisioningResponse,
  toSoapFault,
  verifyDirectoryToken,
  verifyTermsBlob,
} from './soap-steps.js';
import type { TermsOfUse } from './terms-of-use.js';
import { primaryUserFor } from '../management/primary-user.js';

/** `contoso.com` for a Host header `EnterpriseEnrollment.contoso.com[:443]`; undefined for any other name. */
export function enrollmentDomainOfHost(host: string | undefined): string | undefined {
  const name = host?.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const m = name ? /^enterpriseenrollment\.(.+)$/.exec(name) : null;
  return m?.[1];
}

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

/**
 * When Windows renews its MDM certificate (ROBO, CertificateStore/My/WSTEP/Renew), in days.
 *
 * - RenewPeriod 42 (how long before expiry the device starts): the CertificateStore CSP's default and
 *   inside the 40-60 days Microsoft recommends, because Windows never renews an expired certificate; for
 *   a 365-day certificate the window opens on day 323. It is capped at a quarter of the validity so a new
 *   certificate is never born inside its own window (Fleet back-dated certificates into the window and
 *   every host retried forever, peers.md §4 item 7).
 * - RetryInterval 5 (days between attempts after a failure): Microsoft recommends every 4-5 days rather
 *   than weekly so attempts fall on different weekdays; 5 is coprime with 7, so seven attempts cover
 *   all seven weekdays (a PC used only on Mondays still gets one), and 42 days leave room for eight.
 */
export function renewalScheduleFor(validityDays: number): { renewPeriodDays: number; retryIntervalDays: number } {
  const renewPeriodDays = Math.max(1, Math.min(42, Math.floor(validityDays / 4)));
  return { renewPeriodDays, retryIntervalDays: Math.max(1, Math.min(5, Math.floor(renewPeriodDays / 4))) };
}

/**
 * How much earlier than its RenewPeriod a device may ask: Windows decides from its own clock and
 * RenewPeriod is in whole days, so a day of slack keeps a slightly fast clock from wasting a RetryInterval.
 */
export const RENEWAL_EARLY_SLACK_MS = 86_400_000;

export type { SoapResult };

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
  /** Defaults to renewalScheduleFor(deviceCertValidityDays). */
  renewal?: { renewPeriodDays: number; retryIntervalDays: number };
  /**
   * Whether a user must give a second factor (core/mfa). Windows asks an OnPremise (UsernameToken)
   * domain's users only for a password, so such users are refused: their domain must use web sign-in.
   */
  secondFactor?: { isRequiredFor(user: User): Promise<boolean> };
  /** Who may enroll: licenses, scopes, restrictions; every attempt is recorded with its reasons. */
  policy: EnrollmentPolicy;
  /** Entra ID directory tokens (automatic enrollment); without it such tokens are refused. */
  directoryTokens?: DirectoryTokens;
  /**
   * Checks the OpaqueBlob of the terms-of-use page, which Windows returns as the ContextItem
   * `EnrollmentData` with a directory token. Optional: "add work account" skips the page.
   */
  termsOfUse?: Pick<TermsOfUse, 'verifyBlob'>;
}

interface Authenticated {
  user: User;
  via: 'password' | 'token' | 'directory';
  token?: EnrollmentTokenClaims;
  /** The Entra tenant of a directory token. */
  tenantId?: string;
  /** The Entra device id a directory token names (`deviceid`): re-joins land on the same record (S16). */
  entraDeviceId?: string | null;
}

export class EnrollmentService {
  readonly #d: EnrollmentServiceDeps;
  readonly #renewal: { renewPeriodDays: number; retryIntervalDays: number };
  /** The management channel's certificate check, shared so renewal and sessions agree on who a device is. */
  readonly #certificates: DeviceAuthenticator;

  constructor(deps: EnrollmentServiceDeps) {
    this.#d = deps;
    this.#renewal = deps.renewal ?? renewalScheduleFor(deps.deviceCertValidityDays);
    this.#certificates = new DeviceAuthenticator({ caCertPem: deps.ca.certPem, store: deps.storage, clock: deps.clock });
  }

  /**
   * POST Discovery.svc: which auth policy and which URLs, for the domain of the address the user typed.
   * `host` is the request's Host header: `enterpriseenrollment.<domain>` when Windows came through the
   * CNAME, the server's own name when the user typed it. The e-mail address decides (it is the account
   * that will sign in); the Host name only stands in for a `DOMAIN\user` address, which names no domain.
   */
  discover(body: Buffer, traceId: string, context: { host?: string | undefined } = {}): Promise<SoapResult> {
    return this.#answer(ACTIONS.discoverResponse, traceId, body, async (envelope) => {
      const req = decodeDiscoverRequest(envelope);
      const enrollmentVersion = negotiateEnrollmentVersion(req.requestVersion);
      const hostDomain = enrollmentDomainOfHost(context.host);
      const domainName = (req.emailAddress.includes('@') ? req.emailAddress.slice(req.emailAddress.lastIndexOf('@') + 1) : hostDomain)
        ?.trim()
        .toLowerCase()
        .replace(/\.$/, '');
      const domain = domainName ? await this.#d.directory.findDomain(domainName) : undefined;
      if (!domain) {
        // Shown on the device and logged with the TraceId: it names the domain and, for the admin, the fix.
        throw new SoapFault({
          subcode: 'Authorization',
          errorType: 'NotSupported',
          message: domainName
            ? `Device management is not set up for ${domainName}. Check the address you typed, or ask your IT administrator to add the domain to Winroll (winroll domains add ${domainName}).`
            : 'Device management could not tell your organisation from this account. Sign in with your work e-mail address (name@company.com).',
          detail: domainName
            ? `discovery for ${domainName} refused: not a configured domain${hostDomain && hostDomain !== domainName ? ` (reached as enterpriseenrollment.${hostDomain})` : ''}`
            : 'discovery refused: the address names no domain and the request did not come through enterpriseenrollment.<domain>',
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
        info: {
          domain: domain.name,
          authPolicy: domain.authPolicy,
          requestVersion: req.requestVersion,
          enrollmentVersion,
          ...(hostDomain ? { via: `enterpriseenrollment.${hostDomain}` } : {}),
        },
      };
    });
  }

  /** POST Policy.svc: authenticate, then describe the key and hash Windows must use for its CSR. */
  getPolicies(body: Buffer, traceId: string): Promise<SoapResult> {
    // A refusal here (bad password, disabled account, MFA required) is an enrollment attempt too.
    let upn: string | null = null;
    let method: EnrollmentMethod = 'user';
    const recordFault = (fault: SoapFault) =>
      this.#d.policy.record({
        traceId,
        user: null,
        upn,
        deviceId: null,
        method,
        enrollmentType: null,
        osVersion: null,
        fault: { subcode: fault.subcode, errorType: fault.errorType, reasons: [fault.detail ?? fault.message] },
      });
    return this.#answer(
      ACTIONS.getPoliciesResponse,
      traceId,
      body,
      async (envelope) => {
        const req = decodeGetPoliciesRequest(envelope);
        if (req.security?.kind === 'username') upn = req.security.username.slice(0, 256).toLowerCase();
        if (isDirectoryToken(req.security)) method = 'automatic';
        const auth = await this.#authenticate(req.security, (who) => {
          upn = who;
        });
        const validitySeconds = this.#d.deviceCertValidityDays * 86400;
        return {
          xml: encodeGetPoliciesResponse({
            relatesTo: req.messageId,
            activityId: traceId,
            minimalKeyLength: MINIMUM_KEY_BITS,
            validitySeconds,
            // The same window the provisioning document gives the device (Fleet's disagreed, #52601).
            renewalSeconds: this.#renewal.renewPeriodDays * 86400,
          }),
          info: { upn: auth.user.upn, via: auth.via },
        };
      },
      recordFault,
    );
  }

  /** POST Enrollment.svc: authenticate, check the CSR, issue the device certificate, provision. */
  requestSecurityToken(body: Buffer, traceId: string): Promise<SoapResult> {
    // What is known about the attempt so far; recorded with its outcome whatever happens.
    const attempt: {
      user: User | null;
      upn: string | null;
      deviceId: string | null;
      method: EnrollmentMethod;
      enrollmentType: 'Full' | 'Device' | null;
      osVersion: string | null;
      decision?: Decision;
    } = { user: null, upn: null, deviceId: null, method: 'user', enrollmentType: null, osVersion: null };
    const recordFault = (fault: SoapFault) =>
      this.#d.policy.record({
        traceId,
        ...attempt,
        fault: { subcode: fault.subcode, errorType: fault.errorType, reasons: [fault.detail ?? fault.message] },
      });
    return this.#answer(
      ACTIONS.requestSecurityTokenResponse,
      traceId,
      body,
      async (envelope) => {
        const req = decodeRequestSecurityToken(envelope);
        if (req.security?.kind === 'username') attempt.upn = req.security.username.slice(0, 256).toLowerCase();
        if (isDirectoryToken(req.security)) attempt.method = 'automatic';
        if (req.requestType === 'Renew') {
          // This listener never sees a client certificate; renewal is provisioned at the management port.
          throw new SoapFault({
            subcode: 'Authorization',
            errorType: 'NotEligibleToRenew',
            message: 'Certificates are renewed at the renewal address provisioned at enrollment, with the current device certificate.',
            detail: `Renew posted to the enrollment URL; renewal is served at ${this.#d.urls().renewal}`,
          });
        }
        const auth = await this.#authenticate(req.security, (who) => {
          attempt.upn = who;
        });
        attempt.user = auth.user;
        if (req.requestType !== 'Issue') {
          throw new SoapFault({ subcode: 'Authorization', errorType: 'NotSupported', message: 'Enrollment recovery is not supported.' });
        }
        if (!req.binaryToken.valueType.endsWith('#PKCS10')) {
          throw new SoapFault({ subcode: 'MessageFormat', message: 'An enrollment request must carry a PKCS#10 certificate request.' });
        }

        const ctx = req.context;
        const deviceId = deviceIdOf(ctx);
        const hwDevId = hwDevIdOf(ctx);
        const enrollmentType = enrollmentTypeOf(ctx);
        const enrollmentData = ctx.get('EnrollmentData');
        let termsVersion: number | null = null;
        if (enrollmentData !== undefined && enrollmentData !== '' && auth.via === 'directory' && auth.tenantId && this.#d.termsOfUse) {
          termsVersion = await verifyTermsBlob(
            this.#d.termsOfUse,
            enrollmentData,
            { userId: auth.user.id, upn: auth.user.upn, tenantId: auth.tenantId },
            'enrollment',
          );
        }
        Object.assign(attempt, { deviceId, enrollmentType, osVersion: clip(ctx.get('OSVersion'), 64) });
        // Settings' "Enroll only in device management" sends Full; a device-context request (provisioning
        // package, programmatic) sends Device. A directory token means the directory handed the device over
        // (automatic enrollment): Device is a directory join, Full is "add work account".
        attempt.method = auth.via === 'directory' ? 'automatic' : enrollmentType === 'Device' ? 'bulk' : 'user';

        const csr = parseAndCheckCsr(req.binaryToken.value, deviceId);

        const decision = await this.#d.policy.decide({
          user: auth.user,
          method: attempt.method,
          enrollmentType,
          osVersion: attempt.osVersion,
          deviceId,
        });
        attempt.decision = decision;
        attempt.method = decision.input.method;
        if (decision.outcome !== 'mdm') {
          throw new SoapFault({
            subcode: decision.subcode ?? 'Authorization',
            ...(decision.errorType
              ? { errorType: decision.errorType }
              : decision.outcome === 'mam'
                ? { errorType: 'NotSupported' as const }
                : {}),
            message:
              decision.userMessage ??
              'Your organization protects work data on this device with app protection (MAM) instead of device management, so it is not enrolled in device management.',
            detail: decision.outcome === 'mam' ? `MAM instead of MDM: ${decision.reasons.at(-1) ?? ''}` : decision.reasons.at(-1),
          });
        }

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

        return this.#issueAndRecord(deviceId, csr.publicKeySpki, now, notAfter, async (cert) => {
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
            macAddresses: ctx
              .getAll('MAC')
              .slice(0, 32)
              .map((m) => m.slice(0, 32)),
            certSerial: cert.serialHex,
            certThumbprint: cert.thumbprint,
            certNotBefore: cert.notBefore,
            certNotAfter: cert.notAfter,
            certDer: cert.der,
            now,
            method: enrollmentHow(attempt.method, enrollmentType),
            entraDeviceId: auth.entraDeviceId ?? null,
          });
          await this.#d.storage.recordOwnership(recorded.device.id, decision.ownership, decision.ownershipRule);
          await this.#d.storage.setPrimaryUser(recorded.device.id, primaryUserFor(decision.input.method, auth.user.id));
          await this.#d.policy.record({ traceId, ...attempt });
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
            // Advertised because Renewal.svc serves it (peers.md §4 item 7: never advertise what is not served).
            renewal: { roboSupport: true, ...this.#renewal, serverUrl: this.#d.urls().renewal },
          });
          return {
            xml: provisioningResponse(req.messageId, traceId, doc, now),
            info: {
              upn: auth.user.upn,
              deviceId,
              enrollmentType,
              certSerial: cert.serialHex,
              superseded: recorded.superseded.length,
              sharedHwDevIdWith: recorded.sharedHwDevIdWith,
              matchedBy: recorded.matchedBy,
              ...(termsVersion !== null ? { termsVersion } : {}),
            },
          };
        });
      },
      recordFault,
    );
  }

  /**
   * POST Renewal.svc on the management listener: certificate renewal "on behalf of" (ROBO; MS-MDE2 §3.5,
   * protocol.md §8.3). The device proves who it is with its current certificate over TLS and signs the
   * PKCS#7-wrapped new PKCS#10 with the current key; a WS-Security token, if one is sent, is not used.
   * The answer holds only the new certificate; the old one stops authenticating once it is recorded.
   */
  renew(body: Buffer, traceId: string, clientCertificateDer: Buffer | undefined): Promise<SoapResult> {
    return this.#answer(ACTIONS.requestSecurityTokenResponse, traceId, body, async (envelope) => {
      const req = decodeRequestSecurityToken(envelope);
      if (req.requestType !== 'Renew') {
        throw new SoapFault({
          subcode: 'MessageFormat',
          message: 'This address only renews certificates; enroll at the enrollment address.',
        });
      }
      if (req.binaryToken.format !== 'PKCS7') {
        throw new SoapFault({ subcode: 'MessageFormat', message: 'A renewal request must carry a PKCS#7 certificate request.' });
      }

      const presented = clientCertificateDer;
      const who = await this.#certificates.identify(presented);
      if (!who.ok || !presented) {
        if (who.ok || who.status === 401) {
          throw new SoapFault({
            subcode: 'Authentication',
            message: 'Certificate renewal needs the device certificate issued by this server (TLS client authentication).',
            detail: who.ok ? 'no client certificate' : who.reason,
          });
        }
        throw notEligible('This device is no longer enrolled; enroll it again.', who.reason);
      }
      const now = this.#d.clock.now();
      const { enrollment, device } = who;
      if (now < who.notBefore) {
        throw new SoapFault({
          subcode: 'Authentication',
          message: 'The device certificate is not valid yet.',
          detail: `certificate valid from ${who.notBefore.toISOString()}`,
        });
      }
      if (now > who.notAfter) {
        // Windows does not renew an expired certificate itself; the device has to enroll again.
        throw notEligible(
          'The device certificate has expired; enroll the device again.',
          `certificate expired ${who.notAfter.toISOString()}`,
        );
      }
      if (enrollment.status === 'unenrolled' || device.status === 'unenrolled') {
        throw notEligible('This device is no longer enrolled; enroll it again.', `certificate of an ${enrollment.status} enrollment`);
      }
      if (who.retiredAt !== null) {
        throw notEligible('This device is being retired from management.', `device retired ${who.retiredAt.toISOString()}`);
      }
      const opens = new Date(who.notAfter.getTime() - this.#renewal.renewPeriodDays * 86_400_000);
      if (now.getTime() < opens.getTime() - RENEWAL_EARLY_SLACK_MS) {
        throw notEligible(
          `The device certificate cannot be renewed before ${opens.toISOString().slice(0, 10)}.`,
          `renewal window opens ${opens.toISOString()}`,
        );
      }
      // A superseded certificate goes on only for the lost-response retry that recordRenewal recognises.

      const deviceId = enrollment.deviceId;
      const claimed = req.context.get('DeviceID');
      if (claimed !== undefined && claimed.replace(/[{}]/g, '').toUpperCase() !== deviceId.toUpperCase()) {
        throw new SoapFault({
          subcode: 'Authorization',
          message: 'The renewal request names a different device than its certificate.',
          detail: `DeviceID ${claimed.slice(0, 64)} with the certificate of ${deviceId}`,
        });
      }
      const opened = openRenewalRequest(req.binaryToken.value, presented);
      const csr = parseAndCheckCsr(opened.csrDer, deviceId);

      // The same validity as at enrollment, from now: never back-dated (peers.md §4 item 7).
      const notAfter = new Date(now.getTime() + this.#d.deviceCertValidityDays * 86400_000);
      return this.#issueAndRecord(deviceId, csr.publicKeySpki, now, notAfter, async (cert) => {
        const recorded = await this.#d.storage.recordRenewal({
          presentedThumbprint: who.thumbprint,
          certSerial: cert.serialHex,
          certThumbprint: cert.thumbprint,
          certNotBefore: cert.notBefore,
          certNotAfter: cert.notAfter,
          certDer: cert.der,
          now,
        });
        if (!recorded) {
          throw notEligible(
            'This device certificate has already been replaced; use the newer one or enroll again.',
            `certificate of a ${enrollment.status} enrollment`,
          );
        }
        const doc = encodeRenewalProvisioningDoc({
          clientCertificate: { thumbprint: cert.thumbprint, der: cert.der },
          certStore: recorded.enrollment.enrollmentType === 'Device' ? 'System' : 'User',
        });
        return {
          xml: provisioningResponse(req.messageId, traceId, doc, now),
          info: {
            deviceId,
            renewed: recorded.replaced.certSerial,
            certSerial: cert.serialHex,
            retry: recorded.replaced.id !== enrollment.id,
            digest: opened.digest,
          },
        };
      });
    });
  }

  /**
   * Issues a device certificate and hands it to `record`. Serials are 128 random bits; the unique index
   * is the backstop, so one retry with a fresh serial covers a collision.
   */
  async #issueAndRecord<T>(
    deviceId: string,
    spki: Buffer,
    notBefore: Date,
    notAfter: Date,
    record: (cert: IssuedCertificate) => Promise<T>,
  ): Promise<T> {
    for (let tries = 0; ; tries++) {
      const cert = await this.#d.ca.issueDeviceCertificateAsync({
        subjectCommonName: deviceId,
        publicKeySpki: spki,
        serial: randomSerial(randomBytes),
        notBefore,
        notAfter,
      });
      try {
        return await record(cert);
      } catch (err) {
        if (err instanceof ConflictError && tries === 0) continue;
        throw err;
      }
    }
  }

  /** `identified` learns the UPN a credential names, before it is known to be good (for the attempt log). */
  async #authenticate(token: WsSecurityToken | undefined, identified?: (upn: string) => void): Promise<Authenticated> {
    if (!token) {
      throw new SoapFault({ subcode: 'InvalidSecurity', message: 'The request carries no WS-Security credentials.' });
    }
    if (token.kind === 'username') {
      const result = await this.#d.directory.signIn(token.username, token.password);
      if (!result.ok) {
        throw new SoapFault({
          subcode: 'Authentication',
          message: 'The user name or password is incorrect.',
          detail: `sign-in refused: ${result.reason}`,
        });
      }
      const domain = await this.#d.directory.findDomain(result.user.upn.slice(result.user.upn.lastIndexOf('@') + 1));
      if (domain?.authPolicy !== 'OnPremise') {
        // The admin chose web sign-in for this domain; a bare password must not bypass it.
        throw new SoapFault({
          subcode: 'Authentication',
          message: 'Your organisation requires web sign-in for enrollment.',
          detail: 'password token for a federated domain',
        });
      }
      if (await this.#d.secondFactor?.isRequiredFor(result.user)) {
        // A password alone cannot satisfy the MFA setting, and Windows asks for nothing else here.
        throw new SoapFault({
          subcode: 'Authentication',
          message: 'Your organisation requires web sign-in with a second factor for enrollment. Contact your IT department.',
          detail: 'MFA required for this user, but the domain uses OnPremise (password) sign-in; switch the domain to federated',
        });
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
      if (!user?.enabled || user.upn !== check.claims.upn) {
        throw new SoapFault({
          subcode: 'Authentication',
          message: 'The account behind this sign-in is no longer allowed to enroll.',
          detail: 'token user missing or disabled',
        });
      }
      return { user, via: 'token', token: check.claims };
    }
    if (token.valueType === VALUE_TYPES.jwt) {
      const check = await verifyDirectoryToken(this.#d.directoryTokens, token.value, 'enroll', identified);
      this.#d.logger.info(
        { upn: check.upn, tenantId: check.tenantId, scopes: check.scopes, roles: check.roles, entraDeviceId: check.entraDeviceId },
        'directory token accepted',
      );
      return { user: check.user, via: 'directory', tenantId: check.tenantId, entraDeviceId: check.entraDeviceId };
    }
    throw new SoapFault({
      subcode: 'Authentication',
      message: 'This kind of credential is not accepted by this server.',
      detail: `token value type ${token.valueType}`,
    });
  }

  /** Runs one endpoint: parse, handle, and turn every refusal into the fault Windows parses. */
  #answer(
    action: string,
    traceId: string,
    body: Buffer,
    handle: (envelope: ReturnType<typeof decodeSoapEnvelope>) => Promise<Omit<SoapResult, 'fault'>>,
    onFault?: (fault: SoapFault) => Promise<unknown>,
  ): Promise<SoapResult> {
    return answerSoap({
      action,
      traceId,
      body,
      logger: this.#d.logger,
      failure: 'enrollment endpoint failed',
      handle,
      toFault: (err) => (err instanceof CertificateRequestError ? csrFault(err) : toSoapFault(err)),
      onFault,
    });
  }
}

function notEligible(message: string, detail: string): SoapFault {
  return new SoapFault({ subcode: 'Authorization', errorType: 'NotEligibleToRenew', message, detail });
}

function csrFault(err: CertificateRequestError): SoapFault {
  const messages: Record<string, string> = {
    key_too_small: `The device key is too short; at least ${MINIMUM_KEY_BITS}-bit RSA is required.`,
    bad_signature: 'The certificate request signature does not verify.',
    malformed: 'The certificate request could not be read.',
    unsupported_algorithm: 'The certificate request uses an unsupported signature algorithm.',
    unsupported_key_type: 'The certificate request must use an RSA key.',
    device_mismatch: 'The certificate request names a different device.',
    signer_mismatch: 'The renewal request is not signed with the certificate being renewed.',
  };
  return new SoapFault({
    subcode: 'CertificateRequest',
    message: messages[err.reason] ?? 'The certificate request was refused.',
    detail: err.message,
  });
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

/** How the device history names an enrollment. */
function enrollmentHow(method: EnrollmentMethod, type: EnrollmentType): EnrollmentHow {
  if (method === 'automatic') return type === 'Device' ? 'join' : 'work_account';
  if (method === 'user' || method === 'dem') return type === 'Device' ? 'bulk' : 'manual';
  return 'bulk';
}

function isDirectoryToken(token: WsSecurityToken | undefined): boolean {
  return token?.kind === 'binary' && token.valueType === VALUE_TYPES.jwt;
}

export type { AuthPolicy };
