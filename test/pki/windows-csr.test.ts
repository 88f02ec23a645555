import { readFileSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { readCertificateFields } from '../../src/pki/certificate.js';
import { toPem } from '../../src/pki/pem.js';
import {
  assertAcceptableKey,
  buildWindowsCsr,
  CertificateRequestError,
  type CertificateRequestErrorReason,
  parseCertificateRequest,
  verifyCertificateRequest,
} from '../../src/pki/windows-csr.js';
import { asn1Shape, fixtureCert, fixtureCsr, openssl, scratch } from './helpers.js';

const tmp = scratch();
afterAll(() => tmp.cleanup());

function reasonOf(fn: () => unknown): CertificateRequestErrorReason | 'no error' | 'other error' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof CertificateRequestError ? err.reason : 'other error';
  }
}

/** A CSR made by the openssl CLI (independent encoder) with the given key options. */
function opensslCsr(keyArgs: string[], extra: string[] = []): Buffer {
  const key = tmp.write(`k-${randomUUID()}.pem`, '');
  const gen = openssl(['genpkey', ...keyArgs, '-out', key]);
  if (gen.status !== 0) throw new Error(gen.output);
  const out = tmp.write(`r-${randomUUID()}.der`, '');
  const req = openssl(['req', '-new', '-key', key, '-subj', '/CN=test', '-outform', 'DER', '-out', out, ...extra]);
  if (req.status !== 0) throw new Error(req.output);
  return fixtureFile(out);
}
const fixtureFile = (path: string): Buffer => readFileSync(path);

