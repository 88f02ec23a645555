import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/core/ports.js';
import { WinrollError } from '../../src/shared/errors.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { pgTestUrl, withPostgresDatabase } from '../support/databases.js';
import { adminConformanceSuite } from './admin.suite.js';
import { appsConformanceSuite } from './apps.suite.js';
import { availableProfilesConformanceSuite } from './available-profiles.suite.js';
import { directorySyncConformanceSuite } from './directory-sync.suite.js';
import { managementConformanceSuite } from './management.suite.js';
import { mamConformanceSuite } from './mam.suite.js';
import { mfaConformanceSuite } from './mfa.suite.js';
import { oidcConformanceSuite } from './oidc.suite.js';
import { policyConformanceSuite } from './policy.suite.js';
import { type StorageTestTarget, storageConformanceSuite } from './storage.suite.js';

// Throws (fails this file) in CI when WINROLL_TEST_PG is missing; otherwise prints why it skips.
const server = pgTestUrl();

describe.skipIf(server === undefined)('PostgreSQL storage', () => {
  const postgresTarget: StorageTestTarget = {
    kind: 'postgres',
    async createDatabase() {
      const db = await withPostgresDatabase();
      if (!db) throw new Error('WINROLL_TEST_PG disappeared');
      return db;
    },
  };
  storageConformanceSuite(postgresTarget);
  managementConformanceSuite(postgresTarget);
  mamConformanceSuite(postgresTarget);
  adminConformanceSuite(postgresTarget);
  mfaConformanceSuite(postgresTarget);
  directorySyncConformanceSuite(postgresTarget);
  oidcConformanceSuite(postgresTarget);
  policyConformanceSuite(postgresTarget);
  appsConformanceSuite(postgresTarget);
  availableProfilesConformanceSuite(postgresTarget);

  describe('connection failures', () => {
    it('reports a missing database as storage_unavailable without the password', async () => {
      const url = new URL(server ?? 'postgres://localhost/');
      url.password = 'Hunter2-Secret';
      url.pathname = '/winroll_no_such_database_x';
      const err = await openStorage(url.toString()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WinrollError);
      expect((err as WinrollError).code).toBe('storage_unavailable');
      expect((err as WinrollError).message).not.toContain('Hunter2-Secret');
      expect((err as WinrollError).message).toContain('winroll_no_such_database_x');
    });

    describe('when the server goes away', () => {
      let db: { url: string; drop(): Promise<void> } | undefined;
      let s: Storage;
      beforeAll(async () => {
        db = await withPostgresDatabase();
        if (!db) throw new Error('no server');
        s = await openStorage(db.url);
      });
      afterAll(async () => {
        await s?.close();
      });
      it('maps a dropped database to storage_unavailable', async () => {
        await db?.drop(); // WITH (FORCE) terminates the pool's sessions
        const err = await s.getDomain('x.com').catch((e: unknown) => e);
        expect((err as WinrollError).code).toBe('storage_unavailable');
      });
    });
  });
});

describe('PostgreSQL connection errors (no server needed)', () => {
  it('reports an unreachable server as storage_unavailable and never echoes the password', async () => {
    for (const pw of ['s3cr3t-Pa55', 'p%40ss%2Fword']) {
      const err = await openStorage(`postgres://winroll:${pw}@127.0.0.1:1/winroll`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WinrollError);
      expect((err as WinrollError).code).toBe('storage_unavailable');
      const msg = (err as WinrollError).message;
      expect(msg).not.toContain(pw);
      expect(msg).not.toContain(decodeURIComponent(pw));
      expect(msg).toContain('127.0.0.1');
      expect(String((err as Error).stack)).not.toContain(pw);
    }
  });

  it('accepts postgresql:// as well', async () => {
    const err = await openStorage('postgresql://u:pw-xyz@127.0.0.1:1/db').catch((e: unknown) => e);
    expect((err as WinrollError).code).toBe('storage_unavailable');
    expect((err as WinrollError).message).not.toContain('pw-xyz');
  });
});
