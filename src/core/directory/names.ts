/** Validation and normalisation of domain names and UPNs, shared by the CLI, the API and enrollment. */
import { InvalidInputError } from '../../shared/errors.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Lower-cases and validates a UPN suffix such as `contoso.com`; throws InvalidInputError. */
export function normalizeDomainName(input: string): string {
  const name = input.trim().toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (name.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels.at(-1) ?? '')) {
    throw new InvalidInputError(`"${input}" is not a valid domain name (expected something like contoso.com)`);
  }
  return name;
}

/** Splits `alice@contoso.com` into a lower-case UPN and its domain; throws InvalidInputError. */
export function normalizeUpn(input: string): { upn: string; domain: string } {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) {
    throw new InvalidInputError(`"${input}" is not a user principal name (expected name@domain)`);
  }
  const local = trimmed.slice(0, at);
  if (local.length > 64 || /[\s"<>\\]/.test(local)) {
    throw new InvalidInputError(`"${input}" has an invalid user name part`);
  }
  const domain = normalizeDomainName(trimmed.slice(at + 1));
  return { upn: `${local.toLowerCase()}@${domain}`, domain };
}
