/**
 * Storage ports of the admin surface: which directory users are admins (and with which role), browser
 * sessions, API tokens for scripts, the audit log, and the paged device query the API lists from. Same
 * conventions as ../ports.ts; adapters in src/storage (sql/admin.ts).
 *
 * Secrets never reach storage in the clear: sessions and API tokens are stored as the SHA-256 of the
 * value the client holds, so a copy of the database does not let anyone sign in.
 */
import type { ComplianceState } from '../compliance/ports.js';
import type { Ownership } from '../management/ports.js';
import type { DeviceRecord, DeviceStatus } from '../ports.js';

export type AdminRole = 'administrator' | 'helpdesk' | 'readonly';
export const ADMIN_ROLES: readonly AdminRole[] = ['administrator', 'helpdesk', 'readonly'];

export interface AdminAccount {
  userId: string;
  /** Lower-case UPN of the directory user. */
  upn: string;
  displayName: string | null;
  /** Whether the directory user is enabled (a disabled user cannot sign in, whatever the role). */
  enabled: boolean;
  role: AdminRole;
  createdAt: Date;
  updatedAt: Date;
}

export interface AdminSessionRecord {
  /** SHA-256 (hex) of the session id in the cookie. */
  idHash: string;
  userId: string;
  /** Sent back in X-CSRF-Token on every state-changing request. */
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  /** Absolute end of the session, whatever the activity. */
  expiresAt: Date;
}

