/**
 * The token our federated sign-in page hands Windows as `wresult` (MS-MDE2 federated flow). Windows treats
 * it as opaque, base64-encodes it and sends it back as a DeviceEnrollmentUserToken in GetPolicies and
 * again in RequestSecurityToken, so it must survive two presentations; it is spent when a certificate
 * is issued with it. It is an HS256 JWT: short-lived, audience-bound to enrollment, naming the user.
 */
import { randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Clock } from '../../shared/clock.js';

const AUDIENCE = 'winroll:device-enrollment';
const ISSUER = 'winroll';
export const ENROLLMENT_TOKEN_TTL_SECONDS = 15 * 60;

export interface EnrollmentTokenClaims {
  userId: string;
  upn: string;
  jti: string;
  expiresAt: Date;
}

export type TokenCheck = { ok: true; claims: EnrollmentTokenClaims } | { ok: false; reason: 'expired' | 'invalid' };

export class EnrollmentTokens {
  readonly #secret: Uint8Array;
  readonly #clock: Clock;
  /**
   * The secret imported once as a Web Crypto HMAC key. Given raw bytes, jose imports them again for every
   * signature and verification (~50 µs each, three per federated enrollment); given this key it does not.
   */
  #key: Promise<webcrypto.CryptoKey> | undefined;

  constructor(secret: Uint8Array, clock: Clock) {
    if (secret.length < 32) throw new Error('enrollment token secret must be at least 32 bytes');
    this.#secret = secret;
    this.#clock = clock;
  }

  #hmacKey(): Promise<webcrypto.CryptoKey> {
    this.#key ??= webcrypto.subtle.importKey('raw', this.#secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    return this.#key;
  }

  async issue(user: { id: string; upn: string }): Promise<string> {
    const now = Math.floor(this.#clock.now().getTime() / 1000);
    return new SignJWT({ upn: user.upn })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(user.id)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + ENROLLMENT_TOKEN_TTL_SECONDS)
      .sign(await this.#hmacKey());
  }

  async verify(token: string): Promise<TokenCheck> {
    try {
      const { payload } = await jwtVerify(token, await this.#hmacKey(), {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: this.#clock.now(),
        clockTolerance: 30,
      });
      if (
        typeof payload.sub !== 'string' ||
        typeof payload.upn !== 'string' ||
        typeof payload.jti !== 'string' ||
        typeof payload.exp !== 'number'
      ) {
        return { ok: false, reason: 'invalid' };
      }
      return {
        ok: true,
        claims: { userId: payload.sub, upn: payload.upn, jti: payload.jti, expiresAt: new Date(payload.exp * 1000) },
      };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired' };
      return { ok: false, reason: 'invalid' };
    }
  }
}
