/**
 * The HTTPS probe of `https://enterpriseenrollment.<domain>/EnrollmentServer/Discovery.svc`, as Windows
 * makes it before enrolling (protocol.md §2.1, intune-features.md rows 15 and 19): the result shape, and
 * the rules that turn what the network adapter observed (src/dns/https-probe.ts) into verdicts and
 * sentences an admin can act on. Pure: no sockets here, the adapter hands over plain facts.
 */
import { decodeDiscoverResponse } from '../../protocol/mde2/discover.js';
import { MalformedResponseError, ReceivedFaultError } from '../../protocol/soap/client-errors.js';
import { decodeSoapEnvelope } from '../../protocol/soap/envelope.js';
import { SoapFault } from '../../protocol/soap/fault.js';

/** Windows' codes for what the probe finds (intune-features.md, error table). */
export const HRESULTS = {
  /** The TLS certificate is not trusted or does not cover the name. */
  invalidSslCert: 0x80180012,
  /** The TLS certificate is outside its validity dates. */
  certDateInvalid: 0x8018000d,
  /** HTTPS failed and plain HTTP redirected: the user is asked to allow an insecure redirect. */
  insecureRedirect: 0x8018001a,
} as const;

export const DISCOVERY_PATH = '/EnrollmentServer/Discovery.svc';

/** The name Windows derives from the UPN suffix the user typed. */
export function enrollmentHostFor(domain: string): string {
  return `enterpriseenrollment.${domain.trim().toLowerCase().replace(/\.$/, '')}`;
}

export interface HttpsProbeOptions {
  /**
   * Connect here instead of the address the name resolves to (tests, or checking a server before the
   * CNAME exists). SNI and Host stay `enterpriseenrollment.<domain>`. Port defaults to 443.
   */
  connectTo?: { host: string; port?: number } | undefined;
  /** The same for the plain-HTTP redirect check (port defaults to 80); null skips that check. */
  httpConnectTo?: { host: string; port?: number } | null | undefined;
  /** Extra trusted roots (PEM), on top of the system's: e.g. Winroll's own TLS root when PCs have it imported. */
  ca?: string[] | undefined;
  /** Per step (connect, each request); default 10 s. */
  timeoutMs?: number | undefined;
  /** This server's public host: a discovery answer naming another enrollment host is reported. */
  expectedHost?: string | undefined;
}

export interface TlsFindings {
  /** The chain ends in a trusted root and the dates are valid. */
  trusted: boolean;
  /** The certificate's names cover `enterpriseenrollment.<domain>` (RFC 6125 rules, wildcards included). */
  coversName: boolean;
  subject: string | null;
  sans: string[];
  issuer: string | null;
  notAfter: string | null;
  error?: string;
}

export interface DiscoveryFindings {
  /** The server answered GET 200 and a well-formed MS-MDE2 DiscoverResponse to the POST. */
  ok: boolean;
  authPolicy?: string;
  enrollmentServiceUrl?: string;
  policyServiceUrl?: string;
  error?: string;
}

export interface HttpRedirectFindings {
  /** False when the check was skipped or could not connect. */
  checked: boolean;
  /** Plain HTTP answers with a redirect: Windows would ask the user to allow it when HTTPS fails. */
  redirects: boolean;
  status?: number;
  location?: string;
  error?: string;
}

export interface HttpsProbeResult {
  url: string;
  host: string;
  /** Everything Windows needs: reachable, trusted, covering the name, answering discovery. */
  ok: boolean;
  /** One or more sentences for the admin: what was found and what to do. */
  reason: string;
  /** The code Windows would show for the first problem, e.g. `0x80180012`; null when none applies. */
  hresult: string | null;
  /** A TCP connection to port 443 of the name (or connectTo) was made. */
  reachable: boolean;
  /** The address connected to, when known. */
  address?: string;
  tls: TlsFindings;
  discovery: DiscoveryFindings;
  httpRedirect: HttpRedirectFindings;
}

