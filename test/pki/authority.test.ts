import 'reflect-metadata';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/pki/authority.js';
import { measureIssuance } from '../../src/pki/bench.js';
import { type CaMaterial, createRootCa } from '../../src/pki/ca.js';
import { readCertificateFields } from '../../src/pki/certificate.js';
import { CertificateRequestError, type CertificateRequestErrorReason } from '../../src/pki/errors.js';
import { randomSerial } from '../../src/pki/serial.js';
import { certificateInfo, sha1Thumbprint } from '../../src/pki/thumbprint.js';
import { buildWindowsCsr, parseCertificateRequest } from '../../src/pki/windows-csr.js';
import { fixtureCsr, openssl, scratch } from './helpers.js';

const tmp = scratch();
afterAll(() => tmp.cleanup());

const NOW = new Date('2026-03-01T12:34:56.000Z');
const DEVICE_ID = 'B5B954E81FBCB94EB79BD08BE625F4EE';
const days = (d: Date, n: number): Date => new Date(d.getTime() + n * 86400_000);

let material: CaMaterial;
let ca: CertificateAuthority;
let rootPath: string;

beforeAll(async () => {
  material = await createRootCa({
    commonName: 'Winroll Device Enrollment Root',
    organization: 'Winroll Test',
    validityYears: 30, // past 2050, so the CA itself exercises GeneralizedTime
    now: NOW,
    serial: Buffer.from('01020304', 'hex'),
  });
  ca = new CertificateAuthority(material);
  rootPath = tmp.write('root.pem', material.certPem);
});

function reasonOf(fn: () => unknown): CertificateRequestErrorReason | 'no error' | 'other error' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof CertificateRequestError ? err.reason : 'other error';
  }
}

describe('createRootCa', () => {
  it('makes a self-signed RSA CA with critical CA:TRUE, critical keyCertSign|cRLSign and an SKI', () => {
    const { status, output } = openssl(['x509', '-in', rootPath, '-noout', '-text']);
    expect(status).toBe(0);
    expect(output).toContain('Issuer: O = Winroll Test, CN = Winroll Device Enrollment Root');
    expect(output).toContain('Subject: O = Winroll Test, CN = Winroll Device Enrollment Root');
    expect(output).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(output).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(output).toContain('Subject Key Identifier');
    expect(output).toContain('Public-Key: (2048 bit)');
    expect(output).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(output).toContain('Serial Number: 16909060 (0x1020304)');
    expect(openssl(['verify', '-CAfile', rootPath, rootPath]).status).toBe(0);
  });

  it('starts exactly at now (never back-dated) and lasts validityYears', () => {
    const info = certificateInfo(ca.certDer);
    expect(info.notBefore).toEqual(NOW);
    expect(info.notAfter).toEqual(new Date('2056-03-01T12:34:56.000Z'));
    expect(info.isCa).toBe(true);
    const x = new X509Certificate(material.certPem);
    expect(x.checkIssued(x)).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(material.keyPem))).toBe(true);
  });

  it('exposes thumbprint and names on the authority', () => {
    expect(ca.thumbprint).toMatch(/^[0-9A-F]{40}$/);
    expect(ca.thumbprint).toBe(new X509Certificate(ca.certDer).fingerprint.replaceAll(':', ''));
    expect(ca.subjectName).toBe('O=Winroll Test, CN=Winroll Device Enrollment Root');
    expect(ca.certPem).toBe(material.certPem);
  });

  it('refuses weak keys and nonsense validity', async () => {
    await expect(createRootCa({ commonName: 'x', keyBits: 1024, validityYears: 1, now: NOW })).rejects.toThrow(RangeError);
    await expect(createRootCa({ commonName: 'x', validityYears: 0, now: NOW })).rejects.toThrow(RangeError);
    await expect(createRootCa({ commonName: '', validityYears: 1, now: NOW })).rejects.toThrow(RangeError);
  });
});

