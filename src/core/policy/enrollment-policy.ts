/**
 * Gathers the facts the enrollment decision needs from the directory and the tenant's settings, runs
 * `decideEnrollment`, and records every attempt with its explanation and TraceID. Used by the enrollment
 * endpoint and by `winroll explain`, so what an admin is told is what a device gets.
 */
import type { Clock } from '../../shared/clock.js';
import type { Storage, User } from '../ports.js';
import { type Decision, type DecisionInput, type EnrollmentMethod, decideEnrollment } from './decide.js';
import type { EnrollmentAttempt } from './ports.js';

/** Devices silent for longer than this no longer count toward a user's device limit. */
const DEVICE_LIMIT_WINDOW_MS = 90 * 86400_000;

export interface EnrollmentFacts {
  user: User | null;
  method: EnrollmentMethod;
  enrollmentType: 'Full' | 'Device';
  osVersion: string | null;
  /** The device being enrolled, so a re-enrollment does not count against itself. */
  deviceId: string | null;
  /** Manufacturer, model and serial when the device reported them (corporate identifiers). */
  hardware?: { manufacturer: string; model: string; serial: string } | undefined;
}

export class EnrollmentPolicy {
  readonly #storage: Storage;
  readonly #clock: Clock;

  constructor(deps: { storage: Storage; clock: Clock }) {
    this.#storage = deps.storage;
    this.#clock = deps.clock;
  }

  async decide(facts: EnrollmentFacts): Promise<Decision & { input: DecisionInput }> {
    const s = this.#storage;
    const user = facts.user;
    const now = this.#clock.now();
    const [groupIds, license, isDem, settings, identifierCount] = await Promise.all([
      user ? s.groupsOfUser(user.id) : Promise.resolve([]),
      user ? s.licenseOf(user.id) : Promise.resolve(null),
      user ? s.isDem(user.id) : Promise.resolve(false),
      s.getTenantSettings(),
      s.countCorporateIdentifiers(),
    ]);
    // A device enrollment manager's own enrollments are shared corporate devices, unless the directory
    // handed the device over (then the scopes decide, as for anyone).
    const method: EnrollmentMethod = isDem && facts.method !== 'automatic' ? 'dem' : facts.method;
    const [platform, deviceLimit, userDeviceCount, demDeviceCount, match] = await Promise.all([
      s.restrictionsFor(groupIds, 'platform'),
      s.restrictionsFor(groupIds, 'deviceLimit'),
      user
        ? s.countUserDevicesForLimit(user.id, {
            since: new Date(now.getTime() - DEVICE_LIMIT_WINDOW_MS),
            ...(facts.deviceId ? { excludeDeviceId: facts.deviceId } : {}),
          })
        : Promise.resolve(0),
      user && method === 'dem'
        ? s.countDevicesEnrolledBy(user.id, facts.deviceId ? { excludeDeviceId: facts.deviceId } : {})
        : Promise.resolve(0),
      facts.hardware && identifierCount > 0 ? s.isCorporateIdentifier(facts.hardware) : Promise.resolve(false),
    ]);
    const input: DecisionInput = {
      user: user
        ? {
            upn: user.upn,
            enabled: user.enabled,
            licensed: license?.licensed ?? false,
            isDem,
            groupIds,
            license: license
              ? {
                  direct: license.direct,
                  groupPath: license.groupPath.map((g) => g.name),
                  beyondSeats: license.beyondSeats,
                  seats: license.seats,
                }
              : undefined,
          }
        : null,
      method,
      enrollmentType: facts.enrollmentType,
      osVersion: facts.osVersion,
      corporateIdentifiers: { exist: identifierCount > 0, match },
      mdmScope: settings.mdmScope,
      mamScope: settings.mamScope,
      platform: { name: platform.name, ...platform.config },
      deviceLimit: { name: deviceLimit.name, limit: deviceLimit.config.limit },
      userDeviceCount,
      demDeviceCount,
    };
    return { ...decideEnrollment(input), input };
  }

  /** Records an attempt (allowed or refused) with the explanation and the TraceID the device got. */
  record(attempt: {
    traceId: string;
    user: User | null;
    upn: string | null;
    deviceId: string | null;
    method: EnrollmentMethod;
    enrollmentType: 'Full' | 'Device' | null;
    osVersion: string | null;
    decision?: Decision | undefined;
    fault?: { subcode: string; errorType?: string | undefined; reasons: string[] } | undefined;
  }): Promise<EnrollmentAttempt> {
    const d = attempt.decision;
    return this.#storage.recordEnrollmentAttempt({
      at: this.#clock.now(),
      traceId: attempt.traceId,
      upn: attempt.user?.upn ?? attempt.upn,
      userId: attempt.user?.id ?? null,
      deviceId: attempt.deviceId,
      method: attempt.method,
      enrollmentType: attempt.enrollmentType,
      osVersion: attempt.osVersion,
      ownership: d?.ownership ?? null,
      // A MAM decision is answered with a fault today (app-protection registration is later work), but the
      // attempt's outcome is the decision's own.
      outcome: d && (!attempt.fault || d.outcome === 'mam') ? d.outcome : 'refused',
      errorType: attempt.fault?.errorType ?? d?.errorType ?? null,
      subcode: attempt.fault?.subcode ?? d?.subcode ?? null,
      reasons: attempt.fault ? [...(d?.reasons ?? []), ...attempt.fault.reasons] : (d?.reasons ?? []),
      policies: d?.policies ?? {},
    });
  }
}
