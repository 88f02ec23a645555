/**
 * A minimal HTTPS client for the simulator, on node:https so it can pin our TLS root, present a client
 * certificate and keep connections alive like Windows' WinHTTP does. It also checks what Windows is
 * strict about: responses must carry Content-Length and must not be chunked.
 */
import https from 'node:https';
import { isIP } from 'node:net';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RequestOptions {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent: https.Agent;
  /** Refuse responses without Content-Length or with chunked encoding, as Windows does. */
  strictFraming?: boolean;
  timeoutMs?: number;
}

export class HttpFramingError extends Error {
  override name = 'HttpFramingError';
}

export function request(opts: RequestOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8');
    const req = https.request(
      opts.url,
      {
        method: opts.method,
        agent: opts.agent,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...opts.headers },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          if (opts.strictFraming) {
            if (res.headers['transfer-encoding'])
              return reject(new HttpFramingError(`${opts.url} answered with Transfer-Encoding: ${res.headers['transfer-encoding']}`));
            if (res.headers['content-length'] === undefined)
              return reject(new HttpFramingError(`${opts.url} answered without Content-Length`));
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${opts.url} did not answer in time`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface AgentOptions {
  ca?: string | undefined;
  keepAlive?: boolean;
  maxSockets?: number;
  cert?: string;
  key?: string;
  /** Connect to this address whatever the URL's host (TLS still checks the host name): curl's --resolve. */
  lookupAddress?: string;
}

export function createAgent(opts: AgentOptions): https.Agent {
  const fixed = opts.lookupAddress;
  return new https.Agent({
    keepAlive: opts.keepAlive ?? true,
    maxSockets: opts.maxSockets ?? 4,
    ...(opts.ca ? { ca: opts.ca } : {}),
    ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
    ...(fixed
      ? {
          lookup: ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
            const family = isIP(fixed) || 4;
            if (options?.all) cb(null, [{ address: fixed, family }]);
            else cb(null, fixed, family);
          }) as unknown as NonNullable<https.AgentOptions['lookup']>,
        }
      : {}),
  });
}
