/**
 * Check-in sessions with an empty queue over kept-alive mTLS: simulated PCs, enrolled beforehand, each
 * holding one TLS connection with its device certificate (what WinHTTP keeps between check-ins), send a
 * pre-encoded package 1 (Alert 1201, LoginStatus, DevInfo Replace, Final) and get back statuses only,
 * which ends the session. The client side is kept as lean as it can be: the whole HTTP request (headers
 * and SyncML) is encoded once per device before timing and written in one call, and the reply is framed
 * by Content-Length and compared byte for byte with the reply captured before timing, so any command in a
 * reply (a non-empty queue) or any other difference fails the run instead of being counted.
 */
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { clientPackage1, decodeServerMessage, encodeClientMessage } from '../src/protocol/syncml/client.js';
import { newSimulatedDevice, type SimulatedDevice } from '../src/simulator/device.js';
import { enroll } from '../src/simulator/enroll.js';
import { createAgent } from '../src/simulator/https-client.js';
import { DeviceSideState, checkIn } from '../src/simulator/manage.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Account, DeviceKey } from './load.js';
import { machineBusySeconds, type ServerProcess, startBareHttpsProcess } from './server-process.js';

export interface EnrolledPc {
  device: SimulatedDevice;
  managementUrl: URL;
  certPem: string;
  keyPem: string;
  /** Package 1 of an empty check-in, SyncML bytes. */
  package1: Buffer;
}

/**
 * Enrolls one PC per key (a few at a time) and runs one whole session each with the simulator, so that
 * first contact (inventory Gets) is behind them. Returns them with their package 1 encoded.
 */
export async function enrollPcs(opts: {
  server: string;
  tlsRoot: string;
  account: Account;
  keys: readonly DeviceKey[];
  parallel?: number;
}): Promise<{ pcs: EnrolledPc[]; firstSessionMessages: number; firstSessionCommands: number }> {
  const web = createAgent({ ca: opts.tlsRoot, keepAlive: true, maxSockets: 8, lookupAddress: '127.0.0.1' });
  const pcs: EnrolledPc[] = [];
  let firstSessionMessages = 0;
  let firstSessionCommands = 0;
  try {
    const one = async (key: DeviceKey) => {
      const device = newSimulatedDevice({ privateKey: key.privateKey, publicKey: key.publicKey });
      const outcome = await enroll({
        server: opts.server,
        upn: opts.account.upn,
        password: opts.account.password,
        device,
        agent: web,
        enrollmentType: 'Device',
      });
      const certPem = outcome.certificate.toString();
      const keyPem = device.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      const agent = createAgent({
        ca: opts.tlsRoot,
        cert: certPem,
        key: keyPem,
        keepAlive: true,
        maxSockets: 1,
        lookupAddress: '127.0.0.1',
      });
      try {
        const first = await checkIn({ managementUrl: outcome.managementUrl, state: new DeviceSideState(device), agent, sessionId: '1' });
        if (first.headerStatus !== 200) throw new Error(`first check-in of ${device.deviceId} was refused (SyncHdr ${first.headerStatus})`);
        firstSessionMessages += first.messages;
        firstSessionCommands += first.commandsReceived;
      } finally {
        agent.destroy();
      }
      const package1 = Buffer.from(
        encodeClientMessage(
          clientPackage1({
            sessionId: '2',
            serverUrl: outcome.managementUrl,
            deviceId: device.deviceId,
            loginStatus: 'user',
            trigger: 'client',
            devInfo: { devId: device.deviceId, man: 'Contoso Hardware', mod: 'Surface Simulator 9', dmV: '1.3', lang: 'en-US' },
          }),
        ),
        'utf8',
      );
      pcs.push({ device, managementUrl: new URL(outcome.managementUrl), certPem, keyPem, package1 });
    };
    const parallel = opts.parallel ?? 8;
    for (let i = 0; i < opts.keys.length; i += parallel) await Promise.all(opts.keys.slice(i, i + parallel).map(one));
  } finally {
    web.destroy();
  }
  return { pcs, firstSessionMessages, firstSessionCommands };
}

/** The whole HTTP/1.1 request of one package 1, as the simulator's client sends it (same headers). */
export function httpRequestBytes(url: URL, port: number, body: Buffer): Buffer {
  const head =
    `POST ${url.pathname}?mode=Maintenance&Platform=WoA HTTP/1.1\r\n` +
    `Host: ${url.hostname}:${port}\r\n` +
    'Content-Type: application/vnd.syncml.dm+xml\r\n' +
    'User-Agent: MSFT OMA DM Client/1.2.0.1\r\n' +
    'Accept: application/vnd.syncml.dm+xml\r\n' +
    `Content-Length: ${body.length}\r\n` +
    'Connection: keep-alive\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');

