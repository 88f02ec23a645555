/**
 * The Company Portal for end users: signing in with the directory password (a session of its own, never
 * an admin session), the user's devices, what they may do on each (capabilities.ts decides), and the
 * enrollment link. Permissions are enforced here, so the API refuses what the page hides.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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
import type { DeviceRecord, Storage } from '../ports.js';
import { NotFoundError, WinrollError } from '../../shared/errors.js';
import type { Clock } from '../../shared/clock.js';
import { AppCatalog, type InstallStatus, installStatusOf } from '../apps/app-service.js';
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

export type PortalSignIn =
  | { ok: true; sessionId: string; user: PortalUser }
  | { ok: false; reason: 'refused' | 'throttled'; detail: string; retryAfterSeconds?: number };

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
  readonly #apps: AppCatalog;

  constructor(deps: { storage: Storage; directory: DirectoryService; management: ManagementAdmin; clock: Clock }) {
    this.#storage = deps.storage;
    this.#directory = deps.directory;
    this.#management = deps.management;
    this.#clock = deps.clock;
    this.#apps = new AppCatalog({ store: deps.storage, clock: deps.clock });
  }

  async signIn(upn: string, password: string, clientAddress: string): Promise<PortalSignIn> {
    const now = this.#clock.now().getTime();
    const keys = [`a:${clientAddress}`, `u:${upn.toLowerCase()}`];
    for (const k of keys) {
      const recent = (this.#failures.get(k) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS);
      if (recent.length >= FAILURES_PER_WINDOW) {
        const retry = Math.ceil(((recent[0] ?? now) + FAILURE_WINDOW_MS - now) / 1000);
        return { ok: false, reason: 'throttled', detail: 'too many failed sign-ins', retryAfterSeconds: Math.max(1, retry) };
      }
    }
    const result = await this.#directory.signIn(upn, password);
    if (!result.ok) {
      for (const k of keys) this.#failures.set(k, [...(this.#failures.get(k) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS), now]);
      return { ok: false, reason: 'refused', detail: result.reason };
    }
    this.#prune(now);
    const sessionId = randomBytes(32).toString('base64url');
    const user: PortalUser = {
      userId: result.user.id,
      upn: result.user.upn,
      displayName: result.user.displayName ?? null,
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
  }

  /**
   * The user's devices: those they are primary user of or enrolled, and shared devices they signed in to.
   */
  async myDevices(user: Pick<PortalUser, 'userId'>): Promise<PortalDeviceSummary[]> {
    const all = await this.#storage.listDevices();
    const out: PortalDeviceSummary[] = [];
    for (const d of all) {
      if (d.status !== 'enrolled') continue;
      if (!(await this.#visible(d, user.userId))) continue;
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
    const kinds: UserActionKind[] = ['retire', 'wipe', 'installApp'];
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

  /** Remove (retire) or Reset (wipe) from the portal; 403 with the reason when the rule says no. */
  async act(user: Pick<PortalUser, 'userId'>, deviceId: string, kind: 'retire' | 'wipe'): Promise<{ state: string; queuedAt: string }> {
    const managed = await this.#device(user, deviceId);
    const v = this.#verdict(managed, user.userId, kind);
    if (!v.allowed) throw new PortalForbiddenError(v.reason);
    const action = kind === 'wipe' ? ({ kind: 'wipe', keepEnrollment: false } as const) : ({ kind: 'retire' } as const);
    const queued = await this.#management.queueAction(managed.device.deviceId, action, 'primary-user');
    return { state: queued.state, queuedAt: queued.createdAt.toISOString() };
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

  /** Install an Available app on the device: 403 with the reason when the portal rule says no. */
  async installApp(user: Pick<PortalUser, 'userId'>, deviceId: string, appId: string): Promise<{ appId: string; status: InstallStatus }> {
    const managed = await this.#device(user, deviceId);
    const v = this.#verdict(managed, user.userId, 'installApp');
    if (!v.allowed) throw new PortalForbiddenError(v.reason);
    const entry = (await this.#apps.appsForUser(user.userId)).find((a) => a.app.id === appId);
    if (!entry) throw new NotFoundError(`no app ${appId} is available to you`);
    const [fit] = filterForDevice([entry.app], { osVersion: managed.inventory?.osVersion ?? managed.device.osVersion });
    if (!fit)
      throw new PortalForbiddenError(
        `${entry.app.name} needs Windows build ${entry.app.minWindowsBuild} or later; this device runs an older build`,
      );
    return { appId, status: await this.#apps.queueInstall(managed.device.id, entry.app) };
  }

  /** "What your organisation can see" for one of the user's devices. */
  async transparency(user: Pick<PortalUser, 'userId'>, deviceId: string): Promise<TransparencyDescriptor> {
    const managed = await this.#device(user, deviceId);
    return transparencyFor(managed.ownership, managed.device.managementMode, relationOf(managed.device, user.userId));
  }
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
