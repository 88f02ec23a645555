/** Shared helpers for the PKI tests: fixtures, a scratch directory and the openssl CLI. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromPem } from '../../src/pki/pem.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);

export const fixtureText = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
export const fixtureCsr = (name: string): Buffer => fromPem(fixtureText(name), 'CERTIFICATE REQUEST');
export const fixtureCert = (name: string): Buffer => fromPem(fixtureText(name), 'CERTIFICATE');

export interface Scratch {
  dir: string;
  write(name: string, data: string | Uint8Array): string;
  cleanup(): void;
}

export function scratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'winroll-pki-'));
  return {
    dir,
    write(name, data) {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Run openssl; returns stdout+stderr and the exit status instead of throwing. */
export function openssl(args: string[], input?: string | Uint8Array): { status: number; output: string } {
  const r = spawnSync('openssl', args, { input });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, output: `${r.stdout.toString('latin1')}${r.stderr.toString('latin1')}` };
}

/** `openssl asn1parse` output reduced to depth + tag names (+ OIDs); no offsets, lengths or other values. */
export function asn1Shape(der: Uint8Array): string[] {
  const { status, output } = openssl(['asn1parse', '-inform', 'DER'], der);
  if (status !== 0) throw new Error(output);
  return output
    .trim()
    .split('\n')
    .map((line) => {
      const m = /d=(\d+)\s+hl=\s*\d+\s+l=\s*\d+\s+(?:prim|cons):\s+(.*?)\s*(?::(.*))?$/.exec(line);
      if (!m) throw new Error(`unparsed asn1parse line: ${line}`);
      return m[2] === 'OBJECT' ? `${m[1]} OBJECT ${m[3]}` : `${m[1]} ${m[2]}`;
    });
}
