/**
 * The renewal request of a Windows MDM client (MS-MDE2 §3.5, protocol.md §8.3): a PKCS#7 / CMS
 * SignedData (RFC 5652) whose encapsulated content is the new PKCS#10 and whose one signer is the
 * certificate being renewed, i.e. it is signed with the device's OLD key. Proof of possession of the new
 * key is the PKCS#10's own signature; the CMS signature proves the request comes from the holder of the
 * current certificate.
 *
 * Read with the same lean DER reader as the CSR: only framing is walked, the signed bytes are verified
 * exactly as received. Accepted: signer identified by issuerAndSerialNumber or subjectKeyIdentifier,
 * SHA-1 or SHA-2 digests, RSA PKCS#1 v1.5 signatures (`rsaEncryption` or `shaXWithRSAEncryption` as the
 * signature algorithm), with signed attributes (messageDigest checked, signature over their DER SET) or
 * without (signature over the content). Which digest Windows uses is not documented and no capture
 * exists; SHA-1 (what its PKCS#10 is signed with) and SHA-2 are both accepted.
 */
import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import { readCertificateFields } from './certificate.js';
import {
  children,
  content,
  DerError,
  decodeOid,
  explicit,
  NULL,
  octetString,
  readSingle,
  readTlv,
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
import { inspectSpki, publicKeyFromSpki } from './spki.js';

export type RenewalDigest = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** How a SignerInfo names its certificate (RFC 5652 §5.3 SignerIdentifier). */
export type SignerIdentifier =
  | { kind: 'issuerAndSerialNumber'; issuer: Buffer; serial: Buffer }
  | { kind: 'subjectKeyIdentifier'; keyId: Buffer };

export interface ParsedSigner {
  sid: SignerIdentifier;
  /** Dotted OIDs as received. */
  digestAlgorithmOid: string;
  signatureAlgorithmOid: string;
  /** The signed attributes re-tagged as `SET OF` (what is signed), or null when there are none. */
  signedAttributes: Buffer | null;
  /** The messageDigest attribute value, when signed attributes are present. */
  messageDigest: Buffer | null;
  /** The contentType attribute value (dotted), when present. */
  contentTypeAttribute: string | null;
  signature: Buffer;
}

export interface ParsedRenewalRequest {
  /** eContentType, dotted (Windows: id-data). */
  contentType: string;
  /** The encapsulated content octets: the new PKCS#10 (see `csrDer`). */
  content: Buffer;
  /** Certificates carried in the SignedData, DER (Windows includes the signer's). */
  certificates: Buffer[];
  signers: ParsedSigner[];
}

export interface OpenedRenewalRequest {
  /** The inner PKCS#10 DER, for parseCertificateRequest. */
  csrDer: Buffer;
  digest: RenewalDigest;
  /** Whether the signature covered signed attributes (true for CryptoAPI-made requests). */
  signedAttributes: boolean;
}

const DIGESTS: Record<string, RenewalDigest> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** RSA PKCS#1 v1.5 signature algorithms; `null` = the hash is the SignerInfo's digestAlgorithm. */
const RSA_SIGNATURES: Record<string, RenewalDigest | null> = {
  [OID.rsaEncryption]: null,
  [OID.oiwSha1WithRSA]: 'sha1',
  [OID.sha1WithRSAEncryption]: 'sha1',
  [OID.sha256WithRSAEncryption]: 'sha256',
  [OID.sha384WithRSAEncryption]: 'sha384',
  [OID.sha512WithRSAEncryption]: 'sha512',
};

const malformed = (message: string, cause?: unknown): CertificateRequestError =>
  new CertificateRequestError('malformed', message, cause === undefined ? undefined : { cause });

// ---------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------

/** Throws CertificateRequestError('malformed') for anything that is not a framed CMS SignedData. */
export function parseRenewalRequest(der: Uint8Array): ParsedRenewalRequest {
  if (!(der instanceof Uint8Array)) throw malformed('renewal request must be bytes');
  try {
    return parse(der);
  } catch (err) {
    if (err instanceof CertificateRequestError) throw err;
    const detail = err instanceof DerError ? `: ${err.message}` : '';
    throw malformed(`renewal request is not a valid PKCS#7 SignedData${detail}`, err);
  }
}

function at(list: Tlv[], index: number, tag: number, what: string): Tlv {
  const t = list[index];
  if (!t || t.tag !== tag) throw new DerError(`SignedData: bad ${what}`);
  return t;
}

function oidAt(der: Uint8Array, list: Tlv[], index: number, what: string): string {
  return decodeOid(content(der, at(list, index, Tag.OID, what)));
}

function parse(der: Uint8Array): ParsedRenewalRequest {
  // ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER, content [0] EXPLICIT ANY }
  const info = children(der, readSingle(der, Tag.SEQUENCE, 'ContentInfo'));
  if (info.length !== 2) throw new DerError('ContentInfo: expected 2 fields');
  if (oidAt(der, info, 0, 'contentType') !== OID.signedData) throw malformed('renewal request is a PKCS#7 of another type than SignedData');
  const wrapped = children(der, at(info, 1, 0xa0, 'content'));
  if (wrapped.length !== 1) throw new DerError('ContentInfo: bad content');

  // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, certificates [0] IMPLICIT
  //   OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos SET }
  const sd = children(der, at(wrapped, 0, Tag.SEQUENCE, 'SignedData'));
  at(sd, 0, Tag.INTEGER, 'version');
  at(sd, 1, Tag.SET, 'digestAlgorithms');
  const encap = children(der, at(sd, 2, Tag.SEQUENCE, 'encapContentInfo'));
  const contentType = oidAt(der, encap, 0, 'eContentType');
  const eContent = encap[1];
  if (!eContent) throw malformed('renewal request carries no certificate request (detached content)');
  if (eContent.tag !== 0xa0 || encap.length > 2) throw new DerError('SignedData: bad eContent');
  const octets = children(der, eContent);
  if (octets.length !== 1 || !octets[0]) throw new DerError('SignedData: bad eContent');
  const encapsulated = octetStringValue(der, octets[0]);

  let i = 3;
  const certificates: Buffer[] = [];
  if (sd[i]?.tag === 0xa0) {
    // CertificateChoices: only plain certificates (SEQUENCE) are of interest; others are skipped.
    for (const c of children(der, sd[i] as Tlv)) if (c.tag === Tag.SEQUENCE) certificates.push(Buffer.from(whole(der, c)));
    i++;
  }
  if (sd[i]?.tag === 0xa1) i++;
  const signerInfos = at(sd, i, Tag.SET, 'signerInfos');
  if (sd.length !== i + 1) throw new DerError('SignedData: unexpected fields');
  const signers = children(der, signerInfos).map((s) => signerInfo(der, s));
  if (signers.length === 0) throw malformed('renewal request is not signed');

  return { contentType, content: encapsulated, certificates, signers };
}

/** OCTET STRING, primitive or (BER, definite length) constructed from primitive segments. */
function octetStringValue(der: Uint8Array, t: Tlv): Buffer {
  if (t.tag === Tag.OCTET_STRING) return Buffer.from(content(der, t));
  if (t.tag === (Tag.OCTET_STRING | 0x20)) return Buffer.concat(children(der, t).map((s) => octetStringValue(der, s)));
  throw new DerError('SignedData: eContent is not an OCTET STRING');
}

// SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT OPTIONAL,
//   signatureAlgorithm, signature OCTET STRING, unsignedAttrs [1] IMPLICIT OPTIONAL }
function signerInfo(der: Uint8Array, t: Tlv): ParsedSigner {
  if (t.tag !== Tag.SEQUENCE) throw new DerError('SignerInfo: not a SEQUENCE');
  const f = children(der, t);
  at(f, 0, Tag.INTEGER, 'SignerInfo version');
  const sidTlv = f[1];
  let sid: SignerIdentifier;
  if (sidTlv?.tag === Tag.SEQUENCE) {
    // IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER }
    const parts = children(der, sidTlv);
    const issuer = at(parts, 0, Tag.SEQUENCE, 'issuer');
    const serial = at(parts, 1, Tag.INTEGER, 'serialNumber');
    if (parts.length !== 2) throw new DerError('SignerInfo: bad IssuerAndSerialNumber');
    sid = { kind: 'issuerAndSerialNumber', issuer: Buffer.from(whole(der, issuer)), serial: Buffer.from(content(der, serial)) };
  } else if (sidTlv?.tag === 0x80) {
    sid = { kind: 'subjectKeyIdentifier', keyId: Buffer.from(content(der, sidTlv)) };
  } else {
    throw new DerError('SignerInfo: bad sid');
  }
  const digestAlgorithmOid = oidAt(der, children(der, at(f, 2, Tag.SEQUENCE, 'digestAlgorithm')), 0, 'digestAlgorithm');
  let i = 3;
  let signedAttributes: Buffer | null = null;
  let messageDigest: Buffer | null = null;
  let contentTypeAttribute: string | null = null;
  const attrs = f[i];
  if (attrs?.tag === 0xa0) {
    // What is signed is the DER of `SET OF Attribute`: the same bytes with the SET tag (RFC 5652 §5.4).
    signedAttributes = Buffer.from(whole(der, attrs));
    signedAttributes[0] = Tag.SET;
    for (const a of children(der, attrs)) {
      if (a.tag !== Tag.SEQUENCE) throw new DerError('Attribute: not a SEQUENCE');
      const [type, values, extra] = children(der, a);
      if (!type || type.tag !== Tag.OID || !values || values.tag !== Tag.SET || extra) throw new DerError('Attribute: bad structure');
      const vs = children(der, values);
      const oid = decodeOid(content(der, type));
      if (oid === OID.messageDigest) {
        if (messageDigest !== null || vs.length !== 1 || vs[0]?.tag !== Tag.OCTET_STRING)
          throw malformed('renewal request has a bad messageDigest attribute');
        messageDigest = Buffer.from(content(der, vs[0]));
      } else if (oid === OID.contentType) {
        if (contentTypeAttribute !== null || vs.length !== 1 || vs[0]?.tag !== Tag.OID)
          throw malformed('renewal request has a bad contentType attribute');
        contentTypeAttribute = decodeOid(content(der, vs[0]));
      }
    }
    i++;
  }
  const signatureAlgorithmOid = oidAt(der, children(der, at(f, i, Tag.SEQUENCE, 'signatureAlgorithm')), 0, 'signatureAlgorithm');
  const signature = Buffer.from(content(der, at(f, i + 1, Tag.OCTET_STRING, 'signature')));
  if (f.length > i + 3 || (f.length === i + 3 && f[i + 2]?.tag !== 0xa1)) throw new DerError('SignerInfo: unexpected fields');
  return { sid, digestAlgorithmOid, signatureAlgorithmOid, signedAttributes, messageDigest, contentTypeAttribute, signature };
}

// ---------------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------------

interface SignerCertificate {
  issuer: Buffer;
  serial: Buffer;
  /** Key identifiers this certificate may be named by: its SKI extension and the RFC 5280 SHA-1 forms. */
  keyIds: Buffer[];
  publicKey: KeyObject;
}

function signerCertificate(der: Uint8Array): SignerCertificate {
  try {
    const fields = readCertificateFields(der);
    const summary = inspectSpki(fields.spki);
    const keyIds: Buffer[] = [];
    const ski = fields.extensions.get(OID.subjectKeyIdentifier);
    if (ski) keyIds.push(Buffer.from(content(ski.value, readSingle(ski.value, Tag.OCTET_STRING, 'SubjectKeyIdentifier'))));
    // No SKI extension (Winroll's device certificates have none): RFC 5280 §4.2.1.2 method 1 (SHA-1 of
    // the subjectPublicKey bits), and SHA-1 of the whole SubjectPublicKeyInfo.
    const spkiFields = children(fields.spki, readSingle(fields.spki, Tag.SEQUENCE, 'SubjectPublicKeyInfo'));
    const keyBits = spkiFields[1];
    if (keyBits)
      keyIds.push(
        createHash('sha1')
          .update(fields.spki.subarray(keyBits.contentStart + 1, keyBits.end))
          .digest(),
      );
    keyIds.push(createHash('sha1').update(fields.spki).digest());
    return {
      issuer: Buffer.from(fields.issuer),
      serial: Buffer.from(fields.serial),
      keyIds,
      publicKey: publicKeyFromSpki(fields.spki, summary),
    };
  } catch (err) {
    throw malformed('the certificate being renewed cannot be read', err);
  }
}

function names(sid: SignerIdentifier, cert: SignerCertificate): boolean {
  return sid.kind === 'issuerAndSerialNumber'
    ? sid.issuer.equals(cert.issuer) && sid.serial.equals(cert.serial)
    : cert.keyIds.some((k) => k.equals(sid.keyId));
}

/**
 * Checks that `parsed` is signed by `signerCertificateDer` (the certificate being renewed, as presented
 * over TLS): one SignerInfo must name that certificate and its signature must verify with the
 * certificate's key, over the signed attributes (whose messageDigest must match the content) or over the
 * content. Returns the inner PKCS#10. Throws CertificateRequestError: 'signer_mismatch' (signed by
 * someone else), 'bad_signature', 'unsupported_algorithm' or 'malformed'.
 */
export function verifyRenewalRequest(parsed: ParsedRenewalRequest, signerCertificateDer: Uint8Array): OpenedRenewalRequest {
  const cert = signerCertificate(signerCertificateDer);
  const signer = parsed.signers.find((s) => names(s.sid, cert));
  if (!signer) throw new CertificateRequestError('signer_mismatch', 'the renewal request is not signed by the certificate being renewed');

  const digest = DIGESTS[signer.digestAlgorithmOid];
  if (!digest)
    throw new CertificateRequestError('unsupported_algorithm', `unsupported renewal digest algorithm ${signer.digestAlgorithmOid}`);
  const sigHash = RSA_SIGNATURES[signer.signatureAlgorithmOid];
  if (sigHash === undefined) {
    throw new CertificateRequestError('unsupported_algorithm', `unsupported renewal signature algorithm ${signer.signatureAlgorithmOid}`);
  }
  if (sigHash !== null && sigHash !== digest) {
    throw new CertificateRequestError(
      'unsupported_algorithm',
      `signature algorithm ${signer.signatureAlgorithmOid} with digest ${signer.digestAlgorithmOid}`,
    );
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa') {
    throw new CertificateRequestError(
      'unsupported_key_type',
      `the certificate being renewed has a ${cert.publicKey.asymmetricKeyType} key; RSA required`,
    );
  }

  let signed: Buffer = parsed.content;
  if (signer.signedAttributes) {
    // RFC 5652 §5.3: with signed attributes, contentType and messageDigest are mandatory.
    if (!signer.messageDigest) throw malformed('renewal request has signed attributes but no messageDigest');
    if (signer.contentTypeAttribute !== null && signer.contentTypeAttribute !== parsed.contentType) {
      throw new CertificateRequestError('bad_signature', 'the signed contentType differs from the encapsulated content type');
    }
    if (!createHash(digest).update(parsed.content).digest().equals(signer.messageDigest)) {
      throw new CertificateRequestError('bad_signature', 'the renewal request content does not match its signed digest');
    }
    signed = signer.signedAttributes;
  }
  let ok: boolean;
  try {
    ok = verify(digest, signed, cert.publicKey, signer.signature);
  } catch (err) {
    throw new CertificateRequestError('bad_signature', 'the renewal request signature does not verify', { cause: err });
  }
  if (!ok) throw new CertificateRequestError('bad_signature', 'the renewal request signature does not verify');
  return { csrDer: innerRequest(parsed.content), digest, signedAttributes: signer.signedAttributes !== null };
}

/** Parse and verify in one go: the PKCS#10 inside a renewal request signed by `signerCertificateDer`. */
export function openRenewalRequest(der: Uint8Array, signerCertificateDer: Uint8Array): OpenedRenewalRequest {
  return verifyRenewalRequest(parseRenewalRequest(der), signerCertificateDer);
}

/**
 * The content is the PKCS#10 DER. Microsoft documents that manual (non-ROBO) renewal base64-encodes the
 * PKCS#7 message content; so a content that is base64 text of a SEQUENCE is decoded once.
 */
function innerRequest(bytes: Buffer): Buffer {
  if (bytes[0] === Tag.SEQUENCE) return bytes;
  const text = bytes.toString('latin1').replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const decoded = Buffer.from(text, 'base64');
    try {
      if (decoded[0] === Tag.SEQUENCE && readTlv(decoded, 0).end === decoded.length) return decoded;
    } catch {
      // fall through: not DER either
    }
  }
  throw malformed('the renewal request content is not a PKCS#10 request');
}

