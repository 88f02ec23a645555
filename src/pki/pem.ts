/**
 * PEM armour (RFC 7468) for the few labels Winroll handles. Kept separate so DER-only code never
 * touches text and so every PEM the project writes has the same strict 64-column shape.
 */

export type PemLabel = 'CERTIFICATE' | 'PRIVATE KEY' | 'PUBLIC KEY' | 'CERTIFICATE REQUEST';

export function toPem(der: Uint8Array, label: PemLabel): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/**
 * DER of the first block with `label`. Tolerates CRLF, surrounding text and the legacy
 * `NEW CERTIFICATE REQUEST` label (what Windows' certreq writes), because PEMs arrive from admins' files.
 */
export function fromPem(pem: string, label: PemLabel): Buffer {
  const labels = label === 'CERTIFICATE REQUEST' ? '(?:NEW )?CERTIFICATE REQUEST' : label;
  const m = new RegExp(`-----BEGIN ${labels}-----([A-Za-z0-9+/=\\s]*?)-----END ${labels}-----`).exec(pem);
  if (!m?.[1]) throw new TypeError(`no ${label} PEM block found`);
  const der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  if (der.length === 0) throw new TypeError(`empty ${label} PEM block`);
  return der;
}
