/**
 * The MDM terms-of-use step of Entra ID join and "add work account" (protocol.md §3.3, intune-features.md
 * §1.2 and §4.4). Windows opens our page with the user's Entra token as a bearer token; we check the token
 * and the enrollment decision early (so out-of-scope or unlicensed users learn it before the SOAP calls),
 * then the user accepts (or, outside a join, declines). Acceptance returns an OpaqueBlob that Windows hands
 * back unchanged at enrollment as the ContextItem `EnrollmentData`.
 *
 * Two HS256 JWTs, on the enrollment-token secret with their own audiences (so neither can pass for the
 * other or for an enrollment token):
 * - the form state (`winroll:terms-of-use-state`): the page's hidden field, binding tenant, user, the
 *   redirect_uri and client-request-id, so a POST cannot be forged for another user or another redirect;
 *   the bearer token itself never goes into the page;
 * - the blob (`winroll:terms-of-use-accepted`): tenant, user id and UPN, purpose, 30 minutes.
 */
import { randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Clock } from '../../shared/clock.js';
import type { DirectoryTokens } from '../entra/directory-token.js';
import type { EnrollmentPolicy } from '../policy/enrollment-policy.js';
import type { User } from '../ports.js';
import type { TermsText, TermsTextStore } from './ports.js';

const ISSUER = 'winroll';
const STATE_AUDIENCE = 'winroll:terms-of-use-state';
const BLOB_AUDIENCE = 'winroll:terms-of-use-accepted';
const PURPOSE = 'mdm-terms-of-use';
export const TERMS_OF_USE_BLOB_TTL_SECONDS = 30 * 60;
export const TERMS_OF_USE_STATE_TTL_SECONDS = 30 * 60;

/** The documented terms-of-use error codes (intune-features.md §4.4). */
export type TermsOfUseErrorCode = 'invalid_request' | 'unauthorized_client' | 'server_error';

export interface TermsOfUseState {
  tenantId: string;
  userId: string;
  upn: string;
  redirectUri: string;
  clientRequestId: string | null;
  join: boolean;
  /** The version of the terms text the page showed (0: Winroll's default text). */
  termsVersion: number;
}

export type TermsOfUseOpen =
  | { ok: true; user: User; tenantId: string; state: string; terms: TermsText }
  | { ok: false; code: TermsOfUseErrorCode; description: string; detail: string; upn?: string | undefined };

export type BlobCheck = { ok: true; termsVersion: number | null } | { ok: false; reason: 'expired' | 'invalid' | 'other_user' };

export interface TermsOfUseDeps {
  directoryTokens: DirectoryTokens;
  policy: EnrollmentPolicy;
  /** The enrollment-token secret (≥ 32 bytes). */
  secret: Uint8Array;
  clock: Clock;
  /** The admin's own terms text; without it, the default text (version 0). */
  text?: Pick<TermsTextStore, 'getTermsText'> | undefined;
}

export class TermsOfUse {
  readonly #d: TermsOfUseDeps;
  #key: Promise<webcrypto.CryptoKey> | undefined;

  constructor(deps: TermsOfUseDeps) {
    if (deps.secret.length < 32) throw new Error('terms-of-use secret must be at least 32 bytes');
    this.#d = deps;
  }

