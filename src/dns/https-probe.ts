/**
 * The network half of the HTTPS probe (core/dns/https-probe.ts judges): connect to
 * `enterpriseenrollment.<domain>:443` the way Windows does (SNI and Host are that name), take the TLS
 * handshake apart (trust against the system roots plus any extra CA, name coverage by RFC 6125 rules),
 * GET then POST a real Discover request, and ask plain HTTP whether it redirects. Every step has a hard
 * deadline and a size cap; whatever answers, the result is facts, never an exception.
 */
import { type X509Certificate, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import {
  DISCOVERY_PATH,
  type EnrollmentHttpsProbe,
  type Exchange,
  type HttpsProbeOptions,
  type HttpsProbeResult,
  type ObservedProbe,
  enrollmentHostFor,
  judgeHttpsProbe,
} from '../core/dns/https-probe.js';
import { encodeDiscoverRequest } from '../protocol/mde2/discover.js';
import { InvalidInputError } from '../shared/errors.js';

const DEFAULT_TIMEOUT_MS = 10_000;
/** A discovery response is about 1 KB; anything past this is not one, and we stop reading. */
const MAX_BODY = 256 * 1024;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const probeEnrollmentHttps: EnrollmentHttpsProbe = async (
  domain: string,
  opts: HttpsProbeOptions = {},
): Promise<HttpsProbeResult> => {
  const name = domain.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(name)) throw new InvalidInputError(`"${domain.slice(0, 100)}" is not a domain name`);
  const host = enrollmentHostFor(name);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const connectHost = opts.connectTo?.host ?? host;
  const port = opts.connectTo?.port ?? 443;
  // An explicit `ca` replaces node's default store, so the system roots are passed along with the extras.
  const ca = opts.ca && opts.ca.length > 0 ? [...tls.rootCertificates, ...opts.ca] : undefined;
  const httpTarget =
    opts.httpConnectTo === null ? null : { host: opts.httpConnectTo?.host ?? connectHost, port: opts.httpConnectTo?.port ?? 80 };

  const httpCheck: Promise<ObservedProbe['http']> = httpTarget
    ? exchange({ secure: false, host: httpTarget.host, port: httpTarget.port, hostHeader: host, method: 'GET', timeoutMs })
    : Promise.resolve({ skipped: true as const });

  const observed: ObservedProbe = {
    domain: name,
    target: `${net.isIP(connectHost) === 6 ? `[${connectHost}]` : connectHost}:${port}`,
    connect: { ok: false, error: 'not tried', timedOut: false },
    http: { skipped: true },
    expectedHost: opts.expectedHost,
  };
  const handshake = await tlsHandshake(connectHost, port, host, ca, timeoutMs);
  observed.connect = handshake.connect;
  if (handshake.handshake) observed.handshake = handshake.handshake;
  if (handshake.handshake?.ok) {
    const base = { secure: true, host: connectHost, port, hostHeader: host, ca, timeoutMs } as const;
    observed.get = await exchange({ ...base, method: 'GET', headers: { 'user-agent': 'ENROLLClient', 'cache-control': 'no-cache' } });
    if (observed.get.ok && observed.get.status === 200) {
      const url = `https://${host}${DISCOVERY_PATH}`;
      const body = encodeDiscoverRequest({
        messageId: `urn:uuid:${randomUUID()}`,
        to: url,
        // Recognisable in the server's log as the check, not a person.
        emailAddress: `winroll-dns-check@${name}`,
        requestVersion: '4.0',
        applicationVersion: '10.0.22631.0',
        osEdition: '4',
        authPolicies: ['OnPremise', 'Federated'],
      });
      observed.post = await exchange({
        ...base,
        method: 'POST',
        body: Buffer.from(body, 'utf8'),
        headers: { 'content-type': 'application/soap+xml; charset=utf-8', 'user-agent': 'ENROLLClient' },
      });
    }
  }
  observed.http = await httpCheck;
  return judgeHttpsProbe(observed);
};

interface HandshakeOutcome {
  connect: ObservedProbe['connect'];
  handshake?: NonNullable<ObservedProbe['handshake']>;
}

