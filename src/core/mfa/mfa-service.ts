/**
 * The second factor for enrollment (S11, intune-features.md row 14 and 2.13): per-user TOTP factors
 * (RFC 6238, SHA-1, 6 digits, 30 s: what every authenticator app scans) and the setting that requires one
 * on the federated sign-in page, for nobody (the default), everybody, or members of groups.
 *
 * - Secrets are sealed with AES-256-GCM before they reach storage (secret-box.ts); the key comes from the
 *   composition root, core reads no files.
 * - Replays: the time step of every accepted code is stored; a code at or before it is refused, and
 *   storage takes the new step with a compare-and-set, so two requests racing with one code cannot both
 *   pass.
 * - Guessing: at most MFA_ATTEMPT_LIMIT codes per user per MFA_ATTEMPT_WINDOW_MS, counted in storage
 *   before the code is checked (shared by every server process); a correct code clears the count.
 * - Who: `TenantSettings.mfa` (core/policy), groups evaluated transitively.
 */
import { SignJWT, jwtVerify } from 'jose';
import { generateSecret, generateURI, verify } from 'otplib';
import type { Clock } from '../../shared/clock.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../shared/errors.js';
import { normalizeUpn } from '../directory/names.js';
import type { GroupStore } from '../management/ports.js';
import type { GroupNestingStore, TenantSettingsStore } from '../policy/ports.js';
import type { User, UserStore } from '../ports.js';
import type { MfaFactorStatus, MfaRequired, MfaStore } from './ports.js';
import { SecretBox, deriveKey } from './secret-box.js';

export const MFA_ATTEMPT_LIMIT = 5;
export const MFA_ATTEMPT_WINDOW_MS = 15 * 60_000;
/** How long the password step stays valid while the user fetches a code. */
export const MFA_STEP_TTL_SECONDS = 5 * 60;
/**
 * Accept the previous and next 30-second step as well as the current one: the phone's clock may be a
 * little off and the user needs time to type. Replay protection still makes each code single-use.
 */
const EPOCH_TOLERANCE: [number, number] = [30, 30];
const CODE = /^[0-9]{6}$/;
const STEP_AUDIENCE = 'winroll:mfa-code-step';
const STEP_ISSUER = 'winroll';

export type MfaServiceStore = MfaStore &
  Pick<UserStore, 'getUserByUpn'> &
  Pick<GroupStore, 'getGroupByName' | 'listGroups'> &
  Pick<GroupNestingStore, 'groupsOfUser'> &
  TenantSettingsStore;

/** Whether a user is a member of at least one of the groups. */
export type MembershipCheck = (userId: string, groupIds: readonly string[]) => Promise<boolean>;

/** Membership through nested groups (GroupNestingStore.groupsOfUser), as every group rule evaluates it. */
export function transitiveMembershipCheck(store: Pick<GroupNestingStore, 'groupsOfUser'>): MembershipCheck {
  return async (userId, groupIds) => (await store.groupsOfUser(userId)).some((g) => groupIds.includes(g));
}

/** Every user's factor status, for lists; needs no key. */
export async function mfaStatusByUser(store: Pick<MfaStore, 'listMfaFactors'>): Promise<Map<string, MfaFactorStatus>> {
  return new Map((await store.listMfaFactors()).map((f) => [f.userId, f.status]));
}

export interface MfaEnrolment {
  upn: string;
  /** Base32; shown once to the admin, never stored in the clear. */
  secret: string;
  /** `otpauth://totp/...`, for the QR code. */
  uri: string;
}

export interface MfaRequirementView {
  required: MfaRequired;
  groups: Array<{ id: string; name: string | null }>;
}

export type CodeFailure = 'not_enrolled' | 'wrong_code' | 'replayed' | 'rate_limited';
export type CodeCheck = { ok: true } | { ok: false; reason: CodeFailure };

export interface StepState {
  userId: string;
  upn: string;
  appru: string;
}

