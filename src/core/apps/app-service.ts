/**
 * The app catalog as admins and end users use it: adding apps (validated by catalog.ts), assigning them to
 * groups as required, available or uninstall (audited), an end user's Install from the Company Portal, an
 * admin's Retry of a failed install (audited), and each app's state on a device, read from the statuses
 * of the commands that carried it (lifecycle.ts decides what sessions send).
 */
import { type AuditContext, AuditTrail } from '../admin/audit.js';
import type { AuditStore } from '../admin/ports.js';
import type { CommandQueue, GroupStore, DeviceStateStore, QueuedCommand } from '../management/ports.js';
import type { Clock } from '../../shared/clock.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../shared/errors.js';
import { type AppDefinition, type AppKind, appProblems, installActionIdOf, installCommand, uninstallCommand } from './catalog.js';
import { resultMeaning, settledResult } from './app-results.js';
import {
  type AppHistory,
  type DeviceAppState,
  MAX_AUTOMATIC_ATTEMPTS,
  appHistories,
  nextAutomaticRetry,
  statusMeaning,
  strongestIntents,
} from './lifecycle.js';
import type { AppAssignment, AppIntent, AppStore, CatalogApp, InstallCounts, OfferIntent } from './ports.js';

export type { InstallCounts } from './ports.js';

export type InstallStatus = 'not_installed' | 'queued' | 'sent' | 'installing' | 'installed' | 'failed';

/** The command origin of a user's install (the Company Portal); a required install's carries `~required`. */
export const installActionId = (appId: string) => installActionIdOf(appId, 'user');

/**
 * An app's install status on a device as the Company Portal shows it: a removal on its way (or failed)
 * still leaves the app installed; a removed app is not installed.
 */
export function installStatusOf(appId: string, commands: QueuedCommand[]): InstallStatus {
  const state = appHistories(commands).get(appId)?.state ?? 'not_installed';
  switch (state) {
    case 'uninstall_queued':
    case 'uninstall_sent':
    case 'uninstall_failed':
      return 'installed';
    case 'uninstalled':
      return 'not_installed';
    default:
      return state;
  }
}

/** An app definition from JSON (a file for `winroll apps add`, or an API body), checked. */
export function parseAppDefinition(input: unknown): AppDefinition {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new InvalidInputError('an app definition is a JSON object');
  const o = input as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new InvalidInputError(`${k} must be a string`);
    return v.trim();
  };
  const kind = str('kind');
  if (kind !== 'store' && kind !== 'msi') throw new InvalidInputError('kind must be "store" or "msi"');
  const minWindowsBuild = o.minWindowsBuild ?? 10240;
  if (typeof minWindowsBuild !== 'number') throw new InvalidInputError('minWindowsBuild must be a number');
  const def: AppDefinition = {
    name: str('name') ?? '',
    publisher: str('publisher') ?? '',
    version: str('version') ?? '',
    kind: kind satisfies AppKind,
    packageFamilyName: str('packageFamilyName'),
    storeProductId: str('storeProductId'),
    productCode: str('productCode'),
    downloadUrl: str('downloadUrl'),
    sha256: str('sha256'),
    minWindowsBuild,
  };
  if (def.name.length > 200) throw new InvalidInputError('the name is longer than 200 characters');
  const problems = appProblems(def);
  if (problems.length > 0) throw new InvalidInputError(`the app cannot be installed as described: ${problems.join('; ')}`);
  return def;
}

export interface AppWithAssignments extends CatalogApp {
  assignments: Array<{ group: string; groupId: string; intent: AppIntent; assignedAt: Date }>;
  /** Devices by the app's install state there (from each device's newest command for the app). */
  installs: InstallCounts;
}

/** One app on one device as the console shows it. */
export interface DeviceApp {
  appId: string;
  /** Null when the app was deleted from the catalog (its history on the device remains). */
  name: string | null;
  kind: AppKind | null;
  /** The strongest intent of the assignments reaching the device's user; null when none does now. */
  intent: AppIntent | null;
  /** Why it applies: each group assignment reaching the user. */
  groups: Array<{ group: string; intent: AppIntent }>;
  state: DeviceAppState;
  /** Why the newest install was sent: an assignment (required) or the user (Company Portal). */
  installedBy: 'required' | 'user' | null;
  attempts: number;
  maxAutomaticAttempts: number;
  lastStatus: { code: number; meaning: string } | null;
  /** What the device reported when a background install (MSI, Store) finished; null before (or for other commands). */
  result: { code: number | null; meaning: string } | null;
  /** When the failed install is sent again automatically; null when it is not. */
  nextRetryAt: Date | null;
  queuedAt: Date | null;
  updatedAt: Date | null;
}

