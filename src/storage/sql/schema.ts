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
  /** The device's primary user; null for a shared device (migration 0008). */
  primary_user_id: string | null;
  /** 'mdm', or 'mam' for an app-protection registration without a certificate (migration 0013). */
  management_mode: Generated<string>;
  /** BIOS serial from inventory, upper-cased, placeholders dropped (migration 0012). */
  serial_number: string | null;
  /** Entra device id (lower-case GUID) from a join token or inventory (migration 0012). */
  entra_device_id: string | null;
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
  /** How it happened: join, work_account, manual, bulk (migration 0012); null before that. */
  method: string | null;
  entra_device_id: string | null;
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
  /** 'custom' or 'wip' (migration 0013). */
  profile_type: Generated<string>;
  /** JSON: the named fields a typed profile (WIP) was compiled from; null for custom profiles. */
  definition: string | null;
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
  /** 'required' or 'available' (migration 0017; existing rows are required). */
  intent: Generated<string>;
}

/** An end user's Install of an available profile on one device (migration 0017). */
export interface ProfileInstallRequestsTable {
  device_pk: string;
  profile_id: string;
  user_id: string;
  requested_at: string;
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
  profile_install_requests: ProfileInstallRequestsTable;
  applied_settings: AppliedSettingsTable;
  // who may enroll (migration 0004)
  group_groups: GroupGroupsTable;
  user_licenses: UserLicensesTable;
  group_licenses: GroupLicensesTable;
  tenant_settings: TenantSettingsTable;
  enrollment_restrictions: EnrollmentRestrictionsTable;
  restriction_assignments: RestrictionAssignmentsTable;
  device_enrollment_managers: DeviceEnrollmentManagersTable;
  corporate_identifiers: CorporateIdentifiersTable;
  enrollment_attempts: EnrollmentAttemptsTable;
  mfa_factors: MfaFactorsTable;
  entra_tenants: EntraTenantsTable;
  oidc_providers: OidcProvidersTable;
  // compliance (migration 0011)
  compliance_rules: ComplianceRulesTable;
  device_compliance: DeviceComplianceTable;
  compliance_history: ComplianceHistoryTable;
  compliance_write_back_tenants: ComplianceWriteBackTenantsTable;
  // one record per physical device, directory object links, terms text (migration 0012)
  device_merges: DeviceMergesTable;
  user_directory_links: UserDirectoryLinksTable;
  terms_of_use_text: TermsOfUseTextTable;
  synced_identities: SyncedIdentitiesTable;
  scim_tokens: ScimTokensTable;
  entra_sync: EntraSyncTable;
  device_users: DeviceUsersTable;
  mam_registrations: MamRegistrationsTable;
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

/** A license assigned to a group (migration 0014): its enabled members, nesting included, are licensed. */
export interface GroupLicensesTable {
  group_id: string;
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

// -- OIDC providers of the federated sign-in page (migration 0010) ---------------------------------------

export interface OidcProvidersTable {
  id: string;
  name: string;
  /** Lower-cased name (unique). */
  name_key: string;
  issuer: string;
  client_id: string;
  /** SecretBox ciphertext, never the secret. */
  client_secret: string;
  /** JSON array of strings. */
  scopes: string;
  claim: string;
  /** JSON array of lower-case domain names. */
  domains: string;
  /** 0 or 1. */
  trust_mfa: number;
  ca_pem: string | null;
  created_at: string;
  updated_at: string;
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

// -- app protection without MDM (migration 0013) -----------------------------------------------------------

export interface MamRegistrationsTable {
  id: string;
  device_pk: string;
  device_id: string;
  user_id: string;
  upn: string;
  tenant_id: string;
  /** 'active', 'superseded' or 'unenrolled'. */
  status: string;
  created_at: string;
  ended_at: string | null;
}

// -- users of a device (migration 0008) ------------------------------------------------------------------

/** A directory user seen signed in to a device in a management session. */
export interface DeviceUsersTable {
  device_pk: string;
  user_id: string;
  first_seen_at: string;
  last_seen_at: string;
}

// -- directory sync (migration 0009) --------------------------------------------------------------------

/** Where a user or group comes from when it is not local: SCIM or an Entra tenant (core/directory-sync). */
export interface SyncedIdentitiesTable {
  /** 'user' or 'group'. */
  kind: string;
  local_id: string;
  source: string;
  external_id: string | null;
  name: string;
  /** 0 or 1. */
  linked_local: number;
  /** JSON object. */
  attributes: string;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ScimTokensTable {
  id: string;
  name: string;
  token_hash: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface EntraSyncTable {
  tenant_id: string;
  graph_url: string;
  token_url: string;
  /** SecretBox ciphertext, never the secret. */
  client_secret: string;
  ca_pem: string | null;
  users_delta_link: string | null;
  groups_delta_link: string | null;
  last_run_at: string | null;
  last_status: string | null;
  last_error: string | null;
  /** JSON object of counts. */
  last_counts: string | null;
  created_at: string;
  updated_at: string;
}

// -- device identity, directory object links, terms text (migration 0012) --------------------------------

export interface DeviceMergesTable {
  id: string;
  /** The surviving record. */
  device_pk: string;
  /** The DeviceID of the record folded into it. */
  merged_device_id: string;
  merged_first_enrolled_at: string;
  reason: string;
  merged_at: string;
}

export interface UserDirectoryLinksTable {
  user_id: string;
  tenant_id: string;
  /** The user's directory object id (`oid`), lower-case GUID. */
  object_id: string;
  linked_at: string;
}

export interface TermsOfUseTextTable {
  /** Always 1. */
  id: number;
  /** Null: the default title / text. */
  title: string | null;
  body: string | null;
  version: number;
  updated_at: string;
}

// -- compliance (migration 0011) ------------------------------------------------------------------------

export interface ComplianceRulesTable {
  /** Always 'tenant' (tenant-wide rules). */
  id: string;
  /** JSON (ComplianceRules). */
  rules: string;
  updated_at: string;
}

export interface DeviceComplianceTable {
  device_pk: string;
  state: string;
  /** JSON array of RuleResult. */
  rules: string;
  summary: string;
  evaluated_at: string;
  since: string;
  failing_since: string | null;
  grace_ends_at: string | null;
  entra_device_id: string | null;
  wb_tenant_id: string | null;
  /** 0/1 or null. */
  wb_desired: number | null;
  wb_written: number | null;
  wb_attempts: Generated<number>;
  wb_last_attempt_at: string | null;
  wb_last_result: string | null;
  wb_next_attempt_at: string | null;
}

export interface ComplianceHistoryTable {
  id: string;
  device_pk: string;
  state: string;
  previous_state: string | null;
  summary: string;
  at: string;
}

export interface ComplianceWriteBackTenantsTable {
  tenant_id: string;
  enabled_at: string;
}