/**
 * One kept-alive mTLS connection of one device: one request at a time, replies framed by Content-Length
 * (chunked replies are refused, as Windows refuses them). A connection the server closed while idle is
 * reopened on the next request and counted.
 */
export class DeviceConnection {
  readonly #options: tls.ConnectionOptions;
  #socket: tls.TLSSocket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (r: { status: number; body: Buffer }) => void; reject: (e: Error) => void } | undefined;
  reconnects = -1;

  constructor(opts: { port: number; servername: string; ca: string; cert: string; key: string }) {
    this.#options = { host: '127.0.0.1', port: opts.port, servername: opts.servername, ca: opts.ca, cert: opts.cert, key: opts.key };
  }

  #connect(): Promise<tls.TLSSocket> {
    this.reconnects++;
    return new Promise((resolve, reject) => {
      const socket = tls.connect(this.#options, () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        socket.on('error', (err) => this.#fail(err));
        socket.on('close', () => {
          if (this.#socket === socket) this.#socket = undefined;
          this.#fail(new Error('the server closed the connection mid-request'));
        });
        socket.on('data', (chunk: Buffer) => this.#data(chunk));
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  async send(request: Buffer): Promise<{ status: number; body: Buffer }> {
    if (this.#waiting) throw new Error('one request at a time per device connection');
    this.#socket ??= await this.#connect();
    const socket = this.#socket;
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      socket.write(request);
    });
  }

  #data(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.#buffer.toString('latin1', 0, end);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.#fail(
        new Error(/\r\ntransfer-encoding:/i.test(head) ? 'the server answered chunked' : 'the server answered without Content-Length'),
      );
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.#buffer.length < total) return;
    if (this.#buffer.length > total) {
      this.#fail(new Error('the server sent bytes after the reply'));
      return;
    }
    const status = Number(head.slice(9, 12));
    const body = this.#buffer.subarray(end + 4, total);
    this.#buffer = Buffer.alloc(0);
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.resolve({ status, body });
  }

  #fail(err: Error): void {
    const w = this.#waiting;
    this.#waiting = undefined;
    this.#buffer = Buffer.alloc(0);
    if (w) {
      this.#socket?.destroy();
      this.#socket = undefined;
      w.reject(err);
    }
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

export interface SessionTarget {
  connection: DeviceConnection;
  request: Buffer;
  /** The reply every session of this device must get, byte for byte. */
  expected: Buffer;
  deviceId: string;
}

export interface SessionRunResult {
  completed: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  clientCpuSeconds: number;
}

/**
 * Whole sessions at a fixed concurrency for `durationMs`: worker w runs the devices w, w + concurrency, ...
 * in turn, so a device never has two sessions at once and each device keeps its own connection.
 */
export async function runSessions(targets: readonly SessionTarget[], concurrency: number, durationMs: number): Promise<SessionRunResult> {
  if (targets.length < concurrency) throw new RangeError('need at least one device per concurrent session');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const latencies: number[] = [];
  const worker = async (w: number) => {
    const mine = targets.filter((_, i) => i % concurrency === w);
    for (let k = 0; ; k++) {
      const begin = performance.now();
      if (begin >= deadline) return;
      const t = mine[k % mine.length] as SessionTarget;
      const res = await t.connection.send(t.request);
      if (res.status !== 200 || !res.body.equals(t.expected))
        throw new Error(`unexpected reply to ${t.deviceId}: HTTP ${res.status}, ${describeReply(res.body)}`);
      latencies.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    completed: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

/** Checks that a reply ends the session cleanly: SyncHdr 200, statuses only. */
export function assertEmptySessionReply(body: Buffer, deviceId: string): void {
  const msg = decodeServerMessage(body);
  const hdr = msg.statuses.find((s) => s.cmdRef === '0');
  if (hdr?.data !== 200) throw new Error(`empty check-in of ${deviceId}: SyncHdr status ${hdr?.data ?? 'missing'}`);
  if (msg.commands.length > 0)
    throw new Error(`empty check-in of ${deviceId}: the server sent ${msg.commands.length} commands (the queue is not empty)`);
  if (!msg.final) throw new Error(`empty check-in of ${deviceId}: no Final`);
}

function describeReply(body: Buffer): string {
  try {
    const msg = decodeServerMessage(body);
    return `${msg.statuses.length} statuses, ${msg.commands.length} commands (${msg.commands.map((c) => c.kind).join(', ')})`;
  } catch {
    return `${body.length} bytes: ${body.toString('utf8', 0, 200)}`;
  }
}

export interface MeasuredSessions extends SessionRunResult {
  /** Server CPU seconds per session (all its threads), when /proc can tell. */
  serverCpuPerSession: number | undefined;
  /** Cores' worth of CPU other processes on the machine used meanwhile (PostgreSQL included). */
  otherCores: number | undefined;
}

async function measured(
  server: ServerProcess,
  targets: readonly SessionTarget[],
  concurrency: number,
  durationMs: number,
): Promise<MeasuredSessions> {
  const cpu0 = server.cpuSeconds();
  const machine0 = machineBusySeconds();
  const r = await runSessions(targets, concurrency, durationMs);
  const cpu1 = server.cpuSeconds();
  const machine1 = machineBusySeconds();
  const serverCpu = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  const otherCores =
    machine0 === undefined || machine1 === undefined || serverCpu === undefined
      ? undefined
      : Math.max(0, (machine1 - machine0 - serverCpu - r.clientCpuSeconds) / r.seconds);
  return { ...r, serverCpuPerSession: serverCpu === undefined ? undefined : serverCpu / r.completed, otherCores };
}

export interface CheckinBenchOptions {
  /** The Winroll server child under test, already running, and its web URL (for enrolling). */
  server: ServerProcess;
  serverUrl: string;
  /** Its data folder: tls/server.{key,pem} and ca/root-ca.pem are what the bare server uses too. */
  dataDir: string;
  tlsRoot: string;
  account: Account;
  keys: readonly DeviceKey[];
  concurrency: number;
  durationMs: number;
  baselineMs: number;
  warmMs: number;
  /** Where the captured reply is written for the bare server. */
  scratchDir: string;
  say: (line: string) => void;
}

export interface CheckinBenchResult {
  devices: number;
  concurrency: number;
  replyBytes: number;
  requestBytes: number;
  winroll: MeasuredSessions;
  bare: MeasuredSessions;
}

/**
 * Enrolls the PCs, captures one empty-session reply per device, times Winroll, then times the bare HTTPS
 * server replaying the captured reply with the same client code, devices and concurrency.
 */
export async function benchCheckins(o: CheckinBenchOptions): Promise<CheckinBenchResult> {
  const { pcs, firstSessionMessages, firstSessionCommands } = await enrollPcs({
    server: o.serverUrl,
    tlsRoot: o.tlsRoot,
    account: o.account,
    keys: o.keys,
  });
  o.say(
    `    ${pcs.length} PCs enrolled; first sessions (inventory on first contact): ${firstSessionMessages} messages, ${firstSessionCommands} commands answered`,
  );
  const connect = (pc: EnrolledPc, port: number) =>
    new DeviceConnection({ port, servername: pc.managementUrl.hostname, ca: o.tlsRoot, cert: pc.certPem, key: pc.keyPem });

  // Winroll: capture each device's empty-session reply (and check it is one), then check it is stable.
  const winroll: SessionTarget[] = [];
  try {
    for (const pc of pcs) {
      const connection = connect(pc, o.server.managementPort);
      const request = httpRequestBytes(pc.managementUrl, o.server.managementPort, pc.package1);
      const first = await connection.send(request);
      if (first.status !== 200) throw new Error(`empty check-in of ${pc.device.deviceId}: HTTP ${first.status}`);
      assertEmptySessionReply(first.body, pc.device.deviceId);
      winroll.push({ connection, request, expected: Buffer.from(first.body), deviceId: pc.device.deviceId });
    }
    const sample = winroll[0] as SessionTarget;
    if (o.warmMs > 0) await runSessions(winroll, o.concurrency, o.warmMs);
    const result = await measured(o.server, winroll, o.concurrency, o.durationMs);
    const reconnects = winroll.reduce((n, t) => n + t.connection.reconnects, 0);
    if (reconnects > 0) o.say(`    note: ${reconnects} connections to Winroll had to be reopened`);

    // The bare server replays the first device's reply to everyone.
    const bodyFile = path.join(o.scratchDir, `empty-session-reply-${o.server.pid}.xml`);
    writeFileSync(bodyFile, sample.expected);
    const bare = await startBareHttpsProcess({
      keyFile: path.join(o.dataDir, 'tls', 'server.key'),
      certFile: path.join(o.dataDir, 'tls', 'server.pem'),
      clientCaFile: path.join(o.dataDir, 'ca', 'root-ca.pem'),
      bodyFile,
      contentType: 'application/vnd.syncml.dm+xml',
    });
    const bareTargets: SessionTarget[] = [];
    try {
      for (const pc of pcs) {
        bareTargets.push({
          connection: connect(pc, bare.port),
          request: httpRequestBytes(pc.managementUrl, bare.port, pc.package1),
          expected: sample.expected,
          deviceId: pc.device.deviceId,
        });
      }
      await runSessions(bareTargets, o.concurrency, Math.max(o.warmMs, 300));
      const baseline = await measured(bare, bareTargets, o.concurrency, o.baselineMs);
      return {
        devices: pcs.length,
        concurrency: o.concurrency,
        replyBytes: sample.expected.length,
        requestBytes: sample.request.length,
        winroll: result,
        bare: baseline,
      };
    } finally {
      for (const t of bareTargets) t.connection.close();
      await bare.stop();
    }
  } finally {
    for (const t of winroll) t.connection.close();
  }
}
