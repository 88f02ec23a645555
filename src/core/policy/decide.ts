/**
 * The one enrollment decision (issue "who may enroll"; seed S1, S3, S7-S9): given who enrolls, how, and
 * on what, say MDM, MAM or refused, with the reasons an admin can read and the fault a device gets. Pure:
 * the caller gathers the facts (user, groups, settings, policies, counts), so the same function serves
 * the enrollment endpoints and `winroll explain`.
 */
import type { SoapFaultErrorType, SoapFaultSubcode } from '../../protocol/soap/fault.js';
import type { Ownership } from '../management/ports.js';

/**
 * How the device came in:
 * - `user`: the user started it ("Enroll only in device management", Company Portal, a deep link);
 * - `automatic`: the directory handed the device over (Entra join: EnrollmentType Device; add work account: Full);
 * - `bulk`: a provisioning package or device-context enrollment (corporate, shared);
 * - `dem`: a device enrollment manager enrolling a shared corporate device.
 */
export type EnrollmentMethod = 'user' | 'automatic' | 'bulk' | 'dem';
export type ScopeMode = 'none' | 'some' | 'all';

export interface Scope {
  mode: ScopeMode;
  groupIds: string[];
}

export interface PlatformRestriction {
  name: string;
  windowsMdm: 'allow' | 'block';
  minOsVersion: string | null;
  maxOsVersion: string | null;
  blockPersonal: boolean;
}

export interface DeviceLimitRestriction {
  name: string;
  limit: number;
}

export interface DecisionInput {
  /** Null for userless enrollments (bulk token without a user). */
  user: {
    upn: string;
    enabled: boolean;
    licensed: boolean;
    isDem: boolean;
    groupIds: string[];
    /**
     * Where the license comes from, for the reasons: a direct assignment, or a group (the route from the
     * user's own group, first, to the licensed group, last, by name), and whether the seats ran out.
     * Absent: the reasons do not say.
     */
    license?: { direct: boolean; groupPath: string[]; beyondSeats: boolean; seats: number | null } | undefined;
  } | null;
  method: EnrollmentMethod;
  enrollmentType: 'Full' | 'Device';
  /** e.g. 10.0.22631.4391; null when unknown. */
  osVersion: string | null;
  /** Corporate device identifiers are in use (any uploaded), and whether this device matches one. */
  corporateIdentifiers: { exist: boolean; match: boolean };
  mdmScope: Scope;
  mamScope: Scope;
  platform: PlatformRestriction;
  deviceLimit: DeviceLimitRestriction;
  /** The user's devices that count toward the limit, not counting this one. */
  userDeviceCount: number;
  /** Devices a DEM has enrolled, not counting this one. */
  demDeviceCount: number;
}

export interface Decision {
  outcome: 'mdm' | 'mam' | 'refused';
  ownership: Ownership;
  /** Which rule decided the ownership, in words. */
  ownershipRule: string;
  /** Why, in order, as an admin reads it. The last one names the deciding rule. */
  reasons: string[];
  /** For refusals: the SOAP fault Windows understands (protocol.md 9.2). */
  subcode?: SoapFaultSubcode;
  errorType?: SoapFaultErrorType;
  /** The message the user sees on the device. */
  userMessage?: string;
  policies: { platform: string; deviceLimit: string };
}

export const DEM_DEVICE_LIMIT = 1000;