describe('issueDeviceCertificate', () => {
  const csr = parseCertificateRequest(fixtureCsr('win10-19043-onpremise.csr.pem'));
  const serial = Buffer.from('3a5f00c1d2e3f4a5b6c7d8e9fa0b1c2d', 'hex');

  const issue = (overrides: Partial<Parameters<CertificateAuthority['issueDeviceCertificate']>[0]> = {}) =>
    ca.issueDeviceCertificate({
      subjectCommonName: DEVICE_ID,
      publicKeySpki: csr.publicKeySpki,
      serial,
      notBefore: NOW,
      notAfter: days(NOW, 365),
      ...overrides,
    });

  it('passes openssl verify -purpose sslclient against the root', () => {
    const cert = issue();
    const leaf = tmp.write('leaf.pem', cert.pem);
    const { status, output } = openssl([
      'verify',
      '-purpose',
      'sslclient',
      '-attime',
      String(NOW.getTime() / 1000 + 60),
      '-CAfile',
      rootPath,
      leaf,
    ]);
    expect(output).toContain('OK');
    expect(status).toBe(0);
  });

  it('is issued by the CA per node:crypto and carries the CSR key, serial and dates as given', () => {
    const cert = issue();
    const x = new X509Certificate(cert.der);
    const root = new X509Certificate(ca.certDer);
    expect(x.checkIssued(root)).toBe(true);
    expect(x.verify(root.publicKey)).toBe(true);
    expect(x.verify(ca.publicKey)).toBe(true);
    expect(x.publicKey.export({ type: 'spki', format: 'der' }).equals(csr.publicKeySpki)).toBe(true);
    expect(x.subject).toBe(`CN=${DEVICE_ID}`);
    expect(x.issuer).toBe(root.subject);
    expect(x.serialNumber.toLowerCase()).toBe(serial.toString('hex'));
    expect(cert.serialHex).toBe('3a5f00c1d2e3f4a5b6c7d8e9fa0b1c2d');
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // node's keyUsage is the EKU list
    expect(new Date(x.validFrom)).toEqual(NOW);
    expect(new Date(x.validTo)).toEqual(days(NOW, 365));
    expect(cert.notBefore).toEqual(NOW);
    expect(cert.thumbprint).toBe(sha1Thumbprint(cert.der));
    expect(cert.thumbprint).toBe(x.fingerprint.replaceAll(':', ''));
    expect(cert.pem).toBe(x.toString());
  });

  it('has the intended extensions, issuer bytes and time types (openssl)', () => {
    const cert = issue();
    const { output } = openssl(['x509', '-inform', 'DER', '-noout', '-text'], cert.der);
    expect(output).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(output).toContain('Version: 3 (0x2)');
    expect(output).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(output).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication/);
    expect(output).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(output).not.toContain('Subject Alternative Name');
    const fields = readCertificateFields(cert.der);
    const root = readCertificateFields(ca.certDer);
    expect(Buffer.from(fields.issuer).equals(Buffer.from(root.subject))).toBe(true);
    const ski = root.extensions.get('2.5.29.14')?.value as Uint8Array;
    const aki = fields.extensions.get('2.5.29.35')?.value as Uint8Array;
    // AKI = SEQUENCE { [0] keyIdentifier }, keyIdentifier equal to the CA's SKI content.
    expect(Buffer.from(aki.subarray(4)).equals(Buffer.from(ski.subarray(2)))).toBe(true);
    const asn1 = openssl(['asn1parse', '-inform', 'DER'], cert.der).output;
    expect(asn1).toMatch(/UTCTIME\s+:260301123456Z/);
    expect(asn1).toMatch(/PRINTABLESTRING\s+:B5B954E81FBCB94EB79BD08BE625F4EE/);
  });

  it('uses GeneralizedTime from 2050 and UTCTime up to 2049; both parse back exactly', () => {
    const nb = new Date('2049-12-31T23:59:59Z');
    const na = new Date('2050-01-01T00:00:00Z');
    const cert = issue({ notBefore: nb, notAfter: na });
    const asn1 = openssl(['asn1parse', '-inform', 'DER'], cert.der).output;
    expect(asn1).toMatch(/UTCTIME\s+:491231235959Z/);
    expect(asn1).toMatch(/GENERALIZEDTIME\s+:20500101000000Z/);
    const info = certificateInfo(cert.der);
    expect(info.notBefore).toEqual(nb);
    expect(info.notAfter).toEqual(na);
    const far = issue({ notAfter: new Date('2107-06-30T10:00:00Z') });
    expect(certificateInfo(far.der).notAfter).toEqual(new Date('2107-06-30T10:00:00Z'));
    const p = new x509.X509Certificate(new Uint8Array(far.der));
    expect(p.notAfter.toISOString()).toBe('2107-06-30T10:00:00.000Z');
  });

  it('truncates sub-second times to whole seconds and reports what it encoded', () => {
    const cert = issue({ notBefore: new Date(NOW.getTime() + 999), notAfter: new Date(NOW.getTime() + 86400_000 + 1) });
    expect(cert.notBefore).toEqual(NOW);
    expect(cert.notAfter).toEqual(days(NOW, 1));
    expect(certificateInfo(cert.der).notBefore).toEqual(NOW);
  });

  it('@peculiar/x509 parses it and agrees on every field', async () => {
    const cert = issue();
    const p = new x509.X509Certificate(new Uint8Array(cert.der));
    expect(p.subject).toBe(`CN=${DEVICE_ID}`);
    expect(p.serialNumber.toLowerCase()).toBe(serial.toString('hex'));
    expect(p.notBefore.toISOString()).toBe(NOW.toISOString());
    const eku = p.getExtension(x509.ExtendedKeyUsageExtension);
    expect(eku?.usages).toEqual(['1.3.6.1.5.5.7.3.2']);
    const ku = p.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    const bc = p.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.ca).toBe(false);
    const aki = p.getExtension(x509.AuthorityKeyIdentifierExtension);
    const ski = new x509.X509Certificate(new Uint8Array(ca.certDer)).getExtension(x509.SubjectKeyIdentifierExtension);
    expect(aki?.keyId).toBe(ski?.keyId);
    expect(await p.verify({ publicKey: new x509.X509Certificate(new Uint8Array(ca.certDer)), signatureOnly: true })).toBe(true);
  });

  it('issues for a simulator CSR too, and uses UTF8String for a CN outside PrintableString', () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sim = parseCertificateRequest(
      buildWindowsCsr({ ...keys, deviceId: DEVICE_ID, requestGuid: '00000000-1111-2222-3333-444444444444' }),
    );
    const cert = issue({ publicKeySpki: sim.publicKeySpki, subjectCommonName: 'Gerät_1' });
    const x = new X509Certificate(cert.der);
    expect(x.subject).toBe('CN=Gerät_1');
    expect(openssl(['asn1parse', '-inform', 'DER'], cert.der).output).toMatch(/UTF8STRING/);
    expect(x.publicKey.export({ type: 'spki', format: 'der' }).equals(sim.publicKeySpki)).toBe(true);
  });

  it('refuses unusable keys with CertificateRequestError', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    expect(reasonOf(() => issue({ publicKeySpki: small }))).toBe('key_too_small');
    expect(reasonOf(() => issue({ publicKeySpki: ec }))).toBe('unsupported_key_type');
    expect(reasonOf(() => issue({ publicKeySpki: Buffer.from('garbage') }))).toBe('malformed');
    expect(reasonOf(() => issue({ publicKeySpki: Buffer.concat([csr.publicKeySpki, Buffer.of(0)]) }))).toBe('malformed');
    const broken = Buffer.from(csr.publicKeySpki);
    broken[30] = 0x00; // inside the modulus INTEGER header region: no longer a valid RSAPublicKey
    broken[29] = 0x05;
    expect(reasonOf(() => issue({ publicKeySpki: broken }))).toBe('malformed');
  });

  it('refuses bad serials and validity as programming errors', () => {
    for (const s of ['', '80', '0001', '00', '00'.repeat(21), '01'.repeat(21)]) {
      expect(() => issue({ serial: Buffer.from(s, 'hex') })).toThrow(RangeError);
    }
    expect(issue({ serial: Buffer.from('0080', 'hex') }).serialHex).toBe('0080');
    expect(issue({ serial: Buffer.from('7f'.repeat(20), 'hex') }).serialHex).toBe('7f'.repeat(20));
    expect(() => issue({ notAfter: NOW })).toThrow(RangeError);
    expect(() => issue({ notBefore: new Date(Number.NaN) })).toThrow(RangeError);
    expect(() => issue({ subjectCommonName: '' })).toThrow(RangeError);
    expect(() => issue({ subjectCommonName: 'x'.repeat(65) })).toThrow(RangeError);
    expect(() => issue({ subjectCommonName: 'a\0' })).toThrow(RangeError);
  });

  it('random serials round-trip', () => {
    for (let i = 0; i < 20; i++) {
      const s = randomSerial(randomBytes);
      const cert = issue({ serial: s });
      expect(certificateInfo(cert.der).serialHex).toBe(s.toString('hex'));
    }
  });
});

