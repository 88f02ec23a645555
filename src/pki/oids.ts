/**
 * Object identifiers Winroll reads or writes, pre-encoded once so hot code compares and copies bytes
 * instead of formatting dotted strings.
 */
import { oid } from './der.js';

export const OID = {
  // Algorithms
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  /** OIW's sha1WithRSASignature: what Windows' enrollment client signs its PKCS#10 with. */
  oiwSha1WithRSA: '1.3.14.3.2.29',
  ecPublicKey: '1.2.840.10045.2.1',
  // Digests (CMS digestAlgorithm)
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecdsaWithSHA1: '1.2.840.10045.4.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  secp256r1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  // Names
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  // PKCS#7 / CMS content types (RFC 5652)
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  // PKCS#9
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  extensionRequest: '1.2.840.113549.1.9.14',
  // Extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  /** Windows enrollment client's DeviceID, requested as a CSR extension (raw ASCII + NUL, not DER). */
  msDeviceId: '1.3.6.1.4.1.311.66.1.0',
} as const;

type OidName = keyof typeof OID;

/** Full TLV encodings of every OID above. */
export const OID_DER = Object.fromEntries(Object.entries(OID).map(([k, v]) => [k, oid(v)])) as Record<OidName, Buffer>;
