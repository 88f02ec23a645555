/**
 * The floor every enrollment sits on: one RSA signature by the CA key. Measured with the server's own CA
 * key (same type and size) over a buffer the size of a real device TBSCertificate, in this run.
 */
import { type KeyObject, randomBytes, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CertificateAuthority } from '../src/pki/authority.js';
import type { CaMaterial } from '../src/pki/ca.js';
import { children, readSingle, Tag } from '../src/pki/der.js';
import { randomSerial } from '../src/pki/serial.js';

/** Length of the TBSCertificate of a device certificate this CA issues for a 2048-bit device key. */
export function deviceTbsLength(ca: CaMaterial, deviceSpki: Buffer): number {
  const now = new Date();
  const { der } = new CertificateAuthority(ca).issueDeviceCertificate({
    subjectCommonName: 'B5B954E81FBCB94EB79BD08BE625F4EE',
    publicKeySpki: deviceSpki,
    serial: randomSerial(randomBytes),
    notBefore: now,
    notAfter: new Date(now.getTime() + 365 * 86400_000),
  });
  const tbs = children(der, readSingle(der, Tag.SEQUENCE, 'Certificate'))[0];
  if (!tbs) throw new Error('issued certificate has no TBSCertificate');
  return tbs.end - tbs.start;
}

/** `crypto.sign('sha256', tbsSizedBuffer, caKey)` in a loop for about `durationMs`; signatures per second. */
export function rawSignRate(caKey: KeyObject, tbsLength: number, durationMs: number): number {
  const payload = randomBytes(tbsLength);
  for (let i = 0; i < 50; i++) sign('sha256', payload, caKey);
  let n = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < durationMs) {
    for (let i = 0; i < 20; i++) sign('sha256', payload, caKey);
    n += 20;
    now = performance.now();
  }
  return (n * 1000) / (now - t0);
}
