/**
 * The probe's judgement on its own (core/dns/https-probe.ts): what the adapter observed in, findings and
 * sentences out. The network cases run for real in test/e2e/https-probe.test.ts; these are the answers
 * that are awkward to stage on a socket.
 */
import { describe, expect, it } from 'vitest';
import { type ObservedProbe, judgeHttpsProbe } from '../../src/core/dns/https-probe.js';
import { encodeDiscoverResponse } from '../../src/protocol/mde2/discover.js';

const CERT = {
  subject: 'CN=enterpriseenrollment.contoso.com',
  issuer: "C=US, O=Let's Encrypt, CN=R11",
  sans: ['enterpriseenrollment.contoso.com', 'winroll.contoso.com'],
  notBefore: '2025-01-01T00:00:00.000Z',
  notAfter: '2026-04-01T00:00:00.000Z',
};

function discoverResponse(enrollmentServiceUrl: string): Buffer {
  return Buffer.from(
    encodeDiscoverResponse({
      relatesTo: 'urn:uuid:1',
      activityId: 'a',
      authPolicy: 'OnPremise',
      enrollmentVersion: '4.0',
      policyServiceUrl: enrollmentServiceUrl.replace('Enrollment.svc', 'Policy.svc'),
      enrollmentServiceUrl,
    }),
  );
}

function observed(post: Buffer, extra: Partial<ObservedProbe> = {}, headers: Record<string, string> = {}): ObservedProbe {
  return {
    domain: 'contoso.com',
    target: 'enterpriseenrollment.contoso.com:443',
    connect: { ok: true, address: '203.0.113.7' },
    handshake: { ok: true, certificate: CERT },
    get: { ok: true, status: 200, headers: {}, body: Buffer.alloc(0) },
    post: { ok: true, status: 200, headers: { 'content-type': 'application/soap+xml; charset=utf-8', ...headers }, body: post },
    http: { skipped: true },
    ...extra,
  };
}

describe('judging the HTTPS probe', () => {
  it('all good: one sentence with the issuer, expiry and where devices enroll', () => {
    const r = judgeHttpsProbe(
      observed(discoverResponse('https://winroll.contoso.com/EnrollmentServer/Enrollment.svc'), { expectedHost: 'winroll.contoso.com' }),
    );
    expect(r.ok).toBe(true);
    expect(r.hresult).toBeNull();
    expect(r.reason).toBe(
      "https://enterpriseenrollment.contoso.com/EnrollmentServer/Discovery.svc answers discovery with a trusted certificate for enterpriseenrollment.contoso.com (issued by C=US, O=Let's Encrypt, CN=R11, valid until 2026-04-01); devices enroll at https://winroll.contoso.com/EnrollmentServer/Enrollment.svc.",
    );
    expect(r.address).toBe('203.0.113.7');
  });

  it('another enrollment server answers at the name: named, not ok', () => {
    const r = judgeHttpsProbe(
      observed(discoverResponse('https://old-mdm.contoso.com/EnrollmentServer/Enrollment.svc'), { expectedHost: 'winroll.contoso.com' }),
    );
    expect(r.ok).toBe(false);
    expect(r.discovery).toMatchObject({ ok: false, enrollmentServiceUrl: 'https://old-mdm.contoso.com/EnrollmentServer/Enrollment.svc' });
    expect(r.reason).toBe(
      'An enrollment server answers, but it sends devices to old-mdm.contoso.com, not to this server (winroll.contoso.com).',
    );
  });

  it('a chunked discovery response is refused as Windows refuses it', () => {
    const r = judgeHttpsProbe(
      observed(discoverResponse('https://winroll.contoso.com/x/Enrollment.svc'), {}, { 'transfer-encoding': 'chunked' }),
    );
    expect(r.discovery.error).toBe('the discovery response uses Transfer-Encoding: chunked, which Windows refuses');
  });

  it('a GET that is not 200, and an oversized answer', () => {
    const notFound = judgeHttpsProbe(observed(Buffer.alloc(0), { get: { ok: true, status: 404, headers: {}, body: Buffer.alloc(0) } }));
    expect(notFound.discovery.error).toBe(
      'GET /EnrollmentServer/Discovery.svc answered HTTP 404; Windows checks the discovery URL with a GET first and needs 200',
    );
    const big = observed(Buffer.alloc(10));
    big.post = { ok: true, status: 200, headers: {}, body: Buffer.alloc(10), truncated: true };
    expect(judgeHttpsProbe(big).discovery.error).toBe(
      'the answer to the Discover request is larger than any discovery response (HTTP 200)',
    );
  });

  it('a self-signed certificate, and one not yet valid', () => {
    const self = judgeHttpsProbe(
      observed(discoverResponse('https://winroll.contoso.com/E.svc'), {
        handshake: { ok: true, certificate: CERT, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
      }),
    );
    expect(self.reason).toMatch(
      /^The certificate is self-signed and not trusted: Windows refuses it with MENROLL_E_INVALIDSSLCERT \(0x80180012\)/,
    );
    const early = judgeHttpsProbe(
      observed(discoverResponse('https://winroll.contoso.com/E.svc'), {
        handshake: { ok: true, certificate: CERT, authorizationError: 'CERT_NOT_YET_VALID' },
      }),
    );
    expect(early.hresult).toBe('0x8018000D');
    expect(early.reason).toMatch(/^The certificate is not valid before 2025-01-01: /);
  });
});
