/**
 * Row shapes of the SQL schema (see migrations/). Every column type is portable between SQLite and
 * PostgreSQL: text ids, ISO-8601 UTC text timestamps with milliseconds, booleans as 0/1 integers, JSON as
 * text. Only the certificate DER is binary (`blob` on SQLite, `bytea` on PostgreSQL; a Buffer either way).
 */
import type { Generated } from 'kysely';

export interface DomainsTable {
  name: string;
  auth_policy: string;
  created_at: string;
}

export interface UsersTable {
  id: string;
  upn: string;
  display_name: string | null;
  password_hash: string;
  /** 0 or 1. */
  enabled: number;
  created_at: string;
  updated_at: string;
}

export interface DevicesTable {
  id: string;
  device_id: string;
  hw_dev_id: string | null;
  device_name: string | null;
  os_version: string | null;
  os_edition: number | null;
  locale: string | null;
  /** JSON array of strings. */
  mac_addresses: string;
  enrollment_type: string;
  user_id: string;
  upn: string;
  status: string;
  first_enrolled_at: string;
  last_enrolled_at: string;
  current_enrollment_id: string | null;
  /** 'corporate' or 'personal'; set from the enrollment type on first enrollment, kept afterwards. */
  ownership: string;
  /** Why it has its ownership, in words (migration 0004); null before rules were recorded. */
  ownership_rule: string | null;
  last_check_in_at: string | null;
  /** JSON object (DeviceInventory). */
  inventory: string | null;
  retired_at: string | null;
  push_pfn: string | null;
  push_channel_uri: string | null;
  push_status: number | null;
  /** Null until push details were first recorded. */
  push_updated_at: string | null;
}

export interface EnrollmentsTable {
  id: string;
  device_pk: string;
  device_id: string;
  user_id: string;
  upn: string;
  enrollment_type: string;
  auth_policy: string;
  status: string;
  hw_dev_id: string | null;
  device_name: string | null;
  os_version: string | null;
  os_edition: number | null;
  locale: string | null;
  mac_addresses: string;
  cert_serial: string;
  cert_thumbprint: string;
  cert_not_before: string;
  cert_not_after: string;
  cert_der: Uint8Array;
  created_at: string;
  superseded_at: string | null;
  unenrolled_at: string | null;
  /** When the certificate stopped being accepted. */
  revoked_at: string | null;
}

export interface DeviceHwDevIdsTable {
  device_pk: string;
  hw_dev_id: string;
  first_seen_at: string;
  last_seen_at: string;
}

export interface DeviceWarningsTable {
  id: string;
  device_pk: string;
  kind: string;
  /** Identifies the fact the warning is about (for shared_hwdevid: `<HWDEVID>:<OTHER DEVICEID>`); unique per device and kind. */
  subject: string;
  detail: string;
  /** JSON array of DeviceIDs. */
  related_device_ids: string;
  created_at: string;
}

export interface SpentTokensTable {
  jti: string;
  expires_at: string;
  spent_at: string;
}

export interface CommandsTable {
  id: string;
  /** Queue order. PostgreSQL: identity column; SQLite: from command_seq (see migration 0002). */
  seq: Generated<number>;
  device_pk: string;
  user_id: string | null;
  verb: string;
  loc_uri: string;
  /** JSON CommandItem. */
  item: string;
  /** JSON CommandOrigin. */
  origin: string;
  /** Canonical origin text matched by cancelPending. */
  origin_key: string;
  state: string;
  sent_session: string | null;
  sent_msg_id: number | null;
  attempts: number;
  status: number | null;
  /** JSON array of result items. */
  results: string | null;
  created_at: string;
  updated_at: string;
}

/** SQLite only: the one-row counter commands.seq is taken from. */
export interface CommandSeqTable {
  id: number;
  last: number;
}

export interface GroupsTable {
  id: string;
  name: string;
  created_at: string;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
}

