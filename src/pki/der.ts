/**
 * A deliberately tiny DER codec: just the TLV framing and the handful of primitive types X.509 and
 * PKCS#10 need. It exists because a generic ASN.1 object model costs more per certificate than the RSA
 * signature itself; here every value is a Buffer and encoding is concatenation.
 *
 * The reader keeps offsets into the caller's bytes so signed regions (TBSCertificate,
 * CertificationRequestInfo) can be verified exactly as received, never re-encoded.
 */

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Raised by the reader on anything that is not well-formed DER framing. Callers translate it. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

// ---------------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------------

function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  if (length < 0x100) return Buffer.of(0x81, length);
  if (length < 0x10000) return Buffer.of(0x82, length >> 8, length & 0xff);
  if (length < 0x1000000) return Buffer.of(0x83, length >> 16, (length >> 8) & 0xff, length & 0xff);
  throw new RangeError(`DER value too long: ${length} bytes`);
}

/** One TLV. `tag` is the full identifier octet (class, constructed bit and number < 31). */
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const len = lengthOctets(length);
  // One allocation, parts copied straight in: this runs a dozen times per issued certificate.
  const out = Buffer.allocUnsafe(1 + len.length + length);
  out[0] = tag;
  len.copy(out, 1);
  let p = 1 + len.length;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(Tag.SEQUENCE, ...items);
export const set = (...items: Uint8Array[]): Buffer => tlv(Tag.SET, ...items);
export const octetString = (bytes: Uint8Array): Buffer => tlv(Tag.OCTET_STRING, bytes);
export const NULL = Buffer.of(Tag.NULL, 0x00);
export const TRUE = Buffer.of(Tag.BOOLEAN, 0x01, 0xff);

/** `[n] EXPLICIT` (constructed, context-specific). */
export const explicit = (n: number, ...content: Uint8Array[]): Buffer => tlv(0xa0 | n, ...content);

/** BIT STRING of whole octets (the only kind keys and signatures use). */
export const bitString = (bytes: Uint8Array): Buffer => tlv(Tag.BIT_STRING, Buffer.of(0), bytes);

/**
 * INTEGER from unsigned big-endian magnitude bytes. Adds the 0x00 pad DER needs when the top bit is
 * set and drops redundant leading zeros, so any magnitude encodes minimally and stays positive.
 */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.subarray(i);
  if (trimmed.length === 0) return Buffer.of(Tag.INTEGER, 1, 0);
  return (trimmed[0] as number) & 0x80 ? tlv(Tag.INTEGER, Buffer.of(0), trimmed) : tlv(Tag.INTEGER, trimmed);
}

export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7f) throw new RangeError(`smallInteger out of range: ${n}`);
  return Buffer.of(Tag.INTEGER, 1, n);
}

/** OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`bad OID ${dotted}`);
    return BigInt(a);
  });
  const [a0, a1, ...rest] = arcs;
  if (a0 === undefined || a1 === undefined || a0 > 2n || (a0 < 2n && a1 > 39n)) throw new RangeError(`bad OID ${dotted}`);
  const bytes: number[] = [];
  for (const arc of [a0 * 40n + a1, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(Tag.OID, Buffer.from(bytes));
}

// PrintableString's repertoire (X.680 §41.4). Anything else goes out as UTF8String.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** DirectoryString the way RFC 5280 §4.1.2.6 prefers: PrintableString when it fits, else UTF8String. */
export function directoryString(value: string): Buffer {
  return PRINTABLE.test(value) ? tlv(Tag.PRINTABLE_STRING, Buffer.from(value, 'latin1')) : tlv(Tag.UTF8_STRING, Buffer.from(value, 'utf8'));
}

/**
 * Certificate validity time per RFC 5280 §4.1.2.5: UTCTime for 1950-2049, GeneralizedTime otherwise,
 * always whole seconds in Z. Sub-second parts are dropped (truncated), which is what the encoding can carry.
 */
export function x509Time(date: Date): Buffer {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid Date');
  const y = date.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError(`year ${y} cannot be encoded in a certificate`);
  // toISOString is "YYYY-MM-DDTHH:MM:SS.sssZ" for years 0-9999; keep the digits.
  const iso = date.toISOString();
  const digits = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
  return y >= 1950 && y < 2050
    ? tlv(Tag.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'latin1'))
    : tlv(Tag.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'latin1'));
}

/** The instant a Date becomes once encoded by x509Time (whole seconds). */
export const toWholeSeconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

// ---------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------

/** Position of one TLV inside a buffer. `end` is exclusive. */
export interface Tlv {
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  end: number;
}

/**
 * Read the TLV at `offset`, which must end at or before `limit`. Rejects what DER forbids and would
 * make framing ambiguous (indefinite length, high tag numbers, lengths past the enclosing value).
 * Non-minimal length octets are tolerated: signatures cover the raw bytes, so they are harmless.
 */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated TLV at ${offset}`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at ${offset}`);
  let lenByte = buf[offset + 1] as number;
  let p = offset + 2;
  let length: number;
  if (lenByte < 0x80) {
    length = lenByte;
  } else {
    lenByte &= 0x7f;
    if (lenByte === 0) throw new DerError(`indefinite length at ${offset}`);
    if (lenByte > 4) throw new DerError(`length too large at ${offset}`);
    if (p + lenByte > limit) throw new DerError(`truncated length at ${offset}`);
    length = 0;
    for (let i = 0; i < lenByte; i++) length = length * 256 + (buf[p++] as number);
  }
  const end = p + length;
  if (end > limit) throw new DerError(`value at ${offset} overruns its container`);
  return { tag, start: offset, contentStart: p, end };
}

/** Read a TLV and insist on its tag. */
export function expect(buf: Uint8Array, offset: number, limit: number, tag: number, what: string): Tlv {
  const t = readTlv(buf, offset, limit);
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** All TLVs directly inside a constructed value. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.contentStart; p < parent.end; ) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** Parse a whole buffer as exactly one TLV (no trailing bytes). */
export function readSingle(buf: Uint8Array, tag: number, what: string): Tlv {
  const t = expect(buf, 0, buf.length, tag, what);
  if (t.end !== buf.length) throw new DerError(`${what}: ${buf.length - t.end} trailing bytes`);
  return t;
}

export const content = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.contentStart, t.end);
export const whole = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.start, t.end);

/** Dotted form of an OID's content octets. */
export function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DerError('empty OID');
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (v === 0n && b === 0x80) throw new DerError('non-minimal OID arc');
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
    } else if (i === bytes.length - 1) {
      throw new DerError('truncated OID');
    }
  }
  const first = arcs[0] as bigint;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** True when the TLV `t` is the OID whose full encoding is `encoded` (as produced by `oid()`). */
export function isOid(buf: Uint8Array, t: Tlv, encoded: Uint8Array): boolean {
  return Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start).equals(encoded);
}

/** Content of a BIT STRING that must hold whole octets. */
export function bitStringBytes(buf: Uint8Array, t: Tlv): Uint8Array {
  if (t.tag !== Tag.BIT_STRING || t.end <= t.contentStart) throw new DerError('expected BIT STRING');
  if (buf[t.contentStart] !== 0) throw new DerError('BIT STRING with unused bits');
  return buf.subarray(t.contentStart + 1, t.end);
}
