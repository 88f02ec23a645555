import { type Command, Option } from 'commander';
import { startServer } from '../app/server.js';
import { type ConfigFlags, loadConfig } from '../config/config.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the enrollment server (HTTPS) and the management endpoint (HTTPS with client certificates)')
    .addOption(new Option('--data-dir <dir>', 'data folder (env WINROLL_DATA_DIR, default ./data)'))
    .addOption(
      new Option('--public-host <host>', 'host name devices use to reach this server (env WINROLL_PUBLIC_HOST, default localhost)'),
    )
    .addOption(new Option('--port <port>', 'HTTPS port for discovery, enrollment and pages (env WINROLL_PORT, default 8443)'))
    .addOption(new Option('--management-port <port>', 'HTTPS port for device management (env WINROLL_MANAGEMENT_PORT, default 8444)'))
    .addOption(new Option('--listen <address>', 'address to bind (env WINROLL_LISTEN, default all interfaces)'))
    .addOption(new Option('--database-url <url>', 'postgres://... or sqlite:<file> (env WINROLL_DATABASE_URL)'))
    .addOption(new Option('--tls-cert <file>', 'use this PEM certificate (chain) instead of a self-made one (env WINROLL_TLS_CERT)'))
    .addOption(new Option('--tls-key <file>', 'private key for --tls-cert (env WINROLL_TLS_KEY)'))
    .addOption(
      new Option(
        '--device-cert-validity-days <days>',
        'validity of device certificates (env WINROLL_DEVICE_CERT_VALIDITY_DAYS, default 365)',
      ),
    )
    .addOption(
      new Option('--ca-key-bits <bits>', 'RSA size of CAs Winroll creates: 2048, 3072 or 4096 (env WINROLL_CA_KEY_BITS, default 4096)'),
    )
    .addOption(new Option('--organization-name <name>', 'name Windows shows for the management account (env WINROLL_ORGANIZATION_NAME)'))
    .addOption(new Option('--log-level <level>', 'fatal|error|warn|info|debug (env WINROLL_LOG_LEVEL, default info)'))
    .addOption(
      new Option(
        '--trusted-proxy-cert-header <name>',
        'behind a TLS-terminating proxy: header carrying the device certificate, e.g. client-cert (env WINROLL_TRUSTED_PROXY_CERT_HEADER; off by default)',
      ),
    )
    .addOption(
      new Option(
        '--wns-pfn <pfn>',
        'push: package family name devices register with (env WINROLL_WNS_PFN; secret in WINROLL_WNS_CLIENT_SECRET)',
      ),
    )
    .addOption(new Option('--wns-package-sid <sid>', 'push: Partner Center package SID, S-1-15-2-... (env WINROLL_WNS_PACKAGE_SID)'))
    .addOption(
      new Option(
        '--trusted-proxies <addresses>',
        'comma-separated proxy addresses allowed to send that header (env WINROLL_TRUSTED_PROXIES)',
      ),
    )
    .action(async (opts: ConfigFlags) => {
      const config = loadConfig(opts);
      const server = await startServer(config);
      const host = config.publicHost;
      process.stdout.write(
        `winroll: listening on https://${host}:${server.port} (management on https://${host}:${server.managementPort})\n`,
      );
      if (server.tlsRootCaPem) {
        process.stdout.write(
          `winroll: PCs must trust the TLS root ${config.dataDir}/tls/root-ca.pem (also at https://${host}:${server.port}/tls/root-ca.crt)\n`,
        );
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}
