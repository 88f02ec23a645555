/**
 * Directory sync from the command line: `winroll entra connect ... --graph-url --client-secret-file`
 * (options added to the connect command), `winroll entra sync [--tenant T] [--status]`, and
 * `winroll scim token create|list|revoke`. Changes go through the audited services (actor `cli`).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type DirectorySync, buildDirectorySync } from '../app/directory-sync.js';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import { CLI_CONTEXT } from '../core/admin/audit.js';
import type { SyncReport, SyncStatus } from '../core/directory-sync/entra-sync.js';
import { scimTokenView } from '../core/directory-sync/scim-service.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print, table } from './main.js';

interface DataFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
}

export interface GraphFlags {
  graphUrl?: string | undefined;
  tokenUrl?: string | undefined;
  clientSecretFile?: string | undefined;
  graphCaFile?: string | undefined;
}

async function withSync<T>(flags: DataFlags, fn: (sync: DirectorySync) => Promise<T>): Promise<T> {
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  const storage = await openConfiguredStorage(config);
  try {
    return await fn(await buildDirectorySync({ storage, clock: systemClock, dataDir: config.dataDir }));
  } finally {
    await storage.close();
  }
}

async function readSmallFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the ${what} ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The Graph options of `entra connect`. */
export function addGraphOptions(cmd: Command): Command {
  return cmd
    .option('--graph-url <url>', 'Microsoft Graph for directory sync (default https://graph.microsoft.com/v1.0)')
    .option('--token-url <url>', 'OAuth token endpoint (default https://login.microsoftonline.com/<tid>/oauth2/v2.0/token)')
    .option('--client-secret-file <file>', "a file holding the app's client secret (stored encrypted, never printed)")
    .option('--graph-ca-file <file>', 'extra trusted root certificates (PEM) for the Graph and token endpoints');
}

/**
 * Reads the Graph option files before anything changes (a missing file must not leave a half-connected
 * tenant); undefined when no Graph option was given.
 */
export async function readGraphFlags(
  opts: GraphFlags,
): Promise<{ graphUrl?: string; tokenUrl?: string; clientSecret?: string; caPem?: string } | undefined> {
  if (opts.graphUrl === undefined && opts.tokenUrl === undefined && opts.clientSecretFile === undefined && opts.graphCaFile === undefined)
    return undefined;
  const secret =
    opts.clientSecretFile === undefined ? undefined : (await readSmallFile(opts.clientSecretFile, 'client secret file')).trim();
  if (secret === '') throw new CliError(`the client secret file ${opts.clientSecretFile} is empty`);
  return {
    ...(opts.graphUrl === undefined ? {} : { graphUrl: opts.graphUrl }),
    ...(opts.tokenUrl === undefined ? {} : { tokenUrl: opts.tokenUrl }),
    ...(secret === undefined ? {} : { clientSecret: secret }),
    ...(opts.graphCaFile === undefined ? {} : { caPem: await readSmallFile(opts.graphCaFile, 'CA file') }),
  };
}

/** Saves the Graph connection of a just-connected tenant. */
export function configureGraph(
  flags: DataFlags,
  tenantId: string,
  graph: NonNullable<Awaited<ReturnType<typeof readGraphFlags>>>,
): Promise<SyncStatus> {
  return withSync(flags, (s) => s.entra.configure(CLI_CONTEXT, { tenantId, ...graph }));
}

const iso = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

function describeCounts(c: Record<string, number>): string {
  return Object.entries(c)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

function reportLine(r: SyncReport): string {
  const lines = [`tenant ${r.tenantId}: ${r.mode} sync ${r.status}; ${describeCounts({ ...r.counts }) || 'no changes'}`];
  for (const w of r.warnings) lines.push(`  skipped: ${w}`);
  return lines.join('\n');
}

/** `winroll entra sync`, under the `entra` command. */
export function registerEntraSyncCommands(entra: Command): void {
  addDataOptions(
    entra
      .command('sync')
      .description('read users and groups from Microsoft Graph now (delta queries: all the first time, then changes)')
      .option('--tenant <guid>', 'one tenant (default: every tenant with a Graph connection)')
      .option('--status', 'show the last run of each tenant instead of syncing'),
  ).action(async (opts: DataFlags & { tenant?: string; status?: boolean }) => {
    if (opts.status) {
      const list = await withSync(opts, (s) => s.entra.status(opts.tenant));
      print(opts.json, list, () =>
        table(
          ['TENANT', 'GRAPH', 'LAST RUN', 'STATUS', 'NEXT', 'DETAIL'],
          list.map((x) => [
            x.tenantId,
            x.graphUrl,
            iso(x.lastRunAt),
            x.lastStatus ?? 'never',
            x.incremental ? 'incremental' : 'full',
            x.lastError ?? (x.lastCounts ? describeCounts(x.lastCounts) : ''),
          ]),
        ),
      );
      return;
    }
    const reports = await withSync(opts, (s) => s.entra.run(CLI_CONTEXT, opts.tenant));
    print(opts.json, reports, () => reports.map(reportLine).join('\n'));
  });
}

export function registerScimCommands(program: Command): void {
  const scim = program.command('scim').description('SCIM 2.0 provisioning at /scim/v2 (Entra, Okta, Keycloak push users and groups)');
  const token = scim.command('token').description('bearer tokens of identity providers');
  addDataOptions(
    token.command('create').description('create a token; it is printed once').option('--name <name>', 'e.g. the IdP', 'scim'),
  ).action(async (opts: DataFlags & { name: string }) => {
    const created = await withSync(opts, (s) => s.scim.createToken(CLI_CONTEXT, opts.name));
    print(opts.json, { token: created.token, ...scimTokenView(created.record) }, () =>
      [
        `created SCIM token ${created.record.id} (${created.record.name}); it is shown only now:`,
        created.token,
        'Give the identity provider the tenant URL https://<public host>/scim/v2 and this token.',
      ].join('\n'),
    );
  });
  addDataOptions(token.command('list').description('tokens, revoked ones included (never the secret)')).action(async (opts: DataFlags) => {
    const list = (await withSync(opts, (s) => s.scim.listTokens())).map(scimTokenView);
    print(opts.json, list, () =>
      table(
        ['ID', 'NAME', 'CREATED BY', 'CREATED', 'LAST USED', 'REVOKED'],
        list.map((t) => [t.id, t.name, t.createdBy, iso(t.createdAt), iso(t.lastUsedAt), iso(t.revokedAt)]),
      ),
    );
  });
  addDataOptions(token.command('revoke').description('stop accepting a token').argument('<id-or-name>')).action(
    async (idOrName: string, opts: DataFlags) => {
      const t = scimTokenView(await withSync(opts, (s) => s.scim.revokeToken(CLI_CONTEXT, idOrName)));
      print(opts.json, t, () => `revoked SCIM token ${t.id} (${t.name})`);
    },
  );
}
