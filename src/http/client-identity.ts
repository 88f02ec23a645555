/**
 * Who is on the other end of a management request: the DER of the client certificate from the TLS
 * connection, or, only when explicitly configured and only from the configured proxy addresses, from a
 * header a TLS-terminating proxy sets (RFC 9440 `Client-Cert: :<base64 DER>:`, or nginx's
 * `$ssl_client_escaped_cert` URL-encoded PEM).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface ClientIdentityOptions {
  proxyHeader?: string | undefined;
  trustedProxies: string[];
}

export type ClientIdentity =
  | { certificateDer: Buffer; via: 'tls' | 'proxy-header' }
  | { certificateDer: undefined; via: 'none'; reason: string };

export function clientIdentity(req: IncomingMessage, opts: ClientIdentityOptions): ClientIdentity {
  const socket = req.socket as TLSSocket;
  if (opts.proxyHeader) {
    const peer = normalizeAddress(socket.remoteAddress ?? '');
    const header = req.headers[opts.proxyHeader];
    if (!opts.trustedProxies.map(normalizeAddress).includes(peer)) {
      // A header from anyone else is ignored, never trusted; fall through to the TLS certificate.
      if (header !== undefined) return tlsIdentity(socket, `ignored ${opts.proxyHeader} from untrusted ${peer}`);
      return tlsIdentity(socket);
    }
    if (typeof header === 'string' && header.length > 0) {
      const der = parseForwardedCertificate(header);
      return der
        ? { certificateDer: der, via: 'proxy-header' }
        : { certificateDer: undefined, via: 'none', reason: `unreadable ${opts.proxyHeader} header` };
    }
    // No header: the connection may be TLS passthrough; a certificate on the TLS session itself is
    // authenticated by the handshake, so it can still be used.
    return tlsIdentity(socket, `proxy sent no ${opts.proxyHeader} header`);
  }
  return tlsIdentity(socket);
}

function tlsIdentity(socket: TLSSocket, note?: string): ClientIdentity {
  // The peer certificate of the TLS session as an X509Certificate: only its DER is needed. (getPeerCertificate
  // also builds every field and three fingerprints on each call: about a tenth of an empty check-in's CPU.)
  const cert = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  const der = cert?.raw;
  if (der && der.length > 0) return { certificateDer: der, via: 'tls' };
  return { certificateDer: undefined, via: 'none', reason: note ?? 'no client certificate presented' };
}

/** RFC 9440 byte sequence (`:base64:`) or a URL-encoded PEM; undefined when neither. */
export function parseForwardedCertificate(value: string): Buffer | undefined {
  const v = value.trim();
  if (v.startsWith(':') && v.endsWith(':') && v.length > 2) {
    const b64 = v.slice(1, -1);
    return /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : undefined;
  }
  let pem = v;
  try {
    if (v.includes('%')) pem = decodeURIComponent(v);
  } catch {
    return undefined;
  }
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m?.[1]) return undefined;
  const body = m[1].replace(/\s+/g, '');
  return /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? Buffer.from(body, 'base64') : undefined;
}

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
