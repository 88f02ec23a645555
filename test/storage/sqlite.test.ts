import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, WinrollError } from '../../src/shared/errors.js';
import { parseStorageUrl } from '../../src/storage/sql/dialects.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { adminConformanceSuite } from './admin.suite.js';
import { appsConformanceSuite } from './apps.suite.js';
import { availableProfilesConformanceSuite } from './available-profiles.suite.js';
import { directorySyncConformanceSuite } from './directory-sync.suite.js';
import { managementConformanceSuite } from './management.suite.js';
import { mamConformanceSuite } from './mam.suite.js';
import { mfaConformanceSuite } from './mfa.suite.js';
import { oidcConformanceSuite } from './oidc.suite.js';
import { policyConformanceSuite } from './policy.suite.js';
import { newEnrollment, type StorageTestTarget, storageConformanceSuite } from './storage.suite.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'winroll-sqlite-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function freshFile(): string {
  n++;
  return path.join(dir, `db-${n}`, 'winroll.db');
}

const sqliteTarget: StorageTestTarget = {
  kind: 'sqlite',
  async createDatabase() {
    const file = freshFile();
    return {
      url: n % 2 === 0 ? `sqlite:${file}` : file,
      async drop() {
        await rm(path.dirname(file), { recursive: true, force: true });
      },
    };
  },
};

storageConformanceSuite(sqliteTarget);
managementConformanceSuite(sqliteTarget);
mamConformanceSuite(sqliteTarget);
adminConformanceSuite(sqliteTarget);
mfaConformanceSuite(sqliteTarget);
directorySyncConformanceSuite(sqliteTarget);
oidcConformanceSuite(sqliteTarget);
policyConformanceSuite(sqliteTarget);
appsConformanceSuite(sqliteTarget);
availableProfilesConformanceSuite(sqliteTarget);

describe('SQLite storage URLs', () => {
  it('parses the documented forms', () => {
    const cwd = '/srv/winroll';
    expect(parseStorageUrl('sqlite:/var/lib/winroll.db', cwd)).toEqual({ kind: 'sqlite', path: '/var/lib/winroll.db' });
    expect(parseStorageUrl('sqlite:data/winroll.db', cwd)).toEqual({ kind: 'sqlite', path: '/srv/winroll/data/winroll.db' });
    expect(parseStorageUrl('sqlite:///var/lib/winroll.db', cwd)).toEqual({ kind: 'sqlite', path: '/var/lib/winroll.db' });
    expect(parseStorageUrl('SQLITE:x.db', cwd)).toEqual({ kind: 'sqlite', path: '/srv/winroll/x.db' });
    expect(parseStorageUrl('sqlite::memory:', cwd)).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseStorageUrl('./winroll.db', cwd)).toEqual({ kind: 'sqlite', path: '/srv/winroll/winroll.db' });
    expect(parseStorageUrl('/abs/winroll.db', cwd)).toEqual({ kind: 'sqlite', path: '/abs/winroll.db' });
    expect(parseStorageUrl('postgres://u:p@h/db', cwd)).toEqual({ kind: 'postgres', url: 'postgres://u:p@h/db' });
    expect(parseStorageUrl('postgresql://h/db', cwd)).toEqual({ kind: 'postgres', url: 'postgresql://h/db' });
  });

  it('rejects empty URLs and unknown schemes without echoing a password', () => {
    expect(() => parseStorageUrl('')).toThrow(InvalidInputError);
    expect(() => parseStorageUrl('sqlite:')).toThrow(InvalidInputError);
    let err: unknown;
    try {
      parseStorageUrl('mysql://root:topsecret@db/winroll');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).not.toContain('topsecret');
  });

  it('works in memory', async () => {
    const s = await openStorage('sqlite::memory:');
    await s.addDomain({ name: 'mem.example', authPolicy: 'OnPremise', now: new Date() });
    expect(await s.getDomain('mem.example')).toBeDefined();
    await s.close();
  });
});

