/**
 * Domains (UPN suffixes) and users: just enough directory to sign in and enroll. Groups, licenses and
 * scopes arrive with the enrollment-policy work and will extend this service, not replace it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError, NotFoundError } from '../../shared/errors.js';
import type { AuthPolicy, Domain, Storage, User } from '../ports.js';
import { normalizeDomainName, normalizeUpn } from './names.js';
import { hashPassword, passwordProblem, verifyPassword } from './password.js';

export type SignInFailure = 'not_a_upn' | 'unknown_user' | 'disabled' | 'bad_password';
export type SignInResult = { ok: true; user: User } | { ok: false; reason: SignInFailure };

/**
 * Windows sends the same UsernameToken in GetPolicies and again in RequestSecurityToken seconds later, so
 * a verified credential is remembered briefly (as an HMAC under a per-process key, never the password)
 * to pay for scrypt once per enrollment. Entries die with a password change because the stored hash is
 * part of the key.
 */
const CREDENTIAL_CACHE_TTL_MS = 2 * 60 * 1000;
const CREDENTIAL_CACHE_MAX = 10_000;

export class DirectoryService {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #cacheKey = randomBytes(32);
  readonly #verified = new Map<string, number>();

  constructor(deps: { storage: Storage; clock: Clock }) {
    this.#storage = deps.storage;
    this.#clock = deps.clock;
  }

  async addDomain(name: string, authPolicy: AuthPolicy = 'OnPremise'): Promise<Domain> {
    return this.#storage.addDomain({ name: normalizeDomainName(name), authPolicy, now: this.#clock.now() });
  }

  listDomains(): Promise<Domain[]> {
    return this.#storage.listDomains();
  }

  async findDomain(name: string): Promise<Domain | undefined> {
    let normalized: string;
    try {
      normalized = normalizeDomainName(name);
    } catch {
      return undefined;
    }
    return this.#storage.getDomain(normalized);
  }

  async setDomainAuthPolicy(name: string, authPolicy: AuthPolicy): Promise<Domain> {
    return this.#storage.setDomainAuthPolicy(normalizeDomainName(name), authPolicy);
  }

  async addUser(input: { upn: string; password: string; displayName?: string | null }): Promise<User> {
    const { upn, domain } = normalizeUpn(input.upn);
    if (!(await this.#storage.getDomain(domain))) {
      throw new NotFoundError(`domain ${domain} is not configured; add it first with: winroll domains add ${domain}`);
    }
    const problem = passwordProblem(input.password);
    if (problem) throw new InvalidInputError(problem);
    const displayName = input.displayName?.trim() || null;
    if (displayName && displayName.length > 256) throw new InvalidInputError('display name must be at most 256 characters');
    const passwordHash = await hashPassword(input.password);
    return this.#storage.addUser({ upn, displayName, passwordHash, now: this.#clock.now() });
  }

  listUsers(): Promise<User[]> {
    return this.#storage.listUsers();
  }

  async findUser(upn: string): Promise<User | undefined> {
    try {
      return await this.#storage.getUserByUpn(normalizeUpn(upn).upn);
    } catch (err) {
      if (err instanceof InvalidInputError) return undefined;
      throw err;
    }
  }

  getUserById(id: string): Promise<User | undefined> {
    return this.#storage.getUserById(id);
  }

  /** Checks a user name (a UPN) and password. The reason is for logs only; devices get one generic answer. */
  async signIn(username: string, password: string): Promise<SignInResult> {
    let upn: string;
    try {
      upn = normalizeUpn(username).upn;
    } catch {
      return { ok: false, reason: 'not_a_upn' };
    }
    const user = await this.#storage.getUserByUpn(upn);
    if (!user) {
      // Spend comparable time so response timing does not reveal which accounts exist.
      await verifyPassword(password, DUMMY_HASH);
      return { ok: false, reason: 'unknown_user' };
    }
    if (!user.enabled) return { ok: false, reason: 'disabled' };
    const key = createHmac('sha256', this.#cacheKey).update(`${user.passwordHash}\0${password}`).digest('base64');
    const now = this.#clock.now().getTime();
    const until = this.#verified.get(key);
    if (until !== undefined && until > now) return { ok: true, user };
    if (!(await verifyPassword(password, user.passwordHash))) return { ok: false, reason: 'bad_password' };
    if (this.#verified.size >= CREDENTIAL_CACHE_MAX) this.#pruneCache(now);
    this.#verified.set(key, now + CREDENTIAL_CACHE_TTL_MS);
    return { ok: true, user };
  }

  #pruneCache(now: number): void {
    for (const [k, until] of this.#verified) if (until <= now) this.#verified.delete(k);
    // Still full of live entries: forget the oldest half rather than grow without bound.
    if (this.#verified.size >= CREDENTIAL_CACHE_MAX) {
      let drop = this.#verified.size / 2;
      for (const k of this.#verified.keys()) {
        if (drop-- <= 0) break;
        this.#verified.delete(k);
      }
    }
  }
}

// A valid scrypt hash of a random string, used only to equalise timing for unknown users.
const DUMMY_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$2Yc8cQmX2t2o7ZlqkD0Q7m8d3Yx2bQ9yS5vH1tJ0aE4=';
