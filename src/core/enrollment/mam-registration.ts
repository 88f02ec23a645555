/**
 * App-protection (MAM) registration: the MAM variation of MS-MDE2 that Windows runs when a user adds a
 * work account on a personal device and the directory's MAM scope covers them (Microsoft, "Implement
 * server-side support for mobile application management on Windows"). No discovery (the directory hands
 * the device our MAM enrollment URL), an Entra token as the only credential, no certificate. The same
 * enrollment decision as the MDM endpoint runs with method automatic; only a 'mam' outcome registers the
 * device (management mode MAM, visible in the device list) and returns a provisioning document whose w7
 * ADDR is the MAM policy-sync endpoint (bearer-token authenticated, one-way TLS). Every attempt is
 * recorded in the attempts log, naming MAM. Always answers SOAP.
 */
import { decodeSoapEnvelope } from '../../protocol/soap/envelope.js';
import { SoapFault, encodeSoapFault } from '../../protocol/soap/fault.js';
import { ACTIONS, VALUE_TYPES } from '../../protocol/soap/namespaces.js';
import { decodeMamRegistrationRequest, encodeMamProvisioningDoc } from '../../protocol/wstep/mam.js';
import { encodeRequestSecurityTokenResponse } from '../../protocol/wstep/response.js';
import { XmlError } from '../../protocol/xml/errors.js';
import { parseXml } from '../../protocol/xml/reader.js';
import type { Clock } from '../../shared/clock.js';
import { WinrollError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { DirectoryTokenResult, DirectoryTokens } from '../entra/directory-token.js';
import type { Decision } from '../policy/decide.js';
import type { EnrollmentPolicy } from '../policy/enrollment-policy.js';
import type { EnrollmentType, Storage, User } from '../ports.js';
import type { SoapResult } from './enrollment-service.js';
import type { TermsOfUse } from './terms-of-use.js';

/** Where Winroll serves MAM, on the web listener (one-way TLS: a MAM registration holds no certificate). */
export const MAM_PATHS = {
  /** The MAM enrollment URL to paste in the tenant's Mobility (MDM and MAM) settings. */
  enrollment: '/EnrollmentServer/MAM/Enrollment.svc',
  /** The policy-sync (OMA-DM) endpoint a MAM registration's w7 ADDR names. */
  sync: '/ManagementServer/MAM.svc',
} as const;

export interface MamRegistrationDeps {
  storage: Storage;
  policy: EnrollmentPolicy;
  /** Without it every registration is refused: MAM exists only with a connected directory. */
  directoryTokens?: DirectoryTokens | undefined;
  /** Checks a terms-of-use OpaqueBlob sent back as the ContextItem EnrollmentData. */
  termsOfUse?: Pick<TermsOfUse, 'verifyBlob'> | undefined;
  clock: Clock;
  logger: Logger;
  /** Absolute URL of MAM_PATHS.sync. */
  syncUrl: () => string;
  providerId: string;
  organizationName: string;
}

const DEVICE_ID = /^(?:[0-9A-Fa-f]{32}|\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?)$/;
const HW_DEV_ID = /^[0-9A-Fa-f]{16,128}$/;
/** Prefix of every attempt-log reason written here, so the log says which endpoint refused. */
const MAM = 'MAM registration (app protection)';

export class MamRegistrationService {
  readonly #d: MamRegistrationDeps;

  constructor(deps: MamRegistrationDeps) {
    this.#d = deps;
  }

  /** POST MAM_PATHS.enrollment. */
  async register(body: Buffer, traceId: string): Promise<SoapResult> {
    const attempt: {
      user: User | null;
      upn: string | null;
      deviceId: string | null;
      enrollmentType: EnrollmentType | null;
      osVersion: string | null;
      decision?: Decision;
    } = { user: null, upn: null, deviceId: null, enrollmentType: null, osVersion: null };
    let relatesTo: string | undefined;
    try {
      const envelope = decodeSoapEnvelope(parseXml(body));
      relatesTo = envelope.messageId;
      const req = decodeMamRegistrationRequest(envelope);
      const token = req.security;
      if (token?.kind !== 'binary' || token.valueType !== VALUE_TYPES.jwt) {
        throw new SoapFault({
          subcode: 'Authentication',
          message: 'App protection registration accepts only a sign-in from your organisation’s directory (Entra ID).',
          detail: token ? `credential of kind ${token.kind}` : 'no WS-Security credential',
        });
      }
      if (!this.#d.directoryTokens) {
        throw new SoapFault({
          subcode: 'Authentication',
          message: 'This server does not accept directory (Entra ID) sign-ins.',
          detail: 'directory token, but no directory tenant support is configured',
        });
      }
      // The JWT is never logged; only the outcome's tenant id and UPN are.
      const check = await this.#d.directoryTokens.verify(token.value.toString('utf8').trim());
      if (check.upn) attempt.upn = check.upn;
      if (!check.ok) throw directoryTokenFault(check);
      attempt.user = check.user;

      const ctx = req.context;
      const deviceIdRaw = ctx.get('DeviceID');
      if (!deviceIdRaw || !DEVICE_ID.test(deviceIdRaw)) {
        throw new SoapFault({ subcode: 'MessageFormat', message: 'The DeviceID context item is missing or malformed.' });
      }
      const deviceId = deviceIdRaw.replace(/[{}]/g, '').toUpperCase();
      const typeRaw = (ctx.get('EnrollmentType') ?? 'Full').trim().toLowerCase();
      if (typeRaw !== 'full' && typeRaw !== 'device') {
        throw new SoapFault({ subcode: 'MessageFormat', message: `Unknown EnrollmentType "${typeRaw.slice(0, 32)}".` });
      }
      const enrollmentType: EnrollmentType = typeRaw === 'device' ? 'Device' : 'Full';
      const osVersion = clip(ctx.get('OSVersion'), 64);
      Object.assign(attempt, { deviceId, enrollmentType, osVersion });

      const enrollmentData = ctx.get('EnrollmentData');
      if (enrollmentData && this.#d.termsOfUse) {
        const blob = await this.#d.termsOfUse.verifyBlob(enrollmentData, {
          userId: check.user.id,
          upn: check.user.upn,
          tenantId: check.tenantId,
        });
        if (!blob.ok) {
          throw new SoapFault({
            subcode: 'Authorization',
            errorType: 'InvalidEnrollmentData',
            message: 'The terms-of-use acceptance sent with this registration is not valid for this account. Start again.',
            detail: `EnrollmentData (terms-of-use blob) refused: ${blob.reason}`,
          });
        }
      }

      const decision = await this.#d.policy.decide({ user: check.user, method: 'automatic', enrollmentType, osVersion, deviceId });
      attempt.decision = decision;
      if (decision.outcome === 'mdm') {
        throw new SoapFault({
          subcode: 'Authorization',
          errorType: 'NotSupported',
          message:
            'Your organization manages this account’s devices with device management (MDM), not app protection. Enroll the device in device management instead.',
          detail: `the decision is MDM, not MAM: ${decision.reasons.at(-1) ?? ''}`,
        });
      }
      if (decision.outcome === 'refused') {
        // The same fault the MDM enrollment endpoint gives for this decision.
        throw new SoapFault({
          subcode: decision.subcode ?? 'Authorization',
          ...(decision.errorType ? { errorType: decision.errorType } : {}),
          message: decision.userMessage ?? 'Your account is not allowed to register this device.',
          detail: decision.reasons.at(-1),
        });
      }

      const now = this.#d.clock.now();
      const hwDevIdRaw = ctx.get('HWDevID');
      const recorded = await this.#d.storage.recordMamRegistration({
        deviceId,
        hwDevId: hwDevIdRaw && HW_DEV_ID.test(hwDevIdRaw) ? hwDevIdRaw.toUpperCase() : null,
        deviceName: clip(ctx.get('DeviceName'), 64),
        osVersion,
        userId: check.user.id,
        upn: check.user.upn,
        tenantId: check.tenantId,
        ownershipRule: decision.ownershipRule,
        now,
      });
      if (!recorded.ok) {
        // Windows never runs MDM and MAM side by side; the device keeps its MDM enrollment.
        attempt.decision = { ...decision, outcome: 'refused' };
        throw new SoapFault({
          subcode: 'Authorization',
          errorType: 'NotSupported',
          message: 'This device is already enrolled in device management, so it cannot also register for app protection.',
          detail: `device ${deviceId} has an active MDM enrollment`,
        });
      }
      const syncUrl = this.#d.syncUrl();
      await this.#d.policy.record({
        traceId,
        ...attempt,
        method: 'automatic',
        decision: {
          ...decision,
          reasons: [...decision.reasons, `${MAM}: registered without a certificate; policy sync at ${syncUrl}`],
        },
      });
      const doc = encodeMamProvisioningDoc({ providerId: this.#d.providerId, name: this.#d.organizationName, managementUrl: syncUrl });
      return {
        xml: encodeRequestSecurityTokenResponse({
          relatesTo: req.messageId,
          activityId: traceId,
          provisioningDocXml: doc,
          created: now,
          expires: new Date(now.getTime() + 5 * 60_000),
        }),
        info: { upn: check.user.upn, deviceId, mode: 'mam', tenantId: check.tenantId, superseded: recorded.superseded },
      };
    } catch (err) {
      const fault = toFault(err);
      if (!(err instanceof SoapFault) && !(err instanceof XmlError)) this.#d.logger.error({ err, traceId }, 'MAM registration failed');
      await this.#d.policy
        .record({
          traceId,
          ...attempt,
          method: 'automatic',
          fault: { subcode: fault.subcode, errorType: fault.errorType, reasons: [`${MAM} refused: ${fault.detail ?? fault.message}`] },
        })
        .catch((e: unknown) => this.#d.logger.error({ err: e, traceId }, 'could not record the enrollment attempt'));
      return {
        xml: encodeSoapFault({ fault, action: ACTIONS.requestSecurityTokenResponse, ...(relatesTo ? { relatesTo } : {}), traceId }),
        fault: { subcode: fault.subcode, errorType: fault.errorType, message: fault.message, detail: fault.detail },
      };
    }
  }
}

