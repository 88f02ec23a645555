/**
 * The one table of what Winroll may do to a device, by whom, depending on its ownership and management
 * mode, and what it reads from it. The admin's remote actions (actions.ts), the end user's actions in the
 * Company Portal (core/portal) and the portal's "What your organisation can see" page all read this
 * module, so the page cannot say something the code does not do. Pure.
 */
import type { ManagementMode } from '../ports.js';
import { INVENTORY_NODES } from './inventory.js';
import { locUriFor } from './desired-state.js';
import { MAM_INVENTORY_NODES, MAM_NOT_APPLICABLE, mamApplicability } from './mam-csp.js';
import type { Ownership, Profile } from './ports.js';

export type Verdict = { allowed: true } | { allowed: false; reason: string };

const yes: Verdict = { allowed: true };
const no = (reason: string): Verdict => ({ allowed: false, reason });

/** Remote actions an admin may queue (same kinds as actions.ts). */
export type AdminActionKind = 'sync' | 'restart' | 'rename' | 'wipe' | 'retire' | 'delete';

/** What the admin may do to a device of this ownership and mode; the reason says why not. */
export function adminActionVerdict(kind: AdminActionKind, ownership: Ownership, mode: ManagementMode): Verdict {
  switch (kind) {
    case 'rename':
      if (ownership !== 'corporate') return no('only corporate-owned devices can be renamed remotely');
      if (mode === 'mam') return no(`the Accounts CSP is ${MAM_NOT_APPLICABLE}`);
      return yes;
    case 'wipe':
      // A personal device holds the owner's own data: the employer removes its access (retire), never the data.
      if (ownership !== 'corporate')
        return no(
          'a personal device cannot be wiped by the organisation; retire it instead (its owner may reset it from the Company Portal)',
        );
      if (mode === 'mam') return no(`the RemoteWipe CSP is ${MAM_NOT_APPLICABLE}`);
      return yes;
    case 'restart':
      if (mode === 'mam') return no(`the Reboot CSP is ${MAM_NOT_APPLICABLE}`);
      return yes;
    case 'sync':
    case 'retire':
    case 'delete':
      return yes;
  }
}

/** How the signed-in end user relates to a device. */
export type UserRelation = 'primary' | 'shared' | 'other';

/** What the end user may do from the Company Portal. */
export type UserActionKind = 'retire' | 'wipe' | 'installApp' | 'installProfile';

export function relationOf(device: { primaryUserId: string | null }, userId: string): UserRelation {
  if (device.primaryUserId === null) return 'shared';
  return device.primaryUserId === userId ? 'primary' : 'other';
}

/**
 * The portal rule: the primary user may remove (retire) and reset (wipe) the device and install apps and
 * Available profiles; on a shared device (no primary user) a signed-in user may only install Available
 * apps; anybody else reads. On a MAM registration a profile is installable only when every setting is
 * within the MAM CSP allow-list (profileInstallVerdict).
 * A user may reset their own personal device (it is their data); the organisation may not (above).
 */
export function userActionVerdict(kind: UserActionKind, relation: UserRelation, ownership: Ownership, mode: ManagementMode): Verdict {
  if (relation === 'other')
    return no('you are not the primary user of this device: only its primary user can change it from the Company Portal');
  if (relation === 'shared' && kind !== 'installApp')
    return no('this is a shared device (it has no primary user): from the Company Portal you can only install Available apps on it');
  if (mode === 'mam') {
    if (kind === 'wipe') return no(`the RemoteWipe CSP is ${MAM_NOT_APPLICABLE}`);
    if (kind === 'installApp') return no(`app installation is ${MAM_NOT_APPLICABLE}`);
  }
  void ownership; // both ownerships allow the primary user the same actions; kept in the signature for the page
  return yes;
}

/** Plain-language meaning of each inventory field, for the page. */
const FIELD_LABELS: Record<string, string> = {
  osVersion: 'Windows version and build',
  osEdition: 'Windows edition',
  manufacturer: 'Manufacturer',
  model: 'Model',
  serialNumber: 'Serial number',
  hardwareId: 'Hardware id (to tell devices apart)',
  deviceName: 'Device name',
  language: 'Display language',
  dmVersion: 'Device management client version',
  totalStorageMb: 'Total storage size',
  freeStorageMb: 'Free storage',
  encryptionCompliance: 'Whether the disk is encrypted',
  firewallStatus: 'Whether the firewall is on',
  antivirusStatus: 'Whether antivirus is on',
  antivirusSignatureStatus: 'Whether antivirus definitions are current',
  antispywareStatus: 'Whether antispyware is on',
  antispywareSignatureStatus: 'Whether antispyware definitions are current',
  tpmVersion: 'TPM (security chip) version',
  realTimeProtection: 'Whether real-time protection is on',
  entraDeviceId: 'Entra ID device id',
};