export class MfaService {
  readonly #store: MfaServiceStore;
  readonly #clock: Clock;
  readonly #issuer: string;
  readonly #box: SecretBox;
  readonly #stepKey: Uint8Array;
  readonly #isInAnyGroup: MembershipCheck;

  constructor(deps: { store: MfaServiceStore; masterKey: Uint8Array; clock: Clock; issuer: string; isInAnyGroup?: MembershipCheck }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#issuer = deps.issuer;
    this.#box = new SecretBox(deps.masterKey);
    this.#stepKey = deriveKey(deps.masterKey, 'sign-in step state v1');
    this.#isInAnyGroup = deps.isInAnyGroup ?? transitiveMembershipCheck(deps.store);
  }

  // -- per-user factors ------------------------------------------------------------------------------

  /** Creates (or replaces) a pending TOTP factor; the result is the only time the secret is visible. */
  async enroll(upn: string): Promise<MfaEnrolment> {
    const user = await this.#user(upn);
    const secret = generateSecret({ length: 20 });
    const saved = await this.#store.savePendingMfaFactor({
      userId: user.id,
      secretCiphertext: this.#box.seal(secret, user.id),
      now: this.#clock.now(),
    });
    if (!saved)
      throw new ConflictError(`${user.upn} already has an active second factor; remove it first with: winroll users mfa reset ${user.upn}`);
    return { upn: user.upn, secret, uri: generateURI({ issuer: this.#issuer, label: user.upn, secret }) };
  }

  /** Activates a pending factor with one valid code from the user's app; returns the normalised UPN. */
  async confirm(upn: string, code: string): Promise<string> {
    const user = await this.#user(upn);
    const factor = await this.#store.getMfaFactor(user.id);
    if (!factor) throw new NotFoundError(`${user.upn} has no second factor to confirm; start with: winroll users mfa enroll ${user.upn}`);
    if (factor.status === 'active') throw new ConflictError(`${user.upn}'s second factor is already active`);
    const step = await this.#check(user.id, factor.secretCiphertext, code);
    if (step === undefined)
      throw new InvalidInputError('that code is not valid for this secret; check the time on the phone and try the next code');
    if (!(await this.#store.activateMfaFactor(user.id, step, this.#clock.now()))) {
      throw new ConflictError(`${user.upn}'s second factor changed meanwhile; check with: winroll users list`);
    }
    return user.upn;
  }

  /** Removes the user's factor (lost phone); `removed` is false when there was none. */
  async reset(upn: string): Promise<{ upn: string; removed: boolean }> {
    const user = await this.#user(upn);
    return { upn: user.upn, removed: await this.#store.deleteMfaFactor(user.id) };
  }

  async statusOf(userId: string): Promise<MfaFactorStatus | undefined> {
    return (await this.#store.getMfaFactor(userId))?.status;
  }

  /**
   * Checks a code for a sign-in: the factor must be active, the attempt within the limit, the code valid
   * and later than the last accepted one.
   */
  async verifyCode(userId: string, code: string): Promise<CodeCheck> {
    const factor = await this.#store.getMfaFactor(userId);
    if (factor?.status !== 'active') return { ok: false, reason: 'not_enrolled' };
    const now = this.#clock.now();
    const attempts = await this.#store.countMfaAttempt(userId, now, new Date(now.getTime() - MFA_ATTEMPT_WINDOW_MS));
    if (attempts > MFA_ATTEMPT_LIMIT) return { ok: false, reason: 'rate_limited' };
    const step = await this.#check(userId, factor.secretCiphertext, code);
    if (step === undefined) return { ok: false, reason: 'wrong_code' };
    if (factor.lastTimeStep !== null && step <= factor.lastTimeStep) return { ok: false, reason: 'replayed' };
    if (!(await this.#store.recordMfaUse(userId, step, now))) return { ok: false, reason: 'replayed' };
    return { ok: true };
  }

  // -- the requirement -------------------------------------------------------------------------------

  /** TenantSettings.mfa, with group names. */
  async requirement(): Promise<MfaRequirementView> {
    const { mfa } = await this.#store.getTenantSettings();
    const names = new Map((await this.#store.listGroups()).map((g) => [g.id, g.name]));
    return { required: mfa.required, groups: mfa.groupIds.map((id) => ({ id, name: names.get(id) ?? null })) };
  }

  /** Changes only the `mfa` part of the tenant settings. */
  async setRequirement(required: MfaRequired, groupNames: readonly string[] = []): Promise<MfaRequirementView> {
    if (required !== 'groups' && groupNames.length > 0)
      throw new InvalidInputError('groups apply only when the second factor is required for groups');
    if (required === 'groups' && groupNames.length === 0)
      throw new InvalidInputError('name at least one group whose members must use a second factor');
    const groupIds: string[] = [];
    for (const name of groupNames) {
      const g = await this.#store.getGroupByName(name);
      if (!g) throw new NotFoundError(`group ${name} does not exist; add it with: winroll groups add ${name}`);
      if (!groupIds.includes(g.id)) groupIds.push(g.id);
    }
    const settings = await this.#store.getTenantSettings();
    await this.#store.saveTenantSettings({ ...settings, mfa: { required, groupIds } }, this.#clock.now());
    return this.requirement();
  }

  /** Whether this user must give a second factor to enroll (group membership is transitive). */
  async isRequiredFor(user: Pick<User, 'id'>): Promise<boolean> {
    const { mfa } = await this.#store.getTenantSettings();
    if (mfa.required === 'off') return false;
    if (mfa.required === 'all') return true;
    return mfa.groupIds.length > 0 && this.#isInAnyGroup(user.id, mfa.groupIds);
  }

  // -- the sign-in page's code step ------------------------------------------------------------------

  /**
   * A short-lived signed statement "this user gave the right password for this appru", carried by the
   * code step instead of the password.
   */
  async issueStepState(s: StepState): Promise<string> {
    const now = Math.floor(this.#clock.now().getTime() / 1000);
    return new SignJWT({ upn: s.upn, appru: s.appru })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(STEP_ISSUER)
      .setAudience(STEP_AUDIENCE)
      .setSubject(s.userId)
      .setIssuedAt(now)
      .setExpirationTime(now + MFA_STEP_TTL_SECONDS)
      .sign(this.#stepKey);
  }

  /** The state's claims, or undefined when it is forged, altered or expired. */
  async readStepState(state: string): Promise<StepState | undefined> {
    try {
      const { payload } = await jwtVerify(state, this.#stepKey, {
        algorithms: ['HS256'],
        issuer: STEP_ISSUER,
        audience: STEP_AUDIENCE,
        currentDate: this.#clock.now(),
      });
      if (typeof payload.sub !== 'string' || typeof payload.upn !== 'string' || typeof payload.appru !== 'string') return undefined;
      return { userId: payload.sub, upn: payload.upn, appru: payload.appru };
    } catch {
      return undefined;
    }
  }

  // -- helpers ---------------------------------------------------------------------------------------

  async #user(upn: string): Promise<User> {
    const normalized = normalizeUpn(upn).upn;
    const user = await this.#store.getUserByUpn(normalized);
    if (!user) throw new NotFoundError(`user ${normalized} does not exist`);
    return user;
  }

  /**
   * The time step the code matches, or undefined. Replays are judged by the caller against the stored
   * step (rather than otplib's afterTimeStep) so that a reused code gets its own message.
   */
  async #check(userId: string, sealed: string, code: string): Promise<number | undefined> {
    const token = code.replace(/\s+/g, '');
    if (!CODE.test(token)) return undefined;
    const secret = this.#box.open(sealed, userId);
    const result = await verify({
      secret,
      token,
      epoch: Math.floor(this.#clock.now().getTime() / 1000),
      epochTolerance: EPOCH_TOLERANCE,
    });
    return result.valid && 'timeStep' in result ? result.timeStep : undefined;
  }
}