// ---------------------------------------------------------------------------------------------------
// Building (device simulator)
// ---------------------------------------------------------------------------------------------------

export interface BuildRenewalRequestInput {
  /** The certificate being renewed (DER); identifies the signer and is included in the SignedData. */
  oldCertDer: Uint8Array;
  /** Its private key: the request is signed with the OLD key. */
  oldKey: KeyObject;
  /** The new PKCS#10 (buildWindowsCsr), wrapped as id-data content. */
  newCsrDer: Uint8Array;
  /**
   * Default 'sha1'. Undocumented for Windows; SHA-1 mirrors the OIW sha1WithRSA of its PKCS#10 (the same
   * CryptoAPI stack builds both), 'sha256' exercises the SHA-2 path.
   */
  digest?: 'sha1' | 'sha256';
  /** Default true, as CryptoAPI writes it (contentType + messageDigest); false signs the content directly. */
  signedAttributes?: boolean;
  /** Default true: include the old certificate in `certificates`. */
  includeCertificate?: boolean;
}

const DIGEST_OID_DER: Record<'sha1' | 'sha256', Buffer> = { sha1: OID_DER.sha1, sha256: OID_DER.sha256 };

/** DER `SET OF`: elements sorted by their encodings (X.690 §11.6). */
function setOf(items: Buffer[]): Buffer {
  return set(...[...items].sort(Buffer.compare));
}

