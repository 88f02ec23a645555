/**
 * The X.509 Certificate envelope: assembling and signing a TBSCertificate from already-encoded parts,
 * and locating fields inside an existing certificate. Everything Winroll signs is sha256WithRSAEncryption.
 */
import { sign, type KeyObject } from 'node:crypto';
import {
  bitString,
  children,
  content,
  DerError,
  decodeOid,
  explicit,
  NULL,
  readSingle,
  sequence,
  smallInteger,
  Tag,
  tlv,
  type Tlv,
  whole,
  x509Time,
} from './der.js';
import { OID_DER } from './oids.js';

export const SHA256_WITH_RSA = sequence(OID_DER.sha256WithRSAEncryption, NULL);
const VERSION_V3 = explicit(0, smallInteger(2));

/** RFC 5280 §4.1.2.2: at most 20 octets. */
const MAX_SERIAL_OCTETS = 20;

/**
 * Serial INTEGER from its DER content octets, which must already be a minimal, positive encoding, so
 * the serial in the certificate is byte-for-byte what the caller stored.
 */
export function serialInteger(serial: Uint8Array): Buffer {
  const n = serial.length;
  if (n === 0 || n > MAX_SERIAL_OCTETS) throw new RangeError(`serial must be 1-${MAX_SERIAL_OCTETS} bytes`);
  const b0 = serial[0] as number;
  if (b0 & 0x80) throw new RangeError('serial must be positive (top bit of the first byte clear)');
  if (b0 === 0 && (n === 1 || ((serial[1] as number) & 0x80) === 0)) {
    throw new RangeError('serial must be non-zero and minimally encoded (no redundant leading 0x00)');
  }
  return tlv(Tag.INTEGER, serial);
}

export function checkValidity(notBefore: Date, notAfter: Date): void {
  if (!(notBefore instanceof Date) || !(notAfter instanceof Date)) throw new TypeError('validity must be Dates');
  if (!(notAfter.getTime() > notBefore.getTime())) throw new RangeError('notAfter must be after notBefore');
}

export interface TbsParts {
  /** INTEGER TLV from serialInteger(). */
  serial: Uint8Array;
  /** Whole Name TLVs. */
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** Whole SubjectPublicKeyInfo TLV. */
  spki: Uint8Array;
  /** `[3]` block from extensionsBlock(). */
  extensions: Uint8Array;
}

export function encodeTbs(p: TbsParts): Buffer {
  return sequence(
    VERSION_V3,
    p.serial,
    SHA256_WITH_RSA,
    p.issuer,
    sequence(x509Time(p.notBefore), x509Time(p.notAfter)),
    p.subject,
    p.spki,
    p.extensions,
  );
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } */
export function signTbs(tbs: Buffer, caKey: KeyObject): Buffer {
  return assembleCertificate(tbs, sign('sha256', tbs, caKey));
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm (sha256WithRSA), signatureValue }. */
export function assembleCertificate(tbs: Buffer, signature: Buffer): Buffer {
  return sequence(tbs, SHA256_WITH_RSA, bitString(signature));
}

export interface CertificateFields {
  /** Serial INTEGER content octets. */
  serial: Uint8Array;
  /** Whole Name TLVs, exactly as encoded. */
  issuer: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  /** Extension values (the extnValue contents) by dotted OID. */
  extensions: Map<string, { critical: boolean; value: Uint8Array }>;
}

/** Locate fields in a DER certificate without re-encoding anything. Throws DerError on bad framing. */
export function readCertificateFields(der: Uint8Array): CertificateFields {
  const cert = readSingle(der, Tag.SEQUENCE, 'Certificate');
  const tbs = children(der, cert)[0];
  if (!tbs || tbs.tag !== Tag.SEQUENCE) throw new DerError('Certificate: missing TBSCertificate');
  const f = children(der, tbs);
  let i = f[0]?.tag === 0xa0 ? 1 : 0; // version is optional (v1)
  const next = (tag: number, what: string): Tlv => {
    const t = f[i++];
    if (!t || t.tag !== tag) throw new DerError(`TBSCertificate: bad ${what}`);
    return t;
  };
  const serial = next(Tag.INTEGER, 'serialNumber');
  next(Tag.SEQUENCE, 'signature');
  const issuer = next(Tag.SEQUENCE, 'issuer');
  next(Tag.SEQUENCE, 'validity');
  const subject = next(Tag.SEQUENCE, 'subject');
  const spki = next(Tag.SEQUENCE, 'subjectPublicKeyInfo');
  const extensions = new Map<string, { critical: boolean; value: Uint8Array }>();
  const extBlock = f.slice(i).find((t) => t.tag === 0xa3);
  if (extBlock) {
    const list = children(der, extBlock)[0];
    if (!list || list.tag !== Tag.SEQUENCE) throw new DerError('TBSCertificate: bad extensions');
    for (const ext of children(der, list)) {
      const [id, second, third] = children(der, ext);
      if (!id || id.tag !== Tag.OID || !second) throw new DerError('Extension: bad structure');
      const critical = second.tag === Tag.BOOLEAN && der[second.contentStart] !== 0;
      const value = second.tag === Tag.BOOLEAN ? third : second;
      if (!value || value.tag !== Tag.OCTET_STRING) throw new DerError('Extension: bad extnValue');
      extensions.set(decodeOid(content(der, id)), { critical, value: content(der, value) });
    }
  }
  return {
    serial: content(der, serial),
    issuer: whole(der, issuer),
    subject: whole(der, subject),
    spki: whole(der, spki),
    extensions,
  };
}
