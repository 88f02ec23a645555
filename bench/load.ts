/**
 * Simulated PCs enrolling at a fixed concurrency with the real simulator (probe, Discover, sign-in when
 * federated, GetPolicies, CSR, RequestSecurityToken, provisioning checks) over keep-alive HTTPS.
 */
import { type KeyObject, randomUUID } from 'node:crypto';
import type https from 'node:https';
import { performance } from 'node:perf_hooks';
import { buildWindowsCsr } from '../src/pki/windows-csr.js';
import { newSimulatedDevice, type SimulatedDevice } from '../src/simulator/device.js';
import { EnrollmentFailed, enroll } from '../src/simulator/enroll.js';

export interface DeviceKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface PreparedDevice {
  device: SimulatedDevice;
  csrDer: Buffer;
}

/**
 * Simulated PCs made before timing: each a new DeviceID, HWDevID and name, with its CSR already signed
 * (the PC's work, like its key). Keys come round-robin from a pre-generated pool. When a run outlasts
 * the pool, devices are made on the fly and counted, so the report can say so.
 */
export class DevicePool {
  readonly #keys: readonly DeviceKey[];
  readonly #ready: PreparedDevice[] = [];
  #next = 0;
  #keyIndex = 0;
  madeDuringRuns = 0;

  constructor(keys: readonly DeviceKey[]) {
    if (keys.length === 0) throw new RangeError('the device pool needs at least one key');
    this.#keys = keys;
  }

  /** Make sure at least `n` unused devices are ready. */
  prepare(n: number): void {
    while (this.#ready.length - this.#next < n) this.#ready.push(this.#make());
  }

  take(): PreparedDevice {
    const d = this.#ready[this.#next];
    if (d !== undefined) {
      this.#ready[this.#next++] = undefined as unknown as PreparedDevice; // let it be collected
      return d;
    }
    this.madeDuringRuns++;
    return this.#make();
  }

  #make(): PreparedDevice {
    const key = this.#keys[this.#keyIndex++ % this.#keys.length] as DeviceKey;
    const device = newSimulatedDevice({ privateKey: key.privateKey, publicKey: key.publicKey });
    const csrDer = buildWindowsCsr({
      privateKey: device.privateKey,
      publicKey: device.publicKey,
      deviceId: device.deviceId,
      requestGuid: randomUUID(),
    });
    return { device, csrDer };
  }
}

export interface Account {
  upn: string;
  password: string;
}

export interface LoadOptions {
  server: string;
  agent: https.Agent;
  concurrency: number;
  devices: DevicePool;
  /** Who enrolls device number i. */
  account: (i: number) => Account;
  /** Stop starting enrollments after this long (ms)... */
  durationMs?: number;
  /** ...or after this many. Whichever comes first; at least one must be given. */
  count?: number;
}

export interface LoadResult {
  completed: number;
  seconds: number;
  perSecond: number;
  /** Client-side latency of whole enrollments, ms. */
  p50Ms: number;
  p99Ms: number;
  /** CPU seconds this (the client) process spent meanwhile. */
  clientCpuSeconds: number;
  authPolicies: Set<string>;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (opts.durationMs === undefined && opts.count === undefined) throw new RangeError('give durationMs or count');
  const count = opts.count ?? Number.POSITIVE_INFINITY;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = opts.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + opts.durationMs;
  const latencies: number[] = [];
  const authPolicies = new Set<string>();
  let started = 0;

  const worker = async () => {
    while (started < count && performance.now() < deadline) {
      const i = started++;
      const { device, csrDer } = opts.devices.take();
      const { upn, password } = opts.account(i);
      const begin = performance.now();
      try {
        // Device-context (bulk-style) enrollments: one account enrolls thousands of PCs, which the per-user
        // device limit (user enrollments only) would refuse after a few.
        const outcome = await enroll({ server: opts.server, upn, password, device, csrDer, agent: opts.agent, enrollmentType: 'Device' });
        authPolicies.add(outcome.authPolicy);
      } catch (err) {
        if (err instanceof EnrollmentFailed) {
          throw new Error(
            `enrollment of ${device.deviceId} as ${upn} failed at ${err.step}: ${err.message}${err.traceId ? ` (trace ${err.traceId})` : ''}`,
            { cause: err },
          );
        }
        throw err;
      }
      latencies.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));

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
    authPolicies,
  };
}
