import { randomBytes, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { randomSerial } from '../../src/pki/serial.js';
import { certificateInfo, sha1Thumbprint } from '../../src/pki/thumbprint.js';
import { fixtureCert } from './helpers.js';

describe('randomSerial', () => {
  const fixed = (first: number) => (n: number) => Buffer.concat([Buffer.of(first), Buffer.alloc(n - 1, 0xee)]);

  it('is 16 bytes, positive and minimally encodable whatever the first random byte', () => {
    expect(randomSerial(fixed(0xff))[0]).toBe(0x7f);
    expect(randomSerial(fixed(0x80))[0]).toBe(0x01);
    expect(randomSerial(fixed(0x00))[0]).toBe(0x01);
    expect(randomSerial(fixed(0x42))[0]).toBe(0x42);
    expect(randomSerial(fixed(0x42)).subarray(1).equals(Buffer.alloc(15, 0xee))).toBe(true);
    for (let i = 0; i < 1000; i++) {
      const s = randomSerial(randomBytes);
      expect(s).toHaveLength(16);
      expect((s[0] as number) & 0x80).toBe(0);
      expect(s[0]).not.toBe(0);
    }
  });

  it('does not alias the caller buffer and checks its length', () => {
    const src = Buffer.alloc(16, 0xff);
    randomSerial(() => src);
    expect(src[0]).toBe(0xff);
    expect(() => randomSerial(() => Buffer.alloc(8))).toThrow(RangeError);
  });
});

describe('thumbprints and certificateInfo on the certificates Windows accepted', () => {
  it('matches the store entry names of the accepted provisioning doc', () => {
    expect(sha1Thumbprint(fixtureCert('accepted-root-ca.pem'))).toBe('D9A88E04AF18A4D399CEE62F2C71469C3AE1E675');
    expect(sha1Thumbprint(fixtureCert('accepted-client.pem'))).toBe('8F2EBD13F3612D7C48C30E24CC73A88492613849');
  });

  it('reads serial, validity, names and fingerprints', () => {
    const der = fixtureCert('accepted-client.pem');
    const info = certificateInfo(der);
    expect(info).toEqual({
      serialHex: '02',
      notBefore: new Date('2023-01-23T21:07:46Z'),
      notAfter: new Date('2024-01-23T21:07:46Z'),
      subject: 'CN=B5B954E81FBCB94EB79BD08BE625F4EE',
      issuer: 'O=Mattrax Identity\nCN=Windows MDM Demo Identity',
      fingerprint: '8F2EBD13F3612D7C48C30E24CC73A88492613849',
      fingerprint256: new X509Certificate(der).fingerprint256.replaceAll(':', ''),
      isCa: false,
    });
    expect(certificateInfo(fixtureCert('accepted-root-ca.pem')).isCa).toBe(true);
    expect(() => certificateInfo(Buffer.from('nope'))).toThrow();
  });
});
