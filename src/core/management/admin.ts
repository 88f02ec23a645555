/**
 * What admins do to managed devices (CLI now, REST API later): remote actions, profiles and their
 * assignments, groups. Assigning a profile queues its settings for every targeted device in one
 * set-based insert per setting; later edits and removals are reconciled per device at check-in, so only
 * changes travel and a setting still wanted by another profile is never deleted.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError, NotFoundError } from '../../shared/errors.js';
import type { Storage } from '../ports.js';
import { type RemoteAction, commandForAction } from './actions.js';
import { locUriFor } from './desired-state.js';
import type {
  AssignmentTarget,
  DeviceUser,
  Group,
  ManagedDevice,
  Profile,
  ProfileScope,
  ProfileSetting,
  ProfileType,
  QueuedCommand,
} from './ports.js';
import { mamApplicability } from './mam-csp.js';
import { compileWip, validateWipPolicy } from './wip.js';
import type { PushNotifier, PushOutcome } from './push.js';

const FORMATS = new Set(['chr', 'int', 'bool', 'b64', 'xml', 'float']);

/** Checks a profile before it is stored; the message names the offending setting. */
export function validateProfile(input: { name: unknown; scope: unknown; settings: unknown }): {
  name: string;
  scope: ProfileScope;
  settings: ProfileSetting[];
} {
  if (typeof input.name !== 'string' || !/^[\w .-]{1,128}$/.test(input.name.trim())) {
    throw new InvalidInputError('profile name must be 1-128 letters, digits, spaces, dots, dashes or underscores');
  }
  if (input.scope !== 'user' && input.scope !== 'device') throw new InvalidInputError('profile scope must be "user" or "device"');
  if (!Array.isArray(input.settings) || input.settings.length === 0) throw new InvalidInputError('profile needs at least one setting');
  if (input.settings.length > 500) throw new InvalidInputError('a profile holds at most 500 settings');
  const seen = new Set<string>();
  const settings = input.settings.map((raw, i): ProfileSetting => {
    const s = raw as Record<string, unknown>;
    const where = `setting ${i + 1}`;
    let path = typeof s.path === 'string' ? s.path : typeof s.locUri === 'string' ? s.locUri : '';
    // Accept full URIs too, but the scope comes from the profile, not from the path.
    path = path.replace(/^\.\/(Device|User)\//i, '').replace(/^\.\//, '');
    if (!/^(Vendor\/MSFT\/|[A-Za-z])[\w./%{}:-]*$/.test(path) || path.includes('..') || path.length > 1024) {
      throw new InvalidInputError(
        `${where}: path "${String(s.path ?? s.locUri).slice(0, 80)}" is not a CSP path like Vendor/MSFT/Policy/Config/Camera/AllowCamera`,
      );
    }
    const format = typeof s.format === 'string' ? s.format : 'chr';
    if (!FORMATS.has(format)) throw new InvalidInputError(`${where}: format must be one of ${[...FORMATS].join(', ')}`);
    if (s.value === undefined || s.value === null) throw new InvalidInputError(`${where}: value is missing`);
    const value = String(s.value);
    if (format === 'int' && !/^-?\d+$/.test(value)) throw new InvalidInputError(`${where}: value must be an integer`);
    if (format === 'bool' && value !== 'true' && value !== 'false') throw new InvalidInputError(`${where}: value must be true or false`);
    if (value.length > 256 * 1024) throw new InvalidInputError(`${where}: value is larger than 256 KB`);
    const key = path.toLowerCase();
    if (seen.has(key)) throw new InvalidInputError(`${where}: ${path} appears twice`);
    seen.add(key);
    return { path, format: format as ProfileSetting['format'], value };
  });
  return { name: input.name.trim(), scope: input.scope, settings };
}

/** What `profiles add` and `PUT /profiles/{name}` take: custom settings, or a typed profile's named fields. */
export interface ProfileInput {
  name: unknown;
  scope?: unknown;
  settings?: unknown;
  /** 'custom' (default) or 'wip'. */
  type?: unknown;
  /** The named fields of a WIP profile (core/management/wip.ts). */
  wip?: unknown;
}

/**
 * A profile ready to store. A WIP profile is compiled to its CSP settings here (device scope: WIP is
 * device-wide) and keeps its named fields as its definition.
 */
export function profileFromInput(input: ProfileInput): {
  name: string;
  scope: ProfileScope;
  settings: ProfileSetting[];
  type: ProfileType;
  definition: Record<string, unknown> | null;
} {
  const type = input.type ?? 'custom';
  if (type === 'wip') {
    if (input.settings !== undefined) throw new InvalidInputError('a WIP profile takes named fields under "wip", not settings');
    if (input.scope !== undefined && input.scope !== 'device') throw new InvalidInputError('a WIP profile is device-wide (scope device)');
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    const wip = validateWipPolicy(input.wip);
    const p = validateProfile({ name: input.name, scope: 'device', settings: compileWip(name, wip) });
    return { ...p, type: 'wip', definition: { ...wip } };
  }
  if (type !== 'custom') throw new InvalidInputError('profile type must be "custom" or "wip"');
  if (input.wip !== undefined) throw new InvalidInputError('"wip" fields need type: wip');
  return { ...validateProfile({ name: input.name, scope: input.scope, settings: input.settings }), type: 'custom', definition: null };
}

export interface DeviceDetails extends ManagedDevice {
  commands: QueuedCommand[];
  /**
   * MAM registrations only: assigned settings the device never gets because Windows blocks their CSP on a
   * MAM registration (core/management/mam-csp.ts), with the reason. Empty for MDM devices.
   */
  notApplicable: Array<{ profile: string; locUri: string; reason: string }>;
  /** Directory users seen signed in to the device in its management sessions, most recently seen first. */
  users: DeviceUser[];
}

export class ManagementAdmin {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #providerId: string;
  readonly #push: PushNotifier | undefined;

  constructor(deps: { storage: Storage; clock: Clock; providerId: string; push?: PushNotifier | undefined }) {
    this.#storage = deps.storage;
    this.#clock = deps.clock;
    this.#providerId = deps.providerId;
    this.#push = deps.push;
  }

  /** Asks the device to check in now, through its push channel; polling remains the fallback. */
  async wake(devicePk: string): Promise<PushOutcome> {
    if (!this.#push)
      return {
        ok: false,
        reason: 'not_configured',
        detail: 'push (WNS) is not configured; the device picks this up at its next scheduled check-in',
      };
    const channel = await this.#storage.getPushChannel(devicePk);
    if (!channel?.channelUri)
      return {
        ok: false,
        reason: 'no_channel',
        detail: 'the device has not reported a push channel yet; it picks this up at its next scheduled check-in',
      };
    const outcome = await this.#push.wake(channel.channelUri);
    if (!outcome.ok && outcome.reason === 'channel_expired')
      await this.#storage.setPushChannel(devicePk, { channelUri: null }, this.#clock.now());
    return outcome;
  }

  async device(deviceId: string): Promise<DeviceDetails> {
    const managed = await this.#storage.getManagedDevice(deviceId.toUpperCase());
    if (!managed) throw new NotFoundError(`no enrolled device ${deviceId}`);
    const [commands, users] = await Promise.all([
      this.#storage.listCommands(managed.device.id, { limit: 200 }),
      this.#storage.listDeviceUsers(managed.device.id),
    ]);
    return { ...managed, commands, users, notApplicable: await this.#notApplicable(managed) };
  }

  /** Settings of the device's profiles that a MAM registration does not take, so the admin sees why they never arrive. */
  async #notApplicable(managed: ManagedDevice): Promise<DeviceDetails['notApplicable']> {
    if (managed.device.managementMode !== 'mam') return [];
    const profiles = await this.#storage.profilesForDevice(managed.device.id, [managed.device.userId]);
    const out: DeviceDetails['notApplicable'] = [];
    for (const { profile } of profiles) {
      for (const s of profile.settings) {
        const locUri = locUriFor(profile.scope, s.path);
        const verdict = mamApplicability(locUri);
        if (!verdict.allowed) out.push({ profile: profile.name, locUri, reason: verdict.reason });
      }
    }
    return out;
  }

  /** Queues a remote action (its command's state is the action's state) and wakes the device. */
  async queueAction(
    deviceId: string,
    action: RemoteAction,
    by: 'organisation' | 'primary-user' = 'organisation',
  ): Promise<QueuedCommand & { push: PushOutcome }> {
    const managed = await this.#storage.getManagedDevice(deviceId.toUpperCase());
    if (!managed) throw new NotFoundError(`no enrolled device ${deviceId}`);
    if (managed.device.status !== 'enrolled') throw new InvalidInputError(`device ${deviceId} is not enrolled any more`);
    const actionId = `${action.kind}-${randomUUID()}`;
    let command = commandForAction(action, actionId, { ownership: managed.ownership, providerId: this.#providerId, by });
    if (managed.device.managementMode === 'mam') {
      // A sync is any harmless Get; a MAM registration answers DevInfo, not DevDetail.
      if (action.kind === 'sync') command = { ...command, item: { locUri: './DevInfo/DmV' } };
      // Windows blocks every CSP but a few on a MAM registration: refuse now rather than queue what never runs.
      const verdict = mamApplicability(command.item.locUri);
      if (!verdict.allowed) throw new InvalidInputError(`${action.kind}: ${verdict.reason}`);
    }
    const now = this.#clock.now();
    if (action.kind === 'retire' || action.kind === 'delete') await this.#storage.markRetired(managed.device.id, now);
    const [queued] = await this.#storage.enqueue(managed.device.id, [command], now);
    if (!queued) throw new Error('the command was not queued');
    return { ...queued, push: await this.wake(managed.device.id) };
  }

  async saveProfile(input: ProfileInput): Promise<Profile> {
    return this.#storage.saveProfile({ ...profileFromInput(input), now: this.#clock.now() });
  }

  listProfiles(): Promise<Profile[]> {
    return this.#storage.listProfiles();
  }

  async #profile(name: string): Promise<Profile> {
    const p = await this.#storage.getProfileByName(name);
    if (!p) throw new NotFoundError(`no profile named "${name}"`);
    return p;
  }

  async #target(target: { group?: string | undefined; device?: string | undefined }): Promise<AssignmentTarget> {
    if (target.group && target.device) throw new InvalidInputError('assign to a group or a device, not both');
    if (target.group) {
      const g = await this.#storage.getGroupByName(target.group);
      if (!g) throw new NotFoundError(`no group named "${target.group}"`);
      return { kind: 'group', groupId: g.id };
    }
    if (target.device) {
      const d = await this.#storage.getManagedDevice(target.device.toUpperCase());
      if (!d) throw new NotFoundError(`no enrolled device ${target.device}`);
      return { kind: 'device', devicePk: d.device.id };
    }
    throw new InvalidInputError('say where to assign: a group or a device');
  }

  /** Assigns and queues the profile's settings to every targeted device now (set-based fan-out). Returns commands queued. */
  async assignProfile(
    name: string,
    where: { group?: string | undefined; device?: string | undefined; intent?: string | undefined },
  ): Promise<number> {
    const intent = where.intent ?? 'required';
    if (intent !== 'required' && intent !== 'available') throw new InvalidInputError('intent must be "required" or "available"');
    // Available profiles are offered to users in the Company Portal, so they target groups of users.
    if (intent === 'available' && where.device)
      throw new InvalidInputError('an available profile is offered to users: assign it to a group, not to a device');
    const profile = await this.#profile(name);
    const target = await this.#target(where);
    const now = this.#clock.now();
    await this.#storage.assignProfile(profile.id, target, now, intent);
    // User-scope settings are queued per user at their next signed-in check-in (reconcile), where the
    // user is known; device-scope settings go out to every targeted device right away. Available ones wait
    // for an install request, reconciled at the device's next check-in.
    if (profile.scope === 'user' || intent === 'available') return 0;
    let queued = 0;
    for (const s of profile.settings) {
      const command = {
        verb: 'Add' as const,
        item: { locUri: locUriFor(profile.scope, s.path), format: s.format, type: 'text/plain', data: s.value },
        userId: null,
        origin: { kind: 'profile' as const, profileId: profile.id, setting: s.path },
      };
      const selection = target.kind === 'group' ? { groupId: target.groupId } : { devicePks: [target.devicePk] };
      queued += await this.#storage.enqueueForDevices(selection, command, now);
    }
    return queued;
  }

  async unassignProfile(name: string, where: { group?: string | undefined; device?: string | undefined }): Promise<void> {
    const profile = await this.#profile(name);
    await this.#storage.unassignProfile(profile.id, await this.#target(where));
  }

  async deleteProfile(name: string): Promise<void> {
    await this.#storage.deleteProfile((await this.#profile(name)).id);
  }

  async addGroup(name: string): Promise<Group> {
    if (!/^[\w .-]{1,128}$/.test(name.trim()))
      throw new InvalidInputError('group name must be 1-128 letters, digits, spaces, dots, dashes or underscores');
    return this.#storage.addGroup({ name: name.trim(), now: this.#clock.now() });
  }

  async addGroupMember(groupName: string, upn: string): Promise<void> {
    const g = await this.#storage.getGroupByName(groupName);
    if (!g) throw new NotFoundError(`no group named "${groupName}"`);
    const u = await this.#storage.getUserByUpn(upn.trim().toLowerCase());
    if (!u) throw new NotFoundError(`no user ${upn}`);
    await this.#storage.addGroupMember(g.id, u.id);
  }

  listGroups(): Promise<Group[]> {
    return this.#storage.listGroups();
  }
}