type CatalogStore = AppStore & GroupStore & AuditStore & CommandQueue & Pick<DeviceStateStore, 'getManagedDevice'>;

export class AppCatalog {
  readonly #store: CatalogStore;
  readonly #clock: Clock;
  readonly #audit: AuditTrail;

  constructor(deps: { store: CatalogStore; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#audit = new AuditTrail({ store: deps.store, clock: deps.clock });
  }

  async list(): Promise<AppWithAssignments[]> {
    const [apps, assignments, counts] = await Promise.all([
      this.#store.listApps(),
      this.#store.listAppAssignments(),
      this.#installCounts(),
    ]);
    return apps.map((a) => withAssignments(a, assignments, counts));
  }

  async get(ref: string): Promise<AppWithAssignments> {
    const app = await this.#app(ref);
    const [assignments, counts] = await Promise.all([this.#store.listAppAssignments(app.id), this.#installCounts()]);
    return withAssignments(app, assignments, counts);
  }

  /** Per app, devices whose newest command for it is an install that succeeded, failed, or is on its way (one SQL aggregate). */
  #installCounts(): Promise<Map<string, InstallCounts>> {
    return this.#store.appInstallCounts();
  }

  async #device(deviceId: string): Promise<{ devicePk: string; userId: string }> {
    const managed = await this.#store.getManagedDevice(deviceId.trim().toUpperCase());
    if (!managed) throw new NotFoundError(`no enrolled device ${deviceId}`);
    // The user whose groups decide the device's apps, as at check-in: the primary user, else the enrolling one.
    return { devicePk: managed.device.id, userId: managed.device.primaryUserId ?? managed.device.userId };
  }

  /**
   * Every app on the device: those assigned to its user (any intent) and those with a history there,
   * each with why it applies, its state, the device's last status code in words and its attempts.
   */
  async deviceApps(deviceId: string): Promise<DeviceApp[]> {
    const { devicePk, userId } = await this.#device(deviceId);
    const [assignments, commands, apps] = await Promise.all([
      this.#store.appAssignmentsForUser(userId),
      this.#store.listCommands(devicePk, { limit: 10_000 }),
      this.#store.listApps(),
    ]);
    const histories = appHistories(commands);
    const strongest = strongestIntents(assignments);
    const byId = new Map(apps.map((a) => [a.id, a]));
    const ids = new Set([...strongest.keys(), ...histories.keys()]);
    const out = [...ids].map((id) => deviceAppOf(id, byId.get(id), strongest.get(id)?.intent ?? null, assignments, histories.get(id)));
    return out.sort((a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || a.appId.localeCompare(b.appId));
  }

  /**
   * An admin's Retry: sends a failed install again (for the same reason as before), or a failed removal;
   * anything else is refused with the app's state. An admin retry is one more attempt; it does not refill
   * the automatic ones (a package that keeps failing must not loop).
   */
  async retry(ctx: AuditContext, deviceId: string, ref: string): Promise<DeviceApp> {
    const { devicePk } = await this.#device(deviceId);
    const app = await this.#app(ref);
    const history = appHistories(await this.#store.listCommands(devicePk, { limit: 10_000 })).get(app.id);
    const state = history?.state ?? 'not_installed';
    if (state !== 'failed' && state !== 'uninstall_failed')
      throw new ConflictError(`${app.name} is ${state.replace('_', ' ')} on this device; only a failed install or removal is retried`);
    const command = state === 'failed' ? installCommand(app, app.id, history?.reason ?? 'user') : uninstallCommand(app.id, { app });
    await this.#audit.record(
      ctx,
      { action: 'app.retry', targetType: 'device', targetId: deviceId.trim().toUpperCase() },
      () => this.#store.enqueue(devicePk, [command], this.#clock.now()),
      () => ({ app: app.name, appId: app.id, operation: state === 'failed' ? 'install' : 'uninstall' }),
    );
    const found = (await this.deviceApps(deviceId)).find((a) => a.appId === app.id);
    if (!found) throw new NotFoundError(`${app.name} is not on this device`);
    return found;
  }

  async #app(ref: string): Promise<CatalogApp> {
    const app = await this.#store.getApp(ref.trim());
    if (!app) throw new NotFoundError(`there is no app ${ref}`);
    return app;
  }

  async add(ctx: AuditContext, input: unknown): Promise<AppWithAssignments> {
    const def = parseAppDefinition(input);
    const app = await this.#audit.record(
      ctx,
      { action: 'app.add', targetType: 'app', targetId: def.name },
      () => this.#store.addApp({ ...def, now: this.#clock.now() }),
      (a) => a,
    );
    return withAssignments(app, [], new Map());
  }

