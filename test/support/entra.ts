/**
 * Entra ID tenants for end-to-end tests: an RS256 signing key with its public JWK, the tenant stored with
 * it, and access tokens as Entra issues them to Windows for the MDM app, signed for real.
 */
import { createHash } from 'node:crypto';
import { type CryptoKey, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { expect } from 'vitest';
import { EnrollmentFailed } from '../../src/simulator/enroll.js';
import { dataFlags, winroll } from './cli.js';
import type { TestServer } from './server.js';

/** A stable directory object id for a UPN (real tokens carry the user's own `oid`). */
export function oidFor(upn: string): string {
  const h = createHash('sha256').update(`oid:${upn.toLowerCase()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface TenantKey {
  kid: string;
  privateKey: CryptoKey;
  /** The public key as the tenant's JWKS lists it. */
  jwk: Record<string, unknown>;
}

export async function newTenantKey(kid = 'k1'): Promise<TenantKey> {
  const pair = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** A JWKS document (what `winroll entra connect --jwks-file` reads). */
export const jwksOf = (...keys: TenantKey[]): string => JSON.stringify({ keys: keys.map((k) => k.jwk) });

/**
 * Connects a tenant straight in the database, its keys stored (as `entra connect --jwks-file` does);
 * it accepts v1 tokens, and v2 tokens too with `{ v2: true }`.
 */
export async function saveTenant(
  t: TestServer,
  tenantId: string,
  clientId: string,
  key: TenantKey,
  o: { v2?: boolean } = {},
): Promise<void> {
  await t.server.storage.saveEntraTenant({
    tenantId,
    clientId,
    issuers: [`https://sts.windows.net/${tenantId}/`, ...(o.v2 ? [`https://login.microsoftonline.com/${tenantId}/v2.0`] : [])],
    jwksJson: jwksOf(key),
    jwksUrl: null,
    now: new Date(),
  });
}

/** Limits the MDM and the MAM user scopes (automatic enrollment) to these groups, by id. */
export async function setUserScopes(t: TestServer, groupIds: { mdm: string[]; mam: string[] }): Promise<void> {
  const s = t.server.storage;
  await s.saveTenantSettings(
    {
      ...(await s.getTenantSettings()),
      mdmScope: { mode: 'some', groupIds: groupIds.mdm },
      mamScope: { mode: 'some', groupIds: groupIds.mam },
    },
    new Date(),
  );
}

export interface MintOptions {
  tid: string;
  /** v1 tokens carry the server's URL, v2 tokens the app's client id. */
  aud: string;
  key: CryptoKey;
  kid?: string | undefined;
  /** Defaults to oidFor(upn). */
  oid?: string | undefined;
  /** A v2 issuer (login.microsoftonline.com/<tid>/v2.0) instead of v1 (sts.windows.net/<tid>/). */
  v2?: boolean | undefined;
  /** Lifetime from now, in seconds (negative: already expired); 3600 by default. */
  expSeconds?: number | undefined;
  /** More claims, or `undefined` values to drop one (e.g. `{ oid: undefined }`). */
  extra?: JWTPayload | undefined;
}

/** An Entra access token for `upn` (tid, upn, oid), issued a minute ago. */
export function mintEntraToken(upn: string, o: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tid: o.tid, upn, oid: o.oid ?? oidFor(upn), ...o.extra })
    .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? 'k1', typ: 'JWT' })
    .setIssuer(o.v2 ? `https://login.microsoftonline.com/${o.tid}/v2.0` : `https://sts.windows.net/${o.tid}/`)
    .setAudience(o.aud)
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (o.expSeconds ?? 3600))
    .sign(o.key);
}

/**
 * `winroll entra connect --tenant-id --client-id <flags> --json` against the server's data; expects
 * success and returns the JSON it printed. `flags` name the keys (--jwks-file, --jwks-url) and any more.
 */
// biome-ignore lint/suspicious/noExplicitAny: the printed tenant is inspected field by field
export async function entraConnect(t: TestServer, tenantId: string, clientId: string, flags: string[]): Promise<any> {
  const r = await winroll(['entra', 'connect', '--tenant-id', tenantId, '--client-id', clientId, ...flags, '--json', ...dataFlags(t)]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** Awaits an enrollment (or registration) that must be refused: the EnrollmentFailed it ended with. */
export async function enrollmentFailure(p: Promise<unknown>): Promise<EnrollmentFailed> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EnrollmentFailed);
  return err as EnrollmentFailed;
}
