import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/pki/authority.js';
import { createRootCa } from '../../src/pki/ca.js';
import { type Tlv, children, readSingle, Tag } from '../../src/pki/der.js';
import { toPem } from '../../src/pki/pem.js';
import { buildRenewalRequest, openRenewalRequest, parseRenewalRequest } from '../../src/pki/renewal-request.js';
import { randomSerial } from '../../src/pki/serial.js';
import { spkiOf } from '../../src/pki/spki.js';
import { CertificateRequestError, buildWindowsCsr, parseCertificateRequest } from '../../src/pki/windows-csr.js';
import { openssl, scratch } from './helpers.js';

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const DEVICE_ID = 'B5B954E81FBCB94EB79BD08BE625F4EE';
const now = new Date();

const caMaterial = await createRootCa({ commonName: 'Renewal Test Root', organization: 'Winroll', keyBits: 2048, validityYears: 1, now });
const ca = new CertificateAuthority(caMaterial);
const oldKey = rsa();
const issue = (spki: Buffer) =>
  ca.issueDeviceCertificate({
    subjectCommonName: DEVICE_ID,
    publicKeySpki: spki,
    serial: randomSerial(randomBytes),
    notBefore: now,
    notAfter: new Date(now.getTime() + 86400_000 * 365),
  });
const oldCert = issue(spkiOf(oldKey.publicKey));
const newKey = rsa();
const newCsr = buildWindowsCsr({
  privateKey: newKey.privateKey,
  publicKey: newKey.publicKey,
  deviceId: DEVICE_ID,
  requestGuid: randomUUID(),
});

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CertificateRequestError) return err.reason;
    throw err;
  }
  throw new Error('expected a CertificateRequestError');
}

/** The SignerInfo's signature OCTET STRING, located through the framing. */
function signatureOf(der: Buffer): Tlv {
  const info = children(der, readSingle(der, Tag.SEQUENCE, 'ContentInfo'));
  const sd = children(der, children(der, info[1] as Tlv)[0] as Tlv);
  const signer = children(der, children(der, sd[sd.length - 1] as Tlv)[0] as Tlv);
  return signer.filter((t) => t.tag === Tag.OCTET_STRING).at(-1) as Tlv;
}

