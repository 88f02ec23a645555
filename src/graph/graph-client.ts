/**
 * Microsoft Graph client: the adapter behind core's GraphDirectory port (directory sync), also used to
 * write to Graph (compliance write-back: `patch`). An OAuth 2.0 client-credentials token from the
 * tenant's token endpoint (scope `<graph origin>/.default`), cached until a minute before it expires;
 * 401 from Graph refreshes it once; 429 and 503 are retried after Retry-After (at most 4 times, each wait
 * capped at 60 s). Endpoints are configurable (national clouds, a local stand-in in tests) and paging links
 * are followed only on the Graph URL's origin, so a crafted nextLink cannot send the token elsewhere.
 * The client secret and tokens never appear in errors or logs.
 */
import https from 'node:https';
import { type GraphConnection, type GraphDirectory, GraphError, type GraphObject } from '../core/directory-sync/ports.js';

export interface GraphClientOptions {
  timeoutMs?: number;
  maxRetries?: number;
  /** Longest wait honoured from Retry-After, in ms. */
  maxRetryWaitMs?: number;
  /** Injected in tests to avoid real waits. */
  sleep?: (ms: number) => Promise<void>;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const MAX_PAGES = 10_000;
const MAX_BODY = 32 * 1024 * 1024;

/**
 * One HTTPS request through `agent` (which carries the connection's CA), the answer read whole but at most
 * 32 MiB; `timeoutMs` is the longest silence on the socket. Also compliance write-back's transport.
 */
export function send(
  agent: https.Agent,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method, agent, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new Error('the answer is too large'));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Graph's or the token endpoint's error, in one short line (first line of the description). */
function describeError(body: string): string {
  const j = parseJson(body);
  const e = j?.error;
  if (typeof e === 'string') {
    const d = typeof j?.error_description === 'string' ? j.error_description.split(/\r?\n/)[0]?.slice(0, 200) : undefined;
    return d ? `${e}: ${d}` : e;
  }
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; message?: unknown };
    return [o.code, typeof o.message === 'string' ? o.message.slice(0, 200) : undefined].filter((x) => typeof x === 'string').join(': ');
  }
  return body.trim() === '' ? 'no details' : 'an answer that is not JSON';
}

function retryAfterMs(r: Reply, attempt: number): number {
  const h = r.headers['retry-after'];
  const v = Array.isArray(h) ? h[0] : h;
  const secs = v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
  if (secs !== undefined) return secs * 1000;
  const date = v === undefined ? Number.NaN : Date.parse(v);
  if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  return 1000 * 2 ** attempt;
}

const errMessage = (err: unknown) => (err instanceof Error ? err.message.split('\n')[0] : String(err));

/** Client-credentials access tokens for one app in one tenant, cached until shortly before expiry. */
export class GraphTokenProvider {
  readonly #conn: GraphConnection;
  readonly #agent: https.Agent;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #cached: { value: string; until: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(conn: GraphConnection, agent: https.Agent, opts: { timeoutMs?: number; now?: () => number } = {}) {
    this.#conn = conn;
    this.#agent = agent;
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
    this.#now = opts.now ?? Date.now;
  }

  /** A valid access token; concurrent callers share one request. */
  async token(): Promise<string> {
    if (this.#cached && this.#cached.until > this.#now()) return this.#cached.value;
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets the cached token (Graph answered 401). */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #fetch(): Promise<string> {
    const url = new URL(this.#conn.tokenUrl);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.#conn.clientId,
      client_secret: this.#conn.clientSecret,
      scope: `${new URL(this.#conn.graphUrl).origin}/.default`,
    }).toString();
    let r: Reply;
    try {
      r = await send(
        this.#agent,
        url,
        'POST',
        { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        form,
        this.#timeoutMs,
      );
    } catch (err) {
      throw new GraphError(`cannot reach the token endpoint ${url.origin}${url.pathname}: ${errMessage(err)}`);
    }
    if (r.status === 400 || r.status === 401) {
      throw new GraphError(
        `the token endpoint refused the client credentials of tenant ${this.#conn.tenantId} (${describeError(r.body)}); check the client id and secret`,
        r.status,
      );
    }
    const j = r.status === 200 ? parseJson(r.body) : undefined;
    const token = j?.access_token;
    if (typeof token !== 'string' || token === '')
      throw new GraphError(`the token endpoint answered ${r.status} without an access token (${describeError(r.body)})`, r.status);
    const expiresIn = Number(j?.expires_in ?? 3600);
    this.#cached = { value: token, until: this.#now() + Math.max(0, (Number.isFinite(expiresIn) ? expiresIn : 3600) - 60) * 1000 };
    return token;
  }
}

