/**
 * TOTP secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from the data folder's MFA master
 * secret, which the composition root reads from `<data>/secrets/mfa.key`; core only receives the bytes.
 * The user id is authenticated data, so a ciphertext copied onto another user's row does not decrypt.
 *
 * Format: `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Derives an independent 32-byte key for one purpose from the MFA master secret. */
export function deriveKey(master: Uint8Array, purpose: string): Buffer {
  if (master.length < 32) throw new Error('the MFA master secret must be at least 32 bytes');
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `winroll mfa ${purpose}`, 32));
}

export class SecretBox {
  readonly #key: Buffer;

  /** `purpose` gives each kind of secret its own key (default: TOTP secrets, the original use). */
  constructor(master: Uint8Array, purpose = 'totp secret encryption v1') {
    this.#key = deriveKey(master, purpose);
  }

  seal(plaintext: string, boundTo: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Throws when the ciphertext was altered, is bound to someone else, or was sealed under another key. */
  open(sealed: string, boundTo: string): string {
    const [version, iv, ct, tag] = sealed.split('.');
    if (version !== VERSION || iv === undefined || ct === undefined || tag === undefined) throw new Error('unknown MFA secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }
}
