/**
 * Self-signed root CAs: the enrollment root whose thumbprint goes into the provisioning doc's
 * Root/System store, and the local CA for the HTTPS listener. Key generation runs on libuv's pool.
 */
import { generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { checkValidity, encodeTbs, serialInteger, signTbs } from './certificate.js';
import { toWholeSeconds } from './der.js';
import { basicConstraints, extensionsBlock, keyIdentifier, keyUsage, subjectKeyIdentifier } from './extensions.js';
import { encodeName, type NameAttribute } from './name.js';
import { toPem } from './pem.js';
import { randomSerial } from './serial.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** What a CA is persisted as: certificate and PKCS#8 private key, both PEM. */
export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

export interface CreateRootCaOptions {
  commonName: string;
  organization?: string;
  /** RSA modulus size; Windows expects RSA throughout. */
  keyBits?: number;
  validityYears: number;
  /** Becomes NotBefore (truncated to whole seconds). Never back-dated: callers pass the real now. */
  now: Date;
  /** DER INTEGER content octets (see serial.ts); random when omitted. */
  serial?: Buffer;
}

export async function createRootCa(options: CreateRootCaOptions): Promise<CaMaterial> {
  const { commonName, organization, keyBits = 2048, validityYears, now } = options;
  if (!Number.isInteger(keyBits) || keyBits < 2048) throw new RangeError('CA keyBits must be an integer >= 2048');
  if (!Number.isInteger(validityYears) || validityYears < 1) throw new RangeError('validityYears must be >= 1');
  const notBefore = toWholeSeconds(now);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + validityYears);
  checkValidity(notBefore, notAfter);

  // Conventional X.500 order, most significant first: O then CN (as in the CA Windows accepted).
  const attributes: Array<[NameAttribute, string]> = [];
  if (organization !== undefined) attributes.push(['organizationName', organization]);
  attributes.push(['commonName', commonName]);
  const name = encodeName(attributes);
  const serial = serialInteger(options.serial ?? randomSerial(randomBytes));

  const { publicKey, privateKey } = (await generateKeyPairAsync('rsa', {
    modulusLength: keyBits,
    publicExponent: 0x10001,
  })) as { publicKey: KeyObject; privateKey: KeyObject };
  const spki = publicKey.export({ type: 'spki', format: 'der' });

  const tbs = encodeTbs({
    serial,
    issuer: name,
    subject: name,
    notBefore,
    notAfter,
    spki,
    // No pathLenConstraint: an intermediate may be introduced later without re-rooting every device.
    extensions: extensionsBlock(basicConstraints(true), keyUsage(['keyCertSign', 'cRLSign']), subjectKeyIdentifier(keyIdentifier(spki))),
  });
  return {
    certPem: toPem(signTbs(tbs, privateKey), 'CERTIFICATE'),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
