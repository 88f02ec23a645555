/**
 * The federated sign-in (MS-MDE2 AuthenticationServiceUrl): a user proves who they are in our web page
 * and Windows receives an enrollment token as `wresult`. MFA will plug in here.
 */
import type { SignInFailure } from '../directory/directory-service.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { EnrollmentTokens } from './enrollment-token.js';

export type FederatedSignInResult =
  | { ok: true; token: string; upn: string }
  | { ok: false; reason: SignInFailure | 'domain_not_configured' };

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

  constructor(deps: { directory: DirectoryService; tokens: EnrollmentTokens }) {
    this.#directory = deps.directory;
    this.#tokens = deps.tokens;
  }

  async signIn(username: string, password: string): Promise<FederatedSignInResult> {
    const result = await this.#directory.signIn(username, password);
    if (!result.ok) return result;
    const domain = result.user.upn.slice(result.user.upn.lastIndexOf('@') + 1);
    if (!(await this.#directory.findDomain(domain))) return { ok: false, reason: 'domain_not_configured' };
    return { ok: true, token: await this.#tokens.issue(result.user), upn: result.user.upn };
  }
}