/** The port the validator (and the API, CLI) call: implemented by src/dns/https-probe.ts. */
export type EnrollmentHttpsProbe = (domain: string, opts?: HttpsProbeOptions) => Promise<HttpsProbeResult>;

/** What the adapter saw on the wire, before any judgement. */
export interface ObservedProbe {
  domain: string;
  /** Where we connected (for messages); `host:port`. */
  target: string;
  connect: { ok: true; address?: string } | { ok: false; error: string; timedOut: boolean };
  /** Absent when the TCP connection failed. */
  handshake?:
    | {
        ok: true;
        /** OpenSSL's verdict against the trusted roots; undefined code when trusted. */
        authorizationError?: string;
        certificate: {
          subject: string | null;
          issuer: string | null;
          sans: string[];
          notBefore: string | null;
          notAfter: string | null;
        } | null;
        /** checkServerIdentity's message when the name is not covered. */
        nameError?: string;
      }
    | { ok: false; error: string; timedOut: boolean };
  get?: Exchange;
  post?: Exchange;
  http: { skipped: true } | Exchange;
  expectedHost?: string | undefined;
}

export type Exchange =
  | { ok: true; status: number; headers: Record<string, string | undefined>; body: Buffer; truncated?: boolean }
  | { ok: false; error: string; timedOut: boolean };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;

export function judgeHttpsProbe(o: ObservedProbe): HttpsProbeResult {
  const host = enrollmentHostFor(o.domain);
  const url = `https://${host}${DISCOVERY_PATH}`;
  const problems: Array<{ text: string; hresult?: number }> = [];
  const httpRedirect = judgeRedirect(o.http);

  const tls: TlsFindings = { trusted: false, coversName: false, subject: null, sans: [], issuer: null, notAfter: null };
  let discovery: DiscoveryFindings = { ok: false };
  const reachable = o.connect.ok;

  if (!o.connect.ok) {
    const why = o.connect.timedOut ? 'no answer in time' : o.connect.error;
    tls.error = 'not reached';
    discovery = { ok: false, error: 'not reached' };
    problems.push({ text: `could not connect to ${o.target} (${why})` });
  } else if (!o.handshake?.ok) {
    const why = !o.handshake ? 'no handshake' : o.handshake.timedOut ? 'no answer in time' : o.handshake.error;
    tls.error = `TLS handshake failed: ${why}`;
    discovery = { ok: false, error: 'not reached' };
    problems.push({ text: `no TLS server answered at ${o.target} (${why})` });
  } else {
    const hs = o.handshake;
    const cert = hs.certificate;
    Object.assign(tls, {
      subject: cert?.subject ?? null,
      sans: cert?.sans ?? [],
      issuer: cert?.issuer ?? null,
      notAfter: cert?.notAfter ?? null,
      trusted: !hs.authorizationError,
      coversName: cert !== null && !hs.nameError,
    });
    const tlsProblems: string[] = [];
    if (hs.authorizationError) {
      const trust = trustProblem(hs.authorizationError, cert);
      tlsProblems.push(trust.text);
      problems.push({
        text: `${trust.text}: Windows refuses it with ${trust.name} (${hex(trust.hresult)}); ${trust.fix}`,
        hresult: trust.hresult,
      });
    }
    if (!tls.coversName) {
      const covers = cert === null ? 'no certificate was sent' : `it covers ${describeNames(cert.sans, cert.subject)}`;
      const text = `certificate does not cover ${host} (${covers})`;
      tlsProblems.push(text);
      problems.push({
        text: `${text}: Windows refuses it with MENROLL_E_INVALIDSSLCERT (${hex(HRESULTS.invalidSslCert)}); the certificate must name ${host} (Winroll's own certificate covers every domain added with \`winroll domains add\`)`,
        hresult: HRESULTS.invalidSslCert,
      });
    }
    if (tlsProblems.length > 0) tls.error = tlsProblems.join('; ');
    discovery = judgeDiscovery(o, host);
    if (!discovery.ok && discovery.error) problems.push({ text: discovery.error });
  }

  const httpsFailed = !reachable || !tls.trusted || !tls.coversName || !o.handshake?.ok;
  if (httpsFailed) {
    if (httpRedirect.redirects) {
      problems.push({
        text: `plain HTTP redirects to ${httpRedirect.location}, so Windows asks the user to allow the redirect (MENROLL_E_INSECUREREDIRECT ${hex(HRESULTS.insecureRedirect)} when refused)`,
        hresult: HRESULTS.insecureRedirect,
      });
    } else {
      const server = o.expectedHost ? ` (they would type ${o.expectedHost})` : '';
      problems.push({
        text: httpRedirect.checked
          ? `Windows then asks the user for the server name${server}`
          : `Windows then tries plain HTTP and, without a redirect there, asks the user for the server name${server}`,
      });
    }
  }

  const ok = problems.length === 0;
  const firstCode = problems.find((p) => p.hresult !== undefined)?.hresult;
  const about = [tls.issuer ? `issued by ${tls.issuer}` : '', tls.notAfter ? `valid until ${tls.notAfter.slice(0, 10)}` : '']
    .filter(Boolean)
    .join(', ');
  const reason = ok
    ? `${url} answers discovery with a trusted certificate for ${host}${about ? ` (${about})` : ''}` +
      `${discovery.enrollmentServiceUrl ? `; devices enroll at ${discovery.enrollmentServiceUrl}` : ''}.`
    : `${capitalize(problems.map((p) => p.text).join('; '))}.`;
  return {
    url,
    host,
    ok,
    reason,
    hresult: firstCode === undefined ? null : hex(firstCode),
    reachable,
    ...(o.connect.ok && o.connect.address ? { address: o.connect.address } : {}),
    tls,
    discovery,
    httpRedirect,
  };
}