  async remove(ctx: AuditContext, ref: string): Promise<void> {
    const app = await this.#app(ref);
    await this.#audit.record(
      ctx,
      { action: 'app.remove', targetType: 'app', targetId: app.id, before: app },
      () => this.#store.removeApp(app.id),
      () => null,
    );
  }

  async assign(ctx: AuditContext, ref: string, groupName: string, intent: AppIntent): Promise<AppWithAssignments> {
    const app = await this.#app(ref);
    const group = await this.#store.getGroupByName(groupName.trim());
    if (!group) throw new NotFoundError(`there is no group ${groupName}`);
    await this.#audit.record(
      ctx,
      { action: 'app.assign', targetType: 'app', targetId: app.id },
      () => this.#store.assignApp({ appId: app.id, groupId: group.id, intent, now: this.#clock.now() }),
      () => ({ app: app.name, group: group.name, intent }),
    );
    return this.get(app.id);
  }

  async unassign(ctx: AuditContext, ref: string, groupName: string): Promise<AppWithAssignments> {
    const app = await this.#app(ref);
    const group = await this.#store.getGroupByName(groupName.trim());
    if (!group) throw new NotFoundError(`there is no group ${groupName}`);
    const removed = await this.#audit.record(
      ctx,
      { action: 'app.unassign', targetType: 'app', targetId: app.id },
      () => this.#store.unassignApp(app.id, group.id),
      (r) => ({ app: app.name, group: group.name, removed: r }),
    );
    if (!removed) throw new NotFoundError(`${app.name} is not assigned to ${group.name}`);
    return this.get(app.id);
  }

  /** Apps the user may install or must have (through their groups). */
  appsForUser(userId: string): Promise<Array<{ app: CatalogApp; intent: OfferIntent }>> {
    return this.#store.appsForUser(userId);
  }

  /** Queues the app's install command for the device (the caller checked permission); returns the new status. */
  async queueInstall(devicePk: string, app: CatalogApp): Promise<InstallStatus> {
    const commands = await this.#store.listCommands(devicePk, { limit: 10_000 });
    const status = installStatusOf(app.id, commands);
    // Queued, on its way or installed: nothing to do (never installed twice); a failed install may be retried.
    if (status !== 'not_installed' && status !== 'failed') return status;
    // Retrying a failed required install keeps its reason, so unassigning still removes it later.
    const history = appHistories(commands).get(app.id);
    const reason = status === 'failed' && history?.reason === 'required' ? 'required' : 'user';
    await this.#store.enqueue(devicePk, [installCommand(app, app.id, reason)], this.#clock.now());
    return 'queued';
  }
}

function deviceAppOf(
  appId: string,
  app: CatalogApp | undefined,
  intent: AppIntent | null,
  assignments: Array<{ app: CatalogApp; intent: AppIntent; groupName: string }>,
  h: AppHistory | undefined,
): DeviceApp {
  const code = h?.latest.status ?? null;
  const settled = h?.lastInstall && h.latest === h.lastInstall ? settledResult(h.lastInstall) : undefined;
  return {
    appId,
    name: app?.name ?? null,
    kind: app?.kind ?? null,
    intent,
    groups: assignments.filter((a) => a.app.id === appId).map((a) => ({ group: a.groupName, intent: a.intent })),
    state: h?.state ?? 'not_installed',
    installedBy: h?.reason ?? null,
    attempts: h?.attempts ?? 0,
    maxAutomaticAttempts: MAX_AUTOMATIC_ATTEMPTS,
    lastStatus: code === null ? null : { code, meaning: statusMeaning(code) },
    result: settled
      ? { code: settled.code, meaning: settled.state === 'installed' && settled.code === null ? 'installed' : resultMeaning(settled.code) }
      : null,
    // Automatic retries are for required installs only; an available app waits for the user's Install.
    nextRetryAt: intent === 'required' ? nextAutomaticRetry(h) : null,
    queuedAt: h?.latest.createdAt ?? null,
    updatedAt: h?.latest.updatedAt ?? null,
  };
}

function withAssignments(app: CatalogApp, all: AppAssignment[], counts: Map<string, InstallCounts>): AppWithAssignments {
  return {
    ...app,
    installs: counts.get(app.id) ?? { installed: 0, failed: 0, pending: 0 },
    assignments: all
      .filter((a) => a.appId === app.id)
      .map((a) => ({ group: a.groupName, groupId: a.groupId, intent: a.intent, assignedAt: a.assignedAt })),
  };
}
