/**
 * PKCS#10 as the Windows enrollment client writes it (protocol.md §4.4), read leniently and verified
 * strictly; plus the inverse, a byte-faithful Windows-style CSR for the device simulator.
 *
 * Windows' CSR is not strict DER: its subject CN is a PrintableString holding '!' and a trailing NUL,
 * which strict parsers reject. This reader only walks TLV framing and keeps raw slices, so string
 * contents never matter, and the signature is checked over the CertificationRequestInfo bytes exactly
 * as received. It is also cheap: no object model, one KeyObject at verification time.
 */
import { type KeyObject, sign, verify } from 'node:crypto';
import {
  bitString,
  bitStringBytes,
  children,
  content,
  DerError,
  decodeOid,
  explicit,
  isOid,
  NULL,
  octetString,
  readSingle,
  sequence,
  set,
  smallInteger,
  Tag,
  type Tlv,
  tlv,
  whole,
} from './der.js';
import { CertificateRequestError } from './errors.js';
import { OID, OID_DER } from './oids.js';
import { inspectSpki, type PublicKeyAlgorithm, publicKeyFromSpki, spkiOf } from './spki.js';

export { CertificateRequestError } from './errors.js';
export type { CertificateRequestErrorReason } from './errors.js';

export interface ParsedCsr {
  /**
   * Subject CN exactly as sent. For Windows: first 30 characters of a request GUID, '!', the DeviceID
   * and a NUL. Empty when the subject has no CN. Not an identity: take the DeviceID from AdditionalContext.
   */
  subjectCommonName: string;
  /** The same with control characters (Windows' trailing NUL) removed, for logs and display. */
  subjectCommonNameClean: string;
  /** DER SubjectPublicKeyInfo as received; pass to issueDeviceCertificate. */
  publicKeySpki: Buffer;
  publicKeyAlgorithm: PublicKeyAlgorithm;
  /** RSA modulus bits, EC curve bits, 0 when unknown. */
  keyBits: number;
  /** Dotted OID; Windows uses 1.3.14.3.2.29 (OIW sha1WithRSA). */
  signatureAlgorithmOid: string;
  /** Extension 1.3.6.1.4.1.311.66.1.0 decoded as ASCII with trailing NULs removed; null when absent. */
  deviceIdExtension: string | null;
  /** The signed bytes (whole CertificationRequestInfo TLV) and the signature, for verification. */
  certificationRequestInfo: Buffer;
  signature: Buffer;
}

// ---------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------

/** Throws CertificateRequestError('malformed') for anything that is not a framed PKCS#10, never anything else. */
export function parseCertificateRequest(der: Buffer): ParsedCsr {
  if (!(der instanceof Uint8Array)) throw new CertificateRequestError('malformed', 'CSR must be bytes');
  try {
    return parse(der);
  } catch (err) {
    if (err instanceof CertificateRequestError) throw err;
    const detail = err instanceof DerError ? `: ${err.message}` : '';
    throw new CertificateRequestError('malformed', `CSR is not a valid PKCS#10 request${detail}`, { cause: err });
  }
}

function field(list: Tlv[], index: number, tag: number, what: string): Tlv {
  const t = list[index];
  if (!t || t.tag !== tag) throw new DerError(`CertificationRequest: bad ${what}`);
  return t;
}

function parse(der: Uint8Array): ParsedCsr {
  // CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
  const top = children(der, readSingle(der, Tag.SEQUENCE, 'CertificationRequest'));
  if (top.length !== 3) throw new DerError('CertificationRequest: expected 3 fields');
  const cri = field(top, 0, Tag.SEQUENCE, 'certificationRequestInfo');
  const sigAlg = children(der, field(top, 1, Tag.SEQUENCE, 'signatureAlgorithm'));
  const signature = bitStringBytes(der, field(top, 2, Tag.BIT_STRING, 'signature'));

  // CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name, subjectPKInfo, attributes [0] }
  const info = children(der, cri);
  const version = field(info, 0, Tag.INTEGER, 'version');
  if (version.end - version.contentStart !== 1 || der[version.contentStart] !== 0) {
    throw new DerError('CertificationRequest: unsupported version');
  }
  const subject = field(info, 1, Tag.SEQUENCE, 'subject');
  const spkiTlv = field(info, 2, Tag.SEQUENCE, 'subjectPKInfo');
  // Attributes are mandatory in the ASN.1 but some encoders omit an empty set; tolerate that.
  const attributes = info[3];
  if (attributes && attributes.tag !== 0xa0) throw new DerError('CertificationRequest: bad attributes');
  if (info.length > 4) throw new DerError('CertificationRequest: unexpected fields');

  const spki = whole(der, spkiTlv);
  const { algorithm, keyBits } = inspectSpki(spki);
  const sigOid = sigAlg[0];
  if (!sigOid || sigOid.tag !== Tag.OID) throw new DerError('CertificationRequest: bad signature algorithm');
  const cn = commonName(der, subject);

  return {
    subjectCommonName: cn,
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    subjectCommonNameClean: cn.replace(/[\u0000-\u001f\u007f]/g, ''),
    publicKeySpki: Buffer.from(spki),
    publicKeyAlgorithm: algorithm,
    keyBits,
    signatureAlgorithmOid: decodeOid(content(der, sigOid)),
    deviceIdExtension: attributes ? deviceIdFromAttributes(der, attributes) : null,
    certificationRequestInfo: Buffer.from(whole(der, cri)),
    signature: Buffer.from(signature),
  };
}

