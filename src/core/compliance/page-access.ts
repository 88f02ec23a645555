/**
 * Who is looking at the compliance page. Windows opens the tenant's compliance URL in a web view with the
 * user's Entra token as `Authorization: Bearer` (checked like the terms-of-use page, with DirectoryTokens);
 * anyone else (a browser, a user who is not in Entra) signs in with the directory password and gets a
 * 30-minute HS256 session (audience `winroll:compliance-page`, enrollment-token secret) kept in a cookie.
 * Failed password sign-ins are throttled like the admin API's (10 per 15 minutes per address and account).
 */
import { randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Clock } from '../../shared/clock.js';
import { LoginThrottle } from '../admin/login-throttle.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { DirectoryTokens } from '../entra/directory-token.js';
import type { User } from '../ports.js';

const ISSUER = 'winroll';
const AUDIENCE = 'winroll:compliance-page';
export const COMPLIANCE_SESSION_TTL_SECONDS = 30 * 60;

export type PageSignIn =
  | { ok: true; user: User; session: string }
  | { ok: false; message: string; retryAfterSeconds?: number; reason: string };

export interface CompliancePageAccessDeps {
  directory: DirectoryService;
  /** Without it bearer tokens are refused (no Entra tenant support configured). */
  directoryTokens?: DirectoryTokens | undefined;
  /** The enrollment-token secret (≥ 32 bytes). */
  secret: Uint8Array;
  clock: Clock;
}

export class CompliancePageAccess {
  readonly #d: CompliancePageAccessDeps;
  readonly #throttle: LoginThrottle;
  #key: Promise<webcrypto.CryptoKey> | undefined;

  constructor(deps: CompliancePageAccessDeps) {
    if (deps.secret.length < 32) throw new Error('compliance page secret must be at least 32 bytes');
    this.#d = deps;
    this.#throttle = new LoginThrottle(deps.clock);
  }

  /** The Entra token Windows sends. The reason is for logs; the page says only that sign-in is needed. */
  async fromBearer(bearer: string): Promise<{ ok: true; user: User } | { ok: false; detail: string }> {
    if (!this.#d.directoryTokens) return { ok: false, detail: 'directory tokens are not configured' };
    const r = await this.#d.directoryTokens.verify(bearer);
    return r.ok ? { ok: true, user: r.user } : { ok: false, detail: r.detail };
  }

  async signIn(username: string, password: string, clientAddress: string): Promise<PageSignIn> {
    const account = `account:${username.trim().toLowerCase().slice(0, 320)}`;
    const keys = [`address:${clientAddress}`, account];
    const wait = this.#throttle.retryAfterSeconds(keys);
    if (wait > 0) {
      return {
        ok: false,
        reason: 'rate_limited',
        retryAfterSeconds: wait,
        message: `Too many unsuccessful sign-ins. Wait ${Math.ceil(wait / 60)} minutes and try again.`,
      };
    }
    const r = await this.#d.directory.signIn(username, password);
    if (!r.ok) {
      this.#throttle.recordFailure(keys);
      return { ok: false, reason: r.reason, message: 'That work account or password is incorrect.' };
    }
    this.#throttle.reset(account);
    return { ok: true, user: r.user, session: await this.#sign(r.user.id) };
  }

  /** The user of a session cookie; undefined when forged, expired, or the user is gone or disabled. */
  async fromSession(session: string): Promise<User | undefined> {
    if (session.length > 2048) return undefined;
    try {
      const { payload } = await jwtVerify(session, await this.#hmacKey(), {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: this.#d.clock.now(),
        requiredClaims: ['exp', 'sub'],
      });
      if (typeof payload.sub !== 'string') return undefined;
      const user = await this.#d.directory.getUserById(payload.sub);
      return user?.enabled ? user : undefined;
    } catch {
      return undefined;
    }
  }

  #hmacKey(): Promise<webcrypto.CryptoKey> {
    this.#key ??= webcrypto.subtle.importKey('raw', this.#d.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    return this.#key;
  }

  async #sign(userId: string): Promise<string> {
    const now = Math.floor(this.#d.clock.now().getTime() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + COMPLIANCE_SESSION_TTL_SECONDS)
      .sign(await this.#hmacKey());
  }
}
