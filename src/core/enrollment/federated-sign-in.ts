/**
 * The federated sign-in (MS-MDE2 AuthenticationServiceUrl): a user proves who they are in our web page
 * and Windows receives an enrollment token as `wresult`.
 *
 * When the MFA setting requires a second factor for the user (core/mfa), the password alone does not
 * earn the token: a correct password yields a short-lived signed step state (never the password) and the
 * token is issued only by signInWithCode, after a valid, unused TOTP code. A user who must use a second
 * factor but has none is refused (never let through).
 *
 * The first factor may also come from an external OpenID Connect provider (core/oidc), which hands the
 * mapped directory user to signInWithIdentity; the same domain and MFA rules follow.
 */
import type { SignInFailure } from '../directory/directory-service.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { CodeFailure, MfaService } from '../mfa/mfa-service.js';
import type { User } from '../ports.js';
import type { EnrollmentTokens } from './enrollment-token.js';

export type FederatedRefusal =
  | SignInFailure
  | 'domain_not_configured'
  /** MFA is required for the user, who has no active factor. */
  | 'mfa_not_enrolled'
  /** The code step's state is missing, forged, expired or for another appru: start again. */
  | 'step_expired'
  | Exclude<CodeFailure, 'not_enrolled'>;

export type FederatedSignInResult =
  | { outcome: 'token'; token: string; upn: string; secondFactor: boolean }
  /** Password accepted; ask for a code and post it back with `state`. */
  | { outcome: 'code_needed'; state: string; upn: string }
  | { outcome: 'refused'; reason: FederatedRefusal; upn?: string };

/** Windows' web authentication broker return addresses; anything else could leak the token to a web page. */
const APPRU_SCHEMES = ['ms-app:', 'ms-appx-web:'];

export function isAcceptableAppru(appru: string): boolean {
  try {
    const u = new URL(appru);
    return APPRU_SCHEMES.includes(u.protocol);
  } catch {
    return false;
  }
}

export class FederatedSignIn {
  readonly #directory: DirectoryService;
  readonly #tokens: EnrollmentTokens;
  readonly #mfa: MfaService | undefined;

  constructor(deps: { directory: DirectoryService; tokens: EnrollmentTokens; mfa?: MfaService | undefined }) {
    this.#directory = deps.directory;
    this.#tokens = deps.tokens;
    this.#mfa = deps.mfa;
  }

  /** The password step. */
  async signIn(username: string, password: string, appru: string): Promise<FederatedSignInResult> {
    const result = await this.#directory.signIn(username, password);
    if (!result.ok) return { outcome: 'refused', reason: result.reason };
    return this.#afterFirstFactor(result.user, appru, false);
  }

  /**
   * The first factor came from an external identity provider (core/oidc), which already mapped it to
   * this directory user. The same rules as after a password follow: domain configured, then the MFA
   * setting. `mfaAsserted`: the provider is trusted to assert MFA and did, so it stands in for the code.
   */
  async signInWithIdentity(user: User, appru: string, opts: { mfaAsserted: boolean }): Promise<FederatedSignInResult> {
    if (!user.enabled) return { outcome: 'refused', reason: 'disabled', upn: user.upn };
    return this.#afterFirstFactor(user, appru, opts.mfaAsserted);
  }

  async #afterFirstFactor(user: User, appru: string, mfaAsserted: boolean): Promise<FederatedSignInResult> {
    if (!(await this.#domainConfigured(user))) return { outcome: 'refused', reason: 'domain_not_configured', upn: user.upn };
    if (this.#mfa && (await this.#mfa.isRequiredFor(user))) {
      if (mfaAsserted) return { outcome: 'token', token: await this.#tokens.issue(user), upn: user.upn, secondFactor: true };
      if ((await this.#mfa.statusOf(user.id)) !== 'active') return { outcome: 'refused', reason: 'mfa_not_enrolled', upn: user.upn };
      return { outcome: 'code_needed', upn: user.upn, state: await this.#mfa.issueStepState({ userId: user.id, upn: user.upn, appru }) };
    }
    return { outcome: 'token', token: await this.#tokens.issue(user), upn: user.upn, secondFactor: false };
  }

  /** The code step: `state` from the password step, the code from the user's authenticator app. */
  async signInWithCode(state: string, code: string, appru: string): Promise<FederatedSignInResult> {
    const step = this.#mfa ? await this.#mfa.readStepState(state) : undefined;
    if (!this.#mfa || !step || step.appru !== appru) return { outcome: 'refused', reason: 'step_expired' };
    // The account may have changed since the password step.
    const user = await this.#directory.getUserById(step.userId);
    if (!user || user.upn !== step.upn) return { outcome: 'refused', reason: 'step_expired' };
    if (!user.enabled) return { outcome: 'refused', reason: 'disabled', upn: user.upn };
    if (!(await this.#domainConfigured(user))) return { outcome: 'refused', reason: 'domain_not_configured', upn: user.upn };
    const check = await this.#mfa.verifyCode(user.id, code);
    if (!check.ok)
      return { outcome: 'refused', reason: check.reason === 'not_enrolled' ? 'mfa_not_enrolled' : check.reason, upn: user.upn };
    return { outcome: 'token', token: await this.#tokens.issue(user), upn: user.upn, secondFactor: true };
  }

  async #domainConfigured(user: User): Promise<boolean> {
    return (await this.#directory.findDomain(user.upn.slice(user.upn.lastIndexOf('@') + 1))) !== undefined;
  }
}