/** First commonName in the subject, decoded by its string type without judging its characters. */
function commonName(der: Uint8Array, subject: Tlv): string {
  for (const rdn of children(der, subject)) {
    if (rdn.tag !== Tag.SET) throw new DerError('Name: RDN is not a SET');
    for (const atv of children(der, rdn)) {
      if (atv.tag !== Tag.SEQUENCE) throw new DerError('Name: bad AttributeTypeAndValue');
      const [type, value] = children(der, atv);
      if (!type || type.tag !== Tag.OID || !value) throw new DerError('Name: bad AttributeTypeAndValue');
      if (isOid(der, type, OID_DER.commonName)) return decodeString(value.tag, content(der, value));
    }
  }
  return '';
}

function decodeString(tag: number, bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (tag) {
    case Tag.UTF8_STRING:
      return buf.toString('utf8');
    case Tag.BMP_STRING: // UCS-2 big-endian
      return Buffer.from(buf).swap16().toString('utf16le');
    case Tag.UNIVERSAL_STRING: {
      if (buf.length % 4 !== 0) throw new DerError('UniversalString length');
      let s = '';
      for (let i = 0; i < buf.length; i += 4) s += String.fromCodePoint(buf.readUInt32BE(i));
      return s;
    }
    default:
      // PrintableString, IA5String, T61String, VisibleString: single-byte. latin1 keeps every byte
      // (including Windows' '!' and NUL) so nothing is lost or rejected.
      return buf.toString('latin1');
  }
}

