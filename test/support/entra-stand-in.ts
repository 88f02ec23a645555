/**
 * A stand-in for Entra ID's key endpoint on loopback: an OpenID-style JWKS served over HTTP (the server
 * fetches it like login.microsoftonline.com/<tid>/discovery/v2.0/keys), with real RS256 keys that sign
 * real tokens, and key rotation: `rotate()` publishes a new kid and retires the old one, as Entra does.
 * It counts fetches, can stop answering (`hang`) or fail (`status`) to test the server's timeout and faults.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CryptoKey, JWTPayload } from 'jose';
import { type TenantKey, mintEntraToken, newTenantKey } from './entra.js';

export { oidFor } from './entra.js';

export interface EntraStandIn {
  /** The JWKS URL to connect a tenant with. */
  jwksUrl: string;
  /** A URL on the same server that never answers (the server's fetch must time out). */
  hangingUrl: string;
  /** Fetches of the JWKS so far, with their times. */
  fetches: Date[];
  /** The kid new tokens are signed with. */
  currentKid(): string;
  /** Publishes a new key (signing from now on) and retires the current one from the JWKS. */
  rotate(): Promise<string>;
  /** Answers the JWKS with this HTTP status instead (null: normal). */
  status: number | null;
  /**
   * A token as Entra issues it to Windows for the MDM app: tid, upn, oid, v1 issuer, audience `aud`,
   * signed with the current key unless told otherwise.
   */
  mint(
    upn: string,
    o: {
      tid: string;
      aud: string;
      expSeconds?: number;
      kid?: string;
      key?: CryptoKey;
      extra?: JWTPayload;
    },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startEntraStandIn(): Promise<EntraStandIn> {
  const keys = new Map<string, TenantKey>();
  let current = await newTenantKey('stand-in-1');
  keys.set(current.kid, current);
  let published: TenantKey[] = [current];
  let rotations = 1;
  const hanging = new Set<import('node:http').ServerResponse>();

  const standIn: EntraStandIn = {
    jwksUrl: '',
    hangingUrl: '',
    fetches: [],
    status: null,
    currentKid: () => current.kid,
    async rotate() {
      const next = await newTenantKey(`stand-in-${++rotations}`);
      keys.set(next.kid, next);
      current = next;
      published = [next];
      return next.kid;
    },
    mint(upn, o) {
      const k = o.kid ? keys.get(o.kid) : current;
      if (!k) throw new Error(`no key ${o.kid}`);
      return mintEntraToken(upn, {
        tid: o.tid,
        aud: o.aud,
        kid: k.kid,
        key: o.key ?? k.privateKey,
        expSeconds: o.expSeconds,
        extra: { scp: 'user_impersonation', ...o.extra },
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/hang')) {
      hanging.add(res);
      return;
    }
    if (req.url?.startsWith('/discovery/v2.0/keys')) {
      standIn.fetches.push(new Date());
      if (standIn.status !== null) {
        res.writeHead(standIn.status, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  standIn.jwksUrl = `http://127.0.0.1:${port}/discovery/v2.0/keys`;
  standIn.hangingUrl = `http://127.0.0.1:${port}/hang/keys`;
  return standIn;
}