const MAM_LABELS: Record<string, string> = {
  './devinfo/man': 'Manufacturer',
  './devinfo/mod': 'Model',
  './devinfo/lang': 'Display language',
  './devinfo/dmv': 'Device management client version',
  './vendor/msft/devicestatus/os/edition': 'Windows edition',
  './vendor/msft/devicestatus/os/mode': 'Windows mode (for example S mode)',
};

/** What Winroll never reads, whatever the device: there is no code that asks for any of it. */
export const NEVER_COLLECTED: readonly string[] = [
  'Your files, documents and photos',
  'Your e-mail, messages, contacts and calendar',
  'Your browsing history',
  'Your location',
  'Your passwords',
  'The list of your personal apps',
];

export interface TransparencyAction {
  action: string;
  label: string;
  /** "can" or "cannot", with the reason when it cannot. */
  verdict: 'can' | 'cannot';
  reason: string | null;
}

export interface TransparencyDescriptor {
  ownership: Ownership;
  mode: ManagementMode;
  /** Each node Winroll reads, with what it means. */
  collected: Array<{ locUri: string; label: string }>;
  neverCollected: readonly string[];
  organisationActions: TransparencyAction[];
  yourActions: TransparencyAction[];
}

const ADMIN_LABELS: Record<AdminActionKind, string> = {
  sync: 'Ask the device to check in',
  restart: 'Restart the device',
  rename: 'Rename the device',
  wipe: 'Erase the device (reset to factory settings)',
  retire: 'Remove work access and settings from the device (retire)',
  delete: 'Retire the device and delete its record',
};

const USER_LABELS: Record<UserActionKind, string> = {
  retire: 'Remove the device from management',
  wipe: 'Reset the device',
  installApp: 'Install Available apps',
  installProfile: 'Install Available profiles (work settings your organisation offers)',
};

/** The "What your organisation can see" page for a device of this ownership and mode, as the primary user sees it. */
export function transparencyFor(ownership: Ownership, mode: ManagementMode, relation: UserRelation = 'primary'): TransparencyDescriptor {
  const collected =
    mode === 'mam'
      ? MAM_INVENTORY_NODES.map((locUri) => ({ locUri, label: MAM_LABELS[locUri.toLowerCase()] ?? locUri }))
      : INVENTORY_NODES.map((n) => ({ locUri: n.locUri, label: FIELD_LABELS[n.field] ?? n.field }));
  const toAction = (action: string, label: string, v: Verdict): TransparencyAction => ({
    action,
    label,
    verdict: v.allowed ? 'can' : 'cannot',
    reason: v.allowed ? null : v.reason,
  });
  const adminKinds = Object.keys(ADMIN_LABELS) as AdminActionKind[];
  const userKinds = Object.keys(USER_LABELS) as UserActionKind[];
  return {
    ownership,
    mode,
    collected,
    neverCollected: NEVER_COLLECTED,
    organisationActions: adminKinds.map((k) => toAction(k, ADMIN_LABELS[k], adminActionVerdict(k, ownership, mode))),
    yourActions: userKinds.map((k) => toAction(k, USER_LABELS[k], userActionVerdict(k, relation, ownership, mode))),
  };
}

/**
 * Whether this profile may be installed on a device in this mode, once the user may install profiles at
 * all: a MAM registration takes only settings its CSPs allow (mam-csp.ts), so a profile with any other
 * setting is refused with the first offending setting's reason rather than half-applied.
 */
export function profileInstallVerdict(profile: Profile, mode: ManagementMode): Verdict {
  if (mode !== 'mam') return yes;
  for (const s of profile.settings) {
    const v = mamApplicability(locUriFor(profile.scope, s.path));
    if (!v.allowed) return no(`${profile.name} cannot be installed on an app-protection (MAM) registration: ${v.reason}`);
  }
  return yes;
}
