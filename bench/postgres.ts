/**
 * A scratch PostgreSQL database for the bench (`winroll_bench_<random>`), created on the server given by
 * --pg-url / WINROLL_BENCH_PG / WINROLL_TEST_PG (default postgres://root@127.0.0.1/test) and dropped at
 * the end. When the server cannot be reached the PostgreSQL rows are skipped, with the reason printed.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../src/storage/index.js';

export const DEFAULT_PG_URL = 'postgres://root@127.0.0.1/test';

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin(server: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: server, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Creates the scratch database, or returns why PostgreSQL is unavailable. */
export async function createScratchDatabase(server: string): Promise<ScratchDatabase | { skipped: string }> {
  const name = `winroll_bench_${randomBytes(5).toString('hex')}`;
  try {
    await admin(server, `CREATE DATABASE ${name}`);
  } catch (err) {
    return {
      skipped: `PostgreSQL at ${redactUrl(server)} is unreachable or refused CREATE DATABASE (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
