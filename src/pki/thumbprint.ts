/**
 * Certificate identity as Windows and admins see it: the uppercase SHA-1 thumbprint that names entries
 * in the Windows certificate store (and the provisioning doc's CertificateStore characteristics), plus
 * the basic facts node:crypto can read natively.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readCertificateFields } from './certificate.js';

export function sha1Thumbprint(der: Uint8Array): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase();
}

export interface CertificateInfo {
  /** Lower-case hex of the serial's DER content octets, exactly as encoded (leading 00 kept). */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** node's rendering, one `KEY=value` per line (e.g. "CN=B5B9..."). */
  subject: string;
  issuer: string;
  /** Uppercase SHA-1 hex, no separators (= sha1Thumbprint). */
  fingerprint: string;
  /** Uppercase SHA-256 hex, no separators. */
  fingerprint256: string;
  isCa: boolean;
}

const plainHex = (colonHex: string): string => colonHex.replaceAll(':', '');

/** Throws (TypeError / node's ERR_OSSL_*) when `der` is not a certificate. */
export function certificateInfo(der: Uint8Array): CertificateInfo {
  const x = new X509Certificate(der);
  // node reports the serial as a bignum (leading zero octets dropped); read the exact octets instead.
  const serial = readCertificateFields(der).serial;
  return {
    serialHex: Buffer.from(serial).toString('hex'),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    subject: x.subject,
    issuer: x.issuer,
    fingerprint: plainHex(x.fingerprint),
    fingerprint256: plainHex(x.fingerprint256),
    isCa: x.ca,
  };
}
