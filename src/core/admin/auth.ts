/**
 * How admins prove who they are: a directory password (scrypt, DirectoryService.signIn) opening a
 * server-side session for browsers, or an API token for scripts. Both resolve to a `Principal` whose
 * role is read from storage on every request, so removing an admin or disabling the user takes effect
 * at once.
 *
 * Sessions: a random 256-bit id in the cookie, stored as its SHA-256; a random CSRF token the browser
 * sends back in X-CSRF-Token on every change; idle timeout 30 minutes, absolute lifetime 12 hours.
 * API tokens: `wr_` + 256 random bits (base64url), shown once, stored as SHA-256; a token's role is the
 * lower of the role it was given and its creator's current role.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError, NotFoundError, WinrollError } from '../../shared/errors.js';
import type { DirectoryService } from '../directory/directory-service.js';
import { normalizeUpn } from '../directory/names.js';
import type { Storage, User } from '../ports.js';
import { type AuditContext, AuditTrail } from './audit.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, type ThrottleOptions } from './login-throttle.js';
import type { AdminRole, ApiTokenRecord, AuditActor } from './ports.js';
import { lowerRole, roleAtLeast } from './roles.js';

export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
/** Last-seen (sessions) and last-used (tokens) are written at most this often per credential. */
const TOUCH_EVERY_MS = 60 * 1000;
const TOKEN_PREFIX = 'wr_';
const TOKEN_SHAPE = /^wr_[A-Za-z0-9_-]{43}$/;
const SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Whether this directory user may sign in to the admin API at all, whatever their role: an admin needs a
 * Winroll license (the effective one: assigned directly or through a licensed group), unless the tenant setting "allow unlicensed admins to sign in"
 * (`TenantSettings.allowUnlicensedAdmins`, off by default) is on. It is consulted at sign-in and on every
 * request (sessions and tokens), so assigning or removing a license, or flipping the setting, takes effect
 * at once. (Enrolling devices always needs a license; this only decides the console and the API.)
 */
export async function mayAdminSignIn(store: Pick<Storage, 'hasLicense' | 'getTenantSettings'>, user: User): Promise<boolean> {
  if (!user.enabled) return false;
  if (await store.hasLicense(user.id)) return true;
  return (await store.getTenantSettings()).allowUnlicensedAdmins;
}

/** An authenticated admin, as a request sees it. */
export interface Principal {
  userId: string;
  upn: string;
  role: AdminRole;
  via: { kind: 'session'; idHash: string; csrfToken: string; expiresAt: Date } | { kind: 'token'; tokenId: string; name: string };
}

export function actorOf(p: Principal): AuditActor {
  return p.via.kind === 'token'
    ? { kind: 'token', tokenId: p.via.tokenId, name: p.via.name, userId: p.userId, upn: p.upn }
    : { kind: 'admin', userId: p.userId, upn: p.upn };
}

export type SignInOutcome =
  | { ok: true; sessionId: string; csrfToken: string; principal: Principal; expiresAt: Date }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number }
  /** One answer for unknown user, wrong password, disabled user and "not an admin"; `detail` is for logs. */
  | { ok: false; reason: 'invalid'; detail: string };

export type PublicApiToken = Omit<ApiTokenRecord, 'tokenHash'>;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const randomId = (): string => randomBytes(32).toString('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function publicToken(t: ApiTokenRecord): PublicApiToken {
  const { tokenHash: _hash, ...rest } = t;
  return rest;
}

export class AdminAuth {
  readonly #storage: Storage;
  readonly #directory: DirectoryService;
  readonly #clock: Clock;
  readonly #throttle: LoginThrottle;
  readonly #audit: AuditTrail;

  constructor(deps: { storage: Storage; directory: DirectoryService; clock: Clock; throttle?: ThrottleOptions }) {
    this.#storage = deps.storage;
    this.#directory = deps.directory;
    this.#clock = deps.clock;
    this.#throttle = new LoginThrottle(deps.clock, deps.throttle ?? DEFAULT_LOGIN_THROTTLE);
    this.#audit = new AuditTrail({ store: deps.storage, clock: deps.clock });
  }