/** TCP first (so "unreachable" and "not a TLS server" stay apart), then TLS over that socket. */
function tlsHandshake(
  connectHost: string,
  port: number,
  servername: string,
  ca: string[] | undefined,
  timeoutMs: number,
): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let connected: { address?: string } | undefined;
    const raw = net.connect({ host: connectHost, port });
    let secure: tls.TLSSocket | undefined;
    const finish = (outcome: HandshakeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      secure?.destroy();
      raw.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      if (!connected) finish({ connect: { ok: false, error: 'no answer in time', timedOut: true } });
      else finish({ connect: { ok: true, ...connected }, handshake: { ok: false, error: 'no answer in time', timedOut: true } });
    }, timeoutMs);
    raw.on('error', (err) => {
      if (!connected) finish({ connect: { ok: false, error: describeNetError(err, connectHost), timedOut: false } });
    });
    raw.once('connect', () => {
      connected = raw.remoteAddress ? { address: raw.remoteAddress } : {};
      // Name coverage is judged apart from trust below, so node must not fold a name mismatch into `authorized`.
      secure = tls.connect({
        socket: raw,
        servername,
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        ...(ca ? { ca } : {}),
      });
      secure.on('error', (err) => {
        finish({
          connect: { ok: true, ...connected },
          handshake: { ok: false, error: describeNetError(err, connectHost), timedOut: false },
        });
      });
      secure.once('secureConnect', () => {
        const s = secure as tls.TLSSocket;
        const peer = s.getPeerX509Certificate();
        // checkServerIdentity is what node's own clients use: SAN DNS names, one-label wildcards, CN only without SANs.
        const nameError = peer ? tls.checkServerIdentity(servername, peer.toLegacyObject())?.message : 'no certificate';
        const authorizationError = s.authorized ? undefined : String(s.authorizationError ?? 'UNKNOWN');
        finish({
          connect: { ok: true, ...connected },
          handshake: {
            ok: true,
            ...(authorizationError ? { authorizationError } : {}),
            certificate: peer ? certificateFacts(peer) : null,
            ...(nameError ? { nameError } : {}),
          },
        });
      });
    });
  });
}

function certificateFacts(x: X509Certificate) {
  return {
    subject: oneLine(x.subject),
    issuer: oneLine(x.issuer),
    sans: (x.subjectAltName ?? '')
      .split(/,\s*/)
      .map((s) => s.replace(/^(DNS|IP Address):/, '').trim())
      .filter(Boolean),
    notBefore: isoDate(x.validFrom),
    notAfter: isoDate(x.validTo),
  };
}

const oneLine = (dn: string): string | null => (dn.trim() ? dn.trim().split('\n').join(', ') : null);
const isoDate = (s: string): string | null => {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
};

interface ExchangeRequest {
  secure: boolean;
  host: string;
  port: number;
  hostHeader: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer;
  ca?: string[] | undefined;
  timeoutMs: number;
}

/** One request on its own connection, with a hard deadline and a body cap. */
function exchange(r: ExchangeRequest): Promise<Exchange> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (x: Exchange) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(x);
    };
    const options: https.RequestOptions = {
      host: r.host,
      port: r.port,
      path: DISCOVERY_PATH,
      method: r.method,
      agent: false,
      headers: {
        host: r.hostHeader,
        ...r.headers,
        ...(r.body ? { 'content-length': String(r.body.length) } : {}),
      },
    };
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const finish = (truncated: boolean) =>
        done({ ok: true, status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks), ...(truncated ? { truncated } : {}) });
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) return finish(true);
        chunks.push(c);
      });
      res.on('end', () => finish(false));
      res.on('error', (err) => done({ ok: false, error: describeNetError(err, r.host), timedOut: false }));
    };
    const req = r.secure
      ? https.request({ ...options, servername: r.hostHeader, rejectUnauthorized: false, ...(r.ca ? { ca: r.ca } : {}) }, onResponse)
      : http.request(options, onResponse);
    const timer = setTimeout(() => done({ ok: false, error: 'no answer in time', timedOut: true }), r.timeoutMs);
    req.on('error', (err) => done({ ok: false, error: describeNetError(err, r.host), timedOut: false }));
    req.end(r.body);
  });
}

function describeNetError(err: Error & { code?: string }, host: string): string {
  switch (err.code) {
    case 'ENOTFOUND':
      return `${host} does not resolve`;
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_HEADER_TOKEN':
      return 'the answer is not HTTP';
    default:
      return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}
