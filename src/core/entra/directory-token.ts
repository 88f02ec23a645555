/**
 * Directory tokens (protocol.md §3.3): the Entra ID access token Windows sends as the WS-Security
 * BinarySecurityToken (ValueType urn:ietf:params:oauth:token-type:jwt) when the directory hands a device
 * over (join: EnrollmentType Device; add work account: Full). Verified with the connected tenant's keys:
 * RS256 signature, issuer one of the tenant's, audience our public base URL (v1) or the app's client id
 * (v2), expiry with 5 minutes' clock tolerance; the user (`upn`, else `unique_name`) must be an enabled
 * directory user. The token and its decoded claims are never logged: results carry only the tenant id,
 * the UPN and jose's reason.
 */
import { type JWTPayload, type JWTVerifyGetKey, createLocalJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import type { Clock } from '../../shared/clock.js';
import type { User } from '../ports.js';
import type { EntraStore, EntraTenant } from './ports.js';

export const DIRECTORY_TOKEN_CLOCK_TOLERANCE_S = 300;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whether verification failed because the key set could not be had (network, timeout, a non-200 answer,
 * not a JWKS) rather than because of the token. A kid missing from a fetched set is the token's fault.
 */
function keysUnavailable(err: unknown): boolean {
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return true;
  if (err instanceof errors.JOSEError) return err.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set|HTTP/i.test(err.message);
  // fetch() itself: connection refused, DNS, TLS.
  return err instanceof TypeError || (err instanceof Error && err.name === 'AbortError');
}

export type DirectoryTokenResult =
  | {
      ok: true;
      user: User;
      tenantId: string;
      upn: string;
      /** The user's directory object id (`oid`), lower-case. */
      objectId: string;
      /** The Entra device id (`deviceid` claim) when the token carries one (join and registered devices). */
      entraDeviceId: string | null;
      /**
       * Delegated scopes (`scp`) and app roles (`roles`), recorded for the logs: Microsoft documents no
       * value an MDM must require of an enrollment token, so they never refuse one.
       */
      scopes: string[];
      roles: string[];
    }
  | {
      ok: false;
      /**
       * `keys_unavailable`: the tenant's signing keys could not be fetched (unreachable, timed out, not a
       * JWKS): the server's problem, not the token's.
       */
      reason:
        | 'malformed'
        | 'unknown_tenant'
        | 'invalid'
        | 'expired'
        | 'unknown_user'
        | 'disabled'
        | 'identity_mismatch'
        | 'keys_unavailable';
      /** For logs and the fault detail: never the token or its claims beyond tenant id and UPN. */
      detail: string;
      tenantId?: string | undefined;
      upn?: string | undefined;
    };

export interface DirectoryTokenDeps {
  store: EntraStore;
  users: { findUser(upn: string): Promise<User | undefined> };
  clock: Clock;
  /** Our public base URL (`https://host[:port]`): the `aud` of v1 tokens (the app's resource URI). */
  serverUrl: () => string;
  /**
   * Key sets fetched from a URL (jose createRemoteJWKSet, injected by the composition root: core does no
   * network I/O). Without it, tenants connected with a JWKS URL are refused.
   */
  remoteKeys?: (url: URL) => JWTVerifyGetKey;
}

export class DirectoryTokens {
  readonly #d: DirectoryTokenDeps;
  /** Local key sets by tenant, rebuilt when the stored document changes. */
  readonly #local = new Map<string, { jwks: string; keys: JWTVerifyGetKey }>();
  /** Remote key sets by URL: jose caches the fetched keys (and refetches on an unknown kid). */
  readonly #remote = new Map<string, JWTVerifyGetKey>();

  constructor(deps: DirectoryTokenDeps) {
    this.#d = deps;
  }

  async verify(jwt: string): Promise<DirectoryTokenResult> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(jwt);
    } catch {
      return { ok: false, reason: 'malformed', detail: 'directory token is not a JWT' };
    }
    const tid = typeof unverified.tid === 'string' ? unverified.tid.toLowerCase() : undefined;
    if (!tid) return { ok: false, reason: 'malformed', detail: 'directory token has no tid claim' };
    const tenant = /^[0-9a-f-]{36}$/.test(tid) ? await this.#d.store.getEntraTenant(tid) : undefined;
    if (!tenant) {
      return {
        ok: false,
        reason: 'unknown_tenant',
        detail: `directory tenant ${tid.slice(0, 64)} is not connected`,
        tenantId: tid.slice(0, 64),
      };
    }
    const keys = this.#keysOf(tenant);
    if (!keys) return { ok: false, reason: 'invalid', detail: `no signing keys for tenant ${tid}`, tenantId: tid };

    const base = this.#d.serverUrl().replace(/\/+$/, '');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, keys, {
        algorithms: ['RS256'],
        issuer: tenant.issuers,
        audience: [base, `${base}/`, tenant.clientId],
        clockTolerance: DIRECTORY_TOKEN_CLOCK_TOLERANCE_S,
        currentDate: this.#d.clock.now(),
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      if (keysUnavailable(err)) {
        const why = err instanceof errors.JOSEError ? err.code : err instanceof Error ? err.message.slice(0, 200) : 'unknown error';
        return {
          ok: false,
          reason: 'keys_unavailable',
          detail: `signing keys of tenant ${tid} could not be fetched from ${tenant.jwksUrl ?? 'the stored JWKS'} (${why})`,
          tenantId: tid,
        };
      }
      const expired = err instanceof errors.JWTExpired;
      const why = err instanceof errors.JOSEError ? `${err.code}: ${err.message}` : 'verification failed';
      return {
        ok: false,
        reason: expired ? 'expired' : 'invalid',
        detail: `directory token of tenant ${tid} refused (${why})`,
        tenantId: tid,
      };
    }
    if (typeof payload.tid !== 'string' || payload.tid.toLowerCase() !== tenant.tenantId) {
      return { ok: false, reason: 'invalid', detail: `directory token tid does not match tenant ${tid}`, tenantId: tid };
    }
    const rawUpn =
      typeof payload.upn === 'string' ? payload.upn : typeof payload.unique_name === 'string' ? payload.unique_name : undefined;
    if (!rawUpn)
      return { ok: false, reason: 'unknown_user', detail: `directory token of tenant ${tid} names no user (upn)`, tenantId: tid };
    const upn = rawUpn.slice(0, 256).toLowerCase();
    // Every Entra user token names the user's object; it is what stays when a UPN is renamed or reused.
    const oid = typeof payload.oid === 'string' ? payload.oid.trim().toLowerCase() : '';
    if (!GUID.test(oid)) {
      return { ok: false, reason: 'invalid', detail: `directory token of tenant ${tid} has no valid oid claim`, tenantId: tid, upn };
    }
    const user = await this.#d.users.findUser(upn);
    if (!user) return { ok: false, reason: 'unknown_user', detail: `${upn} is not a directory user`, tenantId: tid, upn };
    if (!user.enabled) return { ok: false, reason: 'disabled', detail: `${upn} is disabled`, tenantId: tid, upn };
    // The first token links the user to its object; a later token for the same UPN from another object
    // (a reused or renamed UPN, another tenant) is someone else.
    const link = await this.#d.store.linkDirectoryObject({ userId: user.id, tenantId: tid, objectId: oid, now: this.#d.clock.now() });
    if (link.result === 'conflict') {
      return {
        ok: false,
        reason: 'identity_mismatch',
        detail:
          link.why === 'user_has_other_object'
            ? `${upn} is linked to directory object ${link.objectId} of tenant ${link.tenantId}, but the token names object ${oid} of tenant ${tid}`
            : `directory object ${oid} of tenant ${tid} is linked to another user than ${upn}`,
        tenantId: tid,
        upn,
      };
    }
    const deviceClaim = typeof payload.deviceid === 'string' ? payload.deviceid.trim().toLowerCase() : '';
    return {
      ok: true,
      user,
      tenantId: tid,
      upn: user.upn,
      objectId: oid,
      entraDeviceId: GUID.test(deviceClaim) ? deviceClaim : null,
      scopes: typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean).slice(0, 32) : [],
      roles: Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string').slice(0, 32) : [],
    };
  }

  #keysOf(tenant: EntraTenant): JWTVerifyGetKey | undefined {
    if (tenant.jwksJson !== null) {
      const cached = this.#local.get(tenant.tenantId);
      if (cached?.jwks === tenant.jwksJson) return cached.keys;
      const keys = createLocalJWKSet(JSON.parse(tenant.jwksJson) as Parameters<typeof createLocalJWKSet>[0]);
      this.#local.set(tenant.tenantId, { jwks: tenant.jwksJson, keys });
      return keys;
    }
    if (tenant.jwksUrl === null || !this.#d.remoteKeys) return undefined;
    let keys = this.#remote.get(tenant.jwksUrl);
    if (!keys) {
      keys = this.#d.remoteKeys(new URL(tenant.jwksUrl));
      this.#remote.set(tenant.jwksUrl, keys);
    }
    return keys;
  }
}