describe('renewal request (CMS SignedData around the new PKCS#10)', () => {
  const tmp = scratch();
  afterAll(() => tmp.cleanup());

  for (const digest of ['sha1', 'sha256'] as const) {
    for (const signedAttributes of [true, false]) {
      it(`round-trips: ${digest}, ${signedAttributes ? 'with' : 'without'} signed attributes`, () => {
        const p7 = buildRenewalRequest({ oldCertDer: oldCert.der, oldKey: oldKey.privateKey, newCsrDer: newCsr, digest, signedAttributes });
        const opened = openRenewalRequest(p7, oldCert.der);
        expect(opened).toMatchObject({ digest, signedAttributes });
        expect(opened.csrDer.equals(newCsr)).toBe(true);
        expect(parseCertificateRequest(opened.csrDer).deviceIdExtension).toBe(DEVICE_ID);
        const parsed = parseRenewalRequest(p7);
        expect(parsed.contentType).toBe('1.2.840.113549.1.7.1');
        expect(parsed.certificates.map((c) => c.equals(oldCert.der))).toEqual([true]);
        expect(parsed.signers[0]?.sid.kind).toBe('issuerAndSerialNumber');
      });
    }
  }

  it('is a SignedData openssl verifies, with the CSR as its content', () => {
    for (const signedAttributes of [true, false]) {
      const p7 = buildRenewalRequest({ oldCertDer: oldCert.der, oldKey: oldKey.privateKey, newCsrDer: newCsr, signedAttributes });
      const inFile = tmp.write(`built-${signedAttributes}.p7`, p7);
      const outFile = `${tmp.dir}/content-${signedAttributes}.der`;
      const caFile = tmp.write('ca.pem', ca.certPem);
      // -purpose any: the device certificate is clientAuth only, which openssl's default S/MIME purpose rejects.
      const r = openssl([
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        inFile,
        '-CAfile',
        caFile,
        '-purpose',
        'any',
        '-out',
        outFile,
      ]);
      expect(r.output).toContain('Verification successful');
      expect(r.status).toBe(0);
      const content = openssl(['asn1parse', '-inform', 'DER', '-in', outFile]);
      expect(content.status).toBe(0);
    }
  });

  it('reads what openssl signs: SHA-256 with attributes, SHA-1 without, and a subjectKeyIdentifier signer', () => {
    const csrFile = tmp.write('new.csr.der', newCsr);
    const device = {
      cert: tmp.write('old.pem', oldCert.pem),
      key: tmp.write('old.key', oldKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
      der: oldCert.der,
    };
    // openssl names a signer by key id only when the certificate has a SubjectKeyIdentifier (ours have none; the CA's has).
    const withSki = { cert: tmp.write('ca.pem', caMaterial.certPem), key: tmp.write('ca.key', caMaterial.keyPem), der: ca.certDer };
    const variants = [
      { name: 'sha256', signer: device, args: ['-md', 'sha256'], digest: 'sha256', attrs: true, sid: 'issuerAndSerialNumber' },
      { name: 'sha1-noattr', signer: device, args: ['-md', 'sha1', '-noattr'], digest: 'sha1', attrs: false, sid: 'issuerAndSerialNumber' },
      { name: 'keyid', signer: withSki, args: ['-md', 'sha256', '-keyid'], digest: 'sha256', attrs: true, sid: 'subjectKeyIdentifier' },
    ];
    for (const v of variants) {
      const out = `${tmp.dir}/${v.name}.p7`;
      const r = openssl([
        'cms',
        '-sign',
        '-nodetach',
        '-binary',
        '-outform',
        'DER',
        '-in',
        csrFile,
        '-signer',
        v.signer.cert,
        '-inkey',
        v.signer.key,
        '-out',
        out,
        ...v.args,
      ]);
      expect(r.status, r.output).toBe(0);
      const p7 = readFileSync(out);
      expect(parseRenewalRequest(p7).signers[0]?.sid.kind, v.name).toBe(v.sid);
      const opened = openRenewalRequest(p7, v.signer.der);
      expect(opened, v.name).toMatchObject({ digest: v.digest, signedAttributes: v.attrs });
      expect(opened.csrDer.equals(newCsr)).toBe(true);
      if (v.signer !== device) expect(reason(() => openRenewalRequest(p7, device.der))).toBe('signer_mismatch');
    }
  });

  it('refuses a tampered signature, tampered content and a request signed with another key', () => {
    const p7 = buildRenewalRequest({ oldCertDer: oldCert.der, oldKey: oldKey.privateKey, newCsrDer: newCsr, digest: 'sha256' });
    const sig = signatureOf(p7);
    const badSig = Buffer.from(p7);
    badSig[sig.end - 1] = (badSig[sig.end - 1] as number) ^ 0x01;
    expect(reason(() => openRenewalRequest(badSig, oldCert.der))).toBe('bad_signature');

    // Flip a byte of the CSR signature inside the content: the signed messageDigest no longer matches.
    const badContent = Buffer.from(p7);
    const at = badContent.indexOf(newCsr.subarray(newCsr.length - 8));
    badContent[at] = (badContent[at] as number) ^ 0x01;
    expect(reason(() => openRenewalRequest(badContent, oldCert.der))).toBe('bad_signature');

    for (const signedAttributes of [true, false]) {
      const otherKey = buildRenewalRequest({ oldCertDer: oldCert.der, oldKey: rsa().privateKey, newCsrDer: newCsr, signedAttributes });
      expect(reason(() => openRenewalRequest(otherKey, oldCert.der))).toBe('bad_signature');
      const noAttrTamper = buildRenewalRequest({ oldCertDer: oldCert.der, oldKey: oldKey.privateKey, newCsrDer: newCsr, signedAttributes });
      const s = signatureOf(noAttrTamper);
      noAttrTamper[s.contentStart] = (noAttrTamper[s.contentStart] as number) ^ 0x80;
      expect(reason(() => openRenewalRequest(noAttrTamper, oldCert.der))).toBe('bad_signature');
    }
  });

  it('refuses a request whose signer is not the certificate being renewed', () => {
    const otherDevice = rsa();
    const otherCert = issue(spkiOf(otherDevice.publicKey));
    const signedByOther = buildRenewalRequest({ oldCertDer: otherCert.der, oldKey: otherDevice.privateKey, newCsrDer: newCsr });
    // Valid in itself, but presented with the first device's certificate.
    expect(openRenewalRequest(signedByOther, otherCert.der).csrDer.equals(newCsr)).toBe(true);
    expect(reason(() => openRenewalRequest(signedByOther, oldCert.der))).toBe('signer_mismatch');
  });

  it('answers malformed for anything that is not a signed PKCS#7 around a PKCS#10', () => {
    const p7 = buildRenewalRequest({ oldCertDer: oldCert.der, oldKey: oldKey.privateKey, newCsrDer: newCsr });
    expect(reason(() => openRenewalRequest(Buffer.from('not der'), oldCert.der))).toBe('malformed');
    expect(reason(() => openRenewalRequest(newCsr, oldCert.der))).toBe('malformed');
    expect(reason(() => openRenewalRequest(p7.subarray(0, p7.length - 10), oldCert.der))).toBe('malformed');
    expect(reason(() => openRenewalRequest(Buffer.concat([p7, Buffer.of(0)]), oldCert.der))).toBe('malformed');
    // A SignedData whose content is not a certificate request.
    const notCsr = buildRenewalRequest({ oldCertDer: oldCert.der, oldKey: oldKey.privateKey, newCsrDer: Buffer.from('hello world') });
    expect(reason(() => openRenewalRequest(notCsr, oldCert.der))).toBe('malformed');
    // Manual renewal base64-encodes the content (Microsoft's renewal doc): accepted.
    const b64 = buildRenewalRequest({
      oldCertDer: oldCert.der,
      oldKey: oldKey.privateKey,
      newCsrDer: Buffer.from(newCsr.toString('base64')),
    });
    expect(openRenewalRequest(b64, oldCert.der).csrDer.equals(newCsr)).toBe(true);
    // Enveloped data (1.2.840.113549.1.7.3) is not a renewal request.
    const enveloped = Buffer.from(p7);
    const oidAt = enveloped.indexOf(Buffer.from('2a864886f70d010702', 'hex'));
    enveloped[oidAt + 8] = 0x03;
    expect(reason(() => openRenewalRequest(enveloped, oldCert.der))).toBe('malformed');
  });

  it('refuses digests it does not know', () => {
    const p7 = buildRenewalRequest({ oldCertDer: oldCert.der, oldKey: oldKey.privateKey, newCsrDer: newCsr, digest: 'sha256' });
    // Turn every sha256 OID (2.16.840.1.101.3.4.2.1) into 2.16.840.1.101.3.4.2.9.
    const sha256 = Buffer.from('608648016503040201', 'hex');
    const patched = Buffer.from(p7);
    for (let i = patched.indexOf(sha256); i >= 0; i = patched.indexOf(sha256, i + 1)) patched[i + 8] = 0x09;
    expect(reason(() => openRenewalRequest(patched, oldCert.der))).toBe('unsupported_algorithm');
  });

  it('writes the old certificate PEM-identically (sanity for the simulator)', () => {
    expect(
      toPem(
        parseRenewalRequest(buildRenewalRequest({ oldCertDer: oldCert.der, oldKey: oldKey.privateKey, newCsrDer: newCsr }))
          .certificates[0] as Buffer,
        'CERTIFICATE',
      ),
    ).toBe(oldCert.pem);
  });
});
