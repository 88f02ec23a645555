/**
 * A stand-in for Entra ID's key endpoint on loopback: an OpenID-style JWKS served over HTTP (the server
 * fetches it like login.microsoftonline.com/<tid>/discovery/v2.0/keys), with real RS256 keys that sign
 * real tokens, and key rotation: `rotate()` publishes a new kid and retires the old one, as Entra does.
 * It counts fetches, can stop answering (`hang`) or fail (`status`) to test the server's timeout and faults.
 */
import { createHash } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';

/** A stable directory object id for a UPN (real tokens carry the user's own `oid`). */
export function oidFor(upn: string): string {
  const h = createHash('sha256').update(`oid:${upn.toLowerCase()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: Record<string, unknown>;
}

async function newKey(kid: string): Promise<SigningKey> {
  const pair = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

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
  const keys = new Map<string, SigningKey>();
  let current = await newKey('stand-in-1');
  keys.set(current.kid, current);
  let published: SigningKey[] = [current];
  let rotations = 1;
  const hanging = new Set<import('node:http').ServerResponse>();

  const standIn: EntraStandIn = {
    jwksUrl: '',
    hangingUrl: '',
    fetches: [],
    status: null,
    currentKid: () => current.kid,
    async rotate() {
      const next = await newKey(`stand-in-${++rotations}`);
      keys.set(next.kid, next);
      current = next;
      published = [next];
      return next.kid;
    },
    mint(upn, o) {
      const now = Math.floor(Date.now() / 1000);
      const k = o.kid ? keys.get(o.kid) : current;
      if (!k) throw new Error(`no key ${o.kid}`);
      return new SignJWT({ tid: o.tid, upn, oid: oidFor(upn), scp: 'user_impersonation', ...o.extra })
        .setProtectedHeader({ alg: 'RS256', kid: k.kid, typ: 'JWT' })
        .setIssuer(`https://sts.windows.net/${o.tid}/`)
        .setAudience(o.aud)
        .setIssuedAt(now - 60)
        .setExpirationTime(now + (o.expSeconds ?? 3600))
        .sign(o.key ?? k.privateKey);
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