export interface ApiTokenRecord {
  id: string;
  name: string;
  /** SHA-256 (hex) of the whole bearer value (`wr_...`). */
  tokenHash: string;
  role: AdminRole;
  /** The admin who created it; the token never has more rights than that admin has now. */
  createdByUserId: string;
  createdByUpn: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/**
 * Who did something: an admin in a browser session, a script with an API token, the local CLI, or an end
 * user in the Company Portal (acting on their own device).
 */
export type AuditActor =
  | { kind: 'admin'; userId: string; upn: string }
  | { kind: 'token'; tokenId: string; name: string; userId: string; upn: string }
  | { kind: 'cli' }
  | { kind: 'user'; userId: string; upn: string };

export const AUDIT_ACTOR_KINDS = ['admin', 'token', 'cli', 'user'] as const satisfies ReadonlyArray<AuditActor['kind']>;

export type AuditOutcome = 'pending' | 'succeeded' | 'failed';

export interface NewAuditEntry {
  at: Date;
  actor: AuditActor;
  /** Dotted verb, e.g. `device.action`, `profile.save`, `admin.add`. */
  action: string;
  /** e.g. `device`, `profile`, `domain`, `user`, `group`, `admin`, `api_token`, `session`. */
  targetType: string;
  targetId: string | null;
  /** JSON-serialisable state before and after the change, secrets already redacted. */
  before: unknown;
  after: unknown;
  outcome: AuditOutcome;
  /** Error code and message when the change failed. */
  error: string | null;
  /** The request's trace id (API), or null (CLI). */
  traceId: string | null;
}

export interface AuditEntry extends NewAuditEntry {
  id: string;
  /** Display form of the actor: the admin's or end user's UPN, `token:<name>` or `cli`. */
  actorName: string;
}

export interface AuditQuery {
  targetType?: string | undefined;
  targetId?: string | undefined;
  /** Matches the actor's user id, token id, UPN, token name or `cli`. */
  actor?: string | undefined;
  /** Only entries by this kind of actor (`user`: end users in the Company Portal). */
  actorKind?: AuditActor['kind'] | undefined;
  since?: Date | undefined;
  limit: number;
  /** Keyset cursor: entries strictly older than this one (newest first). */
  after?: { at: Date; id: string } | undefined;
}

export interface AdminStore {
  /** Creates or changes the user's admin role. Throws NotFoundError when the user does not exist. */
  setAdminRole(input: { userId: string; role: AdminRole; now: Date }, audit?: NewAuditEntry): Promise<AdminAccount>;
  /**
   * Removes the role, ends every session of that admin and revokes the API tokens they created, in one
   * transaction. Returns false (changing nothing) when the user had no role.
   */
  removeAdmin(userId: string, now: Date, audit?: NewAuditEntry): Promise<boolean>;
  getAdmin(userId: string): Promise<AdminAccount | undefined>;
  /** Ordered by UPN. */
  listAdmins(): Promise<AdminAccount[]>;
}

export interface AdminSessionStore {
  createAdminSession(session: AdminSessionRecord): Promise<void>;
  getAdminSession(idHash: string): Promise<AdminSessionRecord | undefined>;
  touchAdminSession(idHash: string, lastSeenAt: Date): Promise<void>;
  deleteAdminSession(idHash: string): Promise<void>;
  /** Deletes sessions past their absolute end or idle since before `idleBefore`. Returns how many. */
  pruneAdminSessions(now: Date, idleBefore: Date): Promise<number>;
}

export interface ApiTokenStore {
  /** Throws ConflictError when an unrevoked token has the same name. */
  createApiToken(input: Omit<ApiTokenRecord, 'createdByUpn' | 'lastUsedAt' | 'revokedAt'>, audit?: NewAuditEntry): Promise<ApiTokenRecord>;
  getApiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  getApiToken(id: string): Promise<ApiTokenRecord | undefined>;
  /** Newest first. */
  listApiTokens(): Promise<ApiTokenRecord[]>;
  /** Sets revokedAt unless already revoked. Returns false when the token does not exist or was revoked. */
  revokeApiToken(id: string, now: Date, audit?: NewAuditEntry): Promise<boolean>;
  touchApiToken(id: string, now: Date): Promise<void>;
}

export interface AuditStore {
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Records how a `pending` entry ended. */
  completeAudit(id: string, result: { outcome: Exclude<AuditOutcome, 'pending'>; after: unknown; error: string | null }): Promise<void>;
  /** Newest first (at, then id). */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;
}

/** A device as the API lists it: the record plus the management facts used to filter. */
export interface DeviceSummary {
  device: DeviceRecord;
  ownership: Ownership;
  lastCheckInAt: Date | null;
  retiredAt: Date | null;
  /** The last evaluated compliance state (null when never evaluated); filled by listDevicesPage. */
  compliance?: ComplianceState | null | undefined;
}

export interface DeviceQuery {
  status?: DeviceStatus | undefined;
  ownership?: Ownership | undefined;
  /** Lower-case UPN of the enrolling user. */
  upn?: string | undefined;
  /**
   * Free text: a DeviceID or serial number prefix, or part of the device name or of the enrolling user's
   * or the primary user's UPN (case-insensitive).
   */
  search?: string | undefined;
  /** OS version range on the dotted version string, e.g. at least 10.0.22000 = Windows 11. */
  osVersionAtLeast?: string | undefined;
  osVersionBelow?: string | undefined;
  /** Last check-in at or after this instant. */
  checkedInSince?: Date | undefined;
  /** Last check-in before this instant, or never. */
  notCheckedInSince?: Date | undefined;
  /** The last evaluated compliance state; 'unknown' also matches devices never evaluated. */
  compliance?: ComplianceState | undefined;
  managementMode?: 'mdm' | 'mam' | undefined;
  limit: number;
  /** Keyset cursor: devices whose DeviceID sorts after this one. */
  afterDeviceId?: string | undefined;
}

/** What the admin console's dashboard shows (enrolled devices; attempts since `since`, by UTC hour). */
export interface DashboardCounts {
  devices: { total: number; corporate: number; personal: number; mdm: number; mam: number; unenrolled: number };
  /** One bucket per hour from `since`, oldest first: hour start (ISO), allowed (mdm + mam) and refused attempts. */
  attemptsByHour: { hour: string; enrolled: number; failed: number }[];
}

export interface DeviceListStore {
  /** Ordered by DeviceID. */
  listDevicesPage(query: DeviceQuery): Promise<DeviceSummary[]>;
  /** Device totals and the enrollment attempts from `since` to `now`, bucketed by hour. */
  dashboardCounts(since: Date, now: Date): Promise<DashboardCounts>;
}

export interface AdminStorage extends AdminStore, AdminSessionStore, ApiTokenStore, AuditStore, DeviceListStore {}
