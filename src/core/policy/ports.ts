/**
 * Storage ports of "who may enroll" (issue 4): user status, nested groups, licenses, tenant settings
 * (MDM/MAM user scopes, MDM URLs, MFA), enrollment restrictions, device enrollment managers, corporate
 * device identifiers, the device count behind the per-user limit, the rule that decided a device's
 * ownership, and the log of enrollment attempts. Same conventions as ../ports.ts: UPNs lower-case,
 * DeviceIDs upper-case, Date objects, each method one transaction, ConflictError / NotFoundError /
 * InvalidInputError from shared/errors.ts. Adapters in src/storage; conformance suite in test/storage.
 */
import type { Group, Ownership } from '../management/ports.js';
import type { EnrollmentType, User } from '../ports.js';

// ---------------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------------

export interface UserStatusStore {
  /**
   * Enables or disables a user (a disabled user cannot sign in or enroll; existing devices stay). Sets
   * updatedAt = now. Idempotent. Throws NotFoundError for an unknown user id.
   */
  setUserEnabled(userId: string, enabled: boolean, now: Date): Promise<User>;
}

// ---------------------------------------------------------------------------------------------------
// Nested groups
// ---------------------------------------------------------------------------------------------------

/**
 * Groups hold users (GroupStore.addGroupMember) and other groups. Membership is evaluated transitively:
 * a user in group C, with C in B and B in A, is a member of A, B and C. Nesting is a DAG (cycles are
 * refused) at most MAX_GROUP_NESTING_DEPTH group-in-group links deep.
 */
export const MAX_GROUP_NESTING_DEPTH = 32;

export interface GroupWithCounts extends Group {
  /** Users added to this group directly. */
  directMemberCount: number;
  /** Distinct users in this group or any group nested in it. */
  transitiveMemberCount: number;
  /** Groups nested directly in this group. */
  childGroupCount: number;
  /** Groups this group is directly nested in. */
  parentGroupCount: number;
}

export interface GroupNestingStore {
  /**
   * Makes `childId` a member of `parentId`. Idempotent. Throws NotFoundError when either group does not
   * exist, InvalidInputError when the link would make a cycle (the message names the groups of the
   * cycle, e.g. `A contains B contains A`) or nest groups more than MAX_GROUP_NESTING_DEPTH deep.
   */
  addGroupToGroup(parentId: string, childId: string): Promise<void>;
  /** Idempotent. */
  removeGroupFromGroup(parentId: string, childId: string): Promise<void>;
  /** Groups nested directly in `groupId`, by name. */
  listChildGroups(groupId: string): Promise<Group[]>;
  /** Ids of every group containing the user, directly or through nesting, sorted. [] for an unknown user. */
  groupsOfUser(userId: string): Promise<string[]>;
  /** Ids of every user in the group, directly or through nested groups, sorted. [] for an unknown group. */
  usersInGroup(groupId: string): Promise<string[]>;
  /**
   * Whether the group contains at least one user, directly or through nested groups. A group holding only
   * groups without users (or nothing) is refused as an MDM/MAM scope (intune-features.md 1.1 row 10).
   * False for an unknown group.
   */
  groupHasUsers(groupId: string): Promise<boolean>;
  /** Every group, by name, with its counts (one query). */
  listGroupsWithCounts(): Promise<GroupWithCounts[]>;
}

// ---------------------------------------------------------------------------------------------------
// Licenses
// ---------------------------------------------------------------------------------------------------

export interface LicenseAssignment {
  userId: string;
  upn: string;
  assignedAt: Date;
}

/** A license assigned to a group, with what it gives now. */
export interface GroupLicenseAssignment {
  groupId: string;
  name: string;
  assignedAt: Date;
  /** Enabled users in the group, directly or through nested groups. */
  memberCount: number;
  /** Of those, users holding a license now (directly, through this group or through another). */
  licensedCount: number;
}

/**
 * Seat accounting of licenses (users, not assignments: a user licensed directly and through two groups
 * takes one seat). `assigned` = direct + throughGroups = users holding a license now.
 */
export interface LicenseUsage {
  assigned: number;
  /** Users with a direct assignment (always licensed, even when the seats were lowered below them). */
  direct: number;
  /** Users licensed only through groups, within the seats. */
  throughGroups: number;
  /** Enabled users in licensed groups who get no license because every seat is in use. */
  withoutSeat: number;
  seats: number | null;
  available: number | null;
}

