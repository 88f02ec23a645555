/**
 * Windows Push Notification Services client (protocol.md 7.2): an OAuth client-credentials token from
 * the token endpoint (ms-app://<Package SID> and the app's secret, scope notify.windows.com), then a raw
 * notification POSTed to the device's channel. 401 refreshes the token once; 410 means the channel
 * expired. Endpoints are configurable so the client can be tested against a local stand-in; channel URIs
 * are only contacted on allowed hosts, so a device cannot make the server call arbitrary addresses.
 */
import https from 'node:https';
import type { PushNotifier, PushOutcome } from '../core/management/push.js';

export interface WnsOptions {
  packageSid: string;
  clientSecret: string;
  /** Default https://login.live.com/accesstoken.srf */
  tokenUrl?: string;
  /** Host suffixes a channel URI may point to. Default: `.notify.windows.com`. */
  channelHosts?: string[];
  /** Extra trusted roots (tests' stand-in). */
  ca?: string;
  timeoutMs?: number;
}

export const DEFAULT_WNS_TOKEN_URL = 'https://login.live.com/accesstoken.srf';

interface Reply {
  status: number;
  body: string;
}

export class WnsClient implements PushNotifier {
  readonly #o: Required<Omit<WnsOptions, 'ca'>> & { ca?: string | undefined };
  readonly #agent: https.Agent;
  #token: { value: string; until: number } | undefined;

  constructor(options: WnsOptions) {
    this.#o = {
      tokenUrl: DEFAULT_WNS_TOKEN_URL,
      channelHosts: ['.notify.windows.com'],
      timeoutMs: 10_000,
      ...options,
    };
    this.#agent = new https.Agent({ keepAlive: true, maxSockets: 8, ...(options.ca ? { ca: options.ca } : {}) });
  }

  async wake(channelUri: string): Promise<PushOutcome> {
    let url: URL;
    try {
      url = new URL(channelUri);
    } catch {
      return { ok: false, reason: 'rejected', detail: 'the device reported a malformed channel URI' };
    }
    const host = url.hostname.toLowerCase();
    if (
      url.protocol !== 'https:' ||
      !this.#o.channelHosts.some((h) => host === h.replace(/^\./, '') || host.endsWith(h.startsWith('.') ? h : `.${h}`))
    ) {
      return { ok: false, reason: 'rejected', detail: `channel host ${host} is not an allowed push host` };
    }
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const token = await this.#accessToken(attempt > 0);
        const res = await this.#send(url, 'POST', Buffer.from('winroll:sync'), {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'x-wns-type': 'wns/raw',
          'x-wns-cache-policy': 'cache',
        });
        if (res.status === 200) return { ok: true };
        if (res.status === 401 && attempt === 0) continue; // token expired early: refresh once
        if (res.status === 410 || res.status === 404)
          return { ok: false, reason: 'channel_expired', detail: `WNS answered ${res.status}: the channel is gone` };
        return { ok: false, reason: 'rejected', detail: `WNS answered ${res.status}` };
      }
      return { ok: false, reason: 'rejected', detail: 'WNS refused a fresh token' };
    } catch (err) {
      return { ok: false, reason: 'unreachable', detail: (err as Error).message };
    }
  }

  close(): void {
    this.#agent.destroy();
  }

  async #accessToken(refresh: boolean): Promise<string> {
    if (!refresh && this.#token && this.#token.until > Date.now()) return this.#token.value;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: `ms-app://${this.#o.packageSid}`,
      client_secret: this.#o.clientSecret,
      scope: 'notify.windows.com',
    }).toString();
    const res = await this.#send(new URL(this.#o.tokenUrl), 'POST', Buffer.from(form), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    if (res.status !== 200) throw new Error(`WNS token endpoint answered ${res.status}`);
    const json = JSON.parse(res.body) as { access_token?: unknown; expires_in?: unknown };
    if (typeof json.access_token !== 'string') throw new Error('WNS token endpoint returned no access_token');
    const ttl = typeof json.expires_in === 'number' ? json.expires_in : 3600;
    this.#token = { value: json.access_token, until: Date.now() + Math.max(0, ttl - 60) * 1000 };
    return json.access_token;
  }

  #send(url: URL, method: string, body: Buffer, headers: Record<string, string>): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        { method, agent: this.#agent, headers: { ...headers, 'content-length': String(body.length) }, timeout: this.#o.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks)
                .toString('utf8')
                .slice(0, 64 * 1024),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${url.host} did not answer in time`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
