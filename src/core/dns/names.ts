/** Domain names and resolver addresses as admins type them, checked before any query is sent. */
import { domainToASCII } from 'node:url';
import { InvalidInputError } from '../../shared/errors.js';

export const ENROLLMENT_LABEL = 'EnterpriseEnrollment';
export const REGISTRATION_LABEL = 'EnterpriseRegistration';

/** DNS names compare case-insensitively and with or without the root's trailing dot. */
export function canonicalName(name: string): string {
  return name.trim().replace(/\.$/, '').toLowerCase();
}

export function sameName(a: string, b: string): boolean {
  return canonicalName(a) === canonicalName(b);
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Whether `name` is a syntactically valid host name (letters, digits, hyphens; by default at least two labels). */
export function isHostName(name: string, minLabels = 2): boolean {
  const n = canonicalName(name);
  if (n.length === 0 || n.length > 253) return false;
  const labels = n.split('.');
  // An all-digit last label is an IPv4 address, not a name.
  return labels.length >= minLabels && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1] ?? '');
}

/** A CNAME target an admin names (a legacy target, another registration service): a host name, not an address. */
export function parseTargetHost(input: string, what: string): string {
  const n = domainToASCII(canonicalName(input));
  if (!n || isIpAddress(n) || !isHostName(n, 1))
    throw new InvalidInputError(`${what} "${input}" must be a host name (a CNAME cannot point to an address)`);
  return n;
}

export function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || /^\[?[0-9a-f:]*:[0-9a-f:.]*\]?$/i.test(host);
}

/**
 * The UPN suffix an admin means: `contoso.com`, `Contoso.COM.`, `alice@contoso.com` (what users type) or
 * `enterpriseenrollment.contoso.com` (the record's own name) all mean contoso.com. Internationalised names
 * become their ASCII (punycode) form, which is what the zone holds.
 */
export function parseDomain(input: string): string {
  const raw = input.trim();
  const afterAt = raw.includes('@') ? raw.slice(raw.lastIndexOf('@') + 1) : raw;
  let name = canonicalName(afterAt);
  for (const label of [ENROLLMENT_LABEL, REGISTRATION_LABEL]) {
    const prefix = `${label.toLowerCase()}.`;
    if (name.startsWith(prefix)) name = name.slice(prefix.length);
  }
  const ascii = domainToASCII(name);
  if (!ascii || !isHostName(ascii)) throw new InvalidInputError(`"${input}" is not a domain name (e.g. contoso.com)`);
  return ascii;
}

/** A resolver to query: an IP address and a port (53 unless given). */
export interface ResolverAddress {
  host: string;
  port: number;
}

/**
 * `192.0.2.53`, `192.0.2.53:5353`, `2001:db8::53`, `[2001:db8::53]:5353`. Names are refused: resolving the
 * resolver would go through the very DNS being checked.
 */
export function parseResolver(input: string): ResolverAddress {
  const s = input.trim();
  const refuse = () =>
    new InvalidInputError(
      `resolver "${input}" must be an IP address with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)`,
    );
  let host: string;
  let port = 53;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(s);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(s);
  if (v6) {
    host = v6[1] as string;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (v4) {
    host = v4[1] as string;
    if (v4[2] !== undefined) port = Number(v4[2]);
    if (host.split('.').some((o) => Number(o) > 255)) throw refuse();
  } else if (/^[0-9a-fA-F:]+$/.test(s) && s.includes(':') && (s.match(/:/g)?.length ?? 0) >= 2) {
    host = s;
  } else {
    throw refuse();
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw refuse();
  return { host, port };
}

export function resolverLabel(r: ResolverAddress): string {
  return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
}
