/**
 * Every change an admin makes, audited: the API's routes and the CLI's commands call these instead of
 * DirectoryService and ManagementAdmin directly, so no change path skips the audit log. Reads go to those
 * services directly.
 */
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError, NotFoundError } from '../../shared/errors.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { RemoteAction } from '../management/actions.js';
import type { ManagementAdmin, ProfileInput } from '../management/admin.js';
import type { AssignmentTarget, Ownership, Group, Profile, QueuedCommand } from '../management/ports.js';
import type { PushOutcome } from '../management/push.js';
import type { AuthPolicy, Domain, Storage, User } from '../ports.js';
import { type AuditContext, AuditTrail } from './audit.js';

/** A user as admins see it: never the password hash. */
export interface UserView {
  id: string;
  upn: string;
  displayName: string | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function userView(u: User): UserView {
  return { id: u.id, upn: u.upn, displayName: u.displayName, enabled: u.enabled, createdAt: u.createdAt, updatedAt: u.updatedAt };
}

export type QueuedAction = QueuedCommand & { push: PushOutcome };

export class AdminOperations {
  readonly #storage: Storage;
  readonly #directory: DirectoryService;
  readonly #management: ManagementAdmin;
  readonly #clock: Clock;
  readonly #audit: AuditTrail;

  constructor(deps: { storage: Storage; directory: DirectoryService; management: ManagementAdmin; clock: Clock }) {
    this.#storage = deps.storage;
    this.#directory = deps.directory;
    this.#management = deps.management;
    this.#clock = deps.clock;
    this.#audit = new AuditTrail({ store: deps.storage, clock: deps.clock });
  }

  get audit(): AuditTrail {
    return this.#audit;
  }

  /** The server's time (reads such as "checked in within 24 hours" measure from it). */
  now(): Date {
    return this.#clock.now();
  }

  // -- directory ---------------------------------------------------------------------------------------

  addDomain(ctx: AuditContext, name: string, authPolicy: AuthPolicy): Promise<Domain> {
    return this.#audit.record(
      ctx,
      { action: 'domain.add', targetType: 'domain', targetId: name.trim().toLowerCase() },
      () => this.#directory.addDomain(name, authPolicy),
      (d) => d,
    );
  }

