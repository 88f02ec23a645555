/**
 * Ports of compliance: the storage of the rules, of each device's evaluated state and its history, of the
 * directory write-back queue (one row per device: what the directory should be told, what it was last
 * told, the last attempt's result), and the directory writer itself (adapter in src/graph).
 */
/** compliant, noncompliant, inGrace (failing, within the grace period), unknown (not reported yet). */
export type ComplianceState = 'compliant' | 'noncompliant' | 'inGrace' | 'unknown';

/** The rules an admin sets (tenant-wide). Null/false turns a rule off. */
export interface ComplianceRules {
  /** Lowest Windows version allowed, compared on the parts given: `10.0.22631` allows 10.0.22631.x and later. */
  minOsVersion: string | null;
  /** Highest Windows version allowed, compared on the parts given: `10.0.26100` allows every 10.0.26100.x. */
  maxOsVersion: string | null;
  /** BitLocker: DeviceStatus/Compliance/EncryptionCompliance = 1 (the OS drive is encrypted). */
  requireEncryption: boolean;
  /** DeviceStatus/Firewall/Status = 0 (on and monitoring). */
  requireFirewall: boolean;
  /** DeviceStatus/Antivirus/Status = 0 (on and monitoring). */
  requireAntivirus: boolean;
  /** DeviceStatus/Antivirus/SignatureStatus = 1 (security intelligence up to date). */
  requireAntivirusSignatures: boolean;
  /** DeviceStatus/Antispyware/Status = 0. */
  requireAntispyware: boolean;
  /** Defender/Health/RtpEnabled = true (Microsoft Defender real-time protection). */
  requireRealTimeProtection: boolean;
  /** How long a failing device stays `inGrace` before it becomes `noncompliant`; 0 = at once. */
  gracePeriodHours: number;
  /** A device that has not checked in for this many days is noncompliant; null = never. */
  maxDaysWithoutCheckIn: number | null;
}

export type RuleId =
  | 'minOsVersion'
  | 'maxOsVersion'
  | 'encryption'
  | 'firewall'
  | 'antivirus'
  | 'antivirusSignatures'
  | 'antispyware'
  | 'realTimeProtection'
  | 'checkIn';

export interface RuleResult {
  rule: RuleId;
  /** Short name, e.g. "Firewall". */
  title: string;
  status: 'pass' | 'fail' | 'unknown';
  /** What the device reported, in words ("off", "10.0.19045.4529"); null when nothing was reported. */
  reported: string | null;
  /** What the rule asks for, in words. */
  expected: string;
  /** For admins: why it passes or fails. */
  reason: string;
  /** For the person using the device: what to do (empty when it passes). */
  fix: string;
}

/** A device's stored compliance. */
export interface DeviceCompliance {
  devicePk: string;
  state: ComplianceState;
  rules: RuleResult[];
  summary: string;
  evaluatedAt: Date;
  /** When the state last changed. */
  since: Date;
  failingSince: Date | null;
  graceEndsAt: Date | null;
  writeBack: WriteBackState;
}

export interface WriteBackState {
  /** The device's Entra device id (DMClient AADDeviceID), when it reported one. */
  entraDeviceId: string | null;
  /** The tenant the device was found in, once a write succeeded. */
  tenantId: string | null;
  /** What the directory should say (isCompliant); null: nothing to say (unknown). */
  desired: boolean | null;
  /** What the directory was last told successfully; null: never. */
  written: boolean | null;
  attempts: number;
  lastAttemptAt: Date | null;
  /** Readable outcome of the last attempt ("written: isCompliant=false (HTTP 204)", "failed: ..."). */
  lastResult: string | null;
  /** When a failed write is tried again. */
  nextAttemptAt: Date | null;
}

export interface ComplianceHistoryEntry {
  devicePk: string;
  state: ComplianceState;
  previousState: ComplianceState | null;
  summary: string;
  at: Date;
}

export interface NewDeviceCompliance {
  devicePk: string;
  state: ComplianceState;
  rules: RuleResult[];
  summary: string;
  failingSince: Date | null;
  graceEndsAt: Date | null;
  entraDeviceId: string | null;
  /** See WriteBackState.desired. */
  desired: boolean | null;
  now: Date;
}

export interface WriteBackTenant {
  tenantId: string;
  enabledAt: Date;
}

export interface ComplianceStore {
  /** Undefined until an admin saved rules (callers use the defaults). */
  getComplianceRules(): Promise<ComplianceRules | undefined>;
  saveComplianceRules(rules: ComplianceRules, now: Date): Promise<void>;
  getDeviceCompliance(devicePk: string): Promise<DeviceCompliance | undefined>;
  /**
   * Stores an evaluation in one transaction: `since` moves and a history entry is appended only when the
   * state differs from the stored one. When `desired` differs from the stored desired value the write-back
   * attempts and next attempt are reset so the change is written at once. Returns the previous state.
   */
  saveDeviceCompliance(input: NewDeviceCompliance): Promise<{ previous: ComplianceState | null; changed: boolean }>;
  /** Newest first. */
  listComplianceHistory(devicePk: string, limit: number): Promise<ComplianceHistoryEntry[]>;
  /**
   * Devices whose directory state must be written: desired set and different from written (or never
   * written), an Entra device id known, next attempt due. Oldest evaluation first, at most `limit`.
   */
  listWriteBackDue(now: Date, limit: number): Promise<DeviceCompliance[]>;
  /** Records one write attempt; `written` is set only on success. */
  recordWriteBack(
    devicePk: string,
    result: { ok: boolean; value: boolean; tenantId: string | null; detail: string; nextAttemptAt: Date | null; now: Date },
  ): Promise<void>;
  listWriteBackTenants(): Promise<WriteBackTenant[]>;
  /** Idempotent; false when nothing changed. */
  setWriteBackTenant(tenantId: string, enabled: boolean, now: Date): Promise<boolean>;
}

/** Result of one directory write. */
export type DirectoryWriteResult =
  | { ok: true; status: number }
  | {
      ok: false;
      /** HTTP status, or null when no answer came (network, timeout, no token). */
      status: number | null;
      /** The directory does not know the device (in this tenant). */
      notFound: boolean;
      /** Readable cause, never the token. */
      detail: string;
    };

/**
 * Tells a directory whether a device is compliant (Microsoft Graph: PATCH /devices(deviceId='…') with
 * isCompliant and isManaged). Implementations retry transient failures themselves.
 */
export interface DirectoryComplianceWriter {
  writeCompliance(input: {
    tenantId: string;
    entraDeviceId: string;
    isCompliant: boolean;
    isManaged: boolean;
  }): Promise<DirectoryWriteResult>;
}
