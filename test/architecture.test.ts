/**
 * Dependencies point inward only (docs/ARCHITECTURE.md). This test reads every import in src/ and fails
 * on any edge the layering does not allow, so the rule cannot rot silently.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

/** Which of our layers each layer may import. */
const ALLOWED: Record<string, string[]> = {
  shared: [],
  protocol: ['shared'],
  pki: ['shared'],
  core: ['protocol', 'pki', 'shared'],
  storage: ['core', 'shared'],
  observability: ['shared'],
  config: ['shared'],
  http: ['core', 'protocol', 'observability', 'config', 'shared'],
  simulator: ['protocol', 'pki', 'shared'],
  // Adapters to outside services (WNS); like storage they implement core ports.
  push: ['core', 'shared'],
  // Microsoft Graph client (directory sync, compliance write-back); implements core ports.
  graph: ['core', 'shared'],
  // DNS and HTTPS checks of enrollment names (resolvers, the discovery probe); implement core's dns ports.
  dns: ['core', 'protocol', 'shared'],
  app: ['config', 'core', 'http', 'observability', 'pki', 'protocol', 'shared', 'storage', 'simulator', 'push', 'graph', 'dns'],
  cli: ['app', 'config', 'core', 'shared', 'simulator', 'observability', 'pki', 'push', 'graph', 'dns'],
};

/** Packages and built-ins a layer must not use, whatever it imports of ours. */
const FORBIDDEN: Record<string, RegExp[]> = {
  protocol: [/^node:(fs|net|http|https|tls|child_process)$/, /^(fastify|kysely|pg|better-sqlite3|pino)$/],
  // pki may use node:net for its pure address parsing (isIP), but nothing that does I/O.
  pki: [/^node:(fs|http|https|tls|child_process|dns)$/, /^(fastify|kysely|pg|better-sqlite3|pino)$/],
  // openid-client does network I/O (discovery, token, userinfo): core gets it through OidcRelyingParty.
  core: [/^node:(fs|net|http|https|tls|child_process|dns)$/, /^(fastify|kysely|pg|better-sqlite3|pino|openid-client|oidc-provider)$/],
  storage: [/^fastify$/],
  http: [/^(kysely|pg|better-sqlite3)$/],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) specs.push(m[1] as string);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1] as string);
  return specs;
}

const layerOf = (file: string) => path.relative(SRC, file).split(path.sep)[0] as string;

describe('architecture', () => {
  const all = files(SRC);

  it('every source folder is a known layer', () => {
    const unknown = [...new Set(all.map(layerOf))].filter((l) => !(l in ALLOWED));
    expect(unknown).toEqual([]);
  });

  it('imports point inward only', () => {
    const violations: string[] = [];
    for (const file of all) {
      const from = layerOf(file);
      for (const spec of importsOf(file)) {
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(file), spec);
          const to = path.relative(SRC, target).split(path.sep)[0] as string;
          if (to !== from && !ALLOWED[from]?.includes(to)) violations.push(`${path.relative(SRC, file)} -> ${spec}`);
          // storage may only see core's port types, never its services.
          if (from === 'storage' && to === 'core' && path.basename(target) !== 'ports.js')
            violations.push(`${path.relative(SRC, file)} -> ${spec} (storage may import core's ports.ts files only)`);
        } else if (FORBIDDEN[from]?.some((re) => re.test(spec))) {
          violations.push(`${path.relative(SRC, file)} -> ${spec} (not allowed in ${from})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('only config reads the environment', () => {
    const readers = all.filter((f) => layerOf(f) !== 'config' && /process\.env\b/.test(readFileSync(f, 'utf8')));
    expect(readers.map((f) => path.relative(SRC, f))).toEqual([]);
  });
});
