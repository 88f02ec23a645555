/**
 * A certificate authority loaded from its PEMs, issuing the enrollment client certificates (hot path)
 * and the occasional TLS server certificate.
 *
 * Device issuance is built for throughput: everything that is the same for every device certificate
 * (version, algorithm, issuer, extensions) is encoded once here, so each issuance only encodes serial,
 * validity and subject, concatenates, and spends its time where it must, in the RSA signature.
 */
import { createPrivateKey, generateKeyPair, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import type { CaMaterial } from './ca.js';
import { assembleCertificate, checkValidity, encodeTbs, readCertificateFields, serialInteger, signTbs } from './certificate.js';
import { content, readSingle, Tag, toWholeSeconds } from './der.js';
import { CertificateRequestError } from './errors.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extensionsBlock,
  extKeyUsage,
  keyIdentifier,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
} from './extensions.js';
import { commonNameOnly } from './name.js';
import { OID } from './oids.js';
import { toPem } from './pem.js';
import { randomSerial } from './serial.js';
import { inspectSpki, publicKeyFromSpki, type SpkiSummary, spkiOf } from './spki.js';
import { sha1Thumbprint } from './thumbprint.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** Windows' MDM client only uses RSA keys; below 2048 bits is not acceptable for a new certificate. */
export const MIN_DEVICE_KEY_BITS = 2048;

export interface IssueDeviceCertificateInput {
  /** The Windows DeviceID (what OMA-DM sessions identify the device by). */
  subjectCommonName: string;
  /** DER SubjectPublicKeyInfo, typically ParsedCsr.publicKeySpki; embedded verbatim. */
  publicKeySpki: Buffer;
  /** DER INTEGER content octets: positive, minimal, <= 20 bytes. The caller guarantees uniqueness. */
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
}

export interface IssuedCertificate {
  der: Buffer;
  pem: string;
  /** Lower-case hex of `serial`, as given. */
  serialHex: string;
  /** Uppercase SHA-1 of `der`: the name of the entry in the device's certificate store. */
  thumbprint: string;
  /** The validity actually encoded (whole seconds). */
  notBefore: Date;
  notAfter: Date;
}

export interface IssueServerCertificateInput {
  dnsNames: string[];
  ipAddresses?: string[];
  /** Certify this key; when omitted an RSA key of `keyBits` is generated and returned. */
  publicKey?: KeyObject;
  keyBits?: number;
  notBefore: Date;
  notAfter: Date;
  /** Random when omitted. */
  serial?: Buffer;
}

export interface IssuedServerCertificate {
  certPem: string;
  certDer: Buffer;
  /** PKCS#8 PEM of the generated key; undefined when `publicKey` was supplied. */
  keyPem: string | undefined;
  serialHex: string;
  thumbprint: string;
  notBefore: Date;
  notAfter: Date;
}

export class CertificateAuthority {
  readonly certDer: Buffer;
  readonly certPem: string;
  /** Uppercase SHA-1 of the CA certificate: its Root/System store entry name in the provisioning doc. */
  readonly thumbprint: string;
  /** Display form, e.g. "O=Winroll, CN=Winroll Device CA". */
  readonly subjectName: string;
  readonly publicKey: KeyObject;
  readonly notAfter: Date;

  readonly #key: KeyObject;
  /** The CA's subject Name bytes, reused verbatim as every issued certificate's issuer. */
  readonly #issuer: Uint8Array;
  readonly #keyId: Buffer;
  readonly #deviceExtensions: Buffer;

