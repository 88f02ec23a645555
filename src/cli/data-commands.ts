/** `domains`, `users` and `devices`: work on the data folder or database directly, server running or not. */
import { type Command, Option } from 'commander';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import { DirectoryService } from '../core/directory/directory-service.js';
import { mfaStatusByUser } from '../core/mfa/mfa-service.js';
import type { AuthPolicy, Storage } from '../core/ports.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print, table } from './main.js';
import { cliOperations } from './admin-commands.js';
import { CLI_CONTEXT } from '../core/admin/audit.js';

/** Changes go through the audited operations (the audit log names the actor `cli`). */
const audited = (s: Storage) => cliOperations(s).ops;

interface DataFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
}

async function withStorage<T>(flags: DataFlags, fn: (storage: Storage, directory: DirectoryService) => Promise<T>): Promise<T> {
  const storage = await openConfiguredStorage(loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl }));
  try {
    return await fn(storage, new DirectoryService({ storage, clock: systemClock }));
  } finally {
    await storage.close();
  }
}

function parseAuthPolicy(v: string): AuthPolicy {
  const p = v.toLowerCase();
  if (p === 'onpremise') return 'OnPremise';
  if (p === 'federated') return 'Federated';
  throw new CliError(`--auth-policy must be onpremise or federated, not "${v}"`);
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

export function registerDataCommands(program: Command): void {
  const domains = program.command('domains').description('UPN suffixes that may enroll (enterpriseenrollment.<domain>)');
  addDataOptions(
    domains
      .command('add')
      .argument('<domain>', 'e.g. contoso.com')
      .addOption(
        new Option('--auth-policy <policy>', 'onpremise (Windows asks for the password) or federated (Winroll sign-in page)').default(
          'onpremise',
        ),
      ),
  ).action(async (domain: string, opts: DataFlags & { authPolicy: string }) => {
    const policy = parseAuthPolicy(opts.authPolicy);
    const added = await withStorage(opts, (s) => audited(s).addDomain(CLI_CONTEXT, domain, policy));
    print(
      opts.json,
      added,
      () => `added domain ${added.name} (${added.authPolicy}); point enterpriseenrollment.${added.name} at this server with a CNAME`,
    );
  });
  addDataOptions(domains.command('list')).action(async (opts: DataFlags) => {
    const list = await withStorage(opts, (_s, dir) => dir.listDomains());
    print(opts.json, list, () =>
      table(
        ['DOMAIN', 'AUTH POLICY', 'ADDED'],
        list.map((d) => [d.name, d.authPolicy, iso(d.createdAt)]),
      ),
    );
  });
  addDataOptions(domains.command('set').argument('<domain>').requiredOption('--auth-policy <policy>', 'onpremise or federated')).action(
    async (domain: string, opts: DataFlags & { authPolicy: string }) => {
      const updated = await withStorage(opts, (s) => audited(s).setDomainAuthPolicy(CLI_CONTEXT, domain, parseAuthPolicy(opts.authPolicy)));
      print(opts.json, updated, () => `domain ${updated.name} now uses ${updated.authPolicy}`);
    },
  );

  const users = program.command('users').description('people who may sign in and enroll devices');
  addDataOptions(
    users
      .command('add')
      .argument('<upn>', 'e.g. alice@contoso.com')
      .requiredOption('--password <password>', 'initial password (at least 8 characters)')
      .option('--display-name <name>', 'name shown in lists'),
  ).action(async (upn: string, opts: DataFlags & { password: string; displayName?: string }) => {
    const user = await withStorage(opts, (s) =>
      audited(s).addUser(CLI_CONTEXT, { upn, password: opts.password, displayName: opts.displayName ?? null }),
    );
    const view = { id: user.id, upn: user.upn, displayName: user.displayName, enabled: user.enabled, createdAt: user.createdAt };
    print(opts.json, view, () => `added user ${user.upn}`);
  });
  addDataOptions(users.command('list')).action(async (opts: DataFlags) => {
    const [list, mfa] = await withStorage(opts, async (s, dir) => [await dir.listUsers(), await mfaStatusByUser(s)] as const);
    const view = list.map((u) => ({
      id: u.id,
      upn: u.upn,
      displayName: u.displayName,
      enabled: u.enabled,
      mfa: mfa.get(u.id) ?? null,
      createdAt: u.createdAt,
    }));
    print(opts.json, view, () =>
      table(
        ['UPN', 'NAME', 'ENABLED', 'MFA', 'ADDED'],
        list.map((u) => [u.upn, u.displayName ?? '', u.enabled ? 'yes' : 'no', mfa.get(u.id) ?? 'none', iso(u.createdAt)]),
      ),
    );
  });

  const devices = program.command('devices').description('enrolled devices (one record per physical device)');
  addDataOptions(devices.command('list')).action(async (opts: DataFlags) => {
    const list = await withStorage(opts, (s) => s.listDevices());
    print(opts.json, list, () =>
      table(
        ['DEVICE ID', 'NAME', 'USER', 'PRIMARY USER', 'MODE', 'TYPE', 'OS', 'STATUS', 'LAST ENROLLED', 'WARNINGS'],
        list.map((d) => [
          d.deviceId,
          d.deviceName ?? '',
          d.upn,
          d.primaryUpn ?? '(shared)',
          // MAM: registered for app protection only (no certificate, a few CSPs).
          d.managementMode === 'mam' ? 'MAM' : 'MDM',
          d.enrollmentType,
          d.osVersion ?? '',
          d.status,
          iso(d.lastEnrolledAt),
          d.warnings.map((w) => w.detail).join('; '),
        ]),
      ),
    );
  });
}
