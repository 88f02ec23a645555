/**
 * `winroll oidc add|list|remove`: external OpenID Connect providers (Entra ID, Keycloak, Google, ...)
 * users may sign in with on the federated enrollment page (core/oidc). The client secret is read from a
 * file (never a flag, which would land in shell history and the process list) and sealed with the data
 * folder's MFA master key; it is never printed.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { dataPaths, loadOrCreateSecret } from '../app/data-dir.js';
import { openConfiguredStorage } from '../app/storage.js';
import { type Config, loadConfig } from '../config/config.js';
import { CLI_CONTEXT } from '../core/admin/audit.js';
import { buildEnrollmentUrls } from '../core/enrollment/endpoints.js';
import { OIDC_CALLBACK_PATH, PORTAL_OIDC_CALLBACK_PATH } from '../core/oidc/oidc-sign-in.js';
import { OIDC_CLAIMS } from '../core/oidc/ports.js';
import { type OidcProviderView, OidcProviders } from '../core/oidc/providers.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print, table } from './main.js';

interface DataFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
}

async function withProviders<T>(flags: DataFlags, fn: (providers: OidcProviders, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  // The key the server uses: the CLI must run on the server's data folder.
  const masterKey = await loadOrCreateSecret(dataPaths(config.dataDir).mfaKey);
  const storage = await openConfiguredStorage(config);
  try {
    return await fn(new OidcProviders({ store: storage, masterKey, clock: systemClock }), config);
  } finally {
    await storage.close();
  }
}

/** The redirect URI to register at the provider, from the configured public host and port. */
function redirectUri(config: Config): string {
  return new URL(buildEnrollmentUrls(config.publicHost, config.port, config.managementPort).authentication).origin + OIDC_CALLBACK_PATH;
}

function view(p: OidcProviderView, config: Config) {
  return {
    ...p,
    redirectUri: redirectUri(config),
    // The Company Portal's "Sign in with ..." returns here: same origin, its own path.
    portalRedirectUri: new URL(redirectUri(config)).origin + PORTAL_OIDC_CALLBACK_PATH,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the ${what} ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

export function registerOidcCommands(program: Command): void {
  const oidc = program
    .command('oidc')
    .description('external sign-in (OpenID Connect: Entra ID, Keycloak, Google, ...) on the federated enrollment page');

  addDataOptions(
    oidc
      .command('add')
      .description('offer "Sign in with <name>" on the federated sign-in page')
      .requiredOption('--name <name>', 'shown on the page ("Sign in with <name>")')
      .requiredOption('--issuer <url>', 'issuer URL (its /.well-known/openid-configuration is read when first used)')
      .requiredOption('--client-id <id>', 'client (application) id registered at the provider')
      .requiredOption('--client-secret-file <file>', 'file holding the client secret (stored encrypted, never printed)')
      .option('--scopes <scope...>', 'scopes to request (default: openid email profile)')
      .option('--claim <claim>', `claim that names the Winroll user: ${OIDC_CLAIMS.join(', ')} (default: email)`)
      .option('--domains <d1,d2>', 'UPN suffixes this provider may sign in (default: every domain)')
      .option('--trust-mfa', "accept the provider's MFA (amr contains mfa) instead of Winroll's code step")
      .option('--ca-file <file>', "extra CA certificates (PEM) to trust for this provider's HTTPS"),
  ).action(
    async (
      opts: DataFlags & {
        name: string;
        issuer: string;
        clientId: string;
        clientSecretFile: string;
        scopes?: string[];
        claim?: string;
        domains?: string;
        trustMfa?: boolean;
        caFile?: string;
      },
    ) => {
      const clientSecret = (await readText(opts.clientSecretFile, 'client secret file')).trim();
      if (!clientSecret) throw new CliError(`the client secret file ${opts.clientSecretFile} is empty`);
      const caPem = opts.caFile === undefined ? undefined : await readText(opts.caFile, 'CA file');
      const r = await withProviders(opts, async (x, config) =>
        view(
          await x.add(CLI_CONTEXT, {
            name: opts.name,
            issuer: opts.issuer,
            clientId: opts.clientId,
            clientSecret,
            scopes: opts.scopes,
            claim: opts.claim,
            domains: opts.domains === undefined ? undefined : [opts.domains],
            trustMfa: opts.trustMfa === true,
            caPem,
          }),
          config,
        ),
      );
      print(opts.json, r, () =>
        [
          `added OIDC provider "${r.name}" (${r.issuer}); users are matched on the ${r.claim} claim${r.domains.length ? ` for ${r.domains.join(', ')}` : ''}`,
          `register these redirect URIs at the provider: ${r.redirectUri} (enrollment) and ${r.portalRedirectUri} (Company Portal)`,
        ].join('\n'),
      );
    },
  );

  addDataOptions(oidc.command('list').description('configured providers (never the secret)')).action(async (opts: DataFlags) => {
    const list = await withProviders(opts, async (x, config) => (await x.list()).map((p) => view(p, config)));
    print(opts.json, list, () =>
      table(
        ['NAME', 'ISSUER', 'CLIENT', 'CLAIM', 'DOMAINS', 'MFA'],
        list.map((p) => [p.name, p.issuer, p.clientId, p.claim, p.domains.join(',') || '(all)', p.trustMfa ? 'trusted' : 'winroll']),
      ),
    );
  });

  addDataOptions(oidc.command('remove').description('stop offering a provider').argument('<name>')).action(
    async (name: string, opts: DataFlags) => {
      const r = await withProviders(opts, async (x, config) => view(await x.remove(CLI_CONTEXT, name), config));
      print(opts.json, { removed: r.name, id: r.id }, () => `removed OIDC provider "${r.name}"`);
    },
  );
}
