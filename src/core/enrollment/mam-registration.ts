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
import { SoapFault } from '../../protocol/soap/fault.js';
import { ACTIONS, VALUE_TYPES } from '../../protocol/soap/namespaces.js';
import { decodeMamRegistrationRequest, encodeMamProvisioningDoc } from '../../protocol/wstep/mam.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { DirectoryTokens } from '../entra/directory-token.js';
import type { Decision } from '../policy/decide.js';
import type { EnrollmentPolicy } from '../policy/enrollment-policy.js';
import type { EnrollmentType, Storage, User } from '../ports.js';
import {
  type SoapResult,
  answerSoap,
  clip,
  deviceIdOf,
  enrollmentTypeOf,
  hwDevIdOf,
  provisioningResponse,
  verifyDirectoryToken,
  verifyTermsBlob,
} from './soap-steps.js';
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

/** Prefix of every attempt-log reason written here, so the log says which endpoint refused. */
const MAM = 'MAM registration (app protection)';

export class MamRegistrationService {
  readonly #d: MamRegistrationDeps;

  constructor(deps: MamRegistrationDeps) {
    this.#d = deps;
  }

  /** POST MAM_PATHS.enrollment. */
  register(body: Buffer, traceId: string): Promise<SoapResult> {
    const attempt: {
      user: User | null;
      upn: string | null;
      deviceId: string | null;
      enrollmentType: EnrollmentType | null;
      osVersion: string | null;
      decision?: Decision;
    } = { user: null, upn: null, deviceId: null, enrollmentType: null, osVersion: null };
    return answerSoap({
      action: ACTIONS.requestSecurityTokenResponse,
      traceId,
      body,
      logger: this.#d.logger,
      failure: 'MAM registration failed',
      onFault: (fault) =>
        this.#d.policy.record({
          traceId,
          ...attempt,
          method: 'automatic',
          fault: { subcode: fault.subcode, errorType: fault.errorType, reasons: [`${MAM} refused: ${fault.detail ?? fault.message}`] },
        }),
      handle: async (envelope) => {
        const req = decodeMamRegistrationRequest(envelope);
        const token = req.security;
        if (token?.kind !== 'binary' || token.valueType !== VALUE_TYPES.jwt) {
          throw new SoapFault({
            subcode: 'Authentication',
            message: 'App protection registration accepts only a sign-in from your organisation’s directory (Entra ID).',
            detail: token ? `credential of kind ${token.kind}` : 'no WS-Security credential',
          });
        }
        const check = await verifyDirectoryToken(this.#d.directoryTokens, token.value, 'register', (upn) => {
          attempt.upn = upn;
        });
        attempt.user = check.user;

        const ctx = req.context;
        const deviceId = deviceIdOf(ctx);
        const enrollmentType = enrollmentTypeOf(ctx);
        const osVersion = clip(ctx.get('OSVersion'), 64);
        Object.assign(attempt, { deviceId, enrollmentType, osVersion });

        const enrollmentData = ctx.get('EnrollmentData');
        if (enrollmentData && this.#d.termsOfUse) {
          await verifyTermsBlob(
            this.#d.termsOfUse,
            enrollmentData,
            { userId: check.user.id, upn: check.user.upn, tenantId: check.tenantId },
            'registration',
          );
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
        const recorded = await this.#d.storage.recordMamRegistration({
          deviceId,
          hwDevId: hwDevIdOf(ctx),
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
          xml: provisioningResponse(req.messageId, traceId, doc, now),
          info: { upn: check.user.upn, deviceId, mode: 'mam', tenantId: check.tenantId, superseded: recorded.superseded },
        };
      },
    });
  }
}