describe('SQLite file behaviour', () => {
  it('uses WAL, enforces foreign keys and creates the parent directory', async () => {
    const file = freshFile();
    const s = await openStorage(`sqlite:${file}`);
    await s.recordEnrollment(newEnrollment());
    await s.close();
    const raw = new BetterSqlite3(file);
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = raw.prepare("select name from sqlite_master where type = 'table' order by name").pluck().all();
      expect(tables).toEqual(
        expect.arrayContaining(['devices', 'device_hwdevids', 'device_warnings', 'domains', 'enrollments', 'spent_tokens', 'users']),
      );
      const fk = raw.prepare('pragma foreign_key_list(enrollments)').all() as Array<{ table: string }>;
      expect(fk.map((r) => r.table)).toContain('devices');
    } finally {
      raw.close();
    }
  });

  it('reports an unopenable file as storage_unavailable', async () => {
    const notAFile = path.join(dir, 'a-directory');
    await mkdir(notAFile, { recursive: true });
    const err = await openStorage(notAFile).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WinrollError);
    expect((err as WinrollError).code).toBe('storage_unavailable');

    const garbage = path.join(dir, 'garbage.db');
    await writeFile(garbage, 'this is not a sqlite database, just some text that is long enough '.repeat(100));
    const err2 = await openStorage(garbage).catch((e: unknown) => e);
    expect((err2 as WinrollError).code).toBe('storage_unavailable');
  });

  it('waits for another process that holds the write lock instead of failing', async () => {
    const file = freshFile();
    const s = await openStorage(file);
    // A separate process takes the write lock and holds it for 700 ms.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(file)});
         db.pragma('busy_timeout = 5000'); db.exec('begin immediate');
         db.prepare("insert into domains (name, auth_policy, created_at) values ('held.example', 'OnPremise', '2025-01-01T00:00:00.000Z')").run();
         process.stdout.write('locked\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 700);
         db.exec('commit'); db.close();`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('locked')) resolve();
      });
      holder.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
    const started = Date.now();
    await s.addDomain({ name: 'waited.example', authPolicy: 'OnPremise', now: new Date() });
    expect(Date.now() - started).toBeGreaterThan(200);
    expect(await s.spendToken('after-lock', new Date(Date.now() + 60_000), new Date())).toBe(true);
    expect(await s.getDomain('held.example')).toBeDefined();
    await s.close();
  });
});

describe('SQLite shared by separate processes (CLI and server)', () => {
  const exec = promisify(execFile);
  let build: string;

  beforeAll(async () => {
    // Compile the storage layer so child processes can import it without a TypeScript loader.
    build = await mkdtemp(path.join(tmpdir(), 'winroll-storage-build-'));
    await symlink(path.join(repoRoot, 'node_modules'), path.join(build, 'node_modules'), 'dir');
    await writeFile(path.join(build, 'package.json'), '{"type":"module"}');
    const tsc = path.join(repoRoot, 'node_modules', '.bin', 'tsc');
    await exec(
      tsc,
      [
        path.join(repoRoot, 'src/storage/index.ts'),
        '--outDir',
        path.join(build, 'out'),
        '--rootDir',
        path.join(repoRoot, 'src'),
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2023',
        '--types',
        'node',
        '--skipLibCheck',
        '--strict',
        '--ignoreConfig',
      ],
      { cwd: repoRoot },
    );
    expect(existsSync(path.join(build, 'out/storage/index.js'))).toBe(true);
  }, 120_000);

  afterAll(async () => {
    if (build) await rm(build, { recursive: true, force: true });
  });

  it('lets several processes migrate a fresh file and write to it at the same time', async () => {
    const file = freshFile();
    // All children start migrating at the same wall-clock instant, well after every process is up.
    const startAt = Date.now() + 1500;
    const script = (who: string) => `
      import { openStorage } from ${JSON.stringify(path.join(build, 'out/storage/index.js'))};
      while (Date.now() < ${startAt}) {} // spin: start together
      const s = await openStorage(${JSON.stringify(`sqlite:${file}`)});
      const hex = (n) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, '0')).join('');
      let spent = 0;
      for (let i = 0; i < 40; i++) {
        await s.recordEnrollment({
          deviceId: 'SHAREDDEVICE', hwDevId: 'HW-${who}', userId: 'u', upn: 'u@contoso.com', enrollmentType: 'Full',
          authPolicy: 'OnPremise', deviceName: '${who}', osVersion: null, osEdition: null, locale: null, macAddresses: [],
          certSerial: hex(16), certThumbprint: hex(20).toUpperCase(), certNotBefore: new Date(), certNotAfter: new Date(),
          certDer: new Uint8Array([1, 2, 3]), now: new Date(),
        });
        if (await s.spendToken('shared-jti-' + i, new Date(Date.now() + 60000), new Date())) spent++;
        await s.addUser({ upn: '${who}-' + i + '@contoso.com', displayName: null, passwordHash: 'h', now: new Date() });
      }
      await s.close();
      process.stdout.write(String(spent));
    `;
    const run = (who: string) =>
      exec(process.execPath, ['--input-type=module', '-e', script(who)], { cwd: build }).then((r) => Number(r.stdout));
    const spent = await Promise.all(['a', 'b', 'c'].map(run));
    expect(spent.reduce((x, y) => x + y, 0)).toBe(40); // each token spent exactly once across processes

    const s = await openStorage(file);
    const enrollments = await s.listEnrollments('shareddevice');
    expect(enrollments).toHaveLength(120);
    expect(enrollments.filter((e) => e.status === 'active')).toHaveLength(1);
    expect((await s.listDevices()).filter((d) => d.deviceId === 'SHAREDDEVICE')).toHaveLength(1);
    expect(await s.hwDevIdHistory('SHAREDDEVICE')).toHaveLength(3);
    expect(await s.listUsers()).toHaveLength(120);
    await s.close();
  }, 120_000);
});
