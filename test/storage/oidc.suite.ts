/**
 * Conformance suite of the OIDC provider storage port (core/oidc/ports.ts), run by sqlite.test.ts and
 * postgres.test.ts, plus OidcProviders on top of each backend: names unique whatever their case, every
 * field round-trips, the client secret is sealed at rest (the raw column never holds it, and a sealed
 * value copied to another provider does not open), validation refuses bad input without writing, and
 * add/remove are audited without the secret.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { OidcProviders, clientSecretBinding, clientSecretBox } from '../../src/core/oidc/providers.js';
import type { Storage } from '../../src/core/ports.js';
import { fixedClock } from '../../src/shared/clock.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/shared/errors.js';
import { openPostgres, openSqlite, parseStorageUrl } from '../../src/storage/sql/dialects.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import type { StorageTestTarget } from './storage.suite.js';

const T0 = new Date('2025-03-04T05:06:07.891Z');
const SECRET = 'the-client-secret-Zq81';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

export function oidcConformanceSuite(target: StorageTestTarget): void {
  describe(`OIDC provider storage conformance (${target.kind})`, () => {
    let database: { url: string; drop(): Promise<void> };
    let s: Storage;
    const masterKey = randomBytes(32);
    let providers: OidcProviders;

    beforeAll(async () => {
      database = await target.createDatabase();
      s = await openStorage(database.url);
      providers = new OidcProviders({ store: s, masterKey, clock: fixedClock(T0) });
    });
    afterAll(async () => {
      await s?.close();
      await database?.drop();
    });

    async function rawSecrets(): Promise<string[]> {
      const location = parseStorageUrl(database.url);
      const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
      try {
        const { rows } = await sql<{ client_secret: string }>`select client_secret from oidc_providers`.execute(opened.db);
        return rows.map((r) => r.client_secret);
      } finally {
        await opened.db.destroy();
      }
    }

    it('stores a provider with every field, finds it by id and by name in any case, and lists by name', async () => {
      const added = await providers.add(CLI_CONTEXT, {
        name: 'Keycloak',
        issuer: 'https://kc.example.com/realms/staff',
        clientId: 'winroll',
        clientSecret: `${SECRET}\n`,
        scopes: ['openid email', 'profile'],
        claim: 'preferred_username',
        domains: ['Contoso.com, fabrikam.com'],
        trustMfa: true,
      });
      await providers.add(CLI_CONTEXT, { name: 'entra', issuer: 'https://login.example.com/tid/v2.0', clientId: 'c2', clientSecret: 'x' });
      expect(added).toMatchObject({
        name: 'Keycloak',
        issuer: 'https://kc.example.com/realms/staff',
        clientId: 'winroll',
        scopes: ['openid', 'email', 'profile'],
        claim: 'preferred_username',
        domains: ['contoso.com', 'fabrikam.com'],
        trustMfa: true,
        customCa: false,
      });
      expect(JSON.stringify(added)).not.toContain(SECRET);

      const byId = await s.getOidcProvider(added.id);
      expect(byId).toMatchObject({ name: 'Keycloak', caPem: null, trustMfa: true, domains: ['contoso.com', 'fabrikam.com'] });
      expect(byId?.createdAt.toISOString()).toBe(T0.toISOString());
      expect((await s.getOidcProviderByName('KEYCLOAK'))?.id).toBe(added.id);
      expect(await s.getOidcProviderByName('nope')).toBeUndefined();
      expect((await providers.list()).map((p) => p.name)).toEqual(['entra', 'Keycloak']);
      const defaults = await s.getOidcProviderByName('entra');
      expect(defaults).toMatchObject({ scopes: ['openid', 'email', 'profile'], claim: 'email', domains: [], trustMfa: false });
    });

    it('keeps the client secret sealed, bound to its provider', async () => {
      const raw = await rawSecrets();
      expect(raw.length).toBeGreaterThan(0);
      for (const v of raw) expect(v).not.toContain(SECRET);
      const kc = await s.getOidcProviderByName('keycloak');
      const entra = await s.getOidcProviderByName('entra');
      const box = clientSecretBox(masterKey);
      expect(box.open(kc?.clientSecretSealed ?? '', clientSecretBinding(kc?.id ?? ''))).toBe(SECRET);
      expect(() => box.open(kc?.clientSecretSealed ?? '', clientSecretBinding(entra?.id ?? ''))).toThrow();
    });

    it('refuses a second provider with the same name in another case, and bad input, writing nothing', async () => {
      const before = (await s.listOidcProviders()).length;
      const dup = await rejection(
        providers.add(CLI_CONTEXT, { name: 'keycloak', issuer: 'https://x.example.com', clientId: 'a', clientSecret: 'b' }),
      );
      expect(dup).toBeInstanceOf(ConflictError);
      const bad = [
        { issuer: 'http://kc.example.com', why: /https/ },
        { issuer: 'not a url', why: /not a URL/ },
        { claim: 'sub', why: /claim must be one of/ },
        { scopes: ['openid', 'bad"scope'], why: /not a valid OAuth scope/ },
        { domains: ['not_a_domain'], why: /not a valid domain/ },
        { name: '', why: /name/ },
        { caPem: 'junk', why: /no PEM certificate/ },
      ];
      for (const { why, ...over } of bad) {
        const err = await rejection(
          providers.add(CLI_CONTEXT, { name: 'Other', issuer: 'https://o.example.com', clientId: 'a', clientSecret: 'b', ...over }),
        );
        expect(err, String(why)).toBeInstanceOf(InvalidInputError);
        expect((err as Error).message).toMatch(why);
      }
      expect(await s.listOidcProviders()).toHaveLength(before);
    });

    it('removes by name and audits add and remove without the secret', async () => {
      const removed = await providers.remove(CLI_CONTEXT, 'ENTRA');
      expect(removed.name).toBe('entra');
      expect(await s.getOidcProviderByName('entra')).toBeUndefined();
      expect(await s.deleteOidcProvider(removed.id)).toBe(false);
      expect(await rejection(providers.remove(CLI_CONTEXT, 'entra'))).toBeInstanceOf(NotFoundError);

      const entries = (await s.listAudit({ limit: 50 })).filter((e) => e.targetType === 'oidc_provider');
      expect(entries.map((e) => [e.action, e.targetId, e.outcome])).toEqual(
        expect.arrayContaining([
          ['oidc_provider.add', 'Keycloak', 'succeeded'],
          ['oidc_provider.add', 'entra', 'succeeded'],
          ['oidc_provider.remove', 'entra', 'succeeded'],
          ['oidc_provider.add', 'keycloak', 'failed'],
        ]),
      );
      expect(JSON.stringify(entries)).not.toContain(SECRET);
    });
  });
}
