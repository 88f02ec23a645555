/** `winroll simulate`: enroll simulated Windows PCs against a running server, over real HTTPS. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { loadConfig } from '../config/config.js';
import { newSimulatedDevice } from '../simulator/device.js';
import { EnrollmentFailed, enroll } from '../simulator/enroll.js';
import { createAgent } from '../simulator/https-client.js';
import { DeviceSideState, checkIn } from '../simulator/manage.js';
import { CliError, print, table } from './main.js';

interface SimulateFlags {
  server?: string;
  upn: string;
  password: string;
  enrollmentType: string;
  devices: string;
  concurrency: string;
  trust?: string;
  dataDir?: string;
  connectTo?: string;
  requestVersion: string;
  checkin?: boolean;
  sessions: string;
  json?: boolean;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('enroll simulated Windows PCs (discovery, sign-in, policy, CSR, enrollment) and verify what they receive')
    .requiredOption('--upn <upn>', 'work account to enroll with, e.g. alice@contoso.com')
    .requiredOption('--password <password>', 'its password')
    .addOption(new Option('--server <url>', 'https://host:port or the discovery URL (default https://enterpriseenrollment.<upn domain>)'))
    .addOption(new Option('--enrollment-type <type>', 'full (user, cert in My/User) or device (cert in My/System)').default('full'))
    .addOption(new Option('--devices <n>', 'how many PCs to enroll').default('1'))
    .addOption(new Option('--concurrency <n>', 'enrollments in flight at once').default('4'))
    .addOption(new Option('--trust <pem>', 'TLS root to trust (default <data-dir>/tls/root-ca.pem when present)'))
    .addOption(new Option('--data-dir <dir>', 'data folder whose TLS root to trust (env WINROLL_DATA_DIR)'))
    .addOption(new Option('--connect-to <address>', 'connect to this address whatever host name is used (like curl --resolve)'))
    .addOption(new Option('--request-version <v>', 'Discover RequestVersion').default('4.0'))
    .addOption(new Option('--checkin', 'after enrolling, run management sessions over mTLS like Windows (answers every command)'))
    .addOption(new Option('--sessions <n>', 'with --checkin: sessions per device').default('1'))
    .addOption(new Option('--json', 'print JSON for scripts'))
    .action(async (opts: SimulateFlags) => {
      const type = opts.enrollmentType.toLowerCase();
      if (type !== 'full' && type !== 'device')
        throw new CliError(`--enrollment-type must be full or device, not "${opts.enrollmentType}"`);
      const count = positiveInt(opts.devices, '--devices');
      const concurrency = positiveInt(opts.concurrency, '--concurrency');
      const sessions = positiveInt(opts.sessions, '--sessions');
      const domain = opts.upn.includes('@') ? opts.upn.slice(opts.upn.lastIndexOf('@') + 1) : '';
      const server = opts.server ?? (domain ? `https://enterpriseenrollment.${domain}` : '');
      if (!server) throw new CliError('--upn must be an address like alice@contoso.com');
      const ca = readTrust(opts);
      const agent = createAgent({ ca, maxSockets: concurrency, ...(opts.connectTo ? { lookupAddress: opts.connectTo } : {}) });

      const results: Array<Record<string, unknown>> = [];
      let next = 0;
      let failures = 0;
      const worker = async () => {
        while (next < count) {
          next++;
          const device = newSimulatedDevice();
          try {
            const r = await enroll({
              server,
              upn: opts.upn,
              password: opts.password,
              enrollmentType: type === 'device' ? 'Device' : 'Full',
              device,
              agent,
              requestVersion: opts.requestVersion,
            });
            const managed: Record<string, unknown> = {};
            if (opts.checkin) {
              const mtls = createAgent({
                ca,
                cert: r.certificate.toString(),
                key: device.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
                ...(opts.connectTo ? { lookupAddress: opts.connectTo } : {}),
              });
              const state = new DeviceSideState(device);
              let commands = 0;
              try {
                for (let s = 1; s <= sessions; s++) {
                  const res = await checkIn({ managementUrl: r.managementUrl, state, agent: mtls, sessionId: String(s) });
                  if (res.headerStatus !== 200)
                    throw new EnrollmentFailed('provisioning', `management session refused with SyncML status ${res.headerStatus}`);
                  commands += res.commandsReceived;
                }
              } finally {
                mtls.destroy();
              }
              Object.assign(managed, { sessions, commandsReceived: commands });
            }
            results.push({
              ok: true,
              deviceId: device.deviceId,
              authPolicy: r.authPolicy,
              store: `My/${r.store}`,
              thumbprint: r.provisioning.myCerts[0]?.thumbprint,
              managementUrl: r.managementUrl,
              ...managed,
            });
          } catch (err) {
            failures++;
            if (!(err instanceof EnrollmentFailed)) throw err;
            results.push({ ok: false, deviceId: device.deviceId, step: err.step, error: err.message, traceId: err.traceId });
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
      } finally {
        agent.destroy();
      }
      print(opts.json, results, () =>
        table(
          ['DEVICE ID', 'RESULT', 'DETAIL'],
          results.map((r) => [
            String(r.deviceId),
            r.ok ? (r.sessions ? 'managed' : 'enrolled') : 'failed',
            r.ok
              ? `${r.authPolicy}, cert ${r.thumbprint} in ${r.store}${r.sessions ? `, ${r.sessions} session(s), ${r.commandsReceived} command(s) answered` : `, manage at ${r.managementUrl}`}`
              : String(r.error),
          ]),
        ),
      );
      if (failures > 0) {
        const first = results.find((r) => !r.ok);
        throw new CliError(`${failures} of ${count} enrollments failed; first: ${String(first?.error)}`);
      }
    });
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new CliError(`${name} must be a whole number from 1 to 1000000`);
  return n;
}

function readTrust(opts: SimulateFlags): string | undefined {
  const file = opts.trust ?? path.join(loadConfig({ dataDir: opts.dataDir }).dataDir, 'tls', 'root-ca.pem');
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (opts.trust) throw new CliError(`cannot read --trust ${opts.trust}: ${(err as Error).message}`);
    return undefined; // fall back to the system's trusted roots (a server with a public certificate)
  }
}