export function decideEnrollment(input: DecisionInput): Decision {
  const reasons: string[] = [];
  const policies = { platform: input.platform.name, deviceLimit: input.deviceLimit.name };
  const { ownership, rule } = ownershipOf(input);
  reasons.push(`ownership ${ownership}: ${rule}`);
  const refuse = (subcode: SoapFaultSubcode, errorType: SoapFaultErrorType | undefined, reason: string, userMessage: string): Decision => ({
    outcome: 'refused',
    ownership,
    ownershipRule: rule,
    reasons: [...reasons, reason],
    subcode,
    ...(errorType ? { errorType } : {}),
    userMessage,
    policies,
  });

  const user = input.user;
  if (user) {
    if (!user.enabled)
      return refuse('Authorization', undefined, `${user.upn} is disabled`, 'Your account is disabled. Contact your IT administrator.');
    const lic = user.license;
    if (!user.licensed) {
      return refuse(
        'Authorization',
        'UserLicense',
        lic?.beyondSeats
          ? `${user.upn} holds no Winroll license: group ${describeRoute(lic.groupPath)} is licensed, but all ${lic.seats} license seats are in use by users ahead of them`
          : `${user.upn} holds no Winroll license`,
        'Your account has no license for device management. Ask your IT administrator to assign one.',
      );
    }
    reasons.push(
      lic && !lic.direct && lic.groupPath.length > 0
        ? `${user.upn} is licensed through group ${describeRoute(lic.groupPath)}`
        : `${user.upn} is licensed`,
    );
  } else {
    reasons.push('userless enrollment: no user license or scope applies');
  }

  // Scopes decide automatic enrollment only; a user who starts enrollment does not need the MDM scope.
  if (input.method === 'automatic' && user) {
    const inMdm = inScope(input.mdmScope, user.groupIds);
    const inMam = inScope(input.mamScope, user.groupIds);
    reasons.push(
      `MDM user scope ${describeScope(input.mdmScope)}: ${inMdm ? 'in scope' : 'not in scope'}; MAM user scope ${describeScope(input.mamScope)}: ${inMam ? 'in scope' : 'not in scope'}`,
    );
    if (inMam && (!inMdm || ownership === 'personal')) {
      reasons.push(
        inMdm
          ? 'in both scopes on a personal device: MAM takes precedence, so the device is registered for app protection (WIP policy applies if configured) and not MDM-enrolled'
          : 'in the MAM scope only: the device is registered for app protection, not MDM-enrolled',
      );
      return { outcome: 'mam', ownership, ownershipRule: rule, reasons, policies };
    }
    if (!inMdm) {
      return refuse(
        'Authorization',
        undefined,
        'in neither the MDM nor the MAM user scope: automatic enrollment is not enabled for this user',
        'Automatic device management is not enabled for your account. Contact your IT administrator.',
      );
    }
    reasons.push(inMam ? 'in both scopes on a corporate device: MDM takes precedence' : 'in the MDM user scope');
  } else if (input.method === 'user') {
    reasons.push('user enrollment: the MDM user scope does not apply');
  }

  // Restrictions: the platform policy first, then the device limit.
  const p = input.platform;
  if (p.windowsMdm === 'block') {
    return refuse(
      'Authorization',
      'DeviceNotSupported',
      `restriction "${p.name}" blocks Windows MDM enrollment`,
      'Your organization does not allow Windows devices to enroll.',
    );
  }
  if (input.osVersion && p.minOsVersion && compareVersions(input.osVersion, p.minOsVersion) < 0) {
    return refuse(
      'Authorization',
      'DeviceNotSupported',
      `Windows ${input.osVersion} is older than ${p.minOsVersion}, the minimum in restriction "${p.name}"`,
      `Your organization requires Windows ${p.minOsVersion} or later. Update Windows and try again.`,
    );
  }
  if (input.osVersion && p.maxOsVersion && compareVersions(input.osVersion, p.maxOsVersion) > 0) {
    return refuse(
      'Authorization',
      'DeviceNotSupported',
      `Windows ${input.osVersion} is newer than ${p.maxOsVersion}, the maximum in restriction "${p.name}"`,
      'Your organization does not support this version of Windows yet.',
    );
  }
  if (p.blockPersonal && ownership === 'personal') {
    return refuse(
      'Authorization',
      'DeviceNotSupported',
      `restriction "${p.name}" blocks personally owned Windows devices`,
      'Your organization does not allow personal devices to enroll. Use a company device.',
    );
  }
  reasons.push(`platform restriction "${p.name}" allows it`);

  if (input.method === 'dem') {
    if (input.demDeviceCount >= DEM_DEVICE_LIMIT) {
      return refuse(
        'Authorization',
        'DeviceCapReached',
        `the device enrollment manager already enrolled ${input.demDeviceCount} devices (limit ${DEM_DEVICE_LIMIT})`,
        'This account has enrolled the maximum number of devices.',
      );
    }
    reasons.push(
      `device enrollment manager: ${input.demDeviceCount} of ${DEM_DEVICE_LIMIT} devices, enrolled as shared (no per-user limit)`,
    );
  } else if (countsTowardLimit(input)) {
    const limit = input.deviceLimit.limit;
    if (input.userDeviceCount >= limit) {
      return refuse(
        'Authorization',
        'DeviceCapReached',
        `${user?.upn ?? 'the user'} already has ${input.userDeviceCount} enrolled devices; restriction "${input.deviceLimit.name}" allows ${limit}`,
        'You have enrolled the maximum number of devices allowed. Remove a device in the Company Portal or ask IT for help.',
      );
    }
    reasons.push(`device limit "${input.deviceLimit.name}": ${input.userDeviceCount + 1} of ${limit}`);
  } else {
    reasons.push('shared or corporate device-context enrollment: the per-user device limit does not apply');
  }
  return { outcome: 'mdm', ownership, ownershipRule: rule, reasons, policies };
}

