/**
 * TLS for the two listeners. Without an admin-supplied certificate Winroll runs its own small TLS CA
 * (`<data>/tls/root-ca.pem`, which admins import on PCs) and a server certificate whose names cover the
 * public host and `enterpriseenrollment.<domain>` for every configured domain; it is re-issued whenever
 * the domain list changes, so a new domain needs no restart.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { createRootCa } from '../pki/ca.js';
import { CertificateAuthority } from '../pki/authority.js';
import type { Logger } from '../shared/logger.js';
import { type DataPaths, loadOrCreatePair, readIfExists, writeFileAtomic } from './data-dir.js';

export interface ServerTls {
  key: string;
  cert: string;
  /** The local TLS root in PEM, or undefined when the admin supplied the certificate. */
  rootCaPem: string | undefined;
  names: string[];
}

const SERVER_CERT_DAYS = 397; // the longest validity browsers and Windows accept for a TLS server certificate
const RENEW_BEFORE_MS = 30 * 86400_000;

/** The host names (and addresses) the server certificate must cover. */
export function tlsNames(publicHost: string, domains: string[]): string[] {
  const names = new Set<string>([publicHost.toLowerCase().replace(/^\[|\]$/g, '')]);
  for (const d of domains) names.add(`enterpriseenrollment.${d}`);
  if (publicHost === 'localhost') {
    names.add('127.0.0.1');
    names.add('::1');
  }
  return [...names].sort();
}

export async function loadAdminTls(
  certFile: string,
  keyFile: string,
  publicHost: string,
  domains: string[],
  logger: Logger,
): Promise<ServerTls> {
  const [cert, key] = await Promise.all([fs.readFile(certFile, 'utf8'), fs.readFile(keyFile, 'utf8')]);
  const x = new X509Certificate(cert);
  const missing = tlsNames(publicHost, domains).filter((n) => !certificateCovers(x, n));
  if (missing.length > 0) {
    logger.warn({ missing }, 'the configured TLS certificate does not cover every enrollment name; Windows will refuse those hosts');
  }
  return { key, cert, rootCaPem: undefined, names: tlsNames(publicHost, domains) };
}

export async function ensureLocalTls(
  paths: DataPaths,
  publicHost: string,
  domains: string[],
  now: Date,
  logger: Logger,
  caKeyBits = 4096,
): Promise<ServerTls> {
  const ca = await loadOrCreatePair(paths.tlsCaCert, paths.tlsCaKey, () =>
    createRootCa({ commonName: `Winroll TLS Root (${publicHost})`, organization: 'Winroll', keyBits: caKeyBits, validityYears: 10, now }),
  );
  if (ca.created) logger.info({ file: paths.tlsCaCert }, 'created the local TLS root CA; import it on PCs as a trusted root');
  const names = tlsNames(publicHost, domains);
  const [certPem, keyPem] = await Promise.all([readIfExists(paths.tlsServerCert), readIfExists(paths.tlsServerKey)]);
  if (certPem && keyPem) {
    const x = new X509Certificate(certPem);
    const fresh = new Date(x.validTo).getTime() - now.getTime() > RENEW_BEFORE_MS;
    const issuedByUs = x.checkIssued(new X509Certificate(ca.certPem));
    if (fresh && issuedByUs && sameNames(sanNames(x), names)) return { key: keyPem, cert: certPem, rootCaPem: ca.certPem, names };
  }
  const authority = new CertificateAuthority({ certPem: ca.certPem, keyPem: ca.keyPem });
  const issued = await authority.issueServerCertificate({
    dnsNames: names.filter((n) => isIP(n) === 0),
    ipAddresses: names.filter((n) => isIP(n) !== 0),
    notBefore: now,
    notAfter: new Date(now.getTime() + SERVER_CERT_DAYS * 86400_000),
  });
  await writeFileAtomic(paths.tlsServerKey, issued.keyPem, true);
  await writeFileAtomic(paths.tlsServerCert, issued.certPem + ca.certPem, false);
  logger.info({ names }, 'issued the TLS server certificate');
  return { key: issued.keyPem, cert: issued.certPem + ca.certPem, rootCaPem: ca.certPem, names };
}

function sanNames(x: X509Certificate): string[] {
  return (x.subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => s.replace(/^(DNS|IP Address):/, '').toLowerCase())
    .filter(Boolean);
}

function sameNames(a: string[], b: string[]): boolean {
  const norm = (l: string[]) => [...new Set(l.map((n) => (isIP(n) === 6 ? expandV6(n) : n)))].sort().join(',');
  return norm(a) === norm(b);
}

function expandV6(ip: string): string {
  // node prints IPv6 SANs fully expanded ("0:0:0:0:0:0:0:1"); compare in one canonical form.
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = ip.includes('::') ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((p) => Number.parseInt(p, 16).toString(16)).join(':');
}

function certificateCovers(x: X509Certificate, name: string): boolean {
  return isIP(name) ? x.checkIP(name) !== undefined : x.checkHost(name) !== undefined;
}