describe('issueServerCertificate', () => {
  it('generates a key and a serverAuth certificate with DNS and IP SANs that openssl accepts', async () => {
    const issued = await ca.issueServerCertificate({
      dnsNames: ['mdm.example.test', 'enterpriseenrollment.example.test'],
      ipAddresses: ['192.0.2.10', '2001:db8::1'],
      notBefore: NOW,
      notAfter: days(NOW, 90),
    });
    expect(issued.keyPem).toContain('BEGIN PRIVATE KEY');
    const leaf = tmp.write('server.pem', issued.certPem);
    const v = openssl(['verify', '-purpose', 'sslserver', '-attime', String(NOW.getTime() / 1000 + 60), '-CAfile', rootPath, leaf]);
    expect(v.output).toContain('OK');
    const x = new X509Certificate(issued.certPem);
    expect(x.subject).toBe('CN=mdm.example.test');
    expect(x.subjectAltName).toBe(
      'DNS:mdm.example.test, DNS:enterpriseenrollment.example.test, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:1',
    );
    expect(x.checkHost('enterpriseenrollment.example.test')).toBe('enterpriseenrollment.example.test');
    expect(x.checkIP('2001:db8::1')).toBe('2001:db8::1');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x.checkPrivateKey(createPrivateKey(issued.keyPem))).toBe(true);
    expect(x.checkIssued(new X509Certificate(ca.certDer))).toBe(true);
    expect(new Date(x.validFrom)).toEqual(NOW);
    const text = openssl(['x509', '-inform', 'DER', '-noout', '-text'], issued.certDer).output;
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(text).toContain('Subject Key Identifier');
    expect(text).toContain('Authority Key Identifier');
  });

  it('certifies a supplied key (EC allowed for TLS) and returns no key', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const issued = await ca.issueServerCertificate({
      dnsNames: [],
      ipAddresses: ['127.0.0.1'],
      publicKey,
      notBefore: NOW,
      notAfter: days(NOW, 1),
    });
    expect(issued.keyPem).toBeUndefined();
    const x = new X509Certificate(issued.certDer);
    expect(x.subject).toBe('CN=127.0.0.1');
    expect(x.publicKey.export({ type: 'spki', format: 'der' }).equals(publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    expect(openssl(['x509', '-inform', 'DER', '-noout', '-text'], issued.certDer).output).toMatch(
      /Key Usage: critical\s+Digital Signature\n/,
    );
  });

  it('needs at least one name', async () => {
    await expect(ca.issueServerCertificate({ dnsNames: [], notBefore: NOW, notAfter: days(NOW, 1) })).rejects.toThrow(RangeError);
    await expect(ca.issueServerCertificate({ dnsNames: ['bad name'], notBefore: NOW, notAfter: days(NOW, 1) })).rejects.toThrow(RangeError);
  });
});

