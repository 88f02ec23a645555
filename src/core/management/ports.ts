/**
 * Storage ports of the management channel (OMA-DM): the durable command queue, per-device applied
 * settings (the acknowledged half of desired state), profiles and their assignments, groups, and the
 * device facts a check-in updates. Same conventions as ../ports.ts; adapters in src/storage.
 */
import type { DeviceRecord, EnrollmentRecord } from '../ports.js';

export type Ownership = 'corporate' | 'personal';

/** What inventory reads from DevInfo/DevDetail; every field optional because devices omit nodes. */
export interface DeviceInventory {
  osVersion?: string;
  osEdition?: string;
  manufacturer?: string;
  model?: string;
  serialNumber?: string;
  hardwareId?: string;
  deviceName?: string;
  language?: string;
  dmVersion?: string;
  totalStorageMb?: number;
  freeStorageMb?: number;
  lastBootTime?: string;
  /** The device's Entra ID device id (DMClient Provider/<ProviderID>/AADDeviceID); only directory-joined or registered PCs. */
  entraDeviceId?: string;
  /** Security state from the DeviceStatus and Defender CSPs (core/compliance reads them; codes in inventory.ts). */
  encryptionCompliance?: number;
  firewallStatus?: number;
  antivirusStatus?: number;
  antivirusSignatureStatus?: number;
  antispywareStatus?: number;
  antispywareSignatureStatus?: number;
  realTimeProtection?: boolean;
  tpmVersion?: string;
  collectedAt: string;
}

export interface ManagedDevice {
  device: DeviceRecord;
  /** The active enrollment (the one whose certificate authenticates sessions). */
  enrollment: EnrollmentRecord;
  ownership: Ownership;
  lastCheckInAt: Date | null;
  inventory: DeviceInventory | null;
  /** Set when the device was retired or deleted by an admin: it is told to unenroll at its next session. */
  retiredAt: Date | null;
}

export interface DeviceStateStore {
  /**
   * The device whose enrollment certificate has this thumbprint, with that enrollment, whatever its
   * status (the caller decides: superseded, unenrolled and revoked certificates get no commands).
   */
  findByCertificate(thumbprint: string): Promise<
    | {
        device: DeviceRecord;
        enrollment: EnrollmentRecord;
        ownership: Ownership;
        retiredAt: Date | null;
        inventory: DeviceInventory | null;
      }
    | undefined
  >;
  getManagedDevice(deviceId: string): Promise<ManagedDevice | undefined>;
  recordCheckIn(devicePk: string, now: Date): Promise<void>;
  /**
   * Merges the given fields into the stored inventory (fields not given are kept). When the device has
   * a serial number (and a HWDevID or Entra device id) another record shares, and this device holds the
   * newer enrollment, the other record is the same machine enrolled before (a reset or re-join): its
   * history (enrollments, DeviceIDs, hardware ids, commands, users, ownership) moves onto this record and
   * it is removed; this record keeps its id, so a session in progress goes on (S16). A record with another
   * serial stays apart with its cloned-image warning.
   */
  updateInventory(devicePk: string, inventory: Partial<DeviceInventory>, now: Date): Promise<void>;
  setOwnership(devicePk: string, ownership: Ownership): Promise<void>;
  /** Marks the device retired: next session it is told to unenroll; its certificate stays valid until then. */
  markRetired(devicePk: string, now: Date): Promise<void>;
  /**
   * The device left management (Alert 1226 user request, or after a retire): the active enrollment
   * becomes 'unenrolled' with revokedAt = now, the device status 'unenrolled'. Idempotent.
   */
  markUnenrolled(devicePk: string, now: Date): Promise<void>;
  /** Removes the device and everything hanging off it (commands, applied settings). */
  deleteDevice(devicePk: string): Promise<void>;
  /** WNS: the app identity we provisioned and the channel the device reported. */
  setPushChannel(
    devicePk: string,
    push: { pfn?: string | null; channelUri?: string | null; status?: number | null },
    now: Date,
  ): Promise<void>;
  getPushChannel(
    devicePk: string,
  ): Promise<{ pfn: string | null; channelUri: string | null; status: number | null; updatedAt: Date } | undefined>;
}

// ---------------------------------------------------------------------------------------------------
// Command queue
// ---------------------------------------------------------------------------------------------------

