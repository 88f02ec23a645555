/**
 * Signing in on the federated enrollment page through an external OpenID Connect provider (Entra ID,
 * Keycloak, Google, ...) instead of a Winroll password. Authorization-code flow with PKCE (S256), state
 * and nonce; the ID token is checked by the relying party adapter (signature with the provider's keys,
 * iss, aud, exp, nonce). The chosen claim names a Winroll directory user; from there the password path's
 * rules apply unchanged (FederatedSignIn.signInWithIdentity): domain configured, then the MFA setting.
 *
 * - No server memory: what the callback needs (provider, appru, login_hint, PKCE verifier, nonce, state)
 *   travels in a cookie sealed with AES-256-GCM (the MFA master key, its own purpose), valid 10 minutes.
 *   The `state` sent to the provider is only a random value compared with the cookie's, so the verifier
 *   never appears in a URL, and a callback that lands in a browser which did not start the flow fails.
 * - appru is checked when the flow starts and sits in the sealed cookie, so the token can only be posted
 *   to the ms-app:/ms-appx-web: address Windows gave.
 * - MFA: covered users still pass Winroll's code step, unless the admin marked the provider `trustMfa`
 *   and its ID token's `amr` contains `mfa` (RFC 8176).
 * - Network I/O is the adapter's (OidcRelyingParty, openid-client in src/app): core does none.
 * - The Company Portal signs in through the same flow (startPortal/finishPortal): its own redirect URI
 *   (same origin, PORTAL_OIDC_CALLBACK_PATH), its own sealing purpose so a state cookie of one flow never
 *   opens in the other, no appru; the callback hands back the mapped directory user, not a token, with
 *   `mfaAsserted` so that PortalService applies the same MFA rule (code step unless trusted `amr` mfa).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { normalizeUpn } from '../directory/names.js';
import { type FederatedRefusal, type FederatedSignIn, isAcceptableAppru } from '../enrollment/federated-sign-in.js';
import { SecretBox } from '../mfa/secret-box.js';
import type { User } from '../ports.js';
import type { OidcProvider, OidcProviderStore } from './ports.js';
import { clientSecretBinding, clientSecretBox } from './providers.js';

/** Where the sign-in page's "Sign in with ..." links start the flow (on the web listener). */
export const OIDC_START_PATH = '/EnrollmentServer/Auth/oidc';
/** The redirect URI to register at the provider: `https://<public-host>[:port]` + this path. */
export const OIDC_CALLBACK_PATH = '/EnrollmentServer/Auth/oidc/callback';
/** How long the user has at the provider before the sealed state expires. */
export const OIDC_STATE_TTL_SECONDS = 10 * 60;
const STATE_BINDING = 'oidc sign-in state';
const PORTAL_STATE_BINDING = 'oidc portal sign-in state';

/** Where the Company Portal's "Sign in with ..." buttons start the flow (on the web listener). */
export const PORTAL_OIDC_START_PATH = '/portal/api/oidc/start';
/** The portal's redirect URI to register at the provider: the enrollment one's origin + this path. */
export const PORTAL_OIDC_CALLBACK_PATH = '/portal/api/oidc/callback';

type Purpose = 'enrollment' | 'portal';

/** What the adapter needs to talk to one provider; the secret only ever exists in memory. */
export interface OidcConnection {
  id: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  caPem: string | null;
  /** Changes when the provider's row changes, so cached metadata of an older configuration is not reused. */
  version: string;
}

/** The relying party's network side (openid-client), injected by the composition root. */
export interface OidcRelyingParty {
  /** Discovers the provider (cached) and builds its authorization URL with these parameters. */
  authorizationUrl(p: OidcConnection, params: Record<string, string>): Promise<string>;
  /**
   * Validates the authorization response in `currentUrl` (our callback URL with the provider's query),
   * redeems the code with the PKCE verifier and returns the verified ID token's claims; when `claim` is not
   * among them and the provider has a userinfo endpoint, it is taken from userinfo (same `sub`). Throws on
   * any failure.
   */
  redeem(
    p: OidcConnection,
    input: { currentUrl: string; state: string; nonce: string; codeVerifier: string; claim: string },
  ): Promise<Record<string, unknown>>;
}