/** Why a user holds a license, or not (for `explain` and `licenses show`). */
export interface EffectiveLicense {
  licensed: boolean;
  /** Assigned to the user directly. */
  direct: boolean;
  /**
   * The shortest route from one of the user's own groups (first) up to a licensed group (last), when a
   * group license reaches the user (enabled users only); [] otherwise. Ties: the group licensed first.
   */
  groupPath: Array<{ id: string; name: string }>;
  /** A group license reaches the user but every seat is in use by users ahead of them (see LicenseStore). */
  beyondSeats: boolean;
  seats: number | null;
}

/**
 * Licenses are assigned to users or to groups. A user holds a license when assigned directly, or when
 * enabled and a member (transitively, through nested groups) of a licensed group; nothing is stored per
 * group member, so membership changes (directory sync included) take effect at the next read.
 *
 * Seats (TenantSettings.licenseSeats) count users holding a license, once each. Direct assignments are
 * checked against them when made (ConflictError when full) and then always hold. Group assignments always
 * succeed, as in Intune; when there are more group-licensed users than free seats, the seats go to users in
 * a fixed order: groups in the order they were licensed (a user's earliest licensed group counts), then the
 * oldest accounts first (created time, then id). Users beyond the seats get no license, and
 * licenseOf says so (beyondSeats).
 */
export interface LicenseStore {
  /**
   * Assigns a Winroll license to the user. Idempotent: returns false (and keeps the first assignedAt) when
   * the user already holds a direct one, true when newly assigned. Throws NotFoundError for an unknown user,
   * and ConflictError when every seat is in use (users holding a license, groups included) and the user
   * does not hold one through a group already (checked in the same transaction, so concurrent assignments
   * never exceed the seats). Lowering the seats below the number assigned keeps existing direct licenses;
   * it only refuses new ones.
   */
  assignLicense(userId: string, now: Date): Promise<boolean>;
  /** Removes the direct assignment. Idempotent; returns whether one was removed (group licenses stay). */
  removeLicense(userId: string): Promise<boolean>;
  /** The effective license: direct, or through a licensed group within the seats. */
  hasLicense(userId: string): Promise<boolean>;
  licenseOf(userId: string): Promise<EffectiveLicense>;
  /** Users holding a license (effective, each once); seats and available from TenantSettings.licenseSeats (null = unlimited). */
  licenseCounts(): Promise<{ assigned: number; seats: number | null; available: number | null }>;
  licenseUsage(): Promise<LicenseUsage>;
  /** Direct assignments, by UPN. */
  listLicenses(): Promise<LicenseAssignment[]>;
  /** Idempotent: false (first assignedAt kept) when the group already holds one. NotFoundError for an unknown group. Never refused for seats. */
  assignGroupLicense(groupId: string, now: Date): Promise<boolean>;
  /** Idempotent; returns whether one was removed. */
  removeGroupLicense(groupId: string): Promise<boolean>;
  /** Group assignments, by group name. */
  listGroupLicenses(): Promise<GroupLicenseAssignment[]>;
}

// ---------------------------------------------------------------------------------------------------
// Tenant settings
// ---------------------------------------------------------------------------------------------------

export type ScopeMode = 'none' | 'some' | 'all';

/**
 * A user scope of automatic enrollment (intune-features.md 1.1 rows 10-11). `groupIds` matter only when
 * mode is 'some' (a user is in scope when transitively in any of them); they are kept for the other modes
 * so switching back restores the selection. 'some' with no group covers nobody.
 */
export interface UserScope {
  mode: ScopeMode;
  groupIds: string[];
}

export interface TenantSettings {
  /** Which users' devices MDM-enroll automatically (join / add work account). User enrollment ignores it. */
  mdmScope: UserScope;
  /** Which users get app protection (MAM/WIP) instead; on personal devices it takes precedence over MDM. */
  mamScope: UserScope;
  /**
   * The MDM terms-of-use, discovery and compliance URLs handed to devices by the directory. Null = Winroll's
   * own default page, derived from the server's public URL ("restore defaults" sets all three to null).
   */
  urls: { termsOfUse: string | null; discovery: string | null; compliance: string | null };
  /** Whether admins without a license may sign in to the console (they still need one to enroll devices). */
  allowUnlicensedAdmins: boolean;
  /** Licenses that may be assigned; null = unlimited. */
  licenseSeats: number | null;
  /** Second factor on the federated sign-in page: nobody, everyone, or members of groupIds (transitively). */
  mfa: { required: 'off' | 'all' | 'groups'; groupIds: string[] };
}

