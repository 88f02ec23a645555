/**
 * Admin accounts: directory users with a role. Used by `winroll admins` and the API; every change is
 * audited in the same transaction as the role change.
 */
import type { Clock } from '../../shared/clock.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../shared/errors.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { Storage } from '../ports.js';
import { type AuditContext, AuditTrail } from './audit.js';
import type { AdminAccount, AdminRole } from './ports.js';
import { isAdminRole } from './roles.js';

export class AdminAccounts {
  readonly #storage: Storage;
  readonly #directory: DirectoryService;
  readonly #clock: Clock;
  readonly #audit: AuditTrail;

  constructor(deps: { storage: Storage; directory: DirectoryService; clock: Clock }) {
    this.#storage = deps.storage;
    this.#directory = deps.directory;
    this.#clock = deps.clock;
    this.#audit = new AuditTrail({ store: deps.storage, clock: deps.clock });
  }

  list(): Promise<AdminAccount[]> {
    return this.#storage.listAdmins();
  }

  /** Makes a directory user an admin, or changes their role (see `remove` for `allowLastAdministrator`). */
  async add(ctx: AuditContext, upn: string, role: string, opts: { allowLastAdministrator?: boolean } = {}): Promise<AdminAccount> {
    if (!isAdminRole(role)) throw new InvalidInputError(`role must be administrator, helpdesk or readonly, not "${role}"`);
    const user = await this.#directory.findUser(upn);
    if (!user) throw new NotFoundError(`no user ${upn}; add the user first with: winroll users add ${upn} --password ...`);
    const before = await this.#storage.getAdmin(user.id);
    if (before && !opts.allowLastAdministrator) await this.#refuseLosingLastAdministrator(before, role);
    const entry = this.#audit.entry(ctx, {
      action: before ? 'admin.set_role' : 'admin.add',
      targetType: 'admin',
      targetId: user.upn,
      before: before ? { role: before.role } : null,
      after: { role },
    });
    return this.#storage.setAdminRole({ userId: user.id, role: role as AdminRole, now: this.#clock.now() }, entry);
  }

  /**
   * Takes the admin role away, ends their sessions and revokes their API tokens. Removing the last
   * administrator is refused unless `allowLastAdministrator` (the CLI, which can always add one back).
   */
  async remove(ctx: AuditContext, upn: string, opts: { allowLastAdministrator?: boolean } = {}): Promise<AdminAccount> {
    const user = await this.#directory.findUser(upn);
    const before = user && (await this.#storage.getAdmin(user.id));
    if (!before) throw new NotFoundError(`${upn} is not an admin`);
    if (!opts.allowLastAdministrator) await this.#refuseLosingLastAdministrator(before, null);
    const entry = this.#audit.entry(ctx, {
      action: 'admin.remove',
      targetType: 'admin',
      targetId: before.upn,
      before: { role: before.role },
      after: null,
    });
    if (!(await this.#storage.removeAdmin(before.userId, this.#clock.now(), entry))) throw new NotFoundError(`${upn} is not an admin`);
    return before;
  }

  async #refuseLosingLastAdministrator(admin: AdminAccount, newRole: AdminRole | null): Promise<void> {
    if (admin.role !== 'administrator' || newRole === 'administrator') return;
    const others = (await this.#storage.listAdmins()).filter((a) => a.role === 'administrator' && a.enabled && a.userId !== admin.userId);
    if (others.length === 0) throw new ConflictError(`${admin.upn} is the last administrator; make someone else administrator first`);
  }
}
