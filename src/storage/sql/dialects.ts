import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  type SqliteDatabase,
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
  | { kind: 'sqlite' /** Absolute file path, or `:memory:`. */; path: string }
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
    throw new InvalidInputError(`unsupported storage URL scheme in ${redactUrl(u)}; use postgres://, sqlite: or a file path`);
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
    if (file !== ':memory:') {
      mkdirSync(path.dirname(file), { recursive: true });
      // The database holds password hashes and device records: create it readable by its owner only
      // (SQLite gives the -wal and -shm files the same mode).
      try {
        closeSync(openSync(file, 'wx', 0o600));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    conn = new BetterSqlite3(file);
    conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    if (file !== ':memory:') whileBusy(() => conn.pragma('journal_mode = WAL'));
    // Durability trade-off: NORMAL, not FULL. With WAL, NORMAL skips the fsync on every commit and syncs
    // the WAL at checkpoints instead. A committed enrollment survives any crash of this process (the WAL
    // write reached the OS before COMMIT returned) and the database can never be corrupted; what an OS
    // crash or power loss can undo is the last few commits since the previous checkpoint. For Winroll that
    // means a device enrolled in the last moments before a power cut may hold a certificate the server
    // has forgotten (it re-enrolls when management does not know it), and a spent federated token could be
    // presented once more within its 15-minute life by the same device. Serial uniqueness never rested on
    // the record (serials are 128 random bits). FULL costs one fsync per enrollment, which on virtual disks
    // dominated enrollment latency and cut throughput several-fold (`npm run bench`).
    conn.pragma('synchronous = NORMAL');
    conn.pragma('foreign_keys = ON');
  } catch (err) {
    throw storageUnavailable(`cannot open SQLite database ${file}`, err);
  }
  const db = new Kysely<Database>({ dialect: new SharedFileSqliteDialect({ database: withStatementCache(conn) }, file) });
  return { kind: 'sqlite', db, where: file };
}

/**
 * Switching a fresh file to WAL needs an exclusive lock, and SQLite does not call the busy handler for
 * it: when several processes open a new database at once (the CLI and the server) the losers get
 * SQLITE_BUSY straight away. Opening is rare, so wait briefly and try again, for up to the busy timeout.
 */
function whileBusy<T>(fn: () => T): T {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
    }
  }
}

/** How many distinct SQL texts keep a prepared statement; hot paths use a few dozen. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver calls `prepare(sql)` for every query, and SQLite then parses and plans the SQL
 * again each time (a large share of a small query's cost). Kysely emits the same SQL text for the same
 * query shape with values as bound parameters, so statements are kept by their text (least recently
 * used dropped first) and only rebound. A statement still busy in an iterator (a streamed select) is never
 * handed out twice: that caller gets a fresh one. SQLite re-prepares cached statements itself after a
 * schema change.
 */
function withStatementCache(conn: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      conn.close();
    },
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (stmt !== undefined) {
        if (stmt.busy) return conn.prepare(sql);
        // Refresh its position: Map iteration order is insertion order, so the first key is the oldest.
        cache.delete(sql);
      } else {
        stmt = conn.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
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
