import { WinrollError } from '../shared/errors.js';

/**
 * Why a certificate request (or the public key offered for a certificate) was refused. Machine-readable
 * so the enrollment endpoint can pick the SOAP fault subcode and logs can be aggregated.
 */
export type CertificateRequestErrorReason =
  | 'malformed'
  | 'bad_signature'
  | 'unsupported_algorithm'
  | 'key_too_small'
  | 'unsupported_key_type'
  /** The CSR's DeviceID extension disagrees with the DeviceID the client sent in AdditionalContext. */
  | 'device_mismatch'
  /** A renewal request (CMS SignedData) whose signer is not the certificate being renewed. */
  | 'signer_mismatch';

/**
 * The only error the CSR parser, verifier and key checks throw, whatever the input bytes. It is an
 * `invalid_input` WinrollError: the device sent something we will not sign.
 */
export class CertificateRequestError extends WinrollError {
  readonly reason: CertificateRequestErrorReason;
  constructor(reason: CertificateRequestErrorReason, message: string, options?: { cause?: unknown }) {
    super('invalid_input', message, options);
    this.name = 'CertificateRequestError';
    this.reason = reason;
  }
}