export type CommandVerb = 'Get' | 'Add' | 'Replace' | 'Delete' | 'Exec';
export type CommandState = 'pending' | 'sent' | 'acknowledged' | 'failed' | 'canceled';

export interface CommandItem {
  /** Full OMA-DM URI, e.g. `./Device/Vendor/MSFT/Reboot/RebootNow`; never starts with `/`. */
  locUri: string;
  /** Meta/Format: chr, int, bool, b64, xml, null, node, float... */
  format?: string;
  type?: string;
  data?: string;
}

/** Why a command exists; drives what its acknowledgement updates. */
export type CommandOrigin =
  | { kind: 'profile'; profileId: string; setting: string }
  | { kind: 'action'; actionId: string }
  | { kind: 'inventory' }
  | { kind: 'system'; purpose: string };

export interface NewCommand {
  verb: CommandVerb;
  item: CommandItem;
  /** Null: device scope. Otherwise the command waits for a session in which this user is signed in. */
  userId: string | null;
  origin: CommandOrigin;
}

export interface QueuedCommand extends NewCommand {
  /** Unique id; also the CmdID we send (Windows echoes it in CmdRef). */
  id: string;
  /** Monotonic across the store: the queue order. Never a timestamp. */
  seq: number;
  devicePk: string;
  state: CommandState;
  /** The session key and server MsgID it was last sent in. */
  sentSession: string | null;
  sentMsgId: number | null;
  attempts: number;
  /** The device's Status code, once acknowledged or failed. */
  status: number | null;
  /** Results of a Get, per item. */
  results: Array<{ locUri: string; format?: string; data: string }> | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CommandQueue {
  /** Appends commands for one device in the given order. */
  enqueue(devicePk: string, commands: NewCommand[], now: Date): Promise<QueuedCommand[]>;
  /**
   * Fan-out: the same command for every device selected, as ONE set-based insert (INSERT ... SELECT),
   * never a loop. Selection: explicit device pks, every enrolled device, or the devices enrolled by members of a group
   * (transitively: members of groups nested in it count; a device gets one command however many paths reach its user).
   * Returns how many commands were queued.
   */
  enqueueForDevices(
    selection: { devicePks: string[] } | { allEnrolled: true } | { groupId: string },
    command: NewCommand,
    now: Date,
  ): Promise<number>;
  /**
   * What a session may send, in seq order, in ONE indexed query: commands of the device that are
   * pending, or were sent in a session other than `sessionKey` and never acknowledged (a lost session's
   * commands are sent again). `userId` null returns only device-scope commands; a user id also returns
   * that user's commands. At most `limit` rows.
   */
  nextCommands(devicePk: string, opts: { sessionKey: string; userId: string | null; limit: number }): Promise<QueuedCommand[]>;
  /** Records that these commands went out in `sessionKey`/`msgId` (attempts + 1). */
  markSent(ids: string[], sessionKey: string, msgId: number, now: Date): Promise<void>;
  /**
   * Records the device's Status for a command it was sent. Only a command in state 'sent' changes
   * (acknowledging twice is a no-op, returns undefined). 2xx → acknowledged, otherwise failed.
   */
  recordStatus(devicePk: string, commandId: string, status: number, now: Date): Promise<QueuedCommand | undefined>;
  /** Stores Results items for a command (Get). */
  recordResults(
    devicePk: string,
    commandId: string,
    results: Array<{ locUri: string; format?: string; data: string }>,
    now: Date,
  ): Promise<void>;
  getCommand(commandId: string): Promise<QueuedCommand | undefined>;
  listCommands(devicePk: string, opts?: { limit?: number }): Promise<QueuedCommand[]>;
  /** Cancels pending commands matching the origin (e.g. superseded profile settings). Returns how many. */
  cancelPending(devicePk: string, match: { origin: CommandOrigin } | { locUri: string; userId: string | null }, now: Date): Promise<number>;
  /** Cancels these commands if they are still pending (never one already sent). Returns how many. */
  cancelCommands(devicePk: string, ids: string[], now: Date): Promise<number>;
  /** Deletes acknowledged/failed/canceled commands last updated before `before`. Returns how many. */
  pruneTerminal(before: Date): Promise<number>;
}

// ---------------------------------------------------------------------------------------------------
// Desired state: profiles, assignments, applied settings
// ---------------------------------------------------------------------------------------------------

export type ProfileScope = 'user' | 'device';
export type ProfileType = 'custom' | 'wip';

export interface ProfileSetting {
  /** CSP path below the scope root, e.g. `Vendor/MSFT/Policy/Config/Camera/AllowCamera`. */
  path: string;
  format: 'chr' | 'int' | 'bool' | 'b64' | 'xml' | 'float';
  value: string;
}

export interface Profile {
  id: string;
  name: string;
  scope: ProfileScope;
  settings: ProfileSetting[];
  /** 'custom' (settings as given) or a typed profile compiled from named fields ('wip'). */
  type: ProfileType;
  /** For typed profiles, the named fields the settings were compiled from (WIP: core/management/wip.ts); else null. */
  definition: Record<string, unknown> | null;
  /** Increases on every change of settings. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type AssignmentTarget = { kind: 'group'; groupId: string } | { kind: 'device'; devicePk: string };

/**
 * Required: delivered to every targeted device. Available: offered in the Company Portal and delivered to a
 * device only after its primary user asked for it there (a ProfileInstallRequest); required wins over available.
 */
export type ProfileIntent = 'required' | 'available';

/** An end user's Install of an available profile on one device. */
export interface ProfileInstallRequest {
  devicePk: string;
  profileId: string;
  userId: string;
  requestedAt: Date;
}

export interface Group {
  id: string;
  name: string;
  createdAt: Date;
}

export interface GroupStore {
  /** Throws ConflictError when the name exists. */
  addGroup(input: { name: string; now: Date }): Promise<Group>;
  getGroupByName(name: string): Promise<Group | undefined>;
  listGroups(): Promise<Group[]>;
  /** Idempotent. */
  addGroupMember(groupId: string, userId: string): Promise<void>;
  removeGroupMember(groupId: string, userId: string): Promise<void>;
  listGroupMembers(groupId: string): Promise<string[]>;
}

export interface ProfileStore {
  /** Creates or replaces by name; version increases only when scope or settings change. */
  saveProfile(input: {
    name: string;
    scope: ProfileScope;
    settings: ProfileSetting[];
    /** Default 'custom' with no definition. */
    type?: ProfileType;
    definition?: Record<string, unknown> | null;
    now: Date;
  }): Promise<Profile>;
  getProfileByName(name: string): Promise<Profile | undefined>;
  getProfile(id: string): Promise<Profile | undefined>;
  listProfiles(): Promise<Profile[]>;
  /** Also removes its assignments. */
  deleteProfile(id: string): Promise<void>;
  /** Idempotent; assigning again sets the intent (default required). */
  assignProfile(profileId: string, target: AssignmentTarget, now: Date, intent?: ProfileIntent): Promise<void>;
  unassignProfile(profileId: string, target: AssignmentTarget): Promise<void>;
  listAssignments(profileId: string): Promise<AssignmentTarget[]>;
  /** The same assignments, in the same order, each with its intent. */
  listAssignmentIntents(profileId: string): Promise<Array<{ target: AssignmentTarget; intent: ProfileIntent }>>;
  /**
   * Profiles that apply on a device: assigned to the device itself, or to a group containing the device's
   * primary user (device-scope profiles; a shared device, with no primary user, gets them only through
   * device assignments) / containing `userId` (user-scope profiles, for that user). Group membership
   * is transitive (core/policy/ports.ts): a profile assigned to a group reaches members of groups nested in it.
   * An available assignment counts only once the profile's install was requested on this device (for a
   * user-scope profile: by that user); a required one reaching the same profile wins.
   */
  profilesForDevice(devicePk: string, userIds: string[]): Promise<Array<{ profile: Profile; forUserId: string | null }>>;
  /** Devices affected by a profile's assignments, group membership transitive (to queue changes when it is edited). */
  devicesForProfile(profileId: string): Promise<string[]>;
  /**
   * Profiles assigned to a group holding the user (directly or through nesting), each once with its
   * strongest intent (required over available). Sorted by name.
   */
  profilesForUser(userId: string): Promise<Array<{ profile: Profile; intent: ProfileIntent }>>;
  /** Records (or renews) the request to install the profile on the device. Throws NotFoundError for an unknown device or profile. */
  requestProfileInstall(input: { devicePk: string; profileId: string; userId: string; now: Date }): Promise<void>;
  /** The device's install requests, oldest first. */
  listProfileInstallRequests(devicePk: string): Promise<ProfileInstallRequest[]>;
}

/** A setting as the device last acknowledged it (the "applied" half of desired state). */
export interface AppliedSetting {
  devicePk: string;
  /** Null for device scope. */
  userId: string | null;
  /** Full LocURI as sent. */
  locUri: string;
  format: string;
  value: string;
  /** The profile that wanted it when it was applied. */
  profileId: string;
  appliedAt: Date;
}

export interface AppliedSettingStore {
  listApplied(devicePk: string): Promise<AppliedSetting[]>;
  /** Upsert by (device, user, locUri). */
  recordApplied(setting: AppliedSetting): Promise<void>;
  /** Forget a setting after its Delete was acknowledged. */
  removeApplied(devicePk: string, userId: string | null, locUri: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Users of a device: the primary user and who signed in (seed S4)
// ---------------------------------------------------------------------------------------------------

/** A directory user seen signed in to a device (identified in a management session). */
export interface DeviceUser {
  userId: string;
  upn: string;
  displayName: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export interface DeviceUserStore {
  /** Sets (or, with null, clears: a shared device) the primary user. Throws NotFoundError for an unknown device or user. */
  setPrimaryUser(devicePk: string, userId: string | null): Promise<void>;
  /** Upsert by (device, user): first sighting kept, last sighting moved forward only. */
  recordDeviceUser(devicePk: string, userId: string, now: Date): Promise<void>;
  /** The users seen on the device, most recently seen first. */
  listDeviceUsers(devicePk: string): Promise<DeviceUser[]>;
  /**
   * The devices related to a user, as the Company Portal's "My devices" shows them: those the user is the
   * primary user of or enrolled, and shared devices (no primary user) the user signed in to. Indexed reads;
   * ordered like listDevices (first enrolled, then DeviceID).
   */
  listDevicesOfUser(userId: string): Promise<DeviceRecord[]>;
}

export interface ManagementStorage
  extends DeviceStateStore,
    CommandQueue,
    GroupStore,
    ProfileStore,
    AppliedSettingStore,
    DeviceUserStore,
    MamRegistrationStore {}

// ---------------------------------------------------------------------------------------------------
// App protection without MDM (MAM registrations)
// ---------------------------------------------------------------------------------------------------

export type MamRegistrationStatus = 'active' | 'superseded' | 'unenrolled';

/** One app-protection registration of a device: who registered it, through which directory tenant, when. */
export interface MamRegistration {
  id: string;
  devicePk: string;
  deviceId: string;
  userId: string;
  upn: string;
  tenantId: string;
  status: MamRegistrationStatus;
  createdAt: Date;
  /** When it was superseded (registered again, or enrolled in MDM) or unenrolled. */
  endedAt: Date | null;
}

export interface NewMamRegistration {
  deviceId: string;
  hwDevId: string | null;
  deviceName: string | null;
  osVersion: string | null;
  userId: string;
  upn: string;
  tenantId: string;
  /** Why the device is personal, in words (MAM registrations come from "add work account"). */
  ownershipRule: string;
  now: Date;
}

export type RecordedMamRegistration =
  | { ok: true; device: DeviceRecord; registration: MamRegistration; superseded: number }
  /** The DeviceID is MDM-enrolled and active: Windows never runs both, so nothing is changed. */
  | { ok: false; reason: 'mdm_enrolled'; device: DeviceRecord };

export interface MamRegistrationStore {
  /**
   * One transaction: the device record by DeviceID (created, or an unenrolled MDM record reused: one record
   * per device), management mode 'mam' with no current enrollment, earlier active registrations
   * superseded, the new registration active.
   */
  recordMamRegistration(input: NewMamRegistration): Promise<RecordedMamRegistration>;
  /**
   * The device's active MAM registration, with the device facts a session needs and an enrollment view
   * (no certificate: certificate fields empty) so the session engine treats it like any enrollment.
   */
  findMamRegistration(deviceId: string): Promise<
    | {
        device: DeviceRecord;
        registration: MamRegistration;
        enrollment: EnrollmentRecord;
        ownership: Ownership;
        retiredAt: Date | null;
        inventory: DeviceInventory | null;
      }
    | undefined
  >;
  /** Every registration of the device, oldest first. */
  listMamRegistrations(deviceId: string): Promise<MamRegistration[]>;
}
