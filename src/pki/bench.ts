/**
 * Issuance throughput against the floor set by the CA key itself. Called by `npm run bench`; not a test,
 * because timings on shared CI machines are noise. Device issuance is pure JS framing plus one RSA
 * signature, so `issuedPerSecond / rawSignsPerSecond` shows what the framing costs (target >= 0.8).
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CertificateAuthority } from './authority.js';
import type { CaMaterial } from './ca.js';
import { randomSerial } from './serial.js';

export interface IssuanceMeasurement {
  issuedPerSecond: number;
  rawSignsPerSecond: number;
  /** issuedPerSecond / rawSignsPerSecond */
  ratio: number;
}

/** Issue `n` device certificates and make `n` raw signatures with the same CA key; rates per second. */
export function measureIssuance(ca: CaMaterial, n: number): IssuanceMeasurement {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('n must be a positive integer');
  const authority = new CertificateAuthority(ca);
  const caKey = createPrivateKey(ca.keyPem);
  const deviceSpki = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  const serials = Array.from({ length: n }, () => randomSerial(randomBytes));
  const notBefore = new Date();
  const notAfter = new Date(notBefore.getTime() + 365 * 86400_000);
  const issueOne = (i: number): number =>
    authority.issueDeviceCertificate({
      subjectCommonName: 'B5B954E81FBCB94EB79BD08BE625F4EE',
      publicKeySpki: deviceSpki,
      serial: serials[i] as Buffer,
      notBefore,
      notAfter,
    }).der.length;

  // Sign a buffer about the size of a real TBSCertificate so both loops hash similar amounts of data.
  const payload = randomBytes(issueOne(0));
  const rawOne = (): number => sign('sha256', payload, caKey).length;

  const warm = Math.min(20, n);
  for (let i = 0; i < warm; i++) {
    issueOne(i);
    rawOne();
  }
  // Alternate short rounds so CPU frequency drift or a noisy neighbour affects both sides alike.
  let issueMs = 0;
  let rawMs = 0;
  const round = Math.max(1, Math.min(50, n));
  for (let done = 0; done < n; done += round) {
    const count = Math.min(round, n - done);
    let t = performance.now();
    for (let i = 0; i < count; i++) issueOne(done + i);
    issueMs += performance.now() - t;
    t = performance.now();
    for (let i = 0; i < count; i++) rawOne();
    rawMs += performance.now() - t;
  }
  const issuedPerSecond = (n * 1000) / issueMs;
  const rawSignsPerSecond = (n * 1000) / rawMs;
  return { issuedPerSecond, rawSignsPerSecond, ratio: issuedPerSecond / rawSignsPerSecond };
}