/** A renewal request shaped like the CryptoAPI one: SignedData v1, issuerAndSerialNumber, rsaEncryption. */
export function buildRenewalRequest(input: BuildRenewalRequestInput): Buffer {
  const digest = input.digest ?? 'sha1';
  const digestAlg = sequence(DIGEST_OID_DER[digest], NULL);
  const fields = readCertificateFields(input.oldCertDer);
  const sid = sequence(fields.issuer, tlv(Tag.INTEGER, fields.serial));

  let signedAttrs = Buffer.alloc(0);
  let signature: Buffer;
  if (input.signedAttributes ?? true) {
    const attrs = [
      sequence(OID_DER.contentType, set(OID_DER.data)),
      sequence(OID_DER.messageDigest, set(octetString(createHash(digest).update(input.newCsrDer).digest()))),
    ];
    const asSet = setOf(attrs);
    signature = sign(digest, asSet, input.oldKey);
    signedAttrs = Buffer.from(asSet);
    signedAttrs[0] = 0xa0; // [0] IMPLICIT in the SignerInfo
  } else {
    signature = sign(digest, input.newCsrDer, input.oldKey);
  }
  const signerInfo = sequence(smallInteger(1), sid, digestAlg, signedAttrs, sequence(OID_DER.rsaEncryption, NULL), octetString(signature));
  const signedData = sequence(
    smallInteger(1),
    set(digestAlg),
    sequence(OID_DER.data, explicit(0, octetString(input.newCsrDer))),
    (input.includeCertificate ?? true) ? tlv(0xa0, input.oldCertDer) : Buffer.alloc(0),
    set(signerInfo),
  );
  return sequence(OID_DER.signedData, explicit(0, signedData));
}