export class GraphClient implements GraphDirectory {
  readonly #agent: https.Agent;
  readonly #tokens: GraphTokenProvider;
  readonly #base: URL;
  readonly #o: Required<GraphClientOptions>;

  constructor(conn: GraphConnection, opts: GraphClientOptions = {}) {
    this.#base = new URL(conn.graphUrl.replace(/\/+$/, ''));
    this.#agent = new https.Agent({ keepAlive: true, maxSockets: 4, ...(conn.caPem ? { ca: conn.caPem } : {}) });
    this.#o = {
      timeoutMs: 30_000,
      maxRetries: 4,
      maxRetryWaitMs: 60_000,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...opts,
    };
    this.#tokens = new GraphTokenProvider(conn, this.#agent, { timeoutMs: this.#o.timeoutMs });
  }

  get tokens(): GraphTokenProvider {
    return this.#tokens;
  }

  /** `/users/delta?...` (below the Graph URL) or an absolute link on the Graph URL's origin. */
  resolve(pathOrUrl: string): URL {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      const u = new URL(pathOrUrl);
      if (u.origin !== this.#base.origin)
        throw new GraphError(`Graph sent a link to ${u.origin}, outside ${this.#base.origin}; not followed`);
      return u;
    }
    return new URL(`${this.#base.pathname.replace(/\/+$/, '')}/${pathOrUrl.replace(/^\/+/, '')}`, this.#base.origin);
  }

  async get(pathOrUrl: string): Promise<Record<string, unknown>> {
    return this.#call('GET', pathOrUrl, undefined);
  }

  /** PATCH a Graph object (e.g. `/devices/{id}` with `{ isCompliant: true }`). */
  async patch(pathOrUrl: string, body: unknown): Promise<Record<string, unknown>> {
    return this.#call('PATCH', pathOrUrl, JSON.stringify(body));
  }

  async readDelta(start: string): Promise<{ objects: GraphObject[]; deltaLink: string }> {
    const objects: GraphObject[] = [];
    let next: string = start;
    for (let page = 0; page < MAX_PAGES; page++) {
      const j = await this.get(next);
      const value = j.value;
      if (!Array.isArray(value)) throw new GraphError(`Graph answered ${this.resolve(next).pathname} without a value array`);
      for (const o of value)
        if (o && typeof o === 'object' && typeof (o as { id?: unknown }).id === 'string') objects.push(o as GraphObject);
      const nextLink = j['@odata.nextLink'];
      const deltaLink = j['@odata.deltaLink'];
      if (typeof nextLink === 'string') next = nextLink;
      else if (typeof deltaLink === 'string') {
        this.resolve(deltaLink);
        return { objects, deltaLink };
      } else throw new GraphError('Graph ended a delta query without @odata.nextLink or @odata.deltaLink');
    }
    throw new GraphError(`a delta query went past ${MAX_PAGES} pages`);
  }

  close(): void {
    this.#agent.destroy();
  }

  async #call(method: string, pathOrUrl: string, body: string | undefined): Promise<Record<string, unknown>> {
    const url = this.resolve(pathOrUrl);
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.#tokens.token();
      let r: Reply;
      try {
        r = await send(
          this.#agent,
          url,
          method,
          {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body,
          this.#o.timeoutMs,
        );
      } catch (err) {
        if (attempt < this.#o.maxRetries) {
          await this.#o.sleep(Math.min(this.#o.maxRetryWaitMs, 1000 * 2 ** attempt));
          continue;
        }
        throw new GraphError(`cannot reach Graph at ${url.origin}: ${errMessage(err)}`);
      }
      if (r.status === 401 && !refreshed) {
        refreshed = true;
        this.#tokens.invalidate();
        continue;
      }
      if ((r.status === 429 || r.status === 503 || r.status === 504) && attempt < this.#o.maxRetries) {
        await this.#o.sleep(Math.min(this.#o.maxRetryWaitMs, retryAfterMs(r, attempt)));
        continue;
      }
      if (r.status === 204) return {};
      if (r.status < 200 || r.status >= 300)
        throw new GraphError(`Graph answered ${r.status} to ${method} ${url.pathname} (${describeError(r.body)})`, r.status);
      if (r.body.trim() === '') return {};
      const j = parseJson(r.body);
      if (!j) throw new GraphError(`Graph answered ${method} ${url.pathname} with something that is not a JSON object`);
      return j;
    }
  }
}

/** The GraphConnector the composition root hands to core. */
export function connectGraph(conn: GraphConnection): GraphClient {
  return new GraphClient(conn);
}
