/**
 * The Company Portal for end users: signing in with the directory password (a session of its own, never
 * an admin session), the user's devices, what they may do on each (capabilities.ts decides), and the
 * enrollment link. Permissions are enforced here, so the API refuses what the page hides.
 *
 * The MFA rule (core/mfa, `winroll mfa require`) covers portal sign-in as it covers the enrollment page:
 * the portal lets a primary user wipe a device, so a password (or a provider not trusted for MFA) alone
 * must not open a session. A covered user gets MfaService's signed step state instead (never the password)
 * and the session opens only after a valid, unused TOTP code; a covered user with no factor is refused.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type AuditContext, type AuditSpec, AuditTrail } from '../admin/audit.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { ManagementAdmin } from '../management/admin.js';
import {
  type TransparencyDescriptor,
  type UserActionKind,
  type UserRelation,
  type Verdict,
  relationOf,
  transparencyFor,
  userActionVerdict,
} from '../management/capabilities.js';
import type { ManagedDevice, Ownership } from '../management/ports.js';
import type { DeviceRecord, Storage, User } from '../ports.js';
import { NotFoundError, WinrollError } from '../../shared/errors.js';
import type { Clock } from '../../shared/clock.js';
import { type CodeFailure, MFA_STEP_TTL_SECONDS, type MfaService } from '../mfa/mfa-service.js';
import { AppCatalog, type InstallStatus, installStatusOf } from '../apps/app-service.js';
import { PortalProfiles } from './portal-profiles.js';
import { filterForDevice } from '../apps/catalog.js';
import type { AppIntent } from '../apps/ports.js';

export const PORTAL_SESSION_IDLE_MS = 30 * 60 * 1000;
export const PORTAL_SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;
const FAILURES_PER_WINDOW = 10;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;

/** A refusal by the portal rule: 403 with the reason. */
export class PortalForbiddenError extends WinrollError {
  constructor(message: string) {
    super('forbidden', message);
    this.name = 'PortalForbiddenError';
  }
}

export interface PortalUser {
  userId: string;
  upn: string;
  displayName: string | null;
  csrfToken: string;
  expiresAt: Date;
}

interface SessionEntry extends PortalUser {
  lastSeenAt: number;
}

/**
 * The `appru` slot of MfaService's step state, marking a portal step (followed by a random nonce, so two
 * first factors in the same second still give distinct steps, each usable once). Never an acceptable
 * appru (those are ms-app:/ms-appx-web: URLs), so a portal step cannot finish an enrollment sign-in, and
 * an enrollment step (whose appru is such a URL) cannot open a portal session.
 */
const PORTAL_STEP_MARK = 'winroll:company-portal:';

export type PortalSignIn =
  | { ok: true; sessionId: string; user: PortalUser }
  /** First factor accepted; the user must now give a code, carrying `step` (MfaService's signed state). */
  | { ok: false; reason: 'code_needed'; detail: string; step: string; upn: string }
  | {
      ok: false;
      reason: 'refused' | 'throttled' | 'mfa_not_enrolled' | 'step_expired' | Exclude<CodeFailure, 'not_enrolled'>;
      detail: string;
      retryAfterSeconds?: number;
    };

export interface PortalDeviceSummary {
  deviceId: string;
  name: string | null;
  ownership: Ownership;
  mode: 'mdm' | 'mam';
  status: string;
  osVersion: string | null;
  model: string | null;
  manufacturer: string | null;
  lastCheckInAt: string | null;
  primaryUpn: string | null;
  relation: UserRelation;
  retiredAt: string | null;
}

export interface PortalDeviceDetail extends PortalDeviceSummary {
  serialNumber: string | null;
  /** What the user may do, each with the reason when not. */
  permissions: Record<UserActionKind, { allowed: boolean; reason: string | null }>;
  /** Actions started from the portal or by the organisation, with their state. */
  actions: Array<{ kind: string; state: string; status: number | null; createdAt: string; updatedAt: string }>;
}

const throttleKeys = (clientAddress: string, upn: string) => [`a:${clientAddress}`, `u:${upn.toLowerCase()}`];
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Portal sessions live in this process (a restart signs users out; they sign in again). The cookie holds
 * a random 256-bit id; only its hash is kept.
 */