export type OidcRefusal =
  | FederatedRefusal
  | 'unknown_provider'
  | 'provider_unreachable'
  /** The user cancelled or the provider answered the authorization request with an error. */
  | 'cancelled'
  | 'provider_error'
  /** The callback's state is not the one this browser's flow sent (tampered or crossed flows). */
  | 'state_mismatch'
  /** The code could not be redeemed, or the ID token failed a check. */
  | 'exchange_failed'
  | 'no_claim'
  | 'email_unverified'
  | 'login_hint_mismatch'
  /** The user's domain is not one the provider may sign in. */
  | 'domain_not_allowed';

export interface OidcProviderChoice {
  id: string;
  name: string;
}

export type OidcStartResult =
  | { ok: true; location: string; cookie: string }
  | { ok: false; reason: 'unknown_provider' | 'provider_unreachable' | 'domain_not_allowed'; provider?: string; detail?: string };

interface FlowContext {
  appru: string;
  loginHint: string;
  provider: string;
}

export type OidcFinishResult =
  /** No readable, unexpired sealed state: nothing says where a token could go. */
  | { outcome: 'start_again'; detail: string }
  | (FlowContext & { outcome: 'token'; token: string; upn: string; secondFactor: boolean })
  | (FlowContext & { outcome: 'code_needed'; state: string; upn: string })
  | (FlowContext & { outcome: 'refused'; reason: OidcRefusal; upn?: string | undefined; detail?: string | undefined });

interface SealedState {
  /** provider id */
  p: string;
  a: string;
  h: string;
  /** PKCE code verifier */
  v: string;
  n: string;
  s: string;
  /** expiry, seconds since the epoch */
  e: number;
}

/** The portal callback's answer: the mapped, enabled directory user, or why not. */
export type OidcPortalResult =
  | { outcome: 'start_again'; detail: string }
  | { outcome: 'user'; user: User; provider: string; mfaAsserted: boolean }
  | { outcome: 'refused'; reason: OidcRefusal; provider: string; upn?: string | undefined; detail?: string | undefined };

export interface OidcSignInDeps {
  store: OidcProviderStore;
  relyingParty: OidcRelyingParty;
  federated: FederatedSignIn;
  users: { findUser(upn: string): Promise<User | undefined> };
  masterKey: Uint8Array;
  clock: Clock;
  /** The absolute redirect URI (known once the web listener is bound). */
  callbackUrl: () => string;
}

const random = () => randomBytes(32).toString('base64url');

export class OidcSignIn {
  readonly #d: OidcSignInDeps;
  readonly #stateBox: SecretBox;
  readonly #secretBox: SecretBox;

  constructor(deps: OidcSignInDeps) {
    this.#d = deps;
    this.#stateBox = new SecretBox(deps.masterKey, 'oidc sign-in state v1');
    this.#secretBox = clientSecretBox(deps.masterKey);
  }