describe('captured Windows 10 CSRs', () => {
  const cases = [
    {
      file: 'win10-19043-onpremise.csr.pem',
      guid30: '562A7F9A-6CD8-40B0-9E7E-0DBDD8',
      deviceId: 'B5B954E81FBCB94EB79BD08BE625F4EE',
    },
    {
      file: 'win10-19045-programmatic.csr.pem',
      guid30: '2B9B52AC-DF38-4161-8142-F4B1E0',
      deviceId: 'DB257C3A08778F4FB61E2749066C1F27',
    },
  ];

  for (const c of cases) {
    it(`${c.file}: parses with its quirks intact and verifies`, () => {
      const csr = parseCertificateRequest(fixtureCsr(c.file));
      expect(csr.subjectCommonName).toBe(`${c.guid30}!${c.deviceId}\0`);
      expect(csr.subjectCommonName).toHaveLength(64);
      expect(csr.subjectCommonNameClean).toBe(`${c.guid30}!${c.deviceId}`);
      expect(csr.deviceIdExtension).toBe(c.deviceId);
      expect(csr.signatureAlgorithmOid).toBe('1.3.14.3.2.29');
      expect(csr.publicKeyAlgorithm).toBe('rsa');
      expect(csr.keyBits).toBe(2048);
      expect(createPublicKey({ key: csr.publicKeySpki, format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(() => verifyCertificateRequest(csr)).not.toThrow();
      expect(() => assertAcceptableKey(csr)).not.toThrow();
    });
  }

  it('the first capture carries the key of the client certificate Windows accepted', () => {
    const csr = parseCertificateRequest(fixtureCsr('win10-19043-onpremise.csr.pem'));
    const accepted = readCertificateFields(fixtureCert('accepted-client.pem'));
    expect(Buffer.from(accepted.spki).equals(csr.publicKeySpki)).toBe(true);
  });

  it('a flipped byte anywhere in the signed part fails with bad_signature', () => {
    const der = fixtureCsr('win10-19043-onpremise.csr.pem');
    // 4 = start of CertificationRequestInfo. Skip framing bytes; flip bytes in the CN, the modulus and the extension.
    for (const offset of [30, 200, 420]) {
      const tampered = Buffer.from(der);
      tampered[offset] = (tampered[offset] as number) ^ 0x01;
      const csr = parseCertificateRequest(tampered);
      expect(reasonOf(() => verifyCertificateRequest(csr))).toBe('bad_signature');
    }
  });

  it('a flipped byte in the signature fails with bad_signature', () => {
    const der = fixtureCsr('win10-19045-programmatic.csr.pem');
    const tampered = Buffer.from(der);
    tampered[der.length - 5] = (tampered[der.length - 5] as number) ^ 0x80;
    expect(reasonOf(() => verifyCertificateRequest(parseCertificateRequest(tampered)))).toBe('bad_signature');
  });
});

describe('other CSRs', () => {
  it('a 1024-bit RSA CSR verifies but is refused with key_too_small', () => {
    const csr = parseCertificateRequest(opensslCsr(['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']));
    expect(csr.keyBits).toBe(1024);
    expect(() => verifyCertificateRequest(csr)).not.toThrow();
    expect(reasonOf(() => assertAcceptableKey(csr))).toBe('key_too_small');
    expect(reasonOf(() => assertAcceptableKey(csr, 1024))).toBe('no error');
  });

  it('an openssl sha256WithRSA CSR verifies, without the Windows extension', () => {
    const csr = parseCertificateRequest(opensslCsr(['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072']));
    expect(csr.signatureAlgorithmOid).toBe('1.2.840.113549.1.1.11');
    expect(csr.keyBits).toBe(3072);
    expect(csr.subjectCommonName).toBe('test');
    expect(csr.deviceIdExtension).toBeNull();
    verifyCertificateRequest(csr);
  });

  it('an ECDSA P-256 CSR verifies but is refused with unsupported_key_type', () => {
    const csr = parseCertificateRequest(opensslCsr(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']));
    expect(csr.publicKeyAlgorithm).toBe('ec');
    expect(csr.keyBits).toBe(256);
    expect(csr.signatureAlgorithmOid).toBe('1.2.840.10045.4.3.2');
    verifyCertificateRequest(csr);
    expect(reasonOf(() => assertAcceptableKey(csr))).toBe('unsupported_key_type');
  });

  it('an Ed25519 CSR is unsupported_algorithm / unsupported_key_type', () => {
    const csr = parseCertificateRequest(opensslCsr(['-algorithm', 'ED25519']));
    expect(csr.publicKeyAlgorithm).toBe('other');
    expect(reasonOf(() => verifyCertificateRequest(csr))).toBe('unsupported_algorithm');
    expect(reasonOf(() => assertAcceptableKey(csr))).toBe('unsupported_key_type');
  });

  it('an RSA-PSS signed CSR is unsupported_algorithm', () => {
    const csr = parseCertificateRequest(opensslCsr(['-algorithm', 'RSA'], ['-sigopt', 'rsa_padding_mode:pss', '-sha256']));
    expect(csr.signatureAlgorithmOid).toBe('1.2.840.113549.1.1.10');
    expect(reasonOf(() => verifyCertificateRequest(csr))).toBe('unsupported_algorithm');
  });
});

describe('malformed input', () => {
  const good = fixtureCsr('win10-19043-onpremise.csr.pem');

  it('rejects garbage, truncations and trailing bytes as malformed', () => {
    const inputs: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('not a csr'),
      Buffer.from([0x30]),
      Buffer.from([0x30, 0x80, 0x00, 0x00]), // indefinite length (BER, not DER)
      Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
      Buffer.concat([good, Buffer.of(0)]),
      good.subarray(0, good.length - 1),
      good.subarray(4, 450), // the CertificationRequestInfo alone
      fixtureCert('accepted-client.pem'), // a certificate is not a request
    ];
    for (const input of inputs) expect(reasonOf(() => parseCertificateRequest(input))).toBe('malformed');
  });

  it('throws only CertificateRequestError, whatever the bytes (random mutations)', () => {
    let malformed = 0;
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(good);
      const flips = 1 + (i % 4);
      for (let f = 0; f < flips; f++) {
        const pos = randomBytes(2).readUInt16BE() % b.length;
        b[pos] = randomBytes(1)[0] as number;
      }
      const len = i % 7 === 0 ? randomBytes(2).readUInt16BE() % b.length : b.length;
      const r = reasonOf(() => verifyCertificateRequest(parseCertificateRequest(b.subarray(0, len))));
      expect(r === 'other error').toBe(false);
      if (r === 'malformed') malformed++;
    }
    expect(malformed).toBeGreaterThan(0);
    expect(reasonOf(() => parseCertificateRequest('abc' as unknown as Buffer))).toBe('malformed');
    expect(reasonOf(() => parseCertificateRequest(undefined as unknown as Buffer))).toBe('malformed');
  });
});

describe('buildWindowsCsr (simulator)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const deviceId = 'B5B954E81FBCB94EB79BD08BE625F4EE';
  const requestGuid = '562a7f9a-6cd8-40b0-9e7e-0dbdd8c1e2f3';
  const der = buildWindowsCsr({ privateKey, publicKey, deviceId, requestGuid });

  it('parses and verifies like a real one', () => {
    const csr = parseCertificateRequest(der);
    expect(csr.subjectCommonName).toBe(`562A7F9A-6CD8-40B0-9E7E-0DBDD8!${deviceId}\0`);
    expect(csr.deviceIdExtension).toBe(deviceId);
    expect(csr.signatureAlgorithmOid).toBe('1.3.14.3.2.29');
    expect(csr.publicKeySpki.equals(publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    verifyCertificateRequest(csr);
  });

  it('has exactly the structure of the captured CSRs (openssl asn1parse), and the same sizes', () => {
    const real = fixtureCsr('win10-19043-onpremise.csr.pem');
    expect(asn1Shape(der)).toEqual(asn1Shape(real));
    expect(der.length).toBe(real.length);
    // Bytes outside the key, CN text and signature are identical: the framing, OIDs and extension layout.
    const realCsr = parseCertificateRequest(real);
    const ours = parseCertificateRequest(der);
    expect(ours.certificationRequestInfo.length).toBe(realCsr.certificationRequestInfo.length);
    expect(der.subarray(0, 24).equals(real.subarray(0, 24))).toBe(true); // up to the CN text
    expect(der.subarray(382, 415).equals(real.subarray(382, 415))).toBe(true); // attributes up to the extnValue
    expect(der.subarray(450, 465).equals(real.subarray(450, 465))).toBe(true); // signature algorithm + BIT STRING header
  });

  it('openssl verifies its self-signature and prints the same quirks', () => {
    const path = tmp.write('sim.csr.pem', toPem(der, 'CERTIFICATE REQUEST'));
    const { status, output } = openssl(['req', '-in', path, '-noout', '-verify', '-text']);
    expect(output).toMatch(/verify OK|Certificate request self-signature verify OK/);
    expect(status).toBe(0);
    expect(output).toContain(`CN = 562A7F9A-6CD8-40B0-9E7E-0DBDD8!${deviceId}\\00`);
    expect(output).toContain('1.3.6.1.4.1.311.66.1.0');
    expect(output).toContain('Signature Algorithm: sha1WithRSA');
  });

  it('refuses inputs Windows would never produce', () => {
    expect(() => buildWindowsCsr({ privateKey, publicKey, deviceId, requestGuid: 'nope' })).toThrow(TypeError);
    expect(() => buildWindowsCsr({ privateKey, publicKey, deviceId: 'a\0b', requestGuid })).toThrow(TypeError);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => buildWindowsCsr({ ...ec, deviceId, requestGuid })).toThrow(TypeError);
  });
});