/** The faults a refused directory token gets, as at the MDM endpoints. */
export function directoryTokenFault(check: Extract<DirectoryTokenResult, { ok: false }>): SoapFault {
  if (check.reason === 'keys_unavailable') {
    return new SoapFault({
      subcode: 'EnrollmentServer',
      message: "The device management server could not reach your organisation's directory to check the sign-in. Try again later.",
      detail: check.detail,
    });
  }
  return new SoapFault({
    subcode: 'Authentication',
    message:
      check.reason === 'unknown_tenant'
        ? `Your organisation's directory (tenant ${check.tenantId ?? 'unknown'}) is not connected to this device management server.`
        : check.reason === 'expired'
          ? 'Your sign-in has expired. Sign in again.'
          : check.reason === 'unknown_user' || check.reason === 'disabled'
            ? 'Your account is not allowed to register devices in this organisation.'
            : 'The directory sign-in token is not valid.',
    detail: check.detail,
  });
}

function toFault(err: unknown): SoapFault {
  if (err instanceof SoapFault) return err;
  if (err instanceof XmlError)
    return new SoapFault({ subcode: 'MessageFormat', message: 'The request is not well-formed XML.', detail: err.message });
  if (err instanceof WinrollError && err.code === 'storage_unavailable') {
    return new SoapFault({
      subcode: 'EnrollmentServer',
      message: 'The enrollment server is temporarily unavailable. Try again later.',
      detail: err.message,
    });
  }
  return new SoapFault({
    subcode: 'InternalServiceFault',
    message: 'The enrollment server hit an unexpected error.',
    detail: err instanceof Error ? err.message : String(err),
  });
}

function clip(v: string | undefined, max: number): string | null {
  return v === undefined || v === '' ? null : v.slice(0, max);
}