  constructor(material: CaMaterial) {
    const cert = new X509Certificate(material.certPem);
    if (!cert.ca) throw new TypeError('CA certificate lacks basicConstraints CA:TRUE');
    const key = createPrivateKey(material.keyPem);
    // Device certificates are sha256WithRSAEncryption; that needs an RSA CA key.
    if (key.asymmetricKeyType !== 'rsa') throw new TypeError('CA key must be RSA');
    if (!cert.checkPrivateKey(key)) throw new TypeError('CA key does not match the CA certificate');

    this.certDer = Buffer.from(cert.raw);
    this.certPem = toPem(this.certDer, 'CERTIFICATE');
    this.thumbprint = sha1Thumbprint(this.certDer);
    this.subjectName = cert.subject.split('\n').join(', ');
    this.publicKey = cert.publicKey;
    this.notAfter = new Date(cert.validTo);
    this.#key = key;

    const fields = readCertificateFields(this.certDer);
    const ku = fields.extensions.get(OID.keyUsage);
    if (ku && !canSignCertificates(ku.value)) throw new TypeError('CA certificate keyUsage lacks keyCertSign');
    this.#issuer = Buffer.from(fields.subject);
    // AKI must equal the CA's SKI when it has one; otherwise derive it the way RFC 5280 suggests.
    const ski = fields.extensions.get(OID.subjectKeyIdentifier);
    this.#keyId = ski
      ? Buffer.from(content(ski.value, readSingle(ski.value, Tag.OCTET_STRING, 'SubjectKeyIdentifier')))
      : keyIdentifier(fields.spki);

    this.#deviceExtensions = extensionsBlock(
      keyUsage(['digitalSignature', 'keyEncipherment']),
      extKeyUsage(['clientAuth']),
      basicConstraints(false),
      authorityKeyIdentifier(this.#keyId),
    );
  }

  /** Hot path: one enrollment client certificate. Throws CertificateRequestError for unusable keys. */
  issueDeviceCertificate(input: IssueDeviceCertificateInput): IssuedCertificate {
    checkDeviceKey(input.publicKeySpki);
    return this.#issue(
      input.serial,
      commonNameOnly(input.subjectCommonName),
      input.publicKeySpki,
      input.notBefore,
      input.notAfter,
      this.#deviceExtensions,
    );
  }

  /**
   * The same certificate, signed on libuv's thread pool: a 4096-bit CA signature takes milliseconds,
   * which the server's event loop should spend on other requests.
   */
  async issueDeviceCertificateAsync(input: IssueDeviceCertificateInput): Promise<IssuedCertificate> {
    checkDeviceKey(input.publicKeySpki);
    checkValidity(input.notBefore, input.notAfter);
    const notBefore = toWholeSeconds(input.notBefore);
    const notAfter = toWholeSeconds(input.notAfter);
    const tbs = encodeTbs({
      serial: serialInteger(input.serial),
      issuer: this.#issuer,
      subject: commonNameOnly(input.subjectCommonName),
      notBefore,
      notAfter,
      spki: input.publicKeySpki,
      extensions: this.#deviceExtensions,
    });
    const signature = await new Promise<Buffer>((resolve, reject) =>
      sign('sha256', tbs, this.#key, (err, sig) => (err ? reject(err) : resolve(sig))),
    );
    const der = assembleCertificate(tbs, signature);
    return {
      der,
      pem: toPem(der, 'CERTIFICATE'),
      serialHex: input.serial.toString('hex'),
      thumbprint: sha1Thumbprint(der),
      notBefore,
      notAfter,
    };
  }

  /**
   * A TLS server certificate (serverAuth, SAN; CN = first name). Not performance sensitive. Generates
   * and returns the key pair unless `publicKey` is given.
   */
  issueServerCertificate(
    input: IssueServerCertificateInput & { publicKey?: undefined },
  ): Promise<IssuedServerCertificate & { keyPem: string }>;
  issueServerCertificate(
    input: IssueServerCertificateInput & { publicKey: KeyObject },
  ): Promise<IssuedServerCertificate & { keyPem: undefined }>;
  issueServerCertificate(input: IssueServerCertificateInput): Promise<IssuedServerCertificate>;
  async issueServerCertificate(input: IssueServerCertificateInput): Promise<IssuedServerCertificate> {
    const ipAddresses = input.ipAddresses ?? [];
    const cn = input.dnsNames[0] ?? ipAddresses[0];
    if (cn === undefined) throw new RangeError('a server certificate needs at least one DNS name or IP address');
    let publicKey = input.publicKey;
    let keyPem: string | undefined;
    if (!publicKey) {
      const pair = (await generateKeyPairAsync('rsa', {
        modulusLength: input.keyBits ?? 2048,
        publicExponent: 0x10001,
      })) as { publicKey: KeyObject; privateKey: KeyObject };
      publicKey = pair.publicKey;
      keyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    }
    const spki = spkiOf(publicKey);
    // keyEncipherment only makes sense for RSA key transport (TLS 1.2 RSA key exchange).
    const usages =
      publicKey.asymmetricKeyType === 'rsa' ? (['digitalSignature', 'keyEncipherment'] as const) : (['digitalSignature'] as const);
    const extensions = extensionsBlock(
      keyUsage(usages),
      extKeyUsage(['serverAuth']),
      basicConstraints(false),
      subjectAltName(input.dnsNames, ipAddresses),
      subjectKeyIdentifier(keyIdentifier(spki)),
      authorityKeyIdentifier(this.#keyId),
    );
    const issued = this.#issue(
      input.serial ?? randomSerial(randomBytes),
      commonNameOnly(cn),
      spki,
      input.notBefore,
      input.notAfter,
      extensions,
    );
    return {
      certPem: issued.pem,
      certDer: issued.der,
      keyPem,
      serialHex: issued.serialHex,
      thumbprint: issued.thumbprint,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
    };
  }

  #issue(serial: Buffer, subject: Buffer, spki: Uint8Array, notBeforeIn: Date, notAfterIn: Date, extensions: Buffer): IssuedCertificate {
    checkValidity(notBeforeIn, notAfterIn);
    const notBefore = toWholeSeconds(notBeforeIn);
    const notAfter = toWholeSeconds(notAfterIn);
    const tbs = encodeTbs({
      serial: serialInteger(serial),
      issuer: this.#issuer,
      subject,
      notBefore,
      notAfter,
      spki,
      extensions,
    });
    const der = signTbs(tbs, this.#key);
    return {
      der,
      pem: toPem(der, 'CERTIFICATE'),
      serialHex: serial.toString('hex'),
      thumbprint: sha1Thumbprint(der),
      notBefore,
      notAfter,
    };
  }
}

