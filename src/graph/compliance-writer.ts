/**
 * Writes a device's compliance to Microsoft Entra ID through Microsoft Graph, the adapter behind core's
 * DirectoryComplianceWriter: `PATCH {graphUrl}/devices(deviceId='{id}')` (graphUrl as the directory-sync
 * connection stores it, `https://graph.microsoft.com/v1.0` by default) with `isCompliant` and
 * `isManaged` (204 on success). Graph lets only the tenant's approved MDM application set these two
 * properties on Windows devices, so the token must be the MDM app's (client credentials, Device.ReadWrite.All).
 *
 * Transient failures (no answer, 429, 5xx) are retried a few times here, honouring Retry-After up to a
 * cap; a 401 is retried once with a fresh token. The token is never logged or put in a result.
 */
import type { DirectoryComplianceWriter, DirectoryWriteResult } from '../core/compliance/ports.js';

export interface GraphComplianceWriterOptions {
  /**
   * The tenant's Graph URL with its version, e.g. `https://graph.microsoft.com/v1.0` (a loopback stand-in in
   * tests); in the server, the directory-sync connection's `graphUrl` (EntraSync.connection).
   */
  graphUrl: (tenantId: string) => string | Promise<string>;
  /**
   * An app-only access token for Graph in that tenant; in the server, a GraphTokenProvider per tenant
   * (graph-client.ts), which caches and refreshes. Called once per try, so a refreshed token is used after a 401.
   */
  getToken: (tenantId: string) => Promise<string>;
  /** Tries per write, first included (default 3). */
  attempts?: number;
  /** Wait before the second try, doubled after (default 500 ms). */
  retryDelayMs?: number;
  /** Longest wait a Retry-After may ask for (default 30 s); longer waits become a failure the caller reschedules. */
  maxRetryAfterMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class GraphComplianceWriter implements DirectoryComplianceWriter {
  readonly #o: Required<Omit<GraphComplianceWriterOptions, 'fetch'>> & { fetch: typeof fetch };

  constructor(opts: GraphComplianceWriterOptions) {
    this.#o = {
      attempts: 3,
      retryDelayMs: 500,
      maxRetryAfterMs: 30_000,
      timeoutMs: 15_000,
      ...opts,
      fetch: opts.fetch ?? fetch,
    };
  }

  async writeCompliance(input: {
    tenantId: string;
    entraDeviceId: string;
    isCompliant: boolean;
    isManaged: boolean;
  }): Promise<DirectoryWriteResult> {
    if (!/^[0-9a-f-]{36}$/i.test(input.entraDeviceId))
      return { ok: false, status: null, notFound: false, detail: `"${input.entraDeviceId.slice(0, 64)}" is not an Entra device id` };
    const base = String(await this.#o.graphUrl(input.tenantId)).replace(/\/+$/, '');
    const url = `${base}/devices(deviceId='${input.entraDeviceId.toLowerCase()}')`;
    const body = JSON.stringify({ isCompliant: input.isCompliant, isManaged: input.isManaged });
    let last: DirectoryWriteResult = { ok: false, status: null, notFound: false, detail: 'not attempted' };
    let unauthorizedRetried = false;
    for (let attempt = 1; attempt <= this.#o.attempts; attempt++) {
      let token: string;
      try {
        token = await this.#o.getToken(input.tenantId);
      } catch (err) {
        // No token: nothing to retry here (the provider has its own cause); the caller reschedules.
        return { ok: false, status: null, notFound: false, detail: `no Graph token for tenant ${input.tenantId}: ${messageOf(err)}` };
      }
      let res: Response;
      try {
        res = await this.#o.fetch(url, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
          body,
          signal: AbortSignal.timeout(this.#o.timeoutMs),
        });
      } catch (err) {
        last = { ok: false, status: null, notFound: false, detail: `Graph did not answer (${messageOf(err)})` };
        if (attempt < this.#o.attempts) await sleep(this.#o.retryDelayMs * 2 ** (attempt - 1));
        continue;
      }
      if (res.status === 204 || res.status === 200) {
        await res.body?.cancel().catch(() => {});
        return { ok: true, status: res.status };
      }
      const detail = `Graph answered HTTP ${res.status}${await graphError(res)}`;
      if (res.status === 404) return { ok: false, status: 404, notFound: true, detail };
      last = { ok: false, status: res.status, notFound: false, detail };
      const retryable = res.status === 429 || res.status >= 500 || (res.status === 401 && !unauthorizedRetried);
      if (res.status === 401) unauthorizedRetried = true;
      if (!retryable || attempt >= this.#o.attempts) return last;
      const wait = retryAfterMs(res.headers.get('retry-after')) ?? this.#o.retryDelayMs * 2 ** (attempt - 1);
      if (wait > this.#o.maxRetryAfterMs) return { ...last, detail: `${detail}; Graph asked to wait ${Math.ceil(wait / 1000)} s` };
      await sleep(wait);
    }
    return last;
  }
}

/** Graph's `{"error":{"code","message"}}`, shortened; never the request. */
async function graphError(res: Response): Promise<string> {
  try {
    const text = (await res.text()).slice(0, 4000);
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof parsed.error?.code === 'string' ? parsed.error.code : '';
    const message = typeof parsed.error?.message === 'string' ? parsed.error.message : '';
    const both = [code, message].filter(Boolean).join(': ').slice(0, 300);
    return both ? ` (${both})` : '';
  } catch {
    return '';
  }
}

function retryAfterMs(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
