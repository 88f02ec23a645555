/**
 * The server under test, run as its own process (`node bin/winroll.js serve`) so that it has one core
 * and the simulated PCs, in the bench process, have the other; likewise the bare HTTPS baseline server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: dist/bench/server-process.js is two folders below it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServerProcess {
  pid: number;
  port: number;
  /** The management listener's port (Winroll servers; the bare HTTPS server has only `port`). */
  managementPort: number;
  /** User + system CPU seconds the server process has used so far (Linux /proc), or undefined. */
  cpuSeconds(): number | undefined;
  /** The last lines the server wrote (warnings and errors at --log-level warn), for failure reports. */
  recentOutput(): string[];
  stop(): Promise<void>;
}

export interface StartServerOptions {
  dataDir: string;
  /** Write a V8 CPU profile of the server to this folder (node --cpu-prof). */
  cpuProfDir?: string | undefined;
  /** `--database-url` (default: SQLite in the data folder). */
  databaseUrl?: string | undefined;
  /** More `winroll serve` flags, e.g. `['--ca-key-bits', '2048']`. */
  extraArgs?: string[];
  startTimeoutMs?: number;
}

export function startServerProcess(opts: StartServerOptions): Promise<ServerProcess> {
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  return startChild(
    [
      ...nodeArgs,
      path.join(REPO_ROOT, 'bin', 'winroll.js'),
      'serve',
      '--data-dir',
      opts.dataDir,
      '--port',
      '0',
      '--management-port',
      '0',
      // Loopback only: the bench never puts traffic on a real network.
      '--listen',
      '127.0.0.1',
      '--public-host',
      'localhost',
      '--log-level',
      'warn',
      ...(opts.databaseUrl ? ['--database-url', opts.databaseUrl] : []),
      ...(opts.extraArgs ?? []),
    ],
    /listening on https:\/\/[^\s:]+:(\d+) \(management on https:\/\/[^\s:]+:(\d+)\)/,
    opts.startTimeoutMs ?? 60_000,
  );
}

export interface BareHttpsOptions {
  /** PEM files: the server key and certificate chain (Winroll's own), and the CA advertised for client certificates. */
  keyFile: string;
  certFile: string;
  clientCaFile: string;
  /** The reply body sent for every POST. */
  bodyFile: string;
  contentType: string;
}

/** The baseline server of the check-in benchmark (bench/bare-https.ts) as its own process. */
export function startBareHttpsProcess(opts: BareHttpsOptions): Promise<ServerProcess> {
  return startChild(
    [path.join(REPO_ROOT, 'dist', 'bench', 'bare-https.js'), JSON.stringify(opts)],
    /bare-https: listening on 127\.0\.0\.1:(\d+)/,
    30_000,
  );
}

function startChild(args: string[], ready: RegExp, timeoutMs: number): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
  const recent: string[] = [];
  const remember = (line: string) => {
    if (line.trim() === '') return;
    recent.push(line);
    if (recent.length > 20) recent.shift();
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`the server did not report its port within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${recent.join('\n')}`));
    };
    let buffered = '';
    // Always drain both pipes: a full pipe would stall the server mid-benchmark.
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        remember(line);
        const m = ready.exec(line);
        if (m && !settled) {
          settled = true;
          clearTimeout(timer);
          const port = Number(m[1]);
          resolve(handle(child, port, m[2] === undefined ? port : Number(m[2]), recent));
        }
        nl = buffered.indexOf('\n');
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) remember(line);
    });
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`the server exited early (code ${code}, signal ${signal})`)));
  });
}

function handle(child: ChildProcess, port: number, managementPort: number, recent: string[]): ServerProcess {
  const pid = child.pid as number;
  // Never leave the server running behind a bench that dies.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  }).finally(() => process.off('exit', killOnExit));
  return {
    pid,
    port,
    managementPort,
    cpuSeconds: () => processCpuSeconds(pid),
    recentOutput: () => [...recent],
    stop: async () => {
      child.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The environment without WINROLL_* settings, so the server uses SQLite in the bench's data folder. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WINROLL_')) env[k] = v;
  return env;
}

/** utime + stime of a process from /proc/<pid>/stat (Linux; USER_HZ is 100 on every mainstream kernel). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after the closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return (utime + stime) / 100;
  } catch {
    return undefined;
  }
}

/** Non-idle CPU seconds of the whole machine so far (Linux /proc/stat), or undefined. */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    if (!line.startsWith('cpu ')) return undefined;
    // user nice system idle iowait irq softirq steal ...
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / 100;
  } catch {
    return undefined;
  }
}
