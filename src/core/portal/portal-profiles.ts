/**
 * Available profiles in the Company Portal (issue 7): the profiles a user's groups offer them as available,
 * each with its state on one device, and the Install that records the request. Delivery is not done here:
 * the request makes the profile part of the device's desired state (storage profilesForDevice), so the
 * next check-in sends its settings and the existing removal path takes them away when the assignment or
 * request goes. Who may install is decided by capabilities.ts (the primary user only; on a MAM
 * registration only profiles within the MAM CSP allow-list).
 */
import { type Verdict, profileInstallVerdict } from '../management/capabilities.js';
import { locUriFor, settingKey } from '../management/desired-state.js';
import type {
  AppliedSetting,
  AppliedSettingStore,
  CommandQueue,
  ManagedDevice,
  Profile,
  ProfileStore,
  QueuedCommand,
} from '../management/ports.js';
import type { Clock } from '../../shared/clock.js';
import { NotFoundError, WinrollError } from '../../shared/errors.js';

/**
 * available: offered, not asked for on this device; requested: asked for, its settings not all acknowledged
 * yet; installed: every setting acknowledged by the device; failed: the device refused one of its settings.
 */
export type ProfileInstallState = 'available' | 'requested' | 'installed' | 'failed';

export interface PortalProfileItem {
  name: string;
  scope: 'user' | 'device';
  settingCount: number;
  state: ProfileInstallState;
  requestedAt: string | null;
  /** Whether Install may be pressed for this profile (the device rule and, on MAM, its settings), with the reason when not. */
  installable: boolean;
  reason: string | null;
}

export interface PortalProfileList {
  /** Whether the user may install profiles on this device at all, with the reason when not. */
  canInstall: boolean;
  reason: string | null;
  items: PortalProfileItem[];
}

/** A refusal by the portal rule (403 with the reason); same code as PortalForbiddenError in portal-service.ts. */
class ProfileInstallForbiddenError extends WinrollError {
  constructor(message: string) {
    super('forbidden', message);
    this.name = 'PortalForbiddenError';
  }
}

/** A profile's state on a device, from the request, what the device acknowledged and the commands that carried it. */
export function profileStateOn(
  profile: Profile,
  userId: string,
  requested: boolean,
  applied: AppliedSetting[],
  commands: QueuedCommand[],
): ProfileInstallState {
  if (!requested) return 'available';
  const forUser = profile.scope === 'user' ? userId : null;
  const keys = profile.settings.map((s) => settingKey(forUser, locUriFor(profile.scope, s.path)));
  // The newest command per setting says whether the device refused it.
  const newest = new Map<string, QueuedCommand>();
  for (const c of commands) {
    if (c.origin.kind !== 'profile' || c.origin.profileId !== profile.id || c.verb === 'Delete' || c.state === 'canceled') continue;
    const key = settingKey(c.userId, c.item.locUri);
    const prev = newest.get(key);
    if (!prev || prev.seq < c.seq) newest.set(key, c);
  }
  if (keys.some((k) => newest.get(k)?.state === 'failed')) return 'failed';
  const done = new Set(applied.filter((a) => a.profileId === profile.id).map((a) => settingKey(a.userId, a.locUri)));
  return keys.every((k) => done.has(k)) ? 'installed' : 'requested';
}

export interface PortalProfilesDeps {
  store: ProfileStore & AppliedSettingStore & CommandQueue;
  clock: Clock;
  /** The user's device (visibility checked: an unknown or foreign device is NotFound). */
  device(user: { userId: string }, deviceId: string): Promise<ManagedDevice>;
  /** The portal rule for installing a profile on this device (capabilities.ts userActionVerdict, plus the device's state). */
  verdict(managed: ManagedDevice, userId: string): Verdict;
  /** Best effort: ask the device to check in now, so the profile arrives without waiting for its schedule. */
  wake?(devicePk: string): Promise<unknown>;
  /** Audits an end user's change to a device (PortalService.recordUserAction): a refusal inside is recorded as failed. */
  record<T>(
    user: { userId: string; upn: string },
    traceId: string | null,
    spec: { action: string; targetId: string; before?: unknown },
    change: () => Promise<T>,
  ): Promise<T>;
}

