/**
 * Encoding of X.501 distinguished names for the certificates Winroll creates: one attribute per RDN,
 * DirectoryString chosen per RFC 5280. Issuer names are never built here; they are copied byte-for-byte
 * from the CA certificate so chain building (which Windows does by binary name comparison) always matches.
 */
import { directoryString, sequence, set } from './der.js';
import { OID_DER } from './oids.js';

/** RFC 5280 upper bound for commonName and organizationName. */
const UB_NAME = 64;

export type NameAttribute = 'commonName' | 'organizationName';

function checkValue(kind: NameAttribute, value: string): void {
  if (value.length === 0 || value.length > UB_NAME) throw new RangeError(`${kind} must be 1-${UB_NAME} characters`);
  // Control characters in a subject are never legitimate here and would confuse logs and UIs.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new RangeError(`${kind} contains control characters`);
}

/** Name as a SEQUENCE of single-attribute RDNs, in the order given (most significant first). */
export function encodeName(attributes: ReadonlyArray<readonly [NameAttribute, string]>): Buffer {
  return sequence(
    ...attributes.map(([kind, value]) => {
      checkValue(kind, value);
      return set(sequence(OID_DER[kind], directoryString(value)));
    }),
  );
}

export const commonNameOnly = (cn: string): Buffer => encodeName([['commonName', cn]]);
