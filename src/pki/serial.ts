/**
 * Certificate serial numbers. Random, so they are unguessable (the CA/B Forum asks for >= 64 bits of
 * entropy) and unique without coordination; the caller still records them and rejects the rare clash.
 */

export const SERIAL_BYTES = 16;

/**
 * 16 random bytes usable verbatim as DER INTEGER content: the top bit is cleared so the number is
 * positive without a 0x00 pad, and a zero first byte is replaced so the encoding stays minimal and the
 * length fixed (16 bytes, 32 hex digits). About 127 bits of entropy remain.
 */
export function randomSerial(randomBytes: (n: number) => Buffer): Buffer {
  const b = Buffer.from(randomBytes(SERIAL_BYTES));
  if (b.length !== SERIAL_BYTES) throw new RangeError(`randomBytes returned ${b.length} bytes`);
  b[0] = (b[0] as number) & 0x7f || 0x01;
  return b;
}