export class PortalProfiles {
  readonly #d: PortalProfilesDeps;

  constructor(deps: PortalProfilesDeps) {
    this.#d = deps;
  }

  /** Profiles assigned available to a group holding the user (and not also required), with their state on the device. */
  async list(user: { userId: string }, deviceId: string): Promise<PortalProfileList> {
    const managed = await this.#d.device(user, deviceId);
    const verdict = this.#d.verdict(managed, user.userId);
    const offered = await this.#offered(user.userId);
    const devicePk = managed.device.id;
    const [requests, applied, commands] = await Promise.all([
      this.#d.store.listProfileInstallRequests(devicePk),
      this.#d.store.listApplied(devicePk),
      this.#d.store.listCommands(devicePk, { limit: 10_000 }),
    ]);
    const byProfile = new Map(requests.map((r) => [r.profileId, r]));
    return {
      canInstall: verdict.allowed,
      reason: verdict.allowed ? null : verdict.reason,
      items: offered.map((p) => {
        const request = byProfile.get(p.id);
        const own = verdict.allowed ? profileInstallVerdict(p, managed.device.managementMode) : verdict;
        return {
          name: p.name,
          scope: p.scope,
          settingCount: p.settings.length,
          state: profileStateOn(p, user.userId, request !== undefined, applied, commands),
          requestedAt: request?.requestedAt.toISOString() ?? null,
          installable: own.allowed,
          reason: own.allowed ? null : own.reason,
        };
      }),
    };
  }

  /** Install: records the request (403 with the reason when the rule says no); the next check-in delivers it. */
  async install(
    user: { userId: string; upn: string },
    deviceId: string,
    profileName: string,
    traceId: string | null = null,
  ): Promise<{ name: string; state: ProfileInstallState }> {
    const managed = await this.#d.device(user, deviceId);
    return this.#d.record(
      user,
      traceId,
      { action: 'device.profile_install', targetId: managed.device.deviceId, before: { profile: profileName } },
      () => this.#install(user, managed, profileName),
    );
  }

  async #install(
    user: { userId: string },
    managed: ManagedDevice,
    profileName: string,
  ): Promise<{ name: string; state: ProfileInstallState }> {
    const verdict = this.#d.verdict(managed, user.userId);
    if (!verdict.allowed) throw new ProfileInstallForbiddenError(verdict.reason);
    const profile = (await this.#offered(user.userId)).find((p) => p.name.toLowerCase() === profileName.trim().toLowerCase());
    if (!profile) throw new NotFoundError(`no profile ${profileName} is available to you`);
    const own = profileInstallVerdict(profile, managed.device.managementMode);
    if (!own.allowed) throw new ProfileInstallForbiddenError(own.reason);
    const devicePk = managed.device.id;
    const already = (await this.#d.store.listProfileInstallRequests(devicePk)).some((r) => r.profileId === profile.id);
    // A repeated Install keeps the first request (who asked first, and when).
    if (!already)
      await this.#d.store.requestProfileInstall({ devicePk, profileId: profile.id, userId: user.userId, now: this.#d.clock.now() });
    if (this.#d.wake) await this.#d.wake(devicePk).catch(() => undefined);
    const [applied, commands] = await Promise.all([
      this.#d.store.listApplied(devicePk),
      this.#d.store.listCommands(devicePk, { limit: 10_000 }),
    ]);
    return { name: profile.name, state: profileStateOn(profile, user.userId, true, applied, commands) };
  }

  async #offered(userId: string): Promise<Profile[]> {
    return (await this.#d.store.profilesForUser(userId)).filter((p) => p.intent === 'available').map((p) => p.profile);
  }
}
