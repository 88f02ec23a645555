/**
 * Storage ports: small capability-sized interfaces (NanoMDM style) that domain services depend on.
 * Adapters live in src/storage; one conformance suite (test/storage/) runs against every backend.
 *
 * Conventions every adapter follows:
 * - Domain names and UPNs are stored and compared lower-cased.
 * - Windows DeviceIDs and HWDevIDs are stored upper-cased (Windows sends hex; case is not significant).
 * - Timestamps are Date objects here; adapters persist ISO-8601 UTC text with milliseconds.
 * - A failed write leaves nothing behind (each method is one transaction).
 */

import type { AdminStorage } from './admin/ports.js';
import type { AppStore } from './apps/ports.js';
import type { ComplianceStore } from './compliance/ports.js';
import type { ManagementStorage } from './management/ports.js';
import type { MfaStore } from './mfa/ports.js';
import type { EntraStore } from './entra/ports.js';
import type { OidcProviderStore } from './oidc/ports.js';
import type { TermsTextStore } from './enrollment/ports.js';
import type { DirectorySyncStore } from './directory-sync/ports.js';
import type { PolicyStorage } from './policy/ports.js';

export type AuthPolicy = 'OnPremise' | 'Federated';
export type EnrollmentType = 'Full' | 'Device';

export interface Domain {
  /** UPN suffix, lower-case, e.g. `contoso.com`. */
  name: string;
  authPolicy: AuthPolicy;
  createdAt: Date;
}

