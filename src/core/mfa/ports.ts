/**
 * Storage port of the second factor for enrollment (S11): one TOTP factor per user. Adapters store the
 * TOTP secret only as the ciphertext the service hands them (core/mfa/secret-box.ts); they never see the
 * secret itself. Who must use a factor is `TenantSettings.mfa` (core/policy/ports.ts).
 */
import type { TenantSettings } from '../policy/ports.js';

export type MfaFactorStatus = 'pending' | 'active';

/** Who must give a second factor on the federated sign-in page. */
export type MfaRequired = TenantSettings['mfa']['required'];

export interface MfaFactor {
  userId: string;
  kind: 'totp';
  /** 'pending' after enrolment until a first valid code confirms it. */
  status: MfaFactorStatus;
  /** The encrypted secret (opaque to storage). */
  secretCiphertext: string;
  /** RFC 6238 time step of the last accepted code; codes at or before it are replays. */
  lastTimeStep: number | null;
  createdAt: Date;
  confirmedAt: Date | null;
  lastUsedAt: Date | null;
}

/** What lists show: the factor without its secret. */
export type MfaFactorSummary = Omit<MfaFactor, 'secretCiphertext'>;

export interface MfaStore {
  getMfaFactor(userId: string): Promise<MfaFactor | undefined>;
  /** Every user's factor, without secrets. */
  listMfaFactors(): Promise<MfaFactorSummary[]>;
  /**
   * Stores a new pending factor for the user, replacing a pending one. Returns false, changing nothing,
   * when the user already has an active factor (reset it first). Throws NotFoundError for an unknown user.
   */
  savePendingMfaFactor(input: { userId: string; secretCiphertext: string; now: Date }): Promise<boolean>;
  /**
   * Pending → active, remembering the time step of the confirming code. False when there is no pending
   * factor (none, or already active).
   */
  activateMfaFactor(userId: string, timeStep: number, now: Date): Promise<boolean>;
  /**
   * Records a successful code on an active factor, atomically and only when `timeStep` is later than the
   * last accepted one (so two requests racing with one code cannot both succeed); clears the attempt
   * counter. False when the factor is missing, not active, or the time step was already used.
   */
  recordMfaUse(userId: string, timeStep: number, now: Date): Promise<boolean>;
  /**
   * Counts one code attempt in a fixed window: when the current window began before `windowStart` (or
   * none began), a new one starts at `now` with this attempt. Returns the attempts in the window including
   * this one; 0 when the user has no factor.
   */
  countMfaAttempt(userId: string, now: Date, windowStart: Date): Promise<number>;
  /** Removes the user's factor; false when there was none. */
  deleteMfaFactor(userId: string): Promise<boolean>;
}