function judgeRedirect(http: ObservedProbe['http']): HttpRedirectFindings {
  if ('skipped' in http) return { checked: false, redirects: false };
  if (!http.ok) return { checked: false, redirects: false, error: http.timedOut ? 'no answer in time' : http.error };
  const location = http.headers.location;
  const redirects = REDIRECTS.has(http.status) && location !== undefined && location !== '';
  return { checked: true, redirects, status: http.status, ...(redirects ? { location: clip(location ?? '', 300) } : {}) };
}

function judgeDiscovery(o: ObservedProbe, host: string): DiscoveryFindings {
  const fail = (error: string): DiscoveryFindings => ({ ok: false, error });
  const get = o.get;
  if (!get) return fail('discovery was not tried');
  if (!get.ok) return fail(`GET ${DISCOVERY_PATH} failed (${get.timedOut ? 'no answer in time' : get.error})`);
  if (REDIRECTS.has(get.status)) return fail(redirectText(get, host));
  if (get.status !== 200) {
    return fail(`GET ${DISCOVERY_PATH} answered HTTP ${get.status}; Windows checks the discovery URL with a GET first and needs 200`);
  }
  const post = o.post;
  if (!post) return fail('discovery was not tried');
  if (!post.ok) return fail(`POST ${DISCOVERY_PATH} failed (${post.timedOut ? 'no answer in time' : post.error})`);
  if (REDIRECTS.has(post.status)) return fail(redirectText(post, host));
  if (post.truncated) return fail(`the answer to the Discover request is larger than any discovery response (HTTP ${post.status})`);
  let envelope: ReturnType<typeof decodeSoapEnvelope>;
  try {
    envelope = decodeSoapEnvelope(post.body);
  } catch (err) {
    if (!(err instanceof SoapFault)) throw err;
    return fail(notDiscovery(post));
  }
  let answer: ReturnType<typeof decodeDiscoverResponse>;
  try {
    answer = decodeDiscoverResponse(envelope);
  } catch (err) {
    if (err instanceof ReceivedFaultError) {
      const f = err.fault;
      return fail(
        `the server refused discovery for ${o.domain}: ${clip(f.message ?? f.reason, 400)}${f.errorType ? ` (${f.errorType})` : ''}`,
      );
    }
    if (err instanceof MalformedResponseError) return fail(`the discovery response is unusable: ${err.message}`);
    throw err;
  }
  if (post.headers['transfer-encoding']) {
    return fail(`the discovery response uses Transfer-Encoding: ${post.headers['transfer-encoding']}, which Windows refuses`);
  }
  const found: DiscoveryFindings = {
    ok: true,
    authPolicy: answer.authPolicy,
    enrollmentServiceUrl: answer.enrollmentServiceUrl,
    ...(answer.policyServiceUrl ? { policyServiceUrl: answer.policyServiceUrl } : {}),
  };
  let enrollHost: string;
  try {
    const u = new URL(answer.enrollmentServiceUrl);
    if (u.protocol !== 'https:')
      return { ...found, ok: false, error: `the discovery response sends devices to ${answer.enrollmentServiceUrl}, which is not HTTPS` };
    enrollHost = u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return {
      ...found,
      ok: false,
      error: `the discovery response's EnrollmentServiceUrl is not a URL: ${clip(answer.enrollmentServiceUrl, 200)}`,
    };
  }
  const expected = o.expectedHost?.toLowerCase().replace(/^\[|\]$/g, '');
  if (expected && enrollHost !== expected) {
    return {
      ...found,
      ok: false,
      error: `an enrollment server answers, but it sends devices to ${enrollHost}, not to this server (${expected})`,
    };
  }
  return found;
}