  #hmacKey(): Promise<webcrypto.CryptoKey> {
    this.#key ??= webcrypto.subtle.importKey('raw', this.#d.secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    return this.#key;
  }

  /**
   * GET: the bearer token, then the enrollment decision (method automatic; Device for a join, else Full).
   * On success, the signed form state for the page.
   */
  async open(input: {
    bearer: string | undefined;
    join: boolean;
    redirectUri: string;
    clientRequestId: string | null;
    traceId: string;
  }): Promise<TermsOfUseOpen> {
    if (!input.bearer) {
      return {
        ok: false,
        code: 'unauthorized_client',
        description: 'The request carries no directory access token.',
        detail: 'no bearer token',
      };
    }
    const check = await this.#d.directoryTokens.verify(input.bearer);
    if (!check.ok && check.reason === 'keys_unavailable') {
      return {
        ok: false,
        code: 'server_error',
        upn: check.upn,
        detail: check.detail,
        description: "The device management server could not reach your organisation's directory. Try again later.",
      };
    }
    if (!check.ok) {
      return {
        ok: false,
        code: 'unauthorized_client',
        upn: check.upn,
        detail: check.detail,
        description:
          check.reason === 'unknown_tenant'
            ? `Your organisation's directory (tenant ${check.tenantId ?? 'unknown'}) is not connected to this device management server.`
            : check.reason === 'expired'
              ? 'Your sign-in has expired. Sign in again.'
              : check.reason === 'unknown_user' || check.reason === 'disabled'
                ? 'Your account is not allowed to enroll devices in this organisation.'
                : 'The directory access token is not valid.',
      };
    }
    const enrollmentType = input.join ? 'Device' : 'Full';
    const decision = await this.#d.policy.decide({
      user: check.user,
      method: 'automatic',
      enrollmentType,
      osVersion: null,
      deviceId: null,
    });
    if (decision.outcome === 'refused') {
      // Recorded like any refused attempt, so `winroll explain` and the attempts log show it.
      await this.#d.policy.record({
        traceId: input.traceId,
        user: check.user,
        upn: check.upn,
        deviceId: null,
        method: 'automatic',
        enrollmentType,
        osVersion: null,
        decision,
        fault: {
          subcode: decision.subcode ?? 'Authorization',
          errorType: decision.errorType,
          reasons: ['refused at the terms-of-use page'],
        },
      });
      return {
        ok: false,
        code: 'unauthorized_client',
        upn: check.upn,
        description: decision.userMessage ?? 'Your account is not allowed to enroll devices in this organisation.',
        detail: decision.reasons.at(-1) ?? 'refused by enrollment policy',
      };
    }
    const terms = (await this.#d.text?.getTermsText()) ?? { title: null, body: null, version: 0, updatedAt: null };
    const state = await this.#sign(
      {
        tid: check.tenantId,
        upn: check.user.upn,
        ru: input.redirectUri,
        crid: input.clientRequestId,
        join: input.join,
        tv: terms.version,
      },
      check.user.id,
      STATE_AUDIENCE,
      TERMS_OF_USE_STATE_TTL_SECONDS,
    );
    return { ok: true, user: check.user, tenantId: check.tenantId, state, terms };
  }

  /** POST: the form state, checked; undefined when it is forged, for another purpose or expired. */
  async readState(state: string): Promise<TermsOfUseState | undefined> {
    const payload = await this.#verify(state, STATE_AUDIENCE);
    if (!payload.ok) return undefined;
    const p = payload.payload;
    if (
      typeof p.sub !== 'string' ||
      typeof p.tid !== 'string' ||
      typeof p.upn !== 'string' ||
      typeof p.ru !== 'string' ||
      typeof p.join !== 'boolean' ||
      (p.crid !== null && typeof p.crid !== 'string')
    ) {
      return undefined;
    }
    return {
      tenantId: p.tid,
      userId: p.sub,
      upn: p.upn,
      redirectUri: p.ru,
      clientRequestId: p.crid,
      join: p.join,
      termsVersion: typeof p.tv === 'number' && Number.isSafeInteger(p.tv) ? p.tv : 0,
    };
  }

  /** The OpaqueBlob for an accepted page. */
  issueBlob(state: TermsOfUseState): Promise<string> {
    return this.#sign(
      // tv: which terms text was accepted (the admin may change it later).
      { tid: state.tenantId, upn: state.upn, purpose: PURPOSE, tv: state.termsVersion },
      state.userId,
      BLOB_AUDIENCE,
      TERMS_OF_USE_BLOB_TTL_SECONDS,
    );
  }

  /** At enrollment: the blob must be ours, unexpired, and name the same tenant and user as the directory token. */
  async verifyBlob(blob: string, who: { userId: string; upn: string; tenantId: string }): Promise<BlobCheck> {
    const r = await this.#verify(blob.trim(), BLOB_AUDIENCE);
    if (!r.ok) return r;
    const p = r.payload;
    if (p.purpose !== PURPOSE || typeof p.sub !== 'string' || typeof p.tid !== 'string' || typeof p.upn !== 'string') {
      return { ok: false, reason: 'invalid' };
    }
    if (p.sub !== who.userId || p.upn !== who.upn || p.tid.toLowerCase() !== who.tenantId.toLowerCase()) {
      return { ok: false, reason: 'other_user' };
    }
    return { ok: true, termsVersion: typeof p.tv === 'number' && Number.isSafeInteger(p.tv) ? p.tv : null };
  }

  async #sign(claims: Record<string, unknown>, subject: string, audience: string, ttl: number): Promise<string> {
    const now = Math.floor(this.#d.clock.now().getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .sign(await this.#hmacKey());
  }

  async #verify(
    token: string,
    audience: string,
  ): Promise<{ ok: true; payload: Record<string, unknown> } | { ok: false; reason: 'expired' | 'invalid' }> {
    if (token.length > 4096) return { ok: false, reason: 'invalid' };
    try {
      const { payload } = await jwtVerify(token, await this.#hmacKey(), {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience,
        currentDate: this.#d.clock.now(),
        clockTolerance: 30,
        requiredClaims: ['exp', 'sub'],
      });
      return { ok: true, payload: payload as Record<string, unknown> };
    } catch (err) {
      return { ok: false, reason: err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid' };
    }
  }
}