export interface User {
  id: string;
  /** Lower-case `name@domain`. */
  upn: string;
  displayName: string | null;
  /** Encoded scrypt hash (see core/directory/password.ts); never leaves the server. */
  passwordHash: string;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface DomainStore {
  /** Throws ConflictError when the domain exists. */
  addDomain(input: { name: string; authPolicy: AuthPolicy; now: Date }): Promise<Domain>;
  getDomain(name: string): Promise<Domain | undefined>;
  listDomains(): Promise<Domain[]>;
  /** Throws NotFoundError when the domain does not exist. */
  setDomainAuthPolicy(name: string, authPolicy: AuthPolicy): Promise<Domain>;
}

export interface UserStore {
  /** Throws ConflictError when the UPN exists. */
  addUser(input: { upn: string; displayName: string | null; passwordHash: string; now: Date }): Promise<User>;
  getUserByUpn(upn: string): Promise<User | undefined>;
  getUserById(id: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
}

/** What the enrollment service knows once a certificate has been issued for a device. */
export interface NewEnrollment {
  /** Windows enrollment-client DeviceID (32 hex in current builds; older builds send a GUID). */
  deviceId: string;
  hwDevId: string | null;
  userId: string;
  upn: string;
  enrollmentType: EnrollmentType;
  authPolicy: AuthPolicy;
  deviceName: string | null;
  osVersion: string | null;
  /** Decimal SKU number Windows reports (e.g. 48 Professional, 72 Enterprise Evaluation). */
  osEdition: number | null;
  locale: string | null;
  macAddresses: string[];
  certSerial: string; // lower-case hex, no leading zeros stripped
  certThumbprint: string; // upper-case hex SHA-1 of the DER, as Windows names it
  certNotBefore: Date;
  certNotAfter: Date;
  certDer: Uint8Array;
  now: Date;
  /** How the device came (history; default: from the enrollment type, manual or bulk). */
  method?: EnrollmentHow | undefined;
  /** The Entra device id (`deviceid` claim of a directory token), lower-case GUID: matches re-joins. */
  entraDeviceId?: string | null | undefined;
}

/** How an enrollment happened, as the device history shows it. */
export type EnrollmentHow = 'join' | 'work_account' | 'manual' | 'bulk';

export type DeviceStatus = 'enrolled' | 'unenrolled';
/** How a device is managed: MDM (certificate, every CSP) or MAM (app protection: no certificate, a few CSPs). */
export type ManagementMode = 'mdm' | 'mam';
export type EnrollmentStatus = 'active' | 'superseded' | 'unenrolled';

export interface DeviceWarning {
  kind: 'shared_hwdevid';
  /** Human-readable explanation an admin can act on. */
  detail: string;
  /** The other DeviceIDs involved. */
  relatedDeviceIds: string[];
  createdAt: Date;
}

export interface DeviceRecord {
  /** Internal id of the physical device record. */
  id: string;
  deviceId: string;
  hwDevId: string | null;
  deviceName: string | null;
  osVersion: string | null;
  osEdition: number | null;
  enrollmentType: EnrollmentType;
  /** The enrolling user ("enrolled by"). */
  userId: string;
  upn: string;
  /**
   * The primary user (user device affinity): the enrolling user for joins and user/work-account
   * enrollments, none for bulk and DEM enrollments; an admin may change it. Null: a shared device.
   */
  primaryUserId: string | null;
  primaryUpn: string | null;
  status: DeviceStatus;
  firstEnrolledAt: Date;
  lastEnrolledAt: Date;
  currentEnrollmentId: string | null;
  certSerial: string | null;
  certThumbprint: string | null;
  certNotAfter: Date | null;
  warnings: DeviceWarning[];
  /** BIOS serial number from inventory (upper-case; placeholders such as "To be filled by O.E.M." dropped). */
  serialNumber: string | null;
  /** Entra device id, from a join token or inventory. */
  entraDeviceId: string | null;
  /** 'mam' for an app-protection registration (no certificate, no current enrollment). */
  managementMode: ManagementMode;
}

export interface EnrollmentRecord {
  id: string;
  devicePk: string;
  deviceId: string;
  userId: string;
  upn: string;
  enrollmentType: EnrollmentType;
  authPolicy: AuthPolicy;
  status: EnrollmentStatus;
  hwDevId: string | null;
  deviceName: string | null;
  osVersion: string | null;
  osEdition: number | null;
  certSerial: string;
  certThumbprint: string;
  certNotBefore: Date;
  certNotAfter: Date;
  createdAt: Date;
  supersededAt: Date | null;
  /** When the certificate stopped being accepted. */
  revokedAt: Date | null;
  /** How it happened; null for enrollments recorded before this was kept. */
  method: EnrollmentHow | null;
  entraDeviceId: string | null;
}

/** A record found to be the same machine and folded into this one (S16). */
export interface DeviceMerge {
  /** The DeviceID the folded record had. */
  mergedDeviceId: string;
  mergedFirstEnrolledAt: Date;
  /** Why, in words: e.g. "same serial number ABC123 and hardware id 3B3E…". */
  reason: string;
  mergedAt: Date;
}

/** Everything a device record went through: one physical device, every DeviceID and enrollment. */
export interface DeviceHistory {
  device: DeviceRecord;
  /** Oldest first, superseded ones included, each with how it happened. */
  enrollments: EnrollmentRecord[];
  /** Every DeviceID the device was enrolled under, oldest first (the current one last). */
  deviceIds: string[];
  hwDevIds: HwDevIdSighting[];
  merges: DeviceMerge[];
}

export interface HwDevIdSighting {
  hwDevId: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export interface RecordedEnrollment {
  device: DeviceRecord;
  enrollment: EnrollmentRecord;
  /** Earlier active enrollments of the same DeviceID that this one replaced (S16: never a second record). */
  superseded: EnrollmentRecord[];
  /** Other DeviceIDs already seen with the same HWDevID (cloned images); flagged on both, never merged. */
  sharedHwDevIdWith: string[];
  /**
   * How the record was found: the same DeviceID, the same Entra device id (a re-join under a new DeviceID:
   * the old enrollment is superseded on the same record), or null for a new record.
   */
  matchedBy: 'device_id' | 'entra_device_id' | null;
}

export interface EnrollmentStore {
  /**
   * Records a successful enrollment in one transaction. The record is the one with this DeviceID; else,
   * when `entraDeviceId` is given, the one with that Entra device id (it takes the new DeviceID); else a
   * new one. A HWDevID alone never joins records at enrollment (a cloned image shares it): the new record
   * is flagged, and folded into the older one only when inventory shows the same serial (see
   * DeviceStateStore.updateInventory). Then, as before: upserts the device by DeviceID, supersedes its
   * previous active enrollment, appends the HWDevID to the device's history, and flags every device that
   * shares the HWDevID under another DeviceID. Throws ConflictError if the certificate serial was used.
   */
  recordEnrollment(input: NewEnrollment): Promise<RecordedEnrollment>;
  getDevice(deviceId: string): Promise<DeviceRecord | undefined>;
  listDevices(): Promise<DeviceRecord[]>;
  listEnrollments(deviceId: string): Promise<EnrollmentRecord[]>;
  hwDevIdHistory(deviceId: string): Promise<HwDevIdSighting[]>;
  /**
   * The device's history (S16). Found by its current DeviceID or any earlier one (an enrollment's or a
   * merged record's), so an admin holding an old DeviceID still finds the machine.
   */
  deviceHistory(deviceId: string): Promise<DeviceHistory | undefined>;
  /** Whether a certificate serial has been issued; serials must be unique across the CA's life. */
  certSerialExists(serial: string): Promise<boolean>;
  /**
   * Records a renewed certificate (ROBO) in one transaction. `presentedThumbprint` is the certificate the
   * device renewed with (TLS client certificate and CMS signer). When its enrollment is active, that
   * enrollment becomes 'superseded' with revokedAt = now (its certificate stops authenticating at once)
   * and a new active enrollment takes its place: same device, user and device facts, the new certificate,
   * remembered as renewed from the presented one; the device's current enrollment points to it.
   *
   * Retry after a lost response: when the presented certificate's enrollment was already superseded by
   * a renewal from that same certificate, and the device has not checked in since that renewal (so it
   * never received or never used the certificate), that unused renewal is replaced instead.
   *
   * Returns undefined, changing nothing, when the presented certificate is unknown or can no longer be
   * renewed (superseded otherwise, unenrolled, or a concurrent renewal won). Throws ConflictError if the
   * new serial or thumbprint was already recorded.
   */
  recordRenewal(input: NewRenewal): Promise<RecordedRenewal | undefined>;
}

/** A certificate issued by renewal; see EnrollmentStore.recordRenewal. */
export interface NewRenewal {
  /** Upper-case SHA-1 of the certificate being renewed. */
  presentedThumbprint: string;
  certSerial: string;
  certThumbprint: string;
  certNotBefore: Date;
  certNotAfter: Date;
  certDer: Uint8Array;
  now: Date;
}

export interface RecordedRenewal {
  device: DeviceRecord;
  /** The new active enrollment, carrying the renewed certificate. */
  enrollment: EnrollmentRecord;
  /** The enrollment whose certificate it replaces (now superseded, revokedAt = now). */
  replaced: EnrollmentRecord;
}

export interface TokenStore {
  /**
   * Marks a one-time token id as spent. Returns false when it was already spent. Rows past expiresAt
   * may be pruned by the adapter.
   */
  spendToken(jti: string, expiresAt: Date, now: Date): Promise<boolean>;
}

/** Everything the domain needs from storage, composed. */
export interface Storage
  extends DomainStore,
    UserStore,
    EnrollmentStore,
    TokenStore,
    ManagementStorage,
    AdminStorage,
    MfaStore,
    EntraStore,
    OidcProviderStore,
    ComplianceStore,
    TermsTextStore,
    DirectorySyncStore,
    PolicyStorage,
    AppStore {
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}