export class PortalService {
  readonly #storage: Storage;
  readonly #directory: DirectoryService;
  readonly #management: ManagementAdmin;
  readonly #clock: Clock;
  readonly #sessions = new Map<string, SessionEntry>();
  readonly #failures = new Map<string, number[]>();
  /** Step states that already opened a session (hash → expiry ms), so one cannot be finished twice. */
  readonly #usedSteps = new Map<string, number>();
  readonly #mfa: MfaService | undefined;
  readonly #apps: AppCatalog;
  readonly #audit: AuditTrail;
  /** Available profiles (portal-profiles.ts), with this service's device visibility, rule and audit. */
  readonly profiles: PortalProfiles;

  constructor(deps: {
    storage: Storage;
    directory: DirectoryService;
    management: ManagementAdmin;
    clock: Clock;
    /** The MFA rule and TOTP factors; without it (tests, tools) no code step is asked. */
    mfa?: MfaService | undefined;
  }) {
    this.#storage = deps.storage;
    this.#mfa = deps.mfa;
    this.#directory = deps.directory;
    this.#management = deps.management;
    this.#clock = deps.clock;
    this.#apps = new AppCatalog({ store: deps.storage, clock: deps.clock });
    this.#audit = new AuditTrail({ store: deps.storage, clock: deps.clock });
    this.profiles = new PortalProfiles({
      store: deps.storage,
      clock: deps.clock,
      device: (u, id) => this.#device(u, id),
      verdict: (m, userId) => this.#verdict(m, userId, 'installProfile'),
      wake: (pk) => this.#management.wake(pk),
      record: (u, traceId, spec, change) => this.recordUserAction(u, traceId, spec, change),
    });
  }

  async signIn(upn: string, password: string, clientAddress: string): Promise<PortalSignIn> {
    const keys = throttleKeys(clientAddress, upn);
    const throttled = this.#throttled(keys);
    if (throttled) return throttled;
    const result = await this.#directory.signIn(upn, password);
    if (!result.ok) {
      this.#recordFailure(keys);
      return { ok: false, reason: 'refused', detail: result.reason };
    }
    return this.#afterFirstFactor(result.user, false);
  }

  /**
   * A directory user whose identity an external provider vouched for (OIDC sign-in, mapped by core/oidc
   * like the enrollment page does). Same session, cookie, limits and MFA rule as the password path;
   * `mfaAsserted` (the provider is trusted for MFA and its `amr` says so) stands in for the code. A
   * disabled user gets nothing.
   */
  async signInWithIdentity(user: User, opts: { mfaAsserted: boolean }): Promise<PortalSignIn> {
    if (!user.enabled) return { ok: false, reason: 'refused', detail: 'disabled' };
    return this.#afterFirstFactor(user, opts.mfaAsserted);
  }

  /** The MFA rule after the first factor: a session, the code step, or a refusal (covered, no factor). */
  async #afterFirstFactor(user: User, mfaAsserted: boolean): Promise<PortalSignIn> {
    if (!this.#mfa || mfaAsserted || !(await this.#mfa.isRequiredFor(user))) return this.#openSession(user);
    if ((await this.#mfa.statusOf(user.id)) !== 'active')
      return { ok: false, reason: 'mfa_not_enrolled', detail: 'the MFA rule covers the user, who has no active factor' };
    const step = await this.#mfa.issueStepState({
      userId: user.id,
      upn: user.upn,
      appru: PORTAL_STEP_MARK + randomBytes(16).toString('base64url'),
    });
    return { ok: false, reason: 'code_needed', detail: 'a verification code is needed', step, upn: user.upn };
  }

