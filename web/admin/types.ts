/** Shapes of the REST API responses the console reads (see /api/v1/openapi.json). */

export interface DeviceWarning {
  kind: string;
  detail: string;
  relatedDeviceIds: string[];
  createdAt: string;
}

export interface Device {
  deviceId: string;
  deviceName: string | null;
  userId: string;
  upn: string;
  primaryUser: { userId: string; upn: string } | null;
  shared: boolean;
  status: 'enrolled' | 'unenrolled';
  ownership: 'corporate' | 'personal';
  enrollmentType: 'Full' | 'Device';
  osVersion: string | null;
  osEdition: number | null;
  hwDevId: string | null;
  firstEnrolledAt: string;
  lastEnrolledAt: string;
  lastCheckInAt: string | null;
  retiredAt: string | null;
  certThumbprint: string | null;
  certNotAfter: string | null;
  warnings: DeviceWarning[];
  managementMode: 'mdm' | 'mam';
  compliance?: ComplianceState | null;
}

export type ComplianceState = 'compliant' | 'noncompliant' | 'inGrace' | 'unknown';
export type CommandState = 'pending' | 'sent' | 'acknowledged' | 'failed' | 'canceled';

export interface Command {
  id: string;
  seq: number;
  verb: string;
  locUri: string;
  state: CommandState;
  status: number | null;
  attempts: number;
  origin: { kind: 'profile' | 'action' | 'inventory' | 'system'; actionId?: string; profileId?: string; purpose?: string };
  createdAt: string;
  updatedAt: string;
}

export interface DeviceDetail extends Device {
  enrollment: { id: string; status: string; authPolicy: string; createdAt: string; certNotBefore: string; certNotAfter: string };
  inventory: Record<string, unknown> | null;
  commands: Command[];
  users: { userId: string; upn: string; displayName: string | null; firstSeenAt: string; lastSeenAt: string }[];
  notApplicable: { profile: string; locUri: string; reason: string }[];
}

export interface Dashboard {
  generatedAt: string;
  devices: { total: number; corporate: number; personal: number; mdm: number; mam: number; unenrolled: number };
  last24h: { enrolled: number; failed: number; byHour: { hour: string; enrolled: number; failed: number }[] };
}

export interface EnrollmentAttempt {
  id: string;
  at: string;
  traceId: string;
  upn: string | null;
  deviceId: string | null;
  method: string;
  enrollmentType: string | null;
  osVersion: string | null;
  ownership: string | null;
  outcome: 'mdm' | 'mam' | 'refused';
  errorType: string | null;
  subcode: string | null;
  reasons: string[];
  policies: { platform?: string; deviceLimit?: string };
}

export interface AuditEntry {
  id: string;
  at: string;
  /** Who acted: an admin, an API token, the CLI, or an end user (from the Company Portal). */
  actor:
    | { kind: 'admin'; userId?: string; upn?: string }
    | { kind: 'token'; userId?: string; upn?: string; tokenId?: string; tokenName?: string }
    | { kind: 'cli' }
    | { kind: 'user'; userId: string; upn: string };
  actorName: string;
  action: string;
  targetType: string;
  targetId: string | null;
  outcome: 'pending' | 'succeeded' | 'failed';
  error: string | null;
  traceId: string | null;
}