  /** Checks the password and opens a session. `clientAddress` feeds the per-address rate limit. */
  async signIn(upn: string, password: string, clientAddress: string, traceId: string | null): Promise<SignInOutcome> {
    let account: string;
    try {
      account = normalizeUpn(upn).upn;
    } catch {
      account = upn.trim().toLowerCase().slice(0, 256);
    }
    const keys = [`addr:${clientAddress}`, `acct:${account}`];
    const wait = this.#throttle.retryAfterSeconds(keys);
    if (wait > 0) return { ok: false, reason: 'throttled', retryAfterSeconds: wait };

    const fail = (detail: string): SignInOutcome => {
      this.#throttle.recordFailure(keys);
      return { ok: false, reason: 'invalid', detail };
    };
    const result = await this.#directory.signIn(upn, password);
    if (!result.ok) return fail(result.reason);
    const admin = await this.#storage.getAdmin(result.user.id);
    if (!admin) return fail('not_an_admin');
    if (!(await mayAdminSignIn(this.#storage, result.user))) return fail('unlicensed');
    this.#throttle.reset(`acct:${account}`);

    const now = this.#clock.now();
    const sessionId = randomId();
    const csrfToken = randomId();
    const expiresAt = new Date(now.getTime() + SESSION_ABSOLUTE_MS);
    const idHash = sha256(sessionId);
    await this.#storage.createAdminSession({ idHash, userId: admin.userId, csrfToken, createdAt: now, lastSeenAt: now, expiresAt });
    const principal: Principal = {
      userId: admin.userId,
      upn: admin.upn,
      role: admin.role,
      via: { kind: 'session', idHash, csrfToken, expiresAt },
    };
    await this.#audit.note(
      { actor: actorOf(principal), traceId },
      { action: 'session.create', targetType: 'admin', targetId: admin.upn, after: { role: admin.role, expiresAt } },
    );
    return { ok: true, sessionId, csrfToken, principal, expiresAt };
  }

  /** The admin behind a session cookie, or undefined (unknown, expired, idle too long, no longer an admin). */
  async authenticateSession(sessionId: string): Promise<Principal | undefined> {
    if (!SESSION_SHAPE.test(sessionId)) return undefined;
    const idHash = sha256(sessionId);
    const session = await this.#storage.getAdminSession(idHash);
    if (!session) return undefined;
    const now = this.#clock.now();
    if (now >= session.expiresAt || now.getTime() - session.lastSeenAt.getTime() >= SESSION_IDLE_MS) {
      await this.#storage.deleteAdminSession(idHash);
      return undefined;
    }
    const role = await this.#activeRole(session.userId);
    if (!role) return undefined;
    if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) await this.#storage.touchAdminSession(idHash, now);
    return {
      userId: session.userId,
      upn: role.upn,
      role: role.role,
      via: { kind: 'session', idHash, csrfToken: session.csrfToken, expiresAt: session.expiresAt },
    };
  }

  /** Whether a state-changing request carries the session's CSRF token. Token principals need none. */
  csrfOk(p: Principal, header: string | undefined): boolean {
    if (p.via.kind !== 'session') return true;
    return header !== undefined && sameText(header, p.via.csrfToken);
  }

  async signOut(p: Principal): Promise<void> {
    if (p.via.kind === 'session') await this.#storage.deleteAdminSession(p.via.idHash);
  }

  /** The admin behind an API token, with the lower of the token's and the creator's current role. */
  async authenticateToken(bearer: string): Promise<Principal | undefined> {
    if (!TOKEN_SHAPE.test(bearer)) return undefined;
    const token = await this.#storage.getApiTokenByHash(sha256(bearer));
    const now = this.#clock.now();
    if (!token || token.revokedAt || (token.expiresAt && now >= token.expiresAt)) return undefined;
    const creator = await this.#activeRole(token.createdByUserId);
    if (!creator) return undefined;
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() >= TOUCH_EVERY_MS) await this.#storage.touchApiToken(token.id, now);
    return {
      userId: token.createdByUserId,
      upn: creator.upn,
      role: lowerRole(token.role, creator.role),
      via: { kind: 'token', tokenId: token.id, name: token.name },
    };
  }

  /** Creates an API token; the secret is in the result only, never stored. */
  async createToken(
    p: Principal,
    input: { name: string; role?: AdminRole | undefined; expiresAt?: Date | undefined },
    traceId: string | null,
  ): Promise<{ token: string; record: PublicApiToken }> {
    const name = input.name.trim();
    if (!/^[\w .@-]{1,64}$/.test(name))
      throw new InvalidInputError('token name must be 1-64 letters, digits, spaces, dots, @, dashes or underscores');
    const role = input.role ?? p.role;
    if (!roleAtLeast(p.role, role)) throw new WinrollError('forbidden', `a ${p.role} cannot create a token with role ${role}`);
    const now = this.#clock.now();
    if (input.expiresAt && input.expiresAt <= now) throw new InvalidInputError('expiresAt must be in the future');
    const secret = `${TOKEN_PREFIX}${randomId()}`;
    const id = randomBytes(16).toString('hex');
    const ctx: AuditContext = { actor: actorOf(p), traceId };
    const after = { id, name, role, expiresAt: input.expiresAt ?? null };
    const record = await this.#storage.createApiToken(
      { id, name, tokenHash: sha256(secret), role, createdByUserId: p.userId, createdAt: now, expiresAt: input.expiresAt ?? null },
      this.#audit.entry(ctx, { action: 'api_token.create', targetType: 'api_token', targetId: id, after }),
    );
    return { token: secret, record: publicToken(record) };
  }

  async listTokens(): Promise<PublicApiToken[]> {
    return (await this.#storage.listApiTokens()).map(publicToken);
  }

  async revokeToken(ctx: AuditContext, id: string): Promise<PublicApiToken> {
    const before = await this.#storage.getApiToken(id);
    if (!before) throw new NotFoundError(`no API token ${id}`);
    if (before.revokedAt) return publicToken(before);
    const now = this.#clock.now();
    const entry = this.#audit.entry(ctx, {
      action: 'api_token.revoke',
      targetType: 'api_token',
      targetId: id,
      before: { name: before.name, role: before.role, revokedAt: null },
      after: { name: before.name, role: before.role, revokedAt: now },
    });
    await this.#storage.revokeApiToken(id, now, entry);
    return { ...publicToken(before), revokedAt: now };
  }

  /** Forgets expired and idle sessions. */
  pruneSessions(): Promise<number> {
    const now = this.#clock.now();
    return this.#storage.pruneAdminSessions(now, new Date(now.getTime() - SESSION_IDLE_MS));
  }

  async #activeRole(userId: string): Promise<{ upn: string; role: AdminRole } | undefined> {
    const admin = await this.#storage.getAdmin(userId);
    if (!admin?.enabled) return undefined;
    const user = await this.#directory.getUserById(userId);
    if (!user || !(await mayAdminSignIn(this.#storage, user))) return undefined;
    return { upn: admin.upn, role: admin.role };
  }
}
