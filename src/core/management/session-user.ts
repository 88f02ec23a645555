/**
 * Who is signed in during a management session (seed S4; protocol.md §3.3, §6.4), which decides whose
 * `./User/` settings the session may carry.
 *
 * - Per-user (Full) enrollments — add work account, Settings enrollment — are single-user: LoginStatus
 *   `user` means the enrolling user; tokens are not needed.
 * - Device enrollments (directory join, bulk) are multi-user: the signed-in user is the one named by the
 *   Entra user token Windows sends in package 1 (Alert 1224 `com.microsoft/MDM/AADUserToken`) and as
 *   `Authorization: Bearer`, verified like an enrollment token (connected tenant, signature, issuer,
 *   audience, expiry, enabled directory user). No token, or none that verifies: nobody, so device
 *   policy only. A refused token never refuses the session; the caller logs why, never the token.
 */
import { ALERT, ALERT_TYPE } from '../../protocol/syncml/codes.js';
import type { SyncMlMessage } from '../../protocol/syncml/types.js';
import type { DirectoryTokenResult } from '../entra/directory-token.js';
import type { EnrollmentType } from '../ports.js';

/** `DirectoryTokens` (core/entra) as the session engine uses it. */
export interface UserTokenVerifier {
  verify(jwt: string): Promise<DirectoryTokenResult>;
}

export type UserTokenSource = 'alert' | 'bearer';

export interface SessionUser {
  userId: string;
  upn: string;
  /** `enrollment`: the enrolled user of a per-user enrollment (LoginStatus user). */
  via: 'enrollment' | UserTokenSource;
}

/** A token that did not identify anyone, for the log: never the token, at most its tenant and UPN. */
export interface IgnoredUserToken {
  via: UserTokenSource;
  reason: Extract<DirectoryTokenResult, { ok: false }>['reason'] | 'no_directory' | 'conflicting';
  detail: string;
  tenantId?: string | undefined;
  upn?: string | undefined;
}

export interface SessionUserResult {
  user: SessionUser | null;
  ignored: IgnoredUserToken[];
}

/** Entra access tokens are a few KB; anything far larger is not one and is not worth verifying. */
const MAX_TOKEN_CHARS = 16 * 1024;

/** The user tokens a message carries: package 1's AADUserToken alert, then the Bearer header. */
export function userTokensOf(msg: SyncMlMessage, bearerToken: string | undefined): Array<{ via: UserTokenSource; jwt: string }> {
  const out: Array<{ via: UserTokenSource; jwt: string }> = [];
  for (const c of msg.commands) {
    if (c.kind !== 'Alert' || c.data !== ALERT.clientEvent) continue;
    for (const i of c.items) {
      const jwt = i.data?.trim();
      if (i.meta?.type === ALERT_TYPE.aadUserToken && jwt) out.push({ via: 'alert', jwt });
    }
  }
  const bearer = bearerToken?.trim();
  if (bearer) out.push({ via: 'bearer', jwt: bearer });
  return out;
}

function loginStatusIsUser(msg: SyncMlMessage): boolean {
  return msg.commands.some(
    (c) =>
      c.kind === 'Alert' &&
      c.data === ALERT.clientEvent &&
      c.items.some((i) => i.meta?.type === ALERT_TYPE.loginStatus && i.data?.trim().toLowerCase() === 'user'),
  );
}

export async function identifySessionUser(input: {
  msg: SyncMlMessage;
  bearerToken: string | undefined;
  enrollment: { enrollmentType: EnrollmentType; userId: string; upn: string };
  verifier: UserTokenVerifier | undefined;
}): Promise<SessionUserResult> {
  const { msg, enrollment } = input;
  if (enrollment.enrollmentType === 'Full') {
    const user = loginStatusIsUser(msg) ? { userId: enrollment.userId, upn: enrollment.upn, via: 'enrollment' as const } : null;
    return { user, ignored: [] };
  }

  const ignored: IgnoredUserToken[] = [];
  const found: SessionUser[] = [];
  const seen = new Map<string, DirectoryTokenResult>();
  for (const { via, jwt } of userTokensOf(msg, input.bearerToken)) {
    if (!input.verifier) {
      ignored.push({ via, reason: 'no_directory', detail: 'directory tokens are not checked by this server' });
      continue;
    }
    if (jwt.length > MAX_TOKEN_CHARS) {
      ignored.push({ via, reason: 'malformed', detail: `user token of ${jwt.length} characters is not a directory token` });
      continue;
    }
    // Windows usually sends the same token twice (alert and header): verify it once.
    let result = seen.get(jwt);
    if (!result) {
      result = await input.verifier.verify(jwt);
      seen.set(jwt, result);
    }
    if (result.ok) found.push({ userId: result.user.id, upn: result.upn, via });
    else ignored.push({ via, reason: result.reason, detail: result.detail, tenantId: result.tenantId, upn: result.upn });
  }
  const [first] = found;
  if (first && found.some((u) => u.userId !== first.userId)) {
    ignored.push({
      via: 'bearer',
      reason: 'conflicting',
      detail: `the AADUserToken alert and the Bearer header name different users (${found.map((u) => u.upn).join(', ')})`,
    });
    return { user: null, ignored };
  }
  return { user: first ?? null, ignored };
}