describe('CertificateAuthority construction', () => {
  it('rejects a key that does not match, a non-CA certificate and a non-RSA key', async () => {
    const other = await createRootCa({ commonName: 'Other', validityYears: 1, now: NOW });
    expect(() => new CertificateAuthority({ certPem: material.certPem, keyPem: other.keyPem })).toThrow(/does not match/);
    const leaf = ca.issueDeviceCertificate({
      subjectCommonName: DEVICE_ID,
      publicKeySpki: createPublicKey(other.keyPem).export({ type: 'spki', format: 'der' }),
      serial: Buffer.of(9),
      notBefore: NOW,
      notAfter: days(NOW, 1),
    });
    expect(() => new CertificateAuthority({ certPem: leaf.pem, keyPem: other.keyPem })).toThrow(/CA:TRUE/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    expect(() => new CertificateAuthority({ certPem: material.certPem, keyPem: ec })).toThrow(/RSA/);
  });

  it('accepts a CA made by openssl (no shared code) and chains to it', () => {
    const key = tmp.write('ossl-ca.key', '');
    const cert = tmp.write('ossl-ca.pem', '');
    const r = openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '3650',
      '-subj',
      '/C=DE/O=Ex Ämple/CN=OpenSSL Root',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    expect(r.status, r.output).toBe(0);
    const ossl = new CertificateAuthority({ certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') });
    const csr = parseCertificateRequest(fixtureCsr('win10-19045-programmatic.csr.pem'));
    const now = new Date();
    const issued = ossl.issueDeviceCertificate({
      subjectCommonName: DEVICE_ID,
      publicKeySpki: csr.publicKeySpki,
      serial: Buffer.of(1),
      notBefore: now,
      notAfter: days(now, 1),
    });
    const leaf = tmp.write('ossl-leaf.pem', issued.pem);
    const v = openssl(['verify', '-purpose', 'sslclient', '-attime', String(Math.floor(now.getTime() / 1000) + 1), '-CAfile', cert, leaf]);
    expect(v.output).toContain('OK');
    expect(new X509Certificate(issued.der).issuer).toBe(new X509Certificate(readFileSync(cert, 'utf8')).subject);
  });
});

describe('measureIssuance', () => {
  it('runs and reports rates (no timing assertions: this is for npm run bench)', () => {
    const r = measureIssuance(material, 5);
    expect(r.issuedPerSecond).toBeGreaterThan(0);
    expect(r.rawSignsPerSecond).toBeGreaterThan(0);
    expect(r.ratio).toBeCloseTo(r.issuedPerSecond / r.rawSignsPerSecond);
  });
});
