/**
 * The network side of OIDC sign-in (core/oidc's OidcRelyingParty) on openid-client 6: discovery of the
 * provider's metadata when first used (cached per provider for an hour, and dropped when the provider's
 * row changes or discovery fails), the authorization URL, the code grant with PKCE, state and nonce
 * checks, ID token validation, and userinfo when the chosen claim is not in the ID token.
 *
 * HTTPS only. A provider with its own CA certificates (`oidc add --ca-file`) is reached through a small
 * fetch over node:https that trusts the public roots plus those certificates, for that provider only.
 */
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as client from 'openid-client';
import type { OidcConnection, OidcRelyingParty } from '../core/oidc/oidc-sign-in.js';

const METADATA_TTL_MS = 60 * 60_000;
/** Seconds for each request to the provider. */
const TIMEOUT_S = 15;
const MAX_RESPONSE_BYTES = 1024 * 1024;

interface Cached {
  version: string;
  at: number;
  config: Promise<client.Configuration>;
}

export class OpenIdRelyingParty implements OidcRelyingParty {
  readonly #cache = new Map<string, Cached>();
  readonly #now: () => number;

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  async authorizationUrl(p: OidcConnection, params: Record<string, string>): Promise<string> {
    return client.buildAuthorizationUrl(await this.#config(p), params).toString();
  }

  async redeem(
    p: OidcConnection,
    input: { currentUrl: string; state: string; nonce: string; codeVerifier: string; claim: string },
  ): Promise<Record<string, unknown>> {
    const config = await this.#config(p);
    const tokens = await client.authorizationCodeGrant(config, new URL(input.currentUrl), {
      pkceCodeVerifier: input.codeVerifier,
      expectedState: input.state,
      expectedNonce: input.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('the provider returned no ID token');
    const out: Record<string, unknown> = { ...claims };
    // Some providers (and Entra ID for optional claims) put profile claims only in userinfo.
    if (out[input.claim] === undefined && config.serverMetadata().userinfo_endpoint) {
      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      for (const [k, v] of Object.entries(info)) if (out[k] === undefined) out[k] = v;
    }
    return out;
  }

  #config(p: OidcConnection): Promise<client.Configuration> {
    const hit = this.#cache.get(p.id);
    if (hit && hit.version === p.version && this.#now() - hit.at < METADATA_TTL_MS) return hit.config;
    const options: client.DiscoveryRequestOptions = { timeout: TIMEOUT_S };
    if (p.caPem) options[client.customFetch] = fetchTrusting(p.caPem);
    const config = client.discovery(new URL(p.issuer), p.clientId, p.clientSecret, client.ClientSecretBasic(p.clientSecret), options);
    this.#cache.set(p.id, { version: p.version, at: this.#now(), config });
    // A failed discovery is not remembered: the next sign-in tries again.
    config.catch(() => {
      if (this.#cache.get(p.id)?.config === config) this.#cache.delete(p.id);
    });
    return config;
  }
}

/** A fetch for openid-client over node:https trusting the public roots and `caPem`; no redirects followed. */
function fetchTrusting(caPem: string): client.CustomFetch {
  const ca = [...rootCertificates, caPem];
  return (url, options) =>
    new Promise<Response>((resolve, reject) => {
      const headers = new Headers(options.headers);
      const body = bodyBytes(options.body);
      if (body) headers.set('content-length', String(body.length));
      const req = request(url, { method: options.method, headers: Object.fromEntries(headers), ca, signal: options.signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) res.destroy(new Error('the provider answered with more than 1 MB'));
          else chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const x of v) h.append(k, x);
            else if (v !== undefined) h.set(k, v);
          }
          const status = res.statusCode ?? 502;
          const nullBody = status === 204 || status === 304;
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: h }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
}

function bodyBytes(body: client.CustomFetchOptions['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  throw new Error('streamed request bodies are not used with OIDC providers');
}
