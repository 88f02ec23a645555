/**
 * `winroll entra connect|list|disconnect`: the Entra ID tenants whose directory tokens the server accepts
 * for automatic enrollment (core/entra). The signing keys come from a JWKS file (stored in the database)
 * or a JWKS URL (fetched and cached by the server).
 */
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import type { EntraTenant } from '../core/entra/ports.js';
import type { Storage } from '../core/ports.js';
import { EntraTenants, tenantView } from '../core/entra/tenants.js';
import { mobilitySettings } from '../core/entra/mobility.js';
import { CLI_CONTEXT } from '../core/admin/audit.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print, table } from './main.js';
import { type GraphFlags, addGraphOptions, configureGraph, readGraphFlags, registerEntraSyncCommands } from './directory-sync-commands.js';

interface DataFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
}

async function withStorage<T>(flags: DataFlags, fn: (storage: Storage) => Promise<T>): Promise<T> {
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  const storage = await openConfiguredStorage(config);
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

function withTenants<T>(flags: DataFlags, fn: (tenants: EntraTenants) => Promise<T>): Promise<T> {
  return withStorage(flags, (storage) => fn(new EntraTenants({ store: storage, clock: systemClock })));
}

/** What is shown: the connection without the key material. */
const view = (t: EntraTenant) => tenantView(t);

export function registerEntraCommands(program: Command): void {
  const entra = program.command('entra').description('Entra ID tenants whose directory tokens may enroll devices automatically');

  addDataOptions(
    addGraphOptions(entra.command('connect'))
      .description('accept directory tokens of a tenant (connecting again replaces the connection)')
      .requiredOption('--tenant-id <guid>', 'directory (tenant) id: the tid claim')
      .requiredOption('--client-id <guid>', "the MDM app's client id (the aud of v2 tokens)")
      .option('--jwks-file <file>', 'signing keys as a JWKS JSON document, stored in the database')
      .option(
        '--jwks-url <url>',
        "signing keys fetched by the server (default: the tenant's https://login.microsoftonline.com/<tid>/discovery/v2.0/keys)",
      )
      .option(
        '--issuer <url>',
        'an accepted issuer; repeat for several (default: the v1 and v2 issuers of the tenant)',
        (v: string, prev: string[] = []) => [...prev, v],
      ),
  ).action(
    async (
      opts: DataFlags & GraphFlags & { tenantId: string; clientId: string; jwksFile?: string; jwksUrl?: string; issuer?: string[] },
    ) => {
      // Directory sync (Graph URL, client secret): files read before anything changes.
      const graph = await readGraphFlags(opts);
      if (opts.jwksFile !== undefined && opts.jwksUrl !== undefined) throw new CliError('give --jwks-file or --jwks-url, not both');
      let jwksJson: string | undefined;
      if (opts.jwksFile !== undefined) {
        try {
          jwksJson = await readFile(opts.jwksFile, 'utf8');
        } catch (err) {
          throw new CliError(`cannot read ${opts.jwksFile}: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      const t = await withTenants(opts, (x) =>
        x.connect({ tenantId: opts.tenantId, clientId: opts.clientId, issuers: opts.issuer, jwksJson, jwksUrl: opts.jwksUrl }, CLI_CONTEXT),
      );
      const sync = graph ? await configureGraph(opts, t.tenantId, graph) : undefined;
      print(
        opts.json,
        { ...view(t), changed: t.changed, ...(sync ? { sync } : {}) },
        () =>
          (sync ? `directory sync: Graph ${sync.graphUrl}, token endpoint ${sync.tokenUrl}; run winroll entra sync\n` : '') +
          (t.changed
            ? `connected tenant ${t.tenantId} (client ${t.clientId}); issuers: ${t.issuers.join(', ')}; keys: ${t.jwksUrl ?? 'stored'}`
            : `tenant ${t.tenantId} is already connected with these values; nothing changed`),
      );
    },
  );

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
      const r = await withTenants(opts, (x) => x.disconnect(tenantId, CLI_CONTEXT));
      print(opts.json, r, () => `disconnected tenant ${r.tenantId}`);
    },
  );

  addDataOptions(
    entra
      .command('urls')
      .description("what to paste into Entra ID's Mobility (MDM and MAM) settings, and the steps")
      .addOption(new Option('--public-host <host>', 'public host devices reach (env WINROLL_PUBLIC_HOST)'))
      .addOption(new Option('--port <port>', 'public port (env WINROLL_PORT)')),
  ).action(async (opts: DataFlags & { publicHost?: string; port?: string }) => {
    const cfg = loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, publicHost: opts.publicHost, port: opts.port });
    const base = `https://${cfg.publicHost}${cfg.port === 443 ? '' : `:${cfg.port}`}`;
    const m = await withStorage(opts, async (storage) =>
      mobilitySettings((await storage.getTenantSettings()).urls, base, await storage.listEntraTenants()),
    );
    print(opts.json, m, () =>
      [
        'MDM application',
        `  MDM discovery URL      ${m.mdm.discoveryUrl}`,
        `  MDM terms of use URL   ${m.mdm.termsOfUseUrl}`,
        `  MDM compliance URL     ${m.mdm.complianceUrl}`,
        'MAM application',
        `  MAM discovery URL      ${m.mam.enrollmentUrl}`,
        `  MAM terms of use URL   ${m.mam.termsOfUseUrl}`,
        `  MAM compliance URL     ${m.mam.complianceUrl}`,
        `Application ID URI       ${m.applicationIdUri}`,
        `Connected tenants        ${m.tenants.map((t) => t.tenantId).join(', ') || 'none yet'}`,
        '',
        'Steps',
        ...m.steps.map((step, i) => `  ${i + 1}. ${step}`),
      ].join('\n'),
    );
  });

  registerEntraSyncCommands(entra);
}