/** KeyUsage extnValue is a BIT STRING; keyCertSign is bit 5 of the first content octet. */
function canSignCertificates(kuValue: Uint8Array): boolean {
  try {
    const bits = readSingle(kuValue, Tag.BIT_STRING, 'KeyUsage');
    return bits.end - bits.contentStart >= 2 && ((kuValue[bits.contentStart + 1] as number) & 0x04) !== 0;
  } catch {
    return false;
  }
}

/**
 * The SPKI is copied into the certificate verbatim, so it must be exactly one well-formed RSA key that
 * OpenSSL accepts, and large enough. (inspectSpki checks the framing; OpenSSL loads the RSA key itself
 * via the cheap PKCS#1 route, see spki.ts.)
 */
function checkDeviceKey(spki: Buffer): void {
  let summary: SpkiSummary;
  try {
    summary = inspectSpki(spki);
    publicKeyFromSpki(spki, summary);
  } catch (err) {
    throw new CertificateRequestError('malformed', 'public key is not a valid SubjectPublicKeyInfo', { cause: err });
  }
  if (summary.algorithm !== 'rsa') {
    throw new CertificateRequestError('unsupported_key_type', `device keys must be RSA, got ${summary.algorithm}`);
  }
  if (summary.keyBits < MIN_DEVICE_KEY_BITS) {
    throw new CertificateRequestError('key_too_small', `RSA key of ${summary.keyBits} bits; at least ${MIN_DEVICE_KEY_BITS} required`);
  }
}