  /** Providers to offer for this login hint: those whose domains include its domain, or that have none. */
  async providersFor(loginHint: string): Promise<OidcProviderChoice[]> {
    const domain = domainOf(loginHint);
    return (await this.#d.store.listOidcProviders())
      .filter((p) => domain === undefined || p.domains.length === 0 || p.domains.includes(domain))
      .map((p) => ({ id: p.id, name: p.name }));
  }

  async start(input: { providerId: string; appru: string; loginHint: string }): Promise<OidcStartResult> {
    if (!isAcceptableAppru(input.appru)) throw new Error('appru must be checked before starting a sign-in');
    return this.#start(input, 'enrollment');
  }

  /** The Company Portal's sign-in: no appru, no login hint; the callback is PORTAL_OIDC_CALLBACK_PATH. */
  async startPortal(input: { providerId: string }): Promise<OidcStartResult> {
    return this.#start({ ...input, appru: '', loginHint: '' }, 'portal');
  }

  /** The redirect URI registered at the provider for each flow; the portal's is derived from the enrollment one. */
  redirectUri(purpose: Purpose): string {
    return purpose === 'enrollment' ? this.#d.callbackUrl() : new URL(this.#d.callbackUrl()).origin + PORTAL_OIDC_CALLBACK_PATH;
  }

  async #start(input: { providerId: string; appru: string; loginHint: string }, purpose: Purpose): Promise<OidcStartResult> {
    const provider = /^[0-9a-f-]{36}$/.test(input.providerId) ? await this.#d.store.getOidcProvider(input.providerId) : undefined;
    if (!provider) return { ok: false, reason: 'unknown_provider' };
    const domain = domainOf(input.loginHint);
    if (domain !== undefined && provider.domains.length > 0 && !provider.domains.includes(domain))
      return { ok: false, reason: 'domain_not_allowed', provider: provider.name };

    const state: SealedState = {
      p: provider.id,
      a: input.appru,
      h: input.loginHint,
      v: random(),
      n: random(),
      s: random(),
      e: Math.floor(this.#d.clock.now().getTime() / 1000) + OIDC_STATE_TTL_SECONDS,
    };
    const params: Record<string, string> = {
      response_type: 'code',
      redirect_uri: this.redirectUri(purpose),
      scope: provider.scopes.join(' '),
      state: state.s,
      nonce: state.n,
      code_challenge: createHash('sha256').update(state.v).digest('base64url'),
      code_challenge_method: 'S256',
    };
    if (input.loginHint) params.login_hint = input.loginHint;
    let location: string;
    try {
      location = await this.#d.relyingParty.authorizationUrl(this.#connection(provider), params);
    } catch (err) {
      return { ok: false, reason: 'provider_unreachable', provider: provider.name, detail: errorDetail(err) };
    }
    return { ok: true, location, cookie: this.#stateBox.seal(JSON.stringify(state), bindingOf(purpose)) };
  }

  /** The callback: `cookie` is the sealed state set by start, `query` the provider's answer. */
  async finish(input: { cookie: string | undefined; query: URLSearchParams }): Promise<OidcFinishResult> {
    const st = this.#open(input.cookie, 'enrollment');
    if (!st) return { outcome: 'start_again', detail: startAgainDetail(input.cookie) };
    const id = await this.#identify(st, input.query, 'enrollment');
    const ctx: FlowContext = { appru: st.a, loginHint: st.h, provider: id.provider };
    if (!id.ok) return { outcome: 'refused', reason: id.reason, ...ctx, upn: id.upn, detail: id.detail };
    const result = await this.#d.federated.signInWithIdentity(id.user, st.a, { mfaAsserted: id.mfaAsserted });
    switch (result.outcome) {
      case 'token':
        return { outcome: 'token', token: result.token, upn: result.upn, secondFactor: result.secondFactor, ...ctx };
      case 'code_needed':
        return { outcome: 'code_needed', state: result.state, upn: result.upn, ...ctx };
      case 'refused':
        return { outcome: 'refused', reason: result.reason, ...ctx, upn: result.upn ?? id.user.upn };
    }
  }

  /**
   * The portal's callback: the same checks and user mapping as the enrollment callback (state, provider
   * answer, code and ID token, claim, verified address, known and enabled user, provider domains); the
   * caller applies the MFA rule (PortalService.signInWithIdentity) and opens the session or asks for a code.
   */
  async finishPortal(input: { cookie: string | undefined; query: URLSearchParams }): Promise<OidcPortalResult> {
    const st = this.#open(input.cookie, 'portal');
    if (!st) return { outcome: 'start_again', detail: startAgainDetail(input.cookie) };
    const id = await this.#identify(st, input.query, 'portal');
    if (!id.ok) return { outcome: 'refused', reason: id.reason, provider: id.provider, upn: id.upn, detail: id.detail };
    return { outcome: 'user', user: id.user, provider: id.provider, mfaAsserted: id.mfaAsserted };
  }

  /** From the provider's answer to an enabled directory user, or the refusal; shared by both flows. */
  async #identify(
    st: SealedState,
    query: URLSearchParams,
    purpose: Purpose,
  ): Promise<
    | { ok: true; provider: string; user: User; mfaAsserted: boolean }
    | { ok: false; provider: string; reason: OidcRefusal; upn?: string | undefined; detail?: string | undefined }
  > {
    const provider = await this.#d.store.getOidcProvider(st.p);
    const name = provider?.name ?? 'the identity provider';
    const refuse = (reason: OidcRefusal, more: { upn?: string; detail?: string } = {}) => ({
      ok: false as const,
      provider: name,
      reason,
      ...more,
    });
    if (query.get('state') !== st.s) return refuse('state_mismatch');
    const error = query.get('error');
    if (error !== null) {
      const detail = `${error.slice(0, 64)}: ${(query.get('error_description') ?? '').slice(0, 200)}`;
      return refuse(error === 'access_denied' ? 'cancelled' : 'provider_error', { detail });
    }
    if (!provider) return refuse('unknown_provider');

    let claims: Record<string, unknown>;
    try {
      claims = await this.#d.relyingParty.redeem(this.#connection(provider), {
        currentUrl: `${this.redirectUri(purpose)}?${query.toString()}`,
        state: st.s,
        nonce: st.n,
        codeVerifier: st.v,
        claim: provider.claim,
      });
    } catch (err) {
      return refuse('exchange_failed', { detail: errorDetail(err) });
    }