/** Ownership rules (intune-features.md 2.1, 2.5). */
export function ownershipOf(input: Pick<DecisionInput, 'method' | 'enrollmentType' | 'corporateIdentifiers'>): {
  ownership: Ownership;
  rule: string;
} {
  switch (input.method) {
    case 'bulk':
      return { ownership: 'corporate', rule: 'provisioning package / device-context enrollment is corporate' };
    case 'dem':
      return { ownership: 'corporate', rule: 'device enrollment manager enrollments are corporate' };
    case 'user':
      return { ownership: 'personal', rule: 'user-initiated MDM-only enrollment is personal' };
    case 'automatic':
      if (input.enrollmentType === 'Full') return { ownership: 'personal', rule: 'adding a work account is personal' };
      if (!input.corporateIdentifiers.exist)
        return { ownership: 'corporate', rule: 'directory join is corporate (no corporate device identifiers uploaded)' };
      return input.corporateIdentifiers.match
        ? { ownership: 'corporate', rule: 'directory join of a device listed in the corporate device identifiers' }
        : {
            ownership: 'personal',
            rule: 'directory join of a device not listed in the corporate device identifiers (identifiers are in use)',
          };
  }
}

function countsTowardLimit(input: DecisionInput): boolean {
  // Device-context (shared) enrollments are outside the per-user limit: joins, bulk, DEM.
  return input.user !== null && input.enrollmentType === 'Full' && (input.method === 'user' || input.method === 'automatic');
}

/** `Sales ← All staff (license assigned to All staff)`: the user's own group first, the licensed group last. */
function describeRoute(path: string[]): string {
  const licensed = path.at(-1) ?? '';
  return path.length > 1 ? `${path.join(' ← ')} (license assigned to ${licensed})` : licensed;
}

export function inScope(scope: Scope, groupIds: string[]): boolean {
  if (scope.mode === 'all') return true;
  if (scope.mode === 'none') return false;
  return scope.groupIds.some((g) => groupIds.includes(g));
}

function describeScope(scope: Scope): string {
  return scope.mode === 'some'
    ? `Some (${scope.groupIds.length} group${scope.groupIds.length === 1 ? '' : 's'})`
    : scope.mode === 'all'
      ? 'All'
      : 'None';
}

/** Compares dotted versions numerically; missing parts count as 0 (`10.0.22631` == `10.0.22631.0`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
