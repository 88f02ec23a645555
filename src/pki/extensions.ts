/**
 * Builders for the certificate extensions Winroll emits. Each returns a complete Extension TLV so callers
 * can precompute and concatenate them.
 */
import { createHash } from 'node:crypto';
import { bitStringBytes, children, explicit, octetString, readSingle, sequence, Tag, TRUE, tlv } from './der.js';
import { OID_DER } from './oids.js';
import { ipAddressBytes } from './ip-address.js';

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export function extension(oidDer: Buffer, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oidDer, TRUE, octetString(value)) : sequence(oidDer, octetString(value));
}

/** `[3] EXPLICIT Extensions` as it sits at the end of a TBSCertificate. */
export const extensionsBlock = (...exts: Buffer[]): Buffer => explicit(3, sequence(...exts));

/** KeyUsage bit positions (RFC 5280 §4.2.1.3). */
export const KeyUsageBit = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** Always critical: the usages are a restriction, and Windows' accepted client cert had it critical. */
export function keyUsage(bits: ReadonlyArray<keyof typeof KeyUsageBit>): Buffer {
  const positions = bits.map((b) => KeyUsageBit[b]);
  const highest = Math.max(...positions);
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (const p of positions) bytes[p >> 3] = (bytes[p >> 3] as number) | (0x80 >> (p & 7));
  // DER named-bit lists drop trailing zero bits, so the unused-bit count follows the highest set bit.
  const value = tlv(Tag.BIT_STRING, Buffer.of(7 - (highest & 7)), bytes);
  return extension(OID_DER.keyUsage, true, value);
}

export function extKeyUsage(purposes: ReadonlyArray<'clientAuth' | 'serverAuth'>): Buffer {
  return extension(OID_DER.extKeyUsage, false, sequence(...purposes.map((p) => OID_DER[p])));
}

/** Critical in both forms; CA:FALSE is the empty SEQUENCE because cA defaults to FALSE. */
export function basicConstraints(ca: boolean): Buffer {
  return extension(OID_DER.basicConstraints, true, ca ? sequence(TRUE) : sequence());
}

export const subjectKeyIdentifier = (keyId: Uint8Array): Buffer => extension(OID_DER.subjectKeyIdentifier, false, octetString(keyId));

/** AuthorityKeyIdentifier with only `[0] keyIdentifier`, which is all chain builders use. */
export const authorityKeyIdentifier = (keyId: Uint8Array): Buffer =>
  extension(OID_DER.authorityKeyIdentifier, false, sequence(tlv(0x80, keyId)));

/** SubjectAltName with dNSName `[2]` and iPAddress `[7]` entries. */
export function subjectAltName(dnsNames: readonly string[], ipAddresses: readonly string[]): Buffer {
  const names = [
    ...dnsNames.map((d) => {
      // IA5String: ASCII only. Internationalised names must arrive as A-labels (punycode).
      if (!/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/.test(d)) throw new RangeError(`bad DNS name: ${d}`);
      return tlv(0x82, Buffer.from(d, 'latin1'));
    }),
    ...ipAddresses.map((ip) => tlv(0x87, ipAddressBytes(ip))),
  ];
  if (names.length === 0) throw new RangeError('subjectAltName needs at least one name');
  return extension(OID_DER.subjectAltName, false, sequence(...names));
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(spki: Uint8Array): Buffer {
  const outer = readSingle(spki, Tag.SEQUENCE, 'SubjectPublicKeyInfo');
  const key = children(spki, outer)[1];
  if (!key) throw new RangeError('SubjectPublicKeyInfo without a key');
  return createHash('sha1').update(bitStringBytes(spki, key)).digest();
}