    const value = claims[provider.claim];
    if (typeof value !== 'string' || value === '') return refuse('no_claim', { detail: `the ID token has no ${provider.claim} claim` });
    // Google and Keycloak say whether an address was verified; an unverified one names nobody.
    if (provider.claim === 'email' && claims.email_verified === false) return refuse('email_unverified', { detail: value.slice(0, 256) });
    let upn: string;
    try {
      upn = normalizeUpn(value).upn;
    } catch {
      return refuse('unknown_user', { detail: `${provider.claim} "${value.slice(0, 256)}" is not a user principal name` });
    }
    const user = await this.#d.users.findUser(upn);
    if (!user) return refuse('unknown_user', { upn });
    if (!user.enabled) return refuse('disabled', { upn });
    if (st.h && loginHintUpn(st.h) !== user.upn)
      return refuse('login_hint_mismatch', { upn, detail: `Windows is enrolling ${st.h.slice(0, 256)}` });
    if (provider.domains.length > 0 && !provider.domains.includes(domainOf(user.upn) ?? '')) return refuse('domain_not_allowed', { upn });

    const amr = Array.isArray(claims.amr) ? claims.amr : [];
    return { ok: true, provider: name, user, mfaAsserted: provider.trustMfa && amr.includes('mfa') };
  }

  #connection(p: OidcProvider): OidcConnection {
    return {
      id: p.id,
      issuer: p.issuer,
      clientId: p.clientId,
      clientSecret: this.#secretBox.open(p.clientSecretSealed, clientSecretBinding(p.id)),
      caPem: p.caPem,
      version: p.updatedAt.toISOString(),
    };
  }

  #open(cookie: string | undefined, purpose: Purpose): SealedState | undefined {
    if (!cookie || cookie.length > 4096) return undefined;
    let st: Partial<SealedState>;
    try {
      st = JSON.parse(this.#stateBox.open(cookie, bindingOf(purpose))) as Partial<SealedState>;
    } catch {
      return undefined;
    }
    const strings = [st.p, st.a, st.h, st.v, st.n, st.s].every((v) => typeof v === 'string');
    if (!strings || typeof st.e !== 'number' || st.e * 1000 <= this.#d.clock.now().getTime()) return undefined;
    // Sealed by us, so appru was checked at start; check again all the same: it decides where a token goes.
    if (purpose === 'enrollment' && !isAcceptableAppru(st.a as string)) return undefined;
    return st as SealedState;
  }
}

const bindingOf = (purpose: Purpose) => (purpose === 'enrollment' ? STATE_BINDING : PORTAL_STATE_BINDING);
const startAgainDetail = (cookie: string | undefined) => (cookie ? 'sign-in state unreadable or expired' : 'no sign-in state cookie');

function domainOf(upnOrHint: string): string | undefined {
  try {
    return normalizeUpn(upnOrHint).domain;
  } catch {
    return undefined;
  }
}

function loginHintUpn(hint: string): string | undefined {
  try {
    return normalizeUpn(hint).upn;
  } catch {
    return undefined;
  }
}

/** For logs: the adapter's message (openid-client's errors name the failed check, never a secret). */
function errorDetail(err: unknown): string {
  const e = err as { message?: unknown; error?: unknown; error_description?: unknown; cause?: { message?: unknown } };
  const parts = [e.error, e.error_description, e.message, e.cause?.message].filter((x): x is string => typeof x === 'string');
  return parts.join(' / ').slice(0, 500) || 'unknown error';
}