  async setDomainAuthPolicy(ctx: AuditContext, name: string, authPolicy: AuthPolicy): Promise<Domain> {
    const before = await this.#directory.findDomain(name);
    if (!before) throw new NotFoundError(`domain ${name} does not exist`);
    return this.#audit.record(
      ctx,
      { action: 'domain.set_auth_policy', targetType: 'domain', targetId: before.name, before },
      () => this.#directory.setDomainAuthPolicy(name, authPolicy),
      (d) => d,
    );
  }

  async addUser(ctx: AuditContext, input: { upn: string; password: string; displayName?: string | null | undefined }): Promise<UserView> {
    const user = await this.#audit.record(
      ctx,
      { action: 'user.add', targetType: 'user', targetId: input.upn.trim().toLowerCase() },
      () => this.#directory.addUser({ upn: input.upn, password: input.password, displayName: input.displayName ?? null }),
      userView,
    );
    return userView(user);
  }

  async setUserEnabled(ctx: AuditContext, upn: string, enabled: boolean): Promise<UserView> {
    const before = await this.#directory.findUser(upn);
    if (!before) throw new NotFoundError(`no user ${upn}`);
    const after = await this.#audit.record(
      ctx,
      { action: enabled ? 'user.enable' : 'user.disable', targetType: 'user', targetId: before.upn, before: userView(before) },
      () => this.#storage.setUserEnabled(before.id, enabled, this.#clock.now()),
      userView,
    );
    return userView(after);
  }

  // -- groups ------------------------------------------------------------------------------------------

  addGroup(ctx: AuditContext, name: string): Promise<Group> {
    return this.#audit.record(
      ctx,
      { action: 'group.add', targetType: 'group', targetId: name.trim() },
      () => this.#management.addGroup(name),
      (g) => g,
    );
  }

  async addGroupMember(ctx: AuditContext, group: string, upn: string): Promise<void> {
    const g = await this.#storage.getGroupByName(group);
    if (!g) throw new NotFoundError(`no group named "${group}"`);
    const members = await this.#storage.listGroupMembers(g.id);
    await this.#audit.record(
      ctx,
      { action: 'group.add_member', targetType: 'group', targetId: g.name, before: { memberCount: members.length } },
      () => this.#management.addGroupMember(group, upn),
      () => ({ added: upn.trim().toLowerCase() }),
    );
  }

  // -- devices -----------------------------------------------------------------------------------------

  async queueAction(ctx: AuditContext, deviceId: string, action: RemoteAction): Promise<QueuedAction> {
    const managed = await this.#storage.getManagedDevice(deviceId.toUpperCase());
    if (!managed) throw new NotFoundError(`no enrolled device ${deviceId}`);
    const before = { status: managed.device.status, deviceName: managed.device.deviceName, retiredAt: managed.retiredAt };
    return this.#audit.record(
      ctx,
      { action: `device.action.${action.kind}`, targetType: 'device', targetId: managed.device.deviceId, before },
      () => this.#management.queueAction(deviceId, action),
      (q) => ({
        action,
        actionId: q.origin.kind === 'action' ? q.origin.actionId : null,
        commandId: q.id,
        state: q.state,
        push: q.push.ok ? 'sent' : q.push.reason,
      }),
    );
  }

  /** Admins can correct a device's ownership later (it decides what may be done to it, e.g. Rename). */
  async setOwnership(ctx: AuditContext, deviceId: string, ownership: Ownership): Promise<void> {
    const managed = await this.#storage.getManagedDevice(deviceId.toUpperCase());
    if (!managed) throw new NotFoundError(`no enrolled device ${deviceId}`);
    const before = await this.#storage.getOwnership(managed.device.id);
    await this.#audit.record(
      ctx,
      { action: 'device.set_ownership', targetType: 'device', targetId: managed.device.deviceId, before },
      () => this.#storage.recordOwnership(managed.device.id, ownership, 'changed by an admin'),
      () => ({ ownership, rule: 'changed by an admin' }),
    );
  }

  /**
   * Sets the device's primary user (an enabled, licensed directory user, as a user who enrolls must be), or
   * with null makes it a shared device. It changes who the device belongs to, not who enrolled it nor whose
   * settings a session carries (that is whoever is signed in).
   */
  async setPrimaryUser(ctx: AuditContext, deviceId: string, upn: string | null): Promise<{ userId: string; upn: string } | null> {
    const managed = await this.#storage.getManagedDevice(deviceId.toUpperCase());
    if (!managed) throw new NotFoundError(`no enrolled device ${deviceId}`);
    const device = managed.device;
    const before = { primaryUser: device.primaryUserId ? { userId: device.primaryUserId, upn: device.primaryUpn } : null };
    const wanted = upn === null ? null : upn.trim().toLowerCase();
    // Checked inside the audited change, so a refused attempt is in the audit log as failed, with its reason.
    return this.#audit.record(
      ctx,
      { action: 'device.set_primary_user', targetType: 'device', targetId: device.deviceId, before },
      async () => {
        let primary: { userId: string; upn: string } | null = null;
        if (wanted !== null) {
          const user = await this.#storage.getUserByUpn(wanted);
          if (!user) throw new NotFoundError(`no user ${wanted}`);
          if (!user.enabled) throw new InvalidInputError(`${user.upn} is disabled and cannot be a primary user`);
          if (!(await this.#storage.hasLicense(user.id)))
            throw new InvalidInputError(`${user.upn} has no Winroll license; assign one before making them a primary user`);
          primary = { userId: user.id, upn: user.upn };
        }
        await this.#storage.setPrimaryUser(device.id, primary?.userId ?? null);
        return primary;
      },
      (p) => ({ primaryUser: p, shared: p === null }),
    );
  }

  // -- profiles ----------------------------------------------------------------------------------------

  async saveProfile(ctx: AuditContext, input: ProfileInput): Promise<Profile> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    const before = name ? await this.#storage.getProfileByName(name) : undefined;
    return this.#audit.record(
      ctx,
      { action: before ? 'profile.update' : 'profile.add', targetType: 'profile', targetId: name || null, before: before ?? null },
      () => this.#management.saveProfile(input),
      (p) => p,
    );
  }

  async assignProfile(
    ctx: AuditContext,
    name: string,
    where: { group?: string | undefined; device?: string | undefined; intent?: string | undefined },
  ): Promise<number> {
    const before = await this.#assignments(name);
    return this.#audit.record(
      ctx,
      { action: 'profile.assign', targetType: 'profile', targetId: name, before: { assignments: before, target: where } },
      () => this.#management.assignProfile(name, where),
      (queued) => ({ target: where, queued }),
    );
  }

  async unassignProfile(
    ctx: AuditContext,
    name: string,
    where: { group?: string | undefined; device?: string | undefined },
  ): Promise<void> {
    const before = await this.#assignments(name);
    await this.#audit.record(
      ctx,
      { action: 'profile.unassign', targetType: 'profile', targetId: name, before: { assignments: before, target: where } },
      () => this.#management.unassignProfile(name, where),
      () => ({ removed: where }),
    );
  }

  async deleteProfile(ctx: AuditContext, name: string): Promise<void> {
    const before = await this.#storage.getProfileByName(name);
    if (!before) throw new NotFoundError(`no profile named "${name}"`);
    await this.#audit.record(
      ctx,
      { action: 'profile.delete', targetType: 'profile', targetId: before.name, before },
      () => this.#management.deleteProfile(name),
      () => null,
    );
  }

  async #assignments(profileName: string): Promise<AssignmentTarget[]> {
    const p = await this.#storage.getProfileByName(profileName);
    if (!p) throw new NotFoundError(`no profile named "${profileName}"`);
    return this.#storage.listAssignments(p.id);
  }
}