/**
 * What getTenantSettings returns when nothing was saved (and, field by field, for anything a stored
 * document lacks):
 * - MDM user scope All: every licensed user's devices enroll on join / add work account, as a fresh
 *   Winroll is expected to. ('none' would not block user enrollment, which needs no scope, but would
 *   silently disable automatic enrollment.)
 * - MAM user scope None: the recommended value (A3, A5, S2); anything else makes MAM win over MDM on
 *   personal devices of users in both scopes.
 * - Winroll's own URLs, unlicensed admins not allowed, unlimited seats, MFA off (recommended on in the UI).
 */
export function defaultTenantSettings(): TenantSettings {
  return {
    mdmScope: { mode: 'all', groupIds: [] },
    mamScope: { mode: 'none', groupIds: [] },
    urls: { termsOfUse: null, discovery: null, compliance: null },
    allowUnlicensedAdmins: false,
    licenseSeats: null,
    mfa: { required: 'off', groupIds: [] },
  };
}

export interface TenantSettingsStore {
  /** The stored settings merged over defaultTenantSettings(); the defaults when nothing was saved. */
  getTenantSettings(): Promise<TenantSettings>;
  /**
   * Replaces the settings (the whole document) and returns them as stored: group ids deduplicated in
   * order, unknown fields dropped. Throws InvalidInputError for a malformed value (unknown mode, a URL
   * that is not absolute http(s), seats not a non-negative integer) and NotFoundError naming a group id
   * (scopes or MFA) that does not exist. It does not check that scope groups contain users: the caller
   * does (GroupNestingStore.groupHasUsers), with a message for the admin.
   */
  saveTenantSettings(settings: TenantSettings, now: Date): Promise<TenantSettings>;
}

// ---------------------------------------------------------------------------------------------------
// Enrollment restrictions
// ---------------------------------------------------------------------------------------------------

export type RestrictionType = 'platform' | 'deviceLimit';

/** intune-features.md 2.1: Windows (MDM) allow/block, OS version range, personally owned devices. */
export interface PlatformRestrictionConfig {
  windowsMdm: 'allow' | 'block';
  /** Dotted numeric version, 1 to 4 parts (`10.0.22631.0`); inclusive. Null: no bound. */
  minOsVersion: string | null;
  maxOsVersion: string | null;
  /** Refuse enrollments whose ownership is personal. */
  blockPersonal: boolean;
}

/** Devices a user may enroll, 1 to 15 (counted as DeviceCountStore.countUserDevicesForLimit). */
export interface DeviceLimitRestrictionConfig {
  limit: number;
}

export interface RestrictionConfigs {
  platform: PlatformRestrictionConfig;
  deviceLimit: DeviceLimitRestrictionConfig;
}

export const DEFAULT_RESTRICTION_NAME = 'Default';
export const DEFAULT_PLATFORM_RESTRICTION: PlatformRestrictionConfig = Object.freeze({
  windowsMdm: 'allow',
  minOsVersion: null,
  maxOsVersion: null,
  blockPersonal: false,
});
/** Intune's default device limit. */
export const DEFAULT_DEVICE_LIMIT: DeviceLimitRestrictionConfig = Object.freeze({ limit: 5 });