/** Finds extension 1.3.6.1.4.1.311.66.1.0 inside the extensionRequest attribute. */
function deviceIdFromAttributes(der: Uint8Array, attributes: Tlv): string | null {
  for (const attr of children(der, attributes)) {
    const [type, values] = children(der, attr);
    if (attr.tag !== Tag.SEQUENCE || !type || type.tag !== Tag.OID || !values || values.tag !== Tag.SET) {
      throw new DerError('Attribute: bad structure');
    }
    if (!isOid(der, type, OID_DER.extensionRequest)) continue;
    for (const extensions of children(der, values)) {
      if (extensions.tag !== Tag.SEQUENCE) throw new DerError('extensionRequest: bad Extensions');
      for (const ext of children(der, extensions)) {
        const parts = children(der, ext);
        const id = parts[0];
        const value = parts[parts.length - 1];
        if (!id || id.tag !== Tag.OID || !value || value.tag !== Tag.OCTET_STRING || parts.length > 3) {
          throw new DerError('Extension: bad structure');
        }
        if (!isOid(der, id, OID_DER.msDeviceId)) continue;
        // Windows puts the ASCII DeviceID and a NUL straight into extnValue (no inner DER string).
        let end = value.end;
        while (end > value.contentStart && der[end - 1] === 0) end--;
        return Buffer.from(der.subarray(value.contentStart, end)).toString('latin1');
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------------

const SIGNATURE_ALGORITHMS: Record<string, { hash: string; key: 'rsa' | 'ec' }> = {
  [OID.oiwSha1WithRSA]: { hash: 'sha1', key: 'rsa' },
  [OID.sha1WithRSAEncryption]: { hash: 'sha1', key: 'rsa' },
  [OID.sha256WithRSAEncryption]: { hash: 'sha256', key: 'rsa' },
  [OID.sha384WithRSAEncryption]: { hash: 'sha384', key: 'rsa' },
  [OID.sha512WithRSAEncryption]: { hash: 'sha512', key: 'rsa' },
  [OID.ecdsaWithSHA1]: { hash: 'sha1', key: 'ec' },
  [OID.ecdsaWithSHA256]: { hash: 'sha256', key: 'ec' },
  [OID.ecdsaWithSHA384]: { hash: 'sha384', key: 'ec' },
  [OID.ecdsaWithSHA512]: { hash: 'sha512', key: 'ec' },
};

/**
 * Proof of possession: the CSR's self-signature over its CertificationRequestInfo. SHA-1 is accepted
 * because Windows signs with it; the signature only proves key possession, it certifies nothing.
 * Throws CertificateRequestError ('unsupported_algorithm', 'malformed' or 'bad_signature').
 */
export function verifyCertificateRequest(parsed: ParsedCsr): void {
  const alg = SIGNATURE_ALGORITHMS[parsed.signatureAlgorithmOid];
  if (!alg) {
    throw new CertificateRequestError('unsupported_algorithm', `unsupported CSR signature algorithm ${parsed.signatureAlgorithmOid}`);
  }
  let key: KeyObject;
  try {
    key = publicKeyFromSpki(parsed.publicKeySpki, inspectSpki(parsed.publicKeySpki));
  } catch (err) {
    throw new CertificateRequestError('malformed', 'CSR public key cannot be loaded', { cause: err });
  }
  if (key.asymmetricKeyType !== alg.key) {
    throw new CertificateRequestError('bad_signature', `${parsed.signatureAlgorithmOid} signature with a ${key.asymmetricKeyType} key`);
  }
  let ok: boolean;
  try {
    ok = verify(alg.hash, parsed.certificationRequestInfo, key, parsed.signature);
  } catch (err) {
    // OpenSSL throws rather than returning false for some garbage signatures (e.g. bad ECDSA DER).
    throw new CertificateRequestError('bad_signature', 'CSR signature does not verify', { cause: err });
  }
  if (!ok) throw new CertificateRequestError('bad_signature', 'CSR signature does not verify');
}

/** The key rules for a Windows client certificate: RSA of at least `minBits`. */
export function assertAcceptableKey(parsed: ParsedCsr, minBits = 2048): void {
  if (parsed.publicKeyAlgorithm !== 'rsa') {
    throw new CertificateRequestError('unsupported_key_type', `CSR key is ${parsed.publicKeyAlgorithm}; RSA required`);
  }
  if (parsed.keyBits < minBits) {
    throw new CertificateRequestError('key_too_small', `RSA key of ${parsed.keyBits} bits; at least ${minBits} required`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Building (device simulator)
// ---------------------------------------------------------------------------------------------------

export interface BuildWindowsCsrInput {
  /** RSA private key (Windows signs with OIW sha1WithRSA, so only RSA is possible). */
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** DeviceID, e.g. 32 uppercase hex characters. */
  deviceId: string;
  /** A GUID in 8-4-4-4-12 form; Windows puts its first 30 characters, uppercase, in the CN. */
  requestGuid: string;
}

const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const SHA1_WITH_RSA_OIW = sequence(OID_DER.oiwSha1WithRSA, NULL);

/** A PKCS#10 with the same structure and quirks as the captured Windows 10 requests. */
export function buildWindowsCsr(input: BuildWindowsCsrInput): Buffer {
  const { privateKey, publicKey, deviceId, requestGuid } = input;
  if (privateKey.asymmetricKeyType !== 'rsa') throw new TypeError('Windows-style CSRs are RSA');
  if (!GUID.test(requestGuid)) throw new TypeError('requestGuid must be a GUID (8-4-4-4-12)');
  if (!/^[\x21-\x7e]+$/.test(deviceId)) throw new TypeError('deviceId must be printable ASCII');

  // The quirks, byte for byte: PrintableString tag around '!' and NUL, and raw ASCII+NUL as extnValue.
  const cnBytes = Buffer.from(`${requestGuid.toUpperCase().slice(0, 30)}!${deviceId}\0`, 'latin1');
  const subject = sequence(set(sequence(OID_DER.commonName, tlv(Tag.PRINTABLE_STRING, cnBytes))));
  const deviceIdExt = sequence(OID_DER.msDeviceId, octetString(Buffer.from(`${deviceId}\0`, 'latin1')));
  // attributes is `[0] IMPLICIT SET OF Attribute`: tag 0xA0 around the Attribute itself, hence explicit(0, ...).
  const attributes = explicit(0, sequence(OID_DER.extensionRequest, set(sequence(deviceIdExt))));
  // Not checked against privateKey on purpose: the simulator can then produce a CSR that fails verification.
  const spki = spkiOf(publicKey);

  const cri = sequence(smallInteger(0), subject, spki, attributes);
  return sequence(cri, SHA1_WITH_RSA_OIW, bitString(sign('sha1', cri, privateKey)));
}
