/**
 * Writes a device's compliance to Microsoft Entra ID through Microsoft Graph, the adapter behind core's
 * DirectoryComplianceWriter: `PATCH {graphUrl}/devices(deviceId='{id}')` (graphUrl as the directory-sync
 * connection stores it, `https://graph.microsoft.com/v1.0` by default) with `isCompliant` and
 * `isManaged` (204 on success). Graph lets only the tenant's approved MDM application set these two
 * properties on Windows devices, so the token must be the MDM app's (client credentials, Device.ReadWrite.All).
 *
 * Requests go through the tenant's `https.Agent` (the one its token provider uses, graphAccess in
 * app/directory-sync.ts) with graph-client's `send`, so a connection's custom CA (`--graph-ca-file`) is
 * trusted here as in the sync; a certificate that is not trusted fails at once, saying so. Transient
 * failures (no answer, 429, 5xx) are retried a few times here, honouring Retry-After up to a cap; a 401 is
 * retried once with a fresh token. The token is never logged or put in a result.
 */
import type https from 'node:https';
import type { DirectoryComplianceWriter, DirectoryWriteResult } from '../core/compliance/ports.js';
import { type Reply, send } from './graph-client.js';

export interface GraphComplianceWriterOptions {
  /**
   * The tenant's Graph URL with its version, e.g. `https://graph.microsoft.com/v1.0` (a loopback stand-in in
   * tests); in the server, the directory-sync connection's `graphUrl` (graphAccess).
   */
  graphUrl: (tenantId: string) => string | Promise<string>;
  /**
   * An app-only access token for Graph in that tenant; in the server, a GraphTokenProvider per tenant
   * (graph-client.ts), which caches and refreshes. Called once per try, so a refreshed token is used after a 401.
   */
  getToken: (tenantId: string) => Promise<string>;
  /** The agent for that tenant's Graph; in the server, its token provider's, which trusts the connection's CA. */
  agent: (tenantId: string) => https.Agent | Promise<https.Agent>;
  /** Tries per write, first included (default 3). */
  attempts?: number;
  /** Wait before the second try, doubled after (default 500 ms). */
  retryDelayMs?: number;
  /** Longest wait a Retry-After may ask for (default 30 s); longer waits become a failure the caller reschedules. */
  maxRetryAfterMs?: number;
  /** Longest silence from Graph per try (default 15 s). */
  timeoutMs?: number;
}

/** Node's codes for a server certificate that does not chain to a trusted root or does not fit the name. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
/** The same causes once the token provider has turned them into text (it keeps only the message). */
const UNTRUSTED_TEXT =
  /self[- ]signed certificate|unable to (get local issuer|get issuer|verify the first) certificate|certificate has expired|certificate is not yet valid|does not match certificate's altnames/i;
const CA_HINT =
  'the certificate is not trusted; if a private CA or a TLS-inspecting proxy signs it, give its root with winroll entra connect --graph-ca-file';

export class GraphComplianceWriter implements DirectoryComplianceWriter {
  readonly #o: Required<GraphComplianceWriterOptions>;

  constructor(opts: GraphComplianceWriterOptions) {
    this.#o = {
      attempts: 3,
      retryDelayMs: 500,
      maxRetryAfterMs: 30_000,
      timeoutMs: 15_000,
      ...opts,
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
    let url: URL;
    let agent: https.Agent;
    try {
      // A tenant without a usable connection fails this device visibly (and is retried), not the whole pass.
      const base = String(await this.#o.graphUrl(input.tenantId)).replace(/\/+$/, '');
      url = new URL(`${base}/devices(deviceId='${input.entraDeviceId.toLowerCase()}')`);
      if (url.protocol !== 'https:') throw new Error(`${url.origin} is not an https URL`);
      agent = await this.#o.agent(input.tenantId);
    } catch (err) {
      return {
        ok: false,
        status: null,
        notFound: false,
        detail: `no usable Graph connection for tenant ${input.tenantId}: ${messageOf(err)}`,
      };
    }
    const body = JSON.stringify({ isCompliant: input.isCompliant, isManaged: input.isManaged });
    let last: DirectoryWriteResult = { ok: false, status: null, notFound: false, detail: 'not attempted' };
    let unauthorizedRetried = false;
    for (let attempt = 1; attempt <= this.#o.attempts; attempt++) {
      let token: string;
      try {
        token = await this.#o.getToken(input.tenantId);
      } catch (err) {
        // No token: nothing to retry here (the provider has its own cause); the caller reschedules.
        const hint = UNTRUSTED_TEXT.test(err instanceof Error ? err.message : String(err)) ? `; ${CA_HINT}` : '';
        return {
          ok: false,
          status: null,
          notFound: false,
          detail: `no Graph token for tenant ${input.tenantId}: ${messageOf(err)}${hint}`,
        };
      }
      let res: Reply;
      try {
        res = await send(
          agent,
          url,
          'PATCH',
          { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
          body,
          this.#o.timeoutMs,
        );
      } catch (err) {
        // A certificate does not become trusted by asking again.
        if (UNTRUSTED.has(String((err as { code?: unknown }).code)))
          return {
            ok: false,
            status: null,
            notFound: false,
            detail: `Graph at ${url.origin} was not reached (${messageOf(err)}); ${CA_HINT}`,
          };
        last = { ok: false, status: null, notFound: false, detail: `Graph did not answer (${messageOf(err)})` };
        if (attempt < this.#o.attempts) await sleep(this.#o.retryDelayMs * 2 ** (attempt - 1));
        continue;
      }
      if (res.status === 204 || res.status === 200) return { ok: true, status: res.status };
      const detail = `Graph answered HTTP ${res.status}${graphError(res.body)}`;
      if (res.status === 404) return { ok: false, status: 404, notFound: true, detail };
      last = { ok: false, status: res.status, notFound: false, detail };
      const retryable = res.status === 429 || res.status >= 500 || (res.status === 401 && !unauthorizedRetried);
      if (res.status === 401) unauthorizedRetried = true;
      if (!retryable || attempt >= this.#o.attempts) return last;
      const wait = retryAfterMs(headerOf(res, 'retry-after')) ?? this.#o.retryDelayMs * 2 ** (attempt - 1);
      if (wait > this.#o.maxRetryAfterMs) return { ...last, detail: `${detail}; Graph asked to wait ${Math.ceil(wait / 1000)} s` };
      await sleep(wait);
    }
    return last;
  }
}

/** Graph's `{"error":{"code","message"}}` from the first 4000 characters, shortened; never the request. */
function graphError(text: string): string {
  try {
    const parsed = JSON.parse(text.slice(0, 4000)) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof parsed.error?.code === 'string' ? parsed.error.code : '';
    const message = typeof parsed.error?.message === 'string' ? parsed.error.message : '';
    const both = [code, message].filter(Boolean).join(': ').slice(0, 300);
    return both ? ` (${both})` : '';
  } catch {
    return '';
  }
}

function headerOf(res: Reply, name: string): string | null {
  const v = res.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? null;
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
