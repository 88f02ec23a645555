/**
 * `winroll entra connect|list|disconnect`: the Entra ID tenants whose directory tokens the server accepts
 * for automatic enrollment (core/entra). The signing keys come from a JWKS file (stored in the database)
 * or a JWKS URL (fetched and cached by the server).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import type { EntraTenant } from '../core/entra/ports.js';
import { EntraTenants } from '../core/entra/tenants.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print, table } from './main.js';

interface DataFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
}

async function withTenants<T>(flags: DataFlags, fn: (tenants: EntraTenants) => Promise<T>): Promise<T> {
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  const storage = await openConfiguredStorage(config);
  try {
    return await fn(new EntraTenants({ store: storage, clock: systemClock }));
  } finally {
    await storage.close();
  }
}

/** What is shown: the connection without the key material. */
function view(t: EntraTenant) {
  const keys = t.jwksJson ? ((JSON.parse(t.jwksJson) as { keys?: unknown[] }).keys?.length ?? 0) : null;
  return {
    tenantId: t.tenantId,
    clientId: t.clientId,
    issuers: t.issuers,
    keys: t.jwksUrl ? { url: t.jwksUrl } : { stored: keys },
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

export function registerEntraCommands(program: Command): void {
  const entra = program.command('entra').description('Entra ID tenants whose directory tokens may enroll devices automatically');

  addDataOptions(
    entra
      .command('connect')
      .description('accept directory tokens of a tenant (connecting again replaces the connection)')
      .requiredOption('--tenant-id <guid>', 'directory (tenant) id: the tid claim')
      .requiredOption('--client-id <guid>', "the MDM app's client id (the aud of v2 tokens)")
      .option('--jwks-file <file>', 'signing keys as a JWKS JSON document, stored in the database')
      .option('--jwks-url <url>', 'signing keys fetched by the server (e.g. https://login.microsoftonline.com/<tid>/discovery/v2.0/keys)')
      .option('--issuer <url...>', 'accepted issuers (default: the v1 and v2 issuers of the tenant)'),
  ).action(async (opts: DataFlags & { tenantId: string; clientId: string; jwksFile?: string; jwksUrl?: string; issuer?: string[] }) => {
    if ((opts.jwksFile === undefined) === (opts.jwksUrl === undefined))
      throw new CliError('give exactly one of --jwks-file and --jwks-url');
    let jwksJson: string | undefined;
    if (opts.jwksFile !== undefined) {
      try {
        jwksJson = await readFile(opts.jwksFile, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${opts.jwksFile}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const t = await withTenants(opts, (x) =>
      x.connect({ tenantId: opts.tenantId, clientId: opts.clientId, issuers: opts.issuer, jwksJson, jwksUrl: opts.jwksUrl }),
    );
    print(opts.json, view(t), () => `connected tenant ${t.tenantId} (client ${t.clientId}); issuers: ${t.issuers.join(', ')}`);
  });

  addDataOptions(entra.command('list').description('connected tenants')).action(async (opts: DataFlags) => {
    const list = (await withTenants(opts, (x) => x.list())).map(view);
    print(opts.json, list, () =>
      table(
        ['TENANT', 'CLIENT', 'KEYS'],
        list.map((t) => [t.tenantId, t.clientId, t.keys.url ?? `${t.keys.stored ?? 0} stored`]),
      ),
    );
  });

  addDataOptions(entra.command('disconnect').description('stop accepting directory tokens of a tenant').argument('<tenant-id>')).action(
    async (tenantId: string, opts: DataFlags) => {
      const r = await withTenants(opts, (x) => x.disconnect(tenantId));
      print(opts.json, r, () => `disconnected tenant ${r.tenantId}`);
    },
  );
}
