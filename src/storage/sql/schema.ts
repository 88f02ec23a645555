/**
 * Row shapes of the SQL schema (see migrations/). Every column type is portable between SQLite and
 * PostgreSQL: text ids, ISO-8601 UTC text timestamps with milliseconds, booleans as 0/1 integers, JSON as
 * text. Only the certificate DER is binary (`blob` on SQLite, `bytea` on PostgreSQL; a Buffer either way).
 */

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

export interface Database {
  domains: DomainsTable;
  users: UsersTable;
  devices: DevicesTable;
  enrollments: EnrollmentsTable;
  device_hwdevids: DeviceHwDevIdsTable;
  device_warnings: DeviceWarningsTable;
  spent_tokens: SpentTokensTable;
}