function redirectText(x: Extract<Exchange, { ok: true }>, host: string): string {
  const to = x.headers.location ? ` to ${clip(x.headers.location, 300)}` : '';
  return `https://${host}${DISCOVERY_PATH} answers with a redirect (HTTP ${x.status}${to}): redirects and proxies are not supported, point the CNAME at the server instead`;
}

function notDiscovery(x: Extract<Exchange, { ok: true }>): string {
  const type = x.headers['content-type'] ? `, ${clip(x.headers['content-type'], 60)}` : '';
  const sample = x.body
    .subarray(0, 60)
    .toString('utf8')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
  return `the answer is not an MS-MDE2 discovery response (HTTP ${x.status}${type}${sample ? `: "${sample}"` : ', empty'}): something other than an enrollment server answers at this name`;
}

function trustProblem(code: string, cert: { issuer: string | null; notBefore: string | null; notAfter: string | null } | null) {
  const invalid = { name: 'MENROLL_E_INVALIDSSLCERT', hresult: HRESULTS.invalidSslCert as number };
  const importFix = 'use a certificate from a public CA, or import its root on every PC as a trusted root';
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return {
        text: `the certificate expired${cert?.notAfter ? ` on ${cert.notAfter.slice(0, 10)}` : ''}`,
        name: 'MENROLL_E_DISCOVERY_SEC_CERT_DATE_INVALID',
        hresult: HRESULTS.certDateInvalid as number,
        fix: 'renew it',
      };
    case 'CERT_NOT_YET_VALID':
      return {
        text: `the certificate is not valid before ${cert?.notBefore?.slice(0, 10) ?? 'its start date'}`,
        name: 'MENROLL_E_DISCOVERY_SEC_CERT_DATE_INVALID',
        hresult: HRESULTS.certDateInvalid as number,
        fix: "check the server's clock and the certificate's dates",
      };
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return { ...invalid, text: 'the certificate is self-signed and not trusted', fix: importFix };
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return {
        ...invalid,
        text: `the certificate is not trusted: its issuer${cert?.issuer ? ` (${cert.issuer})` : ''} is not a trusted root`,
        fix: importFix,
      };
    default:
      return { ...invalid, text: `the certificate is not trusted (${code})`, fix: importFix };
  }
}

function describeNames(sans: string[], subject: string | null): string {
  if (sans.length > 0) return sans.length > 6 ? `${sans.slice(0, 6).join(', ')} and ${sans.length - 6} more` : sans.join(', ');
  return subject ? `only its subject ${subject}` : 'no names';
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
