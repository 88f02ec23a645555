/** Reads the real Windows captures in ../shared/conformance/captures (laid beside the repo, also in CI). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const CAPTURES = path.resolve(import.meta.dirname, '../../../shared/conformance/captures');

export function capture(relative: string): string {
  return readFileSync(path.join(CAPTURES, relative), 'utf8');
}

/** The DER of a capture's `.csr.pem`. */
export function captureCsrDer(relative: string): Buffer {
  const pem = capture(relative);
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
