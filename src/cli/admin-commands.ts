/** `admins add|list|remove`: which directory users may use the admin API, and with which role. */
import { type Command, Option } from 'commander';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import { AdminAccounts } from '../core/admin/accounts.js';
import { type AuditContext, CLI_CONTEXT } from '../core/admin/audit.js';
import { mayAdminSignIn } from '../core/admin/auth.js';
import { AdminOperations } from '../core/admin/operations.js';
import { ADMIN_ROLES } from '../core/admin/ports.js';
import { DirectoryService } from '../core/directory/directory-service.js';
import { PROVIDER_ID } from '../core/enrollment/enrollment-service.js';
import { ManagementAdmin } from '../core/management/admin.js';
import type { Storage } from '../core/ports.js';
import { systemClock } from '../shared/clock.js';
import { addDataOptions, print, table } from './main.js';

interface DataFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
}

async function withAccounts<T>(flags: DataFlags, fn: (accounts: AdminAccounts, storage: Storage) => Promise<T>): Promise<T> {
  const storage = await openConfiguredStorage(loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl }));
  try {
    return await fn(
      new AdminAccounts({ storage, directory: new DirectoryService({ storage, clock: systemClock }), clock: systemClock }),
      storage,
    );
  } finally {
    await storage.close();
  }
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function registerAdminCommands(program: Command): void {
  const admins = program
    .command('admins')
    .description(
      'admin API accounts: directory users with a role (administrator, helpdesk, readonly); they sign in with their directory password',
    );
  addDataOptions(
    admins
      .command('add')
      .description('make a user an admin, or change their role')
      .argument('<upn>', 'an existing user, e.g. alice@contoso.com')
      .addOption(
        new Option(
          '--role <role>',
          'administrator: everything; helpdesk: read, sync and restart devices; readonly: read, audit log included',
        )
          .choices(ADMIN_ROLES)
          .makeOptionMandatory(),
      ),
  ).action(async (upn: string, opts: DataFlags & { role: string }) => {
    // The CLI runs with the data folder's rights, so it may demote the last administrator (and fix it again).
    const [a, maySignIn] = await withAccounts(opts, async (acc, storage) => {
      const added = await acc.add(CLI_CONTEXT, upn, opts.role, { allowLastAdministrator: true });
      const user = await storage.getUserById(added.userId);
      // A disabled user cannot sign in either way; the note is about the license rule only.
      return [added, !user?.enabled || (await mayAdminSignIn(storage, user))] as const;
    });
    print(opts.json, a, () =>
      [
        `${a.upn} is now ${a.role === 'administrator' ? 'an administrator' : `a ${a.role} admin`}; they sign in to the API with their directory password`,
        ...(maySignIn
          ? []
          : [
              `note: ${a.upn} cannot sign in yet: they hold no Winroll license and unlicensed admins may not sign in (winroll licenses assign ${a.upn}, or winroll settings unlicensed-admins allow)`,
            ]),
      ].join('\n'),
    );
  });
  addDataOptions(admins.command('list').description('list admins and their roles')).action(async (opts: DataFlags) => {
    const list = await withAccounts(opts, (acc) => acc.list());
    print(opts.json, list, () =>
      table(
        ['UPN', 'ROLE', 'ENABLED', 'SINCE'],
        list.map((a) => [a.upn, a.role, a.enabled ? 'yes' : 'no (user disabled)', iso(a.createdAt)]),
      ),
    );
  });
  addDataOptions(
    admins.command('remove').description('take the admin role away; ends their sessions and revokes their API tokens').argument('<upn>'),
  ).action(async (upn: string, opts: DataFlags) => {
    const a = await withAccounts(opts, (acc) => acc.remove(CLI_CONTEXT, upn, { allowLastAdministrator: true }));
    print(
      opts.json,
      { upn: a.upn, removed: true },
      () => `${a.upn} is no longer an admin; their sessions ended and their API tokens were revoked`,
    );
  });
}

/**
 * The audited change operations for the CLI's own commands (domains, users, groups, profiles, device
 * actions): the audit log names the actor `cli`.
 */
export function cliOperations(storage: Storage, management?: ManagementAdmin): { ops: AdminOperations; ctx: AuditContext } {
  const directory = new DirectoryService({ storage, clock: systemClock });
  const admin = management ?? new ManagementAdmin({ storage, clock: systemClock, providerId: PROVIDER_ID });
  return { ops: new AdminOperations({ storage, directory, management: admin, clock: systemClock }), ctx: CLI_CONTEXT };
}
