import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';
import pg from 'pg';
import { InvalidInputError } from '../../shared/errors.js';
import { storageUnavailable } from './errors.js';
import type { SqlDialectKind } from './migrations/index.js';
import type { Database } from './schema.js';

/** Where a storage URL points. */
export type StorageLocation =
  | { kind: 'sqlite'; /** Absolute file path, or `:memory:`. */ path: string }
  | { kind: 'postgres'; url: string };

/**
 * Parses a storage URL:
 * - `postgres://…` or `postgresql://…` → PostgreSQL (libpq-style URL, passed to `pg` unchanged);
 * - `sqlite:/abs/path.db`, `sqlite:relative.db` (resolved against the working directory),
 *   `sqlite:///abs/path.db` (a leading `//` after `sqlite:` is dropped), `sqlite::memory:`;
 * - anything else without a `scheme://` is a bare SQLite file path (Windows drive paths included).
 * Other schemes throw InvalidInputError.
 */
export function parseStorageUrl(url: string, cwd: string = process.cwd()): StorageLocation {
  const u = url.trim();
  if (u === '') throw new InvalidInputError('storage URL is empty');
  if (/^postgres(ql)?:\/\//i.test(u)) return { kind: 'postgres', url: u };
  let file: string;
  if (/^sqlite:/i.test(u)) {
    file = u.slice('sqlite:'.length);
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') throw new InvalidInputError('storage URL "sqlite:" names no file');
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) {
    throw new InvalidInputError(
      `unsupported storage URL scheme in ${redactUrl(u)}; use postgres://, sqlite: or a file path`,
    );
  } else {
    file = u;
  }
  if (file === ':memory:') return { kind: 'sqlite', path: file };
  return { kind: 'sqlite', path: path.resolve(cwd, file) };
}

/** The URL with any password replaced by `***`, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not parseable: strip anything between `//user:` and `@`.
    return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
  }
}

/** Milliseconds a SQLite connection waits for another writer (CLI vs. server) before giving up. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

export interface OpenedDatabase {
  kind: SqlDialectKind;
  db: Kysely<Database>;
  /** Human-readable location without secrets. */
  where: string;
}

export function openSqlite(file: string): OpenedDatabase {
  let conn: BetterSqlite3.Database;
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    conn = new BetterSqlite3(file);
    conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    if (file !== ':memory:') conn.pragma('journal_mode = WAL');
    conn.pragma(file !== ':memory:' ? 'synchronous = NORMAL' : 'synchronous = FULL'); // TEMP
    conn.pragma('foreign_keys = ON');
  } catch (err) {
    throw storageUnavailable(`cannot open SQLite database ${file}`, err);
  }
  const db = new Kysely<Database>({ dialect: new SharedFileSqliteDialect({ database: conn }, file) });
  return { kind: 'sqlite', db, where: file };
}

export function openPostgres(url: string): OpenedDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // Parse int8 (count(*), bigint) as number, as SQLite returns them; our values stay far below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === pg.types.builtins.INT8 && format !== 'binary'
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
    },
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { kind: 'postgres', db, where: redactUrl(url) };
}

// ---------------------------------------------------------------------------------------------------
// SQLite driver tweaks.
//
// better-sqlite3 is synchronous: while a connection waits on busy_timeout it blocks the whole event loop.
// Two handles on one file inside one process (tests, or CLI code reusing the server's module) would then
// deadlock: handle B blocks waiting for handle A's open transaction, which cannot finish because the loop
// is blocked. So every handle on the same file in this process shares one async mutex, and busy waits only
// ever happen against other processes. Write transactions start with BEGIN IMMEDIATE so a second process
// waits (busy_timeout) instead of failing with SQLITE_BUSY when it upgrades a read lock.

class AsyncMutex {
  #tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => {
      release = r;
    });
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
}

const fileMutexes = new Map<string, { mutex: AsyncMutex; refs: number }>();

class SharedFileSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #file: string;
  constructor(config: SqliteDialectConfig, file: string) {
    super(config);
    this.#config = config;
    this.#file = file;
  }
  override createDriver(): Driver {
    return new SharedFileSqliteDriver(this.#config, this.#file);
  }
}

class SharedFileSqliteDriver extends SqliteDriver {
  readonly #key: string | undefined;
  readonly #mutex: AsyncMutex;
  readonly #held: Array<() => void> = [];
  constructor(config: SqliteDialectConfig, file: string) {
    super(config);
    if (file === ':memory:') {
      this.#mutex = new AsyncMutex();
    } else {
      this.#key = file;
      let entry = fileMutexes.get(file);
      if (!entry) {
        entry = { mutex: new AsyncMutex(), refs: 0 };
        fileMutexes.set(file, entry);
      }
      entry.refs++;
      this.#mutex = entry.mutex;
    }
  }
  override async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.#mutex.lock();
    try {
      const conn = await super.acquireConnection();
      this.#held.push(release);
      return conn;
    } catch (err) {
      release();
      throw err;
    }
  }
  override async releaseConnection(): Promise<void> {
    await super.releaseConnection();
    this.#held.shift()?.();
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  override async destroy(): Promise<void> {
    await super.destroy();
    if (this.#key !== undefined) {
      const entry = fileMutexes.get(this.#key);
      if (entry && --entry.refs <= 0) fileMutexes.delete(this.#key);
    }
  }
}
