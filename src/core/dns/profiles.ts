/**
 * Cloud profiles (seed S18): which targets each record should have. `winroll` is this deployment;
 * `intune` and `intune-usgov` are Microsoft's documented endpoints (intune-features.md rows 15-19, 23), so
 * an admin moving away from Intune can see where each domain points today, and a record still pointing
 * there is named as such under the winroll profile.
 */
import { canonicalName, sameName } from './names.js';

export const CLOUD_PROFILE_IDS = ['winroll', 'intune', 'intune-usgov'] as const;
export type CloudProfileId = (typeof CLOUD_PROFILE_IDS)[number];

/** Entra ID's device registration service, the usual target of EnterpriseRegistration.<domain>. */
export const DEFAULT_REGISTRATION_TARGET = 'EnterpriseRegistration.windows.net';
/** One hour, as Microsoft recommends for both records. */
export const RECORD_TTL = 3600;
/** How long a DNS change may take to reach every resolver (Microsoft's figure for these records). */
export const PROPAGATION_HOURS = 72;

export interface CloudProfile {
  id: CloudProfileId;
  /** Who the enrollment target belongs to, in reasons: "this Winroll server", "Intune (commercial cloud)". */
  label: string;
  enrollmentTarget: string;
  /** Targets that still work, but through a redirect Windows asks the user to confirm. */
  legacyTargets: string[];
  /** What users type when Windows cannot discover the server. */
  manualServerName: string;
  registrationTarget: string;
}

/** What this deployment expects, from its configuration (and the admin's flags). */
export interface DeploymentDns {
  /** The host in this server's discovery URL (`--public-host`). */
  publicHost: string;
  /** Its HTTPS port; Windows reaches enterpriseenrollment.<domain> on 443 only. */
  port: number;
  /** Winroll's own legacy targets: hosts that redirect to it (the user confirms the redirect). */
  legacyTargets: readonly string[];
  /** Another device registration service (AD FS DRS, ...) instead of Entra's. */
  registrationTarget?: string | undefined;
}

interface Place {
  label: string;
  names: string[];
  /** Anything under these belongs to the place too (the chain behind Microsoft's targets). */
  suffixes: string[];
}

const INTUNE: Place = {
  label: 'Intune (commercial cloud)',
  names: [
    'EnterpriseEnrollment-s.manage.microsoft.com',
    'EnterpriseEnrollment.manage.microsoft.com',
    'manage.microsoft.com',
    'enrollment.manage.microsoft.com',
  ],
  suffixes: ['manage.microsoft.com'],
};
const INTUNE_USGOV: Place = {
  label: 'Intune (US Government)',
  names: ['EnterpriseEnrollment-s.manage.microsoft.us', 'enrollment.manage.microsoft.us'],
  suffixes: ['manage.microsoft.us'],
};
const ENTRA_REGISTRATION: Place = {
  label: 'Entra ID device registration',
  names: [DEFAULT_REGISTRATION_TARGET],
  suffixes: [],
};

function inPlace(name: string, place: Place): boolean {
  const n = canonicalName(name);
  return place.names.some((p) => sameName(p, n)) || place.suffixes.some((s) => n.endsWith(`.${s}`) || n === s);
}

export function cloudProfile(id: CloudProfileId, deployment: DeploymentDns): CloudProfile {
  const registrationTarget = deployment.registrationTarget ?? DEFAULT_REGISTRATION_TARGET;
  switch (id) {
    case 'intune':
      return {
        id,
        label: INTUNE.label,
        enrollmentTarget: 'EnterpriseEnrollment-s.manage.microsoft.com',
        legacyTargets: ['EnterpriseEnrollment.manage.microsoft.com', 'manage.microsoft.com'],
        manualServerName: 'enrollment.manage.microsoft.com',
        registrationTarget,
      };
    case 'intune-usgov':
      return {
        id,
        label: INTUNE_USGOV.label,
        enrollmentTarget: 'EnterpriseEnrollment-s.manage.microsoft.us',
        legacyTargets: [],
        manualServerName: 'enrollment.manage.microsoft.us',
        registrationTarget,
      };
    default:
      return {
        id: 'winroll',
        label: 'this Winroll server',
        enrollmentTarget: deployment.publicHost,
        legacyTargets: [...deployment.legacyTargets],
        manualServerName: deployment.port === 443 ? deployment.publicHost : `${deployment.publicHost}:${deployment.port}`,
        registrationTarget,
      };
  }
}

export type TargetClass =
  | { kind: 'expected'; label: string }
  | { kind: 'legacy'; label: string }
  /** Known, but belongs elsewhere: another cloud, this server under an Intune profile, the other record's service. */
  | { kind: 'elsewhere'; label: string };

/** Where a name of the enrollment record's chain belongs, from the profile's point of view; null = unknown host. */
export function classifyEnrollmentTarget(name: string, profile: CloudProfile, deployment: DeploymentDns): TargetClass | null {
  if (sameName(name, profile.enrollmentTarget)) return { kind: 'expected', label: profile.label };
  if (profile.legacyTargets.some((t) => sameName(t, name))) return { kind: 'legacy', label: profile.label };
  if (profile.id !== 'winroll' && sameName(name, deployment.publicHost)) return { kind: 'elsewhere', label: 'this Winroll server' };
  for (const place of [INTUNE, INTUNE_USGOV, ENTRA_REGISTRATION])
    if (inPlace(name, place)) return { kind: 'elsewhere', label: place.label };
  return null;
}

/** The same for the registration record: its service, or an enrollment target put there by mistake. */
export function classifyRegistrationTarget(name: string, profile: CloudProfile, deployment: DeploymentDns): TargetClass | null {
  if (sameName(name, profile.registrationTarget)) return { kind: 'expected', label: 'device registration' };
  if (sameName(name, deployment.publicHost)) return { kind: 'elsewhere', label: 'this Winroll server (the enrollment target)' };
  if (inPlace(name, ENTRA_REGISTRATION)) return { kind: 'elsewhere', label: ENTRA_REGISTRATION.label };
  for (const place of [INTUNE, INTUNE_USGOV])
    if (inPlace(name, place)) return { kind: 'elsewhere', label: `${place.label}, an enrollment target` };
  return null;
}
