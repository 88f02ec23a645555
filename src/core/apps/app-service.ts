/**
 * The app catalog as admins and end users use it: adding apps (validated by catalog.ts), assigning them to
 * groups as required or available (audited), the install commands a device still needs for its required
 * apps, an end user's Install from the Company Portal, and each app's install status on a device, read
 * from the statuses of the commands that carried it (queued, sent, installed, failed).
 */
import { type AuditContext, AuditTrail } from '../admin/audit.js';
import type { AuditStore } from '../admin/ports.js';
import type { CommandQueue, GroupStore, NewCommand, QueuedCommand } from '../management/ports.js';
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError, NotFoundError } from '../../shared/errors.js';
import { type AppDefinition, type AppKind, appProblems, installCommand } from './catalog.js';
import type { AppAssignment, AppIntent, AppStore, CatalogApp } from './ports.js';

export type InstallStatus = 'not_installed' | 'queued' | 'sent' | 'installed' | 'failed';

/** The command origin that marks an app's install (its acknowledgement is the install's status). */
export const installActionId = (appId: string) => `install-${appId}`;

/** An app's install status on a device, from the newest command that carried it (canceled ones aside). */
export function installStatusOf(appId: string, commands: QueuedCommand[]): InstallStatus {
  const id = installActionId(appId);
  let newest: QueuedCommand | undefined;
  for (const c of commands)
    if (c.origin.kind === 'action' && c.origin.actionId === id && c.state !== 'canceled' && (!newest || c.seq > newest.seq)) newest = c;
  if (!newest) return 'not_installed';
  switch (newest.state) {
    case 'pending':
      return 'queued';
    case 'sent':
      return 'sent';
    case 'acknowledged':
      return 'installed';
    default:
      return 'failed';
  }
}

/**
 * Install commands for required apps the device has not been sent yet. An app already queued, sent,
 * installed or failed is left alone (never re-installed; a failure is shown to the admin, not retried in a loop).
 */
export function missingRequiredInstalls(required: CatalogApp[], commands: QueuedCommand[]): NewCommand[] {
  return required.filter((a) => installStatusOf(a.id, commands) === 'not_installed').map((a) => installCommand(a, a.id));
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
}

export class AppCatalog {
  readonly #store: AppStore & GroupStore & AuditStore & CommandQueue;
  readonly #clock: Clock;
  readonly #audit: AuditTrail;

  constructor(deps: { store: AppStore & GroupStore & AuditStore & CommandQueue; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#audit = new AuditTrail({ store: deps.store, clock: deps.clock });
  }

  async list(): Promise<AppWithAssignments[]> {
    const [apps, assignments] = await Promise.all([this.#store.listApps(), this.#store.listAppAssignments()]);
    return apps.map((a) => withAssignments(a, assignments));
  }

  async get(ref: string): Promise<AppWithAssignments> {
    const app = await this.#app(ref);
    return withAssignments(app, await this.#store.listAppAssignments(app.id));
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
    return withAssignments(app, []);
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
  appsForUser(userId: string): Promise<Array<{ app: CatalogApp; intent: AppIntent }>> {
    return this.#store.appsForUser(userId);
  }

  /** Queues the app's install command for the device (the caller checked permission); returns the new status. */
  async queueInstall(devicePk: string, app: CatalogApp): Promise<InstallStatus> {
    const commands = await this.#store.listCommands(devicePk, { limit: 10_000 });
    const status = installStatusOf(app.id, commands);
    // Queued, on its way or installed: nothing to do (never installed twice); a failed install may be retried.
    if (status !== 'not_installed' && status !== 'failed') return status;
    await this.#store.enqueue(devicePk, [installCommand(app, app.id)], this.#clock.now());
    return 'queued';
  }
}

function withAssignments(app: CatalogApp, all: AppAssignment[]): AppWithAssignments {
  return {
    ...app,
    assignments: all
      .filter((a) => a.appId === app.id)
      .map((a) => ({ group: a.groupName, groupId: a.groupId, intent: a.intent, assignedAt: a.assignedAt })),
  };
}