export interface ProfilesTable {
  id: string;
  name: string;
  scope: string;
  /** JSON array of ProfileSetting, in a canonical key order (compared as text to detect changes). */
  settings: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ProfileAssignmentsTable {
  profile_id: string;
  /** 'group' or 'device'. */
  target_kind: string;
  /** The group id or device pk (the non-null half of the key). */
  target_ref: string;
  group_id: string | null;
  device_pk: string | null;
  created_at: string;
}

export interface AppliedSettingsTable {
  device_pk: string;
  /** '' for device scope, else the user id (non-null so the primary key dedupes device scope). */
  user_key: string;
  user_id: string | null;
  loc_uri: string;
  format: string;
  value: string;
  profile_id: string;
  applied_at: string;
}

export interface Database {
  domains: DomainsTable;
  users: UsersTable;
  devices: DevicesTable;
  enrollments: EnrollmentsTable;
  device_hwdevids: DeviceHwDevIdsTable;
  device_warnings: DeviceWarningsTable;
  spent_tokens: SpentTokensTable;
  commands: CommandsTable;
  command_seq: CommandSeqTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  profiles: ProfilesTable;
  profile_assignments: ProfileAssignmentsTable;
  applied_settings: AppliedSettingsTable;
  // who may enroll (migration 0004)
  group_groups: GroupGroupsTable;
  user_licenses: UserLicensesTable;
  tenant_settings: TenantSettingsTable;
  enrollment_restrictions: EnrollmentRestrictionsTable;
  restriction_assignments: RestrictionAssignmentsTable;
  device_enrollment_managers: DeviceEnrollmentManagersTable;
  corporate_identifiers: CorporateIdentifiersTable;
  enrollment_attempts: EnrollmentAttemptsTable;
  mfa_factors: MfaFactorsTable;
  entra_tenants: EntraTenantsTable;
  admin_roles: AdminRolesTable;
  admin_sessions: AdminSessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
}

// -- admin API (migration 0005) -------------------------------------------------------------------------

export interface AdminRolesTable {
  user_id: string;
  role: string;
  created_at: string;
  updated_at: string;
}

export interface AdminSessionsTable {
  /** SHA-256 hex of the cookie value. */
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  /** SHA-256 hex of the bearer value. */
  token_hash: string;
  role: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuditLogTable {
  id: string;
  at: string;
  actor_kind: string;
  actor_user_id: string | null;
  actor_upn: string | null;
  actor_token_id: string | null;
  actor_token_name: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  /** JSON text or null. */
  before: string | null;
  after: string | null;
  outcome: string;
  error: string | null;
  trace_id: string | null;
}

// -- who may enroll (migration 0004) -------------------------------------------------------------------

/** A group nested in another (a DAG: cycles are refused on insert). */
export interface GroupGroupsTable {
  parent_id: string;
  child_id: string;
}

export interface UserLicensesTable {
  user_id: string;
  assigned_at: string;
}

/** One row (id 1): the TenantSettings JSON document, merged over the defaults when read. */
export interface TenantSettingsTable {
  id: number;
  /** JSON TenantSettings. */
  settings: string;
  updated_at: string;
}

export interface EnrollmentRestrictionsTable {
  id: string;
  /** 'platform' or 'deviceLimit'. */
  type: string;
  name: string;
  /** 1 = highest among a type's non-default policies; null only for the default. */
  priority: number | null;
  /** 0 or 1. */
  is_default: number;
  /** JSON configuration of the restriction type. */
  config: string;
  created_at: string;
  updated_at: string;
}

export interface RestrictionAssignmentsTable {
  restriction_id: string;
  group_id: string;
  created_at: string;
}

export interface DeviceEnrollmentManagersTable {
  user_id: string;
  added_at: string;
}

/** `*_key`: the matching form (trimmed, lower-case; the serial also without periods); the rest as uploaded. */
export interface CorporateIdentifiersTable {
  manufacturer_key: string;
  model_key: string;
  serial_key: string;
  manufacturer: string;
  model: string;
  serial: string;
  added_at: string;
}

export interface EnrollmentAttemptsTable {
  id: string;
  at: string;
  trace_id: string;
  upn: string | null;
  user_id: string | null;
  device_id: string | null;
  method: string;
  enrollment_type: string | null;
  os_version: string | null;
  ownership: string | null;
  /** 'mdm', 'mam' or 'refused'. */
  outcome: string;
  error_type: string | null;
  subcode: string | null;
  /** JSON array of strings. */
  reasons: string;
  /** JSON object { platform?, deviceLimit? }. */
  policies: string;
}

// -- second factor for enrollment (migration 0006) -------------------------------------------------------

export interface MfaFactorsTable {
  user_id: string;
  kind: string;
  /** 'pending' or 'active'. */
  status: string;
  /** The service's AES-256-GCM ciphertext (core/mfa/secret-box.ts), never the secret. */
  secret: string;
  last_time_step: number | null;
  attempts: number;
  attempts_since: string | null;
  created_at: string;
  confirmed_at: string | null;
  last_used_at: string | null;
}

// -- Entra ID tenants (migration 0007) -------------------------------------------------------------------

export interface EntraTenantsTable {
  tenant_id: string;
  client_id: string;
  /** JSON array of strings. */
  issuers: string;
  /** JWKS JSON document, or null when fetched from jwks_url. */
  jwks: string | null;
  jwks_url: string | null;
  created_at: string;
  updated_at: string;
}