interface RestrictionOfType<T extends RestrictionType> {
  id: string;
  type: T;
  /** Unique per type. */
  name: string;
  /** 1 = highest. The priorities of a type's non-default policies are always exactly 1..n. Null for the default. */
  priority: number | null;
  /** The default policy of its type: no priority, no assignments, applies when no assigned policy does. */
  isDefault: boolean;
  config: RestrictionConfigs[T];
  /** Groups it is assigned to, sorted. A non-default policy assigned to no group has no effect. */
  groupIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** A restriction policy; `Restriction` alone is the union of both types. */
export type Restriction<T extends RestrictionType = RestrictionType> = { [K in T]: RestrictionOfType<K> }[T];

export interface RestrictionStore {
  /**
   * Creates the default policy of each type when missing (platform: allow everything; device limit: 5) and
   * returns both. The migration already creates them, and they cannot be deleted, so this is a safety net.
   */
  ensureDefaultRestrictions(now: Date): Promise<{ platform: Restriction<'platform'>; deviceLimit: Restriction<'deviceLimit'> }>;
  /**
   * A new policy, inserted just above the default (priority = number of non-default policies of the type + 1),
   * assigned to nobody. Throws InvalidInputError for an invalid config (device limit not an integer 1..15,
   * version not dotted numeric, min above max) and ConflictError when the type already has that name.
   */
  createRestriction<T extends RestrictionType>(
    input: { type: T; name: string; config: RestrictionConfigs[T] },
    now: Date,
  ): Promise<Restriction<T>>;
  getRestriction(id: string): Promise<Restriction | undefined>;
  /**
   * Renames and/or reconfigures (the config must be of the policy's type; the default's too). Edits apply to
   * later enrollments only. Throws NotFoundError, InvalidInputError or ConflictError (name taken).
   */
  updateRestriction(
    id: string,
    changes: { name?: string; config?: PlatformRestrictionConfig | DeviceLimitRestrictionConfig },
    now: Date,
  ): Promise<Restriction>;
  /**
   * Moves a non-default policy to `priority` (1..n of its type), shifting the others so priorities stay
   * 1..n without gaps. Throws NotFoundError, or InvalidInputError for the default or a priority out of range.
   */
  setRestrictionPriority(id: string, priority: number, now: Date): Promise<void>;
  /** Deletes a non-default policy and its assignments; the policies below move up. NotFoundError / InvalidInputError (default). */
  deleteRestriction(id: string): Promise<void>;
  /** Idempotent. NotFoundError for an unknown policy or group; InvalidInputError for the default (it applies to everyone). */
  assignRestriction(id: string, groupId: string, now: Date): Promise<void>;
  /** Idempotent. */
  unassignRestriction(id: string, groupId: string): Promise<void>;
  /** Policies (of one type, or all): by type, then priority, each type's default last. */
  listRestrictions(type?: RestrictionType): Promise<Restriction[]>;
  /**
   * The policy that applies to a user in these groups (pass GroupNestingStore.groupsOfUser, so nesting
   * counts; [] for userless enrollments): the highest-priority policy of the type assigned to any of them,
   * else the type's default. Throws NotFoundError only if the default is missing (see ensureDefaultRestrictions).
   */
  restrictionsFor<T extends RestrictionType>(groupIds: string[], type: T): Promise<Restriction<T>>;
}

// ---------------------------------------------------------------------------------------------------
// Device enrollment managers
// ---------------------------------------------------------------------------------------------------

export interface DeviceEnrollmentManager {
  userId: string;
  upn: string;
  addedAt: Date;
}

export interface DemStore {
  /** Idempotent (keeps the first addedAt). Throws NotFoundError for an unknown user. */
  addDem(userId: string, now: Date): Promise<void>;
  /** Idempotent; returns whether the user was a DEM. */
  removeDem(userId: string): Promise<boolean>;
  isDem(userId: string): Promise<boolean>;
  /** By UPN. */
  listDems(): Promise<DeviceEnrollmentManager[]>;
}

// ---------------------------------------------------------------------------------------------------
// Corporate device identifiers
// ---------------------------------------------------------------------------------------------------

/**
 * A Windows corporate identifier (intune-features.md 2.5): manufacturer, model, serial. Matching ignores
 * case and surrounding spaces in all three fields and periods in the serial; stored as uploaded.
 */
export interface CorporateIdentifier {
  manufacturer: string;
  model: string;
  serial: string;
}

export interface CorporateIdentifierStore {
  /**
   * Replaces every identifier with `rows` (duplicates by the matching rules kept once); returns how many
   * are stored. Throws InvalidInputError naming the first row (1-based) with an empty field; nothing changes then.
   */
  replaceCorporateIdentifiers(rows: CorporateIdentifier[], now: Date): Promise<number>;
  /** Adds rows not already present (by the matching rules); returns how many were new. Same validation. */
  addCorporateIdentifiers(rows: CorporateIdentifier[], now: Date): Promise<number>;
  countCorporateIdentifiers(): Promise<number>;
  /** Whether the device matches a stored identifier. False when a field is empty. */
  isCorporateIdentifier(device: CorporateIdentifier): Promise<boolean>;
  /** Idempotent; returns whether one was removed. Enrolled devices keep their ownership. */
  removeCorporateIdentifier(row: CorporateIdentifier): Promise<boolean>;
  /** As uploaded, ordered by manufacturer, model, serial (matching form). */
  listCorporateIdentifiers(opts?: { limit?: number; offset?: number }): Promise<Array<CorporateIdentifier & { addedAt: Date }>>;
}

// ---------------------------------------------------------------------------------------------------
// Device counts, ownership rule
// ---------------------------------------------------------------------------------------------------

export interface DeviceCountStore {
  /**
   * Devices that count toward the user's device limit (intune-features.md 2.1): enrolled by the user,
   * status 'enrolled', not retired, enrollment type 'Full' (device-context / shared enrollments do not
   * count), and checked in or enrolled at or after `since` (the caller passes now - 90 days). The device
   * being re-enrolled (`excludeDeviceId`, any case) is not counted.
   */
  countUserDevicesForLimit(userId: string, opts: { since: Date; excludeDeviceId?: string }): Promise<number>;
  /** Every enrolled, not retired device the user enrolled, any type or age (a DEM's 1,000-device cap). */
  countDevicesEnrolledBy(userId: string, opts?: { excludeDeviceId?: string }): Promise<number>;
}

export interface OwnershipStore {
  /**
   * Sets the device's ownership and the rule that decided it, in words ("directory join is corporate",
   * "changed by admin@contoso.com"). Throws NotFoundError for an unknown device.
   */
  recordOwnership(devicePk: string, ownership: Ownership, rule: string): Promise<void>;
  /** Rule null: set before rules were recorded (migration 0004), or by DeviceStateStore.setOwnership. */
  getOwnership(devicePk: string): Promise<{ ownership: Ownership; rule: string | null } | undefined>;
}

// ---------------------------------------------------------------------------------------------------
// Enrollment attempts
// ---------------------------------------------------------------------------------------------------

/**
 * How a device came in: `user` (the user started it), `automatic` (the directory handed the device over:
 * join or add work account), `bulk` (provisioning package / device context), `dem` (a device enrollment
 * manager).
 */
export type EnrollmentMethod = 'user' | 'automatic' | 'bulk' | 'dem';
export type EnrollmentOutcome = 'mdm' | 'mam' | 'refused';

/** One real enrollment attempt, allowed or refused, with the explanation the device's user and the admin get. */
export interface NewEnrollmentAttempt {
  at: Date;
  /** The TraceId sent to the device (in the fault or logged with the success). */
  traceId: string;
  /** Lower-cased when stored. Null when the request carried no user. */
  upn: string | null;
  userId: string | null;
  /** Upper-cased when stored. */
  deviceId: string | null;
  method: EnrollmentMethod;
  enrollmentType: EnrollmentType | null;
  osVersion: string | null;
  ownership: Ownership | null;
  outcome: EnrollmentOutcome;
  /** The fault's Windows error type / subcode for refusals (e.g. 'DeviceCapReached', 'Authorization'). */
  errorType: string | null;
  subcode: string | null;
  /** In order, as an admin reads them; the last names the deciding rule. */
  reasons: string[];
  /** Names of the restriction policies that applied. */
  policies: { platform?: string; deviceLimit?: string };
}

export interface EnrollmentAttempt extends NewEnrollmentAttempt {
  id: string;
}

export interface EnrollmentAttemptStore {
  recordEnrollmentAttempt(attempt: NewEnrollmentAttempt): Promise<EnrollmentAttempt>;
  /**
   * Newest first (at, then insertion order), at most `limit`. Filters: UPN (any case), DeviceID (any case),
   * outcome, at >= since, at < before (paging).
   */
  listEnrollmentAttempts(opts: {
    limit: number;
    upn?: string;
    deviceId?: string;
    outcome?: EnrollmentOutcome;
    since?: Date;
    before?: Date;
  }): Promise<EnrollmentAttempt[]>;
  /** Attempts at or after `since`, optionally of one outcome. */
  countEnrollmentAttempts(opts: { since: Date; outcome?: EnrollmentOutcome }): Promise<number>;
  /** Deletes attempts older than `before`; returns how many. */
  pruneEnrollmentAttempts(before: Date): Promise<number>;
}

/** Everything "who may enroll" needs from storage, composed. */
export interface PolicyStorage
  extends UserStatusStore,
    GroupNestingStore,
    LicenseStore,
    TenantSettingsStore,
    RestrictionStore,
    DemStore,
    CorporateIdentifierStore,
    DeviceCountStore,
    OwnershipStore,
    EnrollmentAttemptStore {}