  /**
   * The code step: `step` from the first factor, `code` from the user's authenticator app. Wrong and
   * reused codes count as failed sign-ins against the account and the address, like wrong passwords (on
   * top of MfaService's own per-user limit). A step opens at most one session.
   */
  async signInWithCode(step: string, code: string, clientAddress: string): Promise<PortalSignIn> {
    const expired = { ok: false, reason: 'step_expired', detail: 'the code step is missing, altered or expired' } as const;
    const state = this.#mfa && step.length <= 4096 ? await this.#mfa.readStepState(step) : undefined;
    if (!this.#mfa || !state?.appru.startsWith(PORTAL_STEP_MARK)) return expired;
    const now = this.#clock.now().getTime();
    const stepKey = sha256(step);
    if ((this.#usedSteps.get(stepKey) ?? 0) > now) return expired;
    const keys = throttleKeys(clientAddress, state.upn);
    const throttled = this.#throttled(keys);
    if (throttled) return throttled;
    // The account may have changed since the first factor.
    const user = await this.#directory.getUserById(state.userId);
    if (!user || user.upn !== state.upn) return expired;
    if (!user.enabled) return { ok: false, reason: 'refused', detail: 'disabled' };
    const check = await this.#mfa.verifyCode(user.id, code);
    if (!check.ok) {
      if (check.reason === 'not_enrolled') return { ok: false, reason: 'mfa_not_enrolled', detail: 'the factor was removed' };
      this.#recordFailure(keys);
      return { ok: false, reason: check.reason, detail: `code refused: ${check.reason}` };
    }
    this.#usedSteps.set(stepKey, now + MFA_STEP_TTL_SECONDS * 1000);
    return this.#openSession(user);
  }

  #throttled(keys: readonly string[]): (PortalSignIn & { reason: 'throttled' }) | undefined {
    const now = this.#clock.now().getTime();
    for (const k of keys) {
      const recent = (this.#failures.get(k) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS);
      if (recent.length >= FAILURES_PER_WINDOW) {
        const retry = Math.ceil(((recent[0] ?? now) + FAILURE_WINDOW_MS - now) / 1000);
        return { ok: false, reason: 'throttled', detail: 'too many failed sign-ins', retryAfterSeconds: Math.max(1, retry) };
      }
    }
    return undefined;
  }

  #recordFailure(keys: readonly string[]): void {
    const now = this.#clock.now().getTime();
    for (const k of keys) this.#failures.set(k, [...(this.#failures.get(k) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS), now]);
  }

  #openSession(account: User): PortalSignIn & { ok: true } {
    const now = this.#clock.now().getTime();
    this.#prune(now);
    const sessionId = randomBytes(32).toString('base64url');
    const user: PortalUser = {
      userId: account.id,
      upn: account.upn,
      displayName: account.displayName ?? null,
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: new Date(now + PORTAL_SESSION_ABSOLUTE_MS),
    };
    this.#sessions.set(sha256(sessionId), { ...user, lastSeenAt: now });
    return { ok: true, sessionId, user };
  }

  /** The user behind a portal session cookie, or undefined; a disabled user's sessions end at once. */
  async authenticate(sessionId: string): Promise<PortalUser | undefined> {
    if (!SESSION_SHAPE.test(sessionId)) return undefined;
    const key = sha256(sessionId);
    const s = this.#sessions.get(key);
    if (!s) return undefined;
    const now = this.#clock.now().getTime();
    if (now >= s.expiresAt.getTime() || now - s.lastSeenAt >= PORTAL_SESSION_IDLE_MS) {
      this.#sessions.delete(key);
      return undefined;
    }
    const user = await this.#directory.getUserById(s.userId);
    if (!user?.enabled) {
      this.#sessions.delete(key);
      return undefined;
    }
    s.lastSeenAt = now;
    const { lastSeenAt: _, ...out } = s;
    return out;
  }

  csrfOk(user: PortalUser, header: string | undefined): boolean {
    if (!header) return false;
    const a = Buffer.from(user.csrfToken);
    const b = Buffer.from(header);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  signOut(sessionId: string): void {
    this.#sessions.delete(sha256(sessionId));
  }

  #prune(now: number): void {
    for (const [k, s] of this.#sessions)
      if (now >= s.expiresAt.getTime() || now - s.lastSeenAt >= PORTAL_SESSION_IDLE_MS) this.#sessions.delete(k);
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    for (const [k, times] of this.#failures) if (times.every((t) => now - t >= FAILURE_WINDOW_MS)) this.#failures.delete(k);
    for (const [k, until] of this.#usedSteps) if (now >= until) this.#usedSteps.delete(k);
  }

  /**
   * The user's devices: those they are primary user of or enrolled, and shared devices they signed in to.
   */
  async myDevices(user: Pick<PortalUser, 'userId'>): Promise<PortalDeviceSummary[]> {
    // Only the user's own devices are read (indexed), never the whole fleet; the storage read applies the
    // same relevance rule as #visible.
    const mine = await this.#storage.listDevicesOfUser(user.userId);
    const out: PortalDeviceSummary[] = [];
    for (const d of mine) {
      if (d.status !== 'enrolled') continue;
      const managed = await this.#storage.getManagedDevice(d.deviceId);
      if (managed) out.push(summary(managed, user.userId));
    }
    return out;
  }

  async #visible(d: DeviceRecord, userId: string): Promise<boolean> {
    if (d.primaryUserId === userId || d.userId === userId) return true;
    if (d.primaryUserId !== null) return false;
    return (await this.#storage.listDeviceUsers(d.id)).some((u) => u.userId === userId);
  }

  async #device(user: Pick<PortalUser, 'userId'>, deviceId: string): Promise<ManagedDevice> {
    const managed = await this.#storage.getManagedDevice(deviceId.toUpperCase());
    // A device the user has nothing to do with is not theirs to know about: same answer as an unknown one.
    if (!managed || !(await this.#visible(managed.device, user.userId))) throw new NotFoundError(`you have no device ${deviceId}`);
    return managed;
  }

  async device(user: Pick<PortalUser, 'userId'>, deviceId: string): Promise<PortalDeviceDetail> {
    const managed = await this.#device(user, deviceId);
    const commands = await this.#storage.listCommands(managed.device.id, { limit: 200 });
    const s = summary(managed, user.userId);
    const kinds: UserActionKind[] = ['retire', 'wipe', 'installApp', 'installProfile'];
    const permissions = Object.fromEntries(
      kinds.map((k) => {
        const v = this.#verdict(managed, user.userId, k);
        return [k, { allowed: v.allowed, reason: v.allowed ? null : v.reason }];
      }),
    ) as PortalDeviceDetail['permissions'];
    return {
      ...s,
      serialNumber: managed.inventory?.serialNumber ?? managed.device.serialNumber,
      permissions,
      actions: commands
        .filter((c) => c.origin?.kind === 'action')
        .map((c) => ({
          kind: c.origin?.kind === 'action' ? (c.origin.actionId.split('-')[0] ?? 'action') : 'action',
          state: c.state,
          status: c.status,
          createdAt: c.createdAt.toISOString(),
          updatedAt: c.updatedAt.toISOString(),
        })),
    };
  }

  #verdict(managed: ManagedDevice, userId: string, kind: UserActionKind): Verdict {
    if (managed.device.status !== 'enrolled' || managed.retiredAt)
      return { allowed: false, reason: 'the device is being removed from management' };
    return userActionVerdict(kind, relationOf(managed.device, userId), managed.ownership, managed.device.managementMode);
  }

  /**
   * Runs a change an end user makes to one of their devices between a pending audit entry (actor kind
   * `user`, the request's trace id, the device as target) and its outcome. A refusal by the portal rule
   * thrown inside `change` is recorded as failed with the reason; a device the user may not even see
   * (404) is answered before this and not recorded. Portal features that change a device (retire, wipe,
   * app and profile installs) go through here.
   */
  recordUserAction<T>(
    user: Pick<PortalUser, 'userId' | 'upn'>,
    traceId: string | null,
    spec: Omit<AuditSpec, 'targetType'> & { targetId: string },
    change: () => Promise<T>,
    after: (result: T) => unknown = (r) => r,
  ): Promise<T> {
    return this.#audit.record(portalAuditContext(user, traceId), { ...spec, targetType: 'device' }, change, after);
  }

  /** Remove (retire) or Reset (wipe) from the portal; 403 with the reason when the rule says no (audited as failed). */
  async act(
    user: Pick<PortalUser, 'userId' | 'upn'>,
    deviceId: string,
    kind: 'retire' | 'wipe',
    traceId: string | null = null,
  ): Promise<{ state: string; queuedAt: string }> {
    const managed = await this.#device(user, deviceId);
    return this.recordUserAction(
      user,
      traceId,
      { action: `device.action.${kind}`, targetId: managed.device.deviceId, before: { relation: relationOf(managed.device, user.userId) } },
      async () => {
        const v = this.#verdict(managed, user.userId, kind);
        if (!v.allowed) throw new PortalForbiddenError(v.reason);
        const action = kind === 'wipe' ? ({ kind: 'wipe', keepEnrollment: false } as const) : ({ kind: 'retire' } as const);
        const queued = await this.#management.queueAction(managed.device.deviceId, action, 'primary-user');
        return { state: queued.state, queuedAt: queued.createdAt.toISOString() };
      },
    );
  }

  /**
   * Apps the user's groups make available (or required) that fit the device's reported Windows build (else
   * the browser's client hints), each with its install status on the device and whether the user may install it.
   */
  async apps(user: Pick<PortalUser, 'userId'>, deviceId: string, platformVersion: string | null): Promise<PortalAppList> {
    const managed = await this.#device(user, deviceId);
    const verdict = this.#verdict(managed, user.userId, 'installApp');
    const mine = await this.#apps.appsForUser(user.userId);
    const osVersion = managed.inventory?.osVersion ?? managed.device.osVersion;
    const fitting = filterForDevice(
      mine.map((a) => ({ ...a.app, intent: a.intent })),
      { osVersion, platformVersion },
    );
    const commands = await this.#storage.listCommands(managed.device.id, { limit: 10_000 });
    return {
      canInstall: verdict.allowed,
      reason: verdict.allowed ? null : verdict.reason,
      items: fitting.map((a) => ({
        id: a.id,
        name: a.name,
        publisher: a.publisher,
        version: a.version,
        kind: a.kind,
        intent: a.intent,
        minWindowsBuild: a.minWindowsBuild,
        fit: a.fit.fits,
        fitReason: a.fit.fits === 'yes' ? null : a.fit.reason,
        status: installStatusOf(a.id, commands),
      })),
    };
  }

  /** Install an Available app on the device: 403 with the reason when the portal rule says no (audited as failed). */
  async installApp(
    user: Pick<PortalUser, 'userId' | 'upn'>,
    deviceId: string,
    appId: string,
    traceId: string | null = null,
  ): Promise<{ appId: string; status: InstallStatus }> {
    const managed = await this.#device(user, deviceId);
    return this.recordUserAction(
      user,
      traceId,
      { action: 'device.app_install', targetId: managed.device.deviceId, before: { appId } },
      async () => {
        const v = this.#verdict(managed, user.userId, 'installApp');
        if (!v.allowed) throw new PortalForbiddenError(v.reason);
        const entry = (await this.#apps.appsForUser(user.userId)).find((a) => a.app.id === appId);
        if (!entry) throw new NotFoundError(`no app ${appId} is available to you`);
        const [fit] = filterForDevice([entry.app], { osVersion: managed.inventory?.osVersion ?? managed.device.osVersion });
        if (!fit)
          throw new PortalForbiddenError(
            `${entry.app.name} needs Windows build ${entry.app.minWindowsBuild} or later; this device runs an older build`,
          );
        return { appId, name: entry.app.name, status: await this.#apps.queueInstall(managed.device.id, entry.app) };
      },
    ).then(({ appId: id, status }) => ({ appId: id, status }));
  }

  /** "What your organisation can see" for one of the user's devices. */
  async transparency(user: Pick<PortalUser, 'userId'>, deviceId: string): Promise<TransparencyDescriptor> {
    const managed = await this.#device(user, deviceId);
    return transparencyFor(managed.ownership, managed.device.managementMode, relationOf(managed.device, user.userId));
  }
}

/** Audit context of an end user acting in the Company Portal. */
export function portalAuditContext(user: Pick<PortalUser, 'userId' | 'upn'>, traceId: string | null): AuditContext {
  return { actor: { kind: 'user', userId: user.userId, upn: user.upn }, traceId };
}

function summary(m: ManagedDevice, userId: string): PortalDeviceSummary {
  return {
    deviceId: m.device.deviceId,
    name: m.inventory?.deviceName ?? m.device.deviceName,
    ownership: m.ownership,
    mode: m.device.managementMode,
    status: m.device.status,
    osVersion: m.inventory?.osVersion ?? m.device.osVersion,
    model: m.inventory?.model ?? null,
    manufacturer: m.inventory?.manufacturer ?? null,
    lastCheckInAt: m.lastCheckInAt?.toISOString() ?? null,
    primaryUpn: m.device.primaryUpn,
    relation: relationOf(m.device, userId),
    retiredAt: m.retiredAt?.toISOString() ?? null,
  };
}

export interface PortalAppList {
  /** Whether the user may install apps on this device, with the reason when not. */
  canInstall: boolean;
  reason: string | null;
  items: Array<{
    id: string;
    name: string;
    publisher: string;
    version: string;
    kind: 'store' | 'msi';
    intent: AppIntent;
    minWindowsBuild: number;
    fit: 'yes' | 'no' | 'unknown';
    fitReason: string | null;
    status: InstallStatus;
  }>;
}

/** `ms-device-enrollment:` deep link that opens Windows' enrollment with the fields filled in. */
export function enrollmentLink(upn: string, serverName: string): string {
  return `ms-device-enrollment:?mode=mdm&username=${encodeURIComponent(upn)}&servername=${encodeURIComponent(serverName)}`;
}
