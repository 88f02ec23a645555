/**
 * The HTTPS probe of https://enterpriseenrollment.<domain>/EnrollmentServer/Discovery.svc, run the way
 * Windows reaches it (SNI and Host = that name) against the running server and against small loopback
 * servers that get it wrong: a certificate for another name, an untrusted or expired one, a proxy
 * redirect, a plain-HTTP redirect, garbage, and silence.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpsProbeResult } from '../../src/core/dns/https-probe.js';
import { probeEnrollmentHttps } from '../../src/dns/https-probe.js';
import { CertificateAuthority } from '../../src/pki/authority.js';
import { createRootCa } from '../../src/pki/ca.js';
import { type TestServer, startTestServer } from '../support/server.js';

const DAY = 86_400_000;

interface Listener {
  port: number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<Listener> {
  return new Promise((resolve) => {
    const sockets = new Set<net.Socket>();
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const l = await listen(net.createServer());
  await l.close();
  return l.port;
}

describe('HTTPS probe of enterpriseenrollment.<domain>', () => {
  let t: TestServer | undefined;
  const srv = () => t as TestServer;
  let testCa: CertificateAuthority;
  let testCaPem: string;
  const listeners: Listener[] = [];

  /** An HTTPS server on loopback with a certificate from the test CA for `names`. */
  async function httpsServer(
    names: string[],
    handler: http.RequestListener,
    validity: { notBefore: Date; notAfter: Date } = { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY) },
  ): Promise<number> {
    const issued = await testCa.issueServerCertificate({ dnsNames: names, ...validity });
    const l = await listen(https.createServer({ key: issued.keyPem, cert: issued.certPem }, handler));
    listeners.push(l);
    return l.port;
  }

  async function plainServer(handler: http.RequestListener): Promise<number> {
    const l = await listen(http.createServer(handler));
    listeners.push(l);
    return l.port;
  }

  async function rawServer(onConnection: (s: net.Socket) => void): Promise<number> {
    const l = await listen(net.createServer(onConnection));
    listeners.push(l);
    return l.port;
  }

  const atServer = () => ({ host: '127.0.0.1', port: srv().server.port });

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    await srv().addDomain('contoso.test');
    // Back-dated a day so the expired leaf below can start inside the root's validity.
    const live = await createRootCa({
      commonName: 'Probe Test Root',
      organization: 'Test',
      validityYears: 2,
      now: new Date(Date.now() - 90 * DAY),
    });
    testCa = new CertificateAuthority({ certPem: live.certPem, keyPem: live.keyPem });
    testCaPem = live.certPem;
  }, 60_000);

  afterAll(async () => {
    for (const l of listeners) await l.close();
    await t?.stop();
  });

  /** The server re-issues its certificate when the domain list changes; wait until the probe sees it. */
  async function probeUntil(domain: string, opts: Parameters<typeof probeEnrollmentHttps>[1], done: (r: HttpsProbeResult) => boolean) {
    let last: HttpsProbeResult | undefined;
    for (let i = 0; i < 50; i++) {
      last = await probeEnrollmentHttps(domain, opts);
      if (done(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    return last as HttpsProbeResult;
  }

  it("the server's own certificate covers a configured domain, and it answers discovery", async () => {
    const r = await probeUntil(
      'contoso.test',
      { connectTo: atServer(), ca: [srv().server.tlsRootCaPem as string], httpConnectTo: null, expectedHost: 'localhost' },
      (x) => x.tls.coversName,
    );
    expect(r.ok).toBe(true);
    expect(r.url).toBe('https://enterpriseenrollment.contoso.test/EnrollmentServer/Discovery.svc');
    expect(r.reachable).toBe(true);
    expect(r.address).toBe('127.0.0.1');
    expect(r.tls).toMatchObject({ trusted: true, coversName: true });
    expect(r.tls.sans).toContain('enterpriseenrollment.contoso.test');
    expect(r.tls.issuer).toContain('Winroll TLS Root');
    expect(new Date(r.tls.notAfter as string).getTime()).toBeGreaterThan(Date.now() + 300 * DAY);
    expect(r.discovery).toMatchObject({ ok: true, authPolicy: 'OnPremise' });
    expect(r.discovery.enrollmentServiceUrl).toBe(`https://localhost:${srv().server.port}/EnrollmentServer/Enrollment.svc`);
    expect(r.httpRedirect).toEqual({ checked: false, redirects: false });
    expect(r.hresult).toBeNull();
    expect(r.reason).toMatch(/answers discovery with a trusted certificate for enterpriseenrollment\.contoso\.test/);
    // The server saw the request as Windows would send it: through the enrollment name.
    expect(srv().logs.some((l) => l.includes('"via":"enterpriseenrollment.contoso.test"'))).toBe(true);
  });

  it('without the TLS root the same certificate is untrusted: 0x80180012 and what to do', async () => {
    const r = await probeEnrollmentHttps('contoso.test', { connectTo: atServer(), httpConnectTo: null });
    expect(r.ok).toBe(false);
    expect(r.tls.trusted).toBe(false);
    expect(r.tls.coversName).toBe(true);
    expect(r.hresult).toBe('0x80180012');
    expect(r.reason).toContain(
      'The certificate is not trusted: its issuer (O=Winroll, CN=Winroll TLS Root (localhost)) is not a trusted root',
    );
    expect(r.reason).toContain('MENROLL_E_INVALIDSSLCERT (0x80180012)');
    expect(r.reason).toContain('import its root on every PC');
    // Discovery itself still answers: the admin learns the server is right and only trust is missing.
    expect(r.discovery.ok).toBe(true);
  });

  it('a domain the server does not know: the certificate does not cover it, and discovery names the fix', async () => {
    const root = srv().server.tlsRootCaPem as string;
    const r = await probeEnrollmentHttps('fabrikam.test', { connectTo: atServer(), ca: [root], httpConnectTo: null });
    expect(r.ok).toBe(false);
    expect(r.tls).toMatchObject({ trusted: true, coversName: false });
    expect(r.hresult).toBe('0x80180012');
    expect(r.reason).toMatch(
      /^Certificate does not cover enterpriseenrollment\.fabrikam\.test \(it covers [^)]*enterpriseenrollment\.contoso\.test/,
    );
    expect(r.discovery.ok).toBe(false);
    expect(r.discovery.error).toContain('the server refused discovery for fabrikam.test');
    expect(r.discovery.error).toContain('winroll domains add fabrikam.test');

    // Adding the domain re-issues the certificate; no restart.
    await srv().addDomain('fabrikam.test', 'Federated');
    const after = await probeUntil('fabrikam.test', { connectTo: atServer(), ca: [root], httpConnectTo: null }, (x) => x.ok);
    expect(after.ok).toBe(true);
    expect(after.tls.sans).toEqual(expect.arrayContaining(['enterpriseenrollment.contoso.test', 'enterpriseenrollment.fabrikam.test']));
    expect(after.discovery.authPolicy).toBe('Federated');
  });

  it('a trusted certificate for another name: says which names it covers; an HTML answer is not discovery', async () => {
    const port = await httpsServer(['mdm.example.com'], (req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(req.method === 'GET' ? '' : '<html><body>It works!</body></html>');
    });
    const r = await probeEnrollmentHttps('contoso.test', { connectTo: { host: '127.0.0.1', port }, ca: [testCaPem], httpConnectTo: null });
    expect(r.ok).toBe(false);
    expect(r.tls).toMatchObject({ trusted: true, coversName: false, sans: ['mdm.example.com'], subject: 'CN=mdm.example.com' });
    expect(r.reason).toMatch(/^Certificate does not cover enterpriseenrollment\.contoso\.test \(it covers mdm\.example\.com\)/);
    expect(r.reason).toContain('MENROLL_E_INVALIDSSLCERT (0x80180012)');
    expect(r.discovery.ok).toBe(false);
    expect(r.discovery.error).toContain('not an MS-MDE2 discovery response (HTTP 200, text/html: "<html><body>It works!');
    expect(r.reason).toContain('Windows then tries plain HTTP and, without a redirect there, asks the user for the server name');
  });

  it('a wildcard certificate covers the enrollment name (RFC 6125), a wildcard one level up does not', async () => {
    const ok = await httpsServer(['*.contoso.test'], (_req, res) => res.end());
    const r = await probeEnrollmentHttps('contoso.test', {
      connectTo: { host: '127.0.0.1', port: ok },
      ca: [testCaPem],
      httpConnectTo: null,
    });
    expect(r.tls).toMatchObject({ trusted: true, coversName: true });
    const deep = await probeEnrollmentHttps('eu.contoso.test', {
      connectTo: { host: '127.0.0.1', port: ok },
      ca: [testCaPem],
      httpConnectTo: null,
    });
    expect(deep.tls.coversName).toBe(false);
    expect(deep.reason).toContain('does not cover enterpriseenrollment.eu.contoso.test (it covers *.contoso.test)');
  });

  it('an expired certificate: MENROLL_E_DISCOVERY_SEC_CERT_DATE_INVALID 0x8018000D', async () => {
    const port = await httpsServer(['enterpriseenrollment.contoso.test'], (_req, res) => res.end(), {
      notBefore: new Date(Date.now() - 60 * DAY),
      notAfter: new Date(Date.now() - 2 * DAY),
    });
    const r = await probeEnrollmentHttps('contoso.test', { connectTo: { host: '127.0.0.1', port }, ca: [testCaPem], httpConnectTo: null });
    expect(r.tls).toMatchObject({ trusted: false, coversName: true });
    expect(r.hresult).toBe('0x8018000D');
    expect(r.reason).toMatch(
      /^The certificate expired on \d{4}-\d\d-\d\d: Windows refuses it with MENROLL_E_DISCOVERY_SEC_CERT_DATE_INVALID/,
    );
  });

  it('a proxy that redirects discovery over HTTPS is reported as unsupported', async () => {
    const port = await httpsServer(['enterpriseenrollment.contoso.test'], (_req, res) => {
      res.writeHead(302, { location: 'https://enterpriseenrollment-s.manage.microsoft.com/EnrollmentServer/Discovery.svc' });
      res.end();
    });
    const r = await probeEnrollmentHttps('contoso.test', { connectTo: { host: '127.0.0.1', port }, ca: [testCaPem], httpConnectTo: null });
    expect(r.tls).toMatchObject({ trusted: true, coversName: true });
    expect(r.ok).toBe(false);
    expect(r.discovery.error).toContain('answers with a redirect (HTTP 302 to https://enterpriseenrollment-s.manage.microsoft.com/');
    expect(r.discovery.error).toContain('point the CNAME at the server instead');
  });

  it('HTTPS unreachable and plain HTTP redirects: the user gets the allow-redirect prompt (0x8018001A)', async () => {
    const httpPort = await plainServer((_req, res) => {
      res.writeHead(301, { location: 'https://winroll.example.net/EnrollmentServer/Discovery.svc' });
      res.end();
    });
    const r = await probeEnrollmentHttps('contoso.test', {
      connectTo: { host: '127.0.0.1', port: await closedPort() },
      httpConnectTo: { host: '127.0.0.1', port: httpPort },
    });
    expect(r.reachable).toBe(false);
    expect(r.tls.trusted).toBe(false);
    expect(r.discovery).toEqual({ ok: false, error: 'not reached' });
    expect(r.httpRedirect).toEqual({
      checked: true,
      redirects: true,
      status: 301,
      location: 'https://winroll.example.net/EnrollmentServer/Discovery.svc',
    });
    expect(r.hresult).toBe('0x8018001A');
    expect(r.reason).toMatch(/^Could not connect to 127\.0\.0\.1:\d+ \(connection refused\)/);
    expect(r.reason).toContain(
      'plain HTTP redirects to https://winroll.example.net/EnrollmentServer/Discovery.svc, so Windows asks the user to allow the redirect',
    );

    // A plain-HTTP listener that does not redirect: Windows asks for the server name instead.
    const notFound = await plainServer((_req, res) => res.writeHead(404).end());
    const r2 = await probeEnrollmentHttps('contoso.test', {
      connectTo: { host: '127.0.0.1', port: await closedPort() },
      httpConnectTo: { host: '127.0.0.1', port: notFound },
      expectedHost: 'winroll.contoso.test',
    });
    expect(r2.httpRedirect).toEqual({ checked: true, redirects: false, status: 404 });
    expect(r2.hresult).toBeNull();
    expect(r2.reason).toContain('Windows then asks the user for the server name (they would type winroll.contoso.test)');
  });

  it('a working HTTPS answer makes a plain-HTTP redirect harmless', async () => {
    const httpPort = await plainServer((_req, res) => res.writeHead(308, { location: 'https://localhost/' }).end());
    const r = await probeEnrollmentHttps('contoso.test', {
      connectTo: atServer(),
      ca: [srv().server.tlsRootCaPem as string],
      httpConnectTo: { host: '127.0.0.1', port: httpPort },
    });
    expect(r.ok).toBe(true);
    expect(r.httpRedirect).toMatchObject({ checked: true, redirects: true, status: 308 });
  });

  it('garbage instead of TLS, and garbage instead of HTTP: reported, never thrown', async () => {
    const garbage = await rawServer((s) => s.end('220 mail.example.com ESMTP ready\r\n'));
    const r = await probeEnrollmentHttps('contoso.test', {
      connectTo: { host: '127.0.0.1', port: garbage },
      httpConnectTo: { host: '127.0.0.1', port: garbage },
      timeoutMs: 2000,
    });
    expect(r.reachable).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.tls.error).toMatch(/^TLS handshake failed: /);
    expect(r.reason).toMatch(/^No TLS server answered at 127\.0\.0\.1:\d+/);
    expect(r.httpRedirect.checked).toBe(false);
    expect(r.httpRedirect.error).toBeTruthy();

    // A TLS server whose answer to the Discover POST is binary noise.
    const noise = await httpsServer(['enterpriseenrollment.contoso.test'], (req, res) => {
      res.writeHead(200, { 'content-type': 'application/soap+xml' });
      res.end(req.method === 'GET' ? '' : Buffer.from([0x00, 0xff, 0x3c, 0x3f, 0x78, 0x01, 0x02]));
    });
    const r2 = await probeEnrollmentHttps('contoso.test', {
      connectTo: { host: '127.0.0.1', port: noise },
      ca: [testCaPem],
      httpConnectTo: null,
    });
    expect(r2.tls).toMatchObject({ trusted: true, coversName: true });
    expect(r2.discovery.ok).toBe(false);
    expect(r2.discovery.error).toContain('not an MS-MDE2 discovery response (HTTP 200, application/soap+xml');
  });

  it('a server that never answers: each step gives up after the timeout', async () => {
    const silent = await rawServer(() => {});
    const started = Date.now();
    const r = await probeEnrollmentHttps('contoso.test', {
      connectTo: { host: '127.0.0.1', port: silent },
      httpConnectTo: { host: '127.0.0.1', port: silent },
      timeoutMs: 300,
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.reachable).toBe(true);
    expect(r.tls.error).toBe('TLS handshake failed: no answer in time');
    expect(r.httpRedirect).toEqual({ checked: false, redirects: false, error: 'no answer in time' });

    // TLS completes but the HTTP answer never comes.
    const mute = await httpsServer(['enterpriseenrollment.contoso.test'], () => {});
    const r2 = await probeEnrollmentHttps('contoso.test', {
      connectTo: { host: '127.0.0.1', port: mute },
      ca: [testCaPem],
      httpConnectTo: null,
      timeoutMs: 300,
    });
    expect(r2.tls).toMatchObject({ trusted: true, coversName: true });
    expect(r2.discovery.error).toBe('GET /EnrollmentServer/Discovery.svc failed (no answer in time)');
  });

  it('a name that does not resolve, and input that is not a domain', async () => {
    const r = await probeEnrollmentHttps('does-not-exist.invalid', { httpConnectTo: null, timeoutMs: 3000 });
    expect(r.reachable).toBe(false);
    expect(r.reason).toMatch(/^Could not connect to enterpriseenrollment\.does-not-exist\.invalid:443 \(/);
    await expect(probeEnrollmentHttps('contoso.test/../x', {})).rejects.toThrow('is not a domain name');
  });
});
