/**
 * What an app-protection (MAM) registration may receive. Windows blocks every other CSP on a MAM
 * registration (Microsoft, "Implement server-side support for mobile application management on
 * Windows"), so sending one only earns an error; this module is the one place that says which LocURIs
 * are allowed, and why the rest are not applicable. Pure.
 */
import { locUriFor } from './desired-state.js';
import type { Profile } from './ports.js';

export const MAM_NOT_APPLICABLE = 'not applicable to app-protection (MAM) registrations';

/** CSPs (under Vendor/MSFT, or at the root for DevInfo) a MAM registration accepts. */
export const MAM_ALLOWED_CSPS: readonly string[] = [
  'AppLocker',
  'ClientCertificateInstall',
  'DeviceStatus',
  'DevInfo',
  'DMAcc',
  'DMClient',
  'EnterpriseDataProtection',
  'HealthAttestation',
  'PassportForWork',
  'Reporting',
  'RootCATrustedCertificates',
  'VPNv2',
  'WiFi',
];

/** Policy CSP areas a MAM registration accepts; every other area is blocked. */
export const MAM_ALLOWED_POLICY_AREAS: readonly string[] = ['DeviceLock', 'NetworkIsolation'];

const ALLOWED = new Set(MAM_ALLOWED_CSPS.map((c) => c.toLowerCase()));
const AREAS = new Set(MAM_ALLOWED_POLICY_AREAS.map((a) => a.toLowerCase()));

/**
 * The CSP a LocURI addresses, with the Policy area for Policy CSP nodes: `./Device/Vendor/MSFT/Policy/
 * Config/Camera/AllowCamera` → `{ csp: 'Policy', area: 'Camera' }`; `./DevInfo/Man` → `{ csp: 'DevInfo' }`.
 */
export function cspOf(locUri: string): { csp: string; area?: string } {
  const parts = locUri
    .replace(/^\.\//, '')
    .replace(/^(Device|User)\//i, '')
    .split('/')
    .filter((p) => p !== '');
  const vendor = parts[0]?.toLowerCase() === 'vendor' && parts[1]?.toLowerCase() === 'msft';
  const csp = (vendor ? parts[2] : parts[0]) ?? '';
  if (vendor && csp.toLowerCase() === 'policy') {
    // Policy/Config/<Area>/..., Policy/Result/<Area>/..., Policy/ConfigOperations/...
    return { csp, area: parts[4] ?? '' };
  }
  return { csp };
}

export type MamApplicability = { allowed: true } | { allowed: false; reason: string };

export function mamApplicability(locUri: string): MamApplicability {
  const { csp, area } = cspOf(locUri);
  if (csp.toLowerCase() === 'policy') {
    if (area !== undefined && AREAS.has(area.toLowerCase())) return { allowed: true };
    return {
      allowed: false,
      reason: `Policy area ${area || '(none)'} is ${MAM_NOT_APPLICABLE} (only the ${MAM_ALLOWED_POLICY_AREAS.join(' and ')} areas are)`,
    };
  }
  if (ALLOWED.has(csp.toLowerCase())) return { allowed: true };
  return { allowed: false, reason: `the ${csp || 'unnamed'} CSP is ${MAM_NOT_APPLICABLE}` };
}

export function isAllowedForMam(locUri: string): boolean {
  return mamApplicability(locUri).allowed;
}

/** Inventory a MAM registration may be asked for: DevInfo and DeviceStatus only (no DevDetail, no DMClient HWDevID). */
export const MAM_INVENTORY_NODES: readonly string[] = [
  './DevInfo/Man',
  './DevInfo/Mod',
  './DevInfo/Lang',
  './DevInfo/DmV',
  './Vendor/MSFT/DeviceStatus/OS/Edition',
  './Vendor/MSFT/DeviceStatus/OS/Mode',
];

/** How often a MAM registration's inventory is read again (it syncs about once a day anyway). */
export const MAM_INVENTORY_REFRESH_MS = 24 * 3600_000;

/** The profiles as a MAM registration gets them: each with only the settings its CSPs allow. */
export function mamApplicableProfiles<T extends { profile: Profile }>(profiles: T[]): T[] {
  return profiles.map((p) => ({
    ...p,
    profile: { ...p.profile, settings: p.profile.settings.filter((s) => isAllowedForMam(locUriFor(p.profile.scope, s.path))) },
  }));
}
