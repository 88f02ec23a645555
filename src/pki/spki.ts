/**
 * SubjectPublicKeyInfo inspection, read straight from the DER.
 *
 * Two reasons this is hand-rolled. Deciding whether a key is acceptable (type, size) should not need a
 * KeyObject. And OpenSSL 3 is slow at decoding SPKI DER: createPublicKey({type: 'spki'}) costs ~120 µs
 * for RSA-2048 (its decoder framework tries candidates in turn), half the cost of the RSA signature we
 * issue a certificate with, while importing the inner RSAPublicKey as PKCS#1 costs ~7 µs. So the SPKI
 * wrapper is validated here and OpenSSL only sees the RSA key itself.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { bitString, bitStringBytes, children, DerError, isOid, NULL, readSingle, sequence, Tag } from './der.js';
import { OID_DER } from './oids.js';

export type PublicKeyAlgorithm = 'rsa' | 'ec' | 'other';

export interface SpkiSummary {
  algorithm: PublicKeyAlgorithm;
  /** RSA: modulus bit length; EC: curve size for P-256/384/521 (0 for other curves); other: 0. */
  keyBits: number;
  /** For RSA, the PKCS#1 RSAPublicKey DER (the subjectPublicKey BIT STRING contents). */
  rsaPublicKey: Uint8Array | null;
}

/**
 * Throws DerError unless `spki` is exactly one well-framed SubjectPublicKeyInfo. For RSA the key
 * structure is checked too: NULL or absent parameters, and RSAPublicKey = two positive INTEGERs.
 */
export function inspectSpki(spki: Uint8Array): SpkiSummary {
  const fields = children(spki, readSingle(spki, Tag.SEQUENCE, 'SubjectPublicKeyInfo'));
  const [algId, keyBitsTlv] = fields;
  if (fields.length !== 2 || !algId || !keyBitsTlv) throw new DerError('SubjectPublicKeyInfo: wrong number of fields');
  if (algId.tag !== Tag.SEQUENCE) throw new DerError('SubjectPublicKeyInfo: bad AlgorithmIdentifier');
  const [algOid, params, extra] = children(spki, algId);
  if (!algOid || algOid.tag !== Tag.OID || extra) throw new DerError('SubjectPublicKeyInfo: bad AlgorithmIdentifier');
  const key = bitStringBytes(spki, keyBitsTlv);

  if (isOid(spki, algOid, OID_DER.rsaEncryption)) {
    if (params && (params.tag !== Tag.NULL || params.end !== params.contentStart)) {
      throw new DerError('rsaEncryption parameters must be NULL');
    }
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    const ints = children(key, readSingle(key, Tag.SEQUENCE, 'RSAPublicKey'));
    const [modulus, exponent] = ints;
    for (const int of ints) {
      if (int.tag !== Tag.INTEGER || int.end === int.contentStart || (key[int.contentStart] as number) & 0x80) {
        throw new DerError('RSAPublicKey: modulus and exponent must be positive INTEGERs');
      }
    }
    if (ints.length !== 2 || !modulus || !exponent) throw new DerError('RSAPublicKey: wrong number of fields');
    let i = modulus.contentStart;
    while (i < modulus.end && key[i] === 0) i++;
    const keyBits = i === modulus.end ? 0 : (modulus.end - i - 1) * 8 + (32 - Math.clz32(key[i] as number));
    return { algorithm: 'rsa', keyBits, rsaPublicKey: key };
  }
  if (isOid(spki, algOid, OID_DER.ecPublicKey)) {
    let keyBits = 0;
    if (params?.tag === Tag.OID) {
      if (isOid(spki, params, OID_DER.secp256r1)) keyBits = 256;
      else if (isOid(spki, params, OID_DER.secp384r1)) keyBits = 384;
      else if (isOid(spki, params, OID_DER.secp521r1)) keyBits = 521;
    }
    return { algorithm: 'ec', keyBits, rsaPublicKey: null };
  }
  return { algorithm: 'other', keyBits: 0, rsaPublicKey: null };
}

/** KeyObject for an inspected SPKI, through the fast PKCS#1 route for RSA. Throws node/OpenSSL errors. */
export function publicKeyFromSpki(spki: Uint8Array, summary: SpkiSummary): KeyObject {
  return summary.rsaPublicKey
    ? createPublicKey({ key: Buffer.from(summary.rsaPublicKey), format: 'der', type: 'pkcs1' })
    : createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

/** AlgorithmIdentifier { rsaEncryption, NULL }: what OpenSSL writes for every plain RSA key. */
const RSA_ALGORITHM = sequence(OID_DER.rsaEncryption, NULL);

/**
 * DER SubjectPublicKeyInfo of a public key, or of the public half of a private key. For plain RSA keys
 * the SPKI is built around OpenSSL's PKCS#1 export (~2 µs) instead of asking for SPKI (~185 µs, the same
 * slow encoder framework as above); the bytes are identical to OpenSSL's SPKI encoding.
 */
export function spkiOf(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType === 'rsa') {
    return sequence(RSA_ALGORITHM, bitString(publicKey.export({ type: 'pkcs1', format: 'der' })));
  }
  return publicKey.export({ type: 'spki', format: 'der' });
}
