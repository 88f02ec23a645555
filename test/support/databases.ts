import { randomBytes } from 'node:crypto';
import pg from 'pg';

let announced = false;

/**
 * The PostgreSQL server tests may use (`WINROLL_TEST_PG`, e.g. `postgres://root@127.0.0.1/test`), or
 * undefined after printing why PostgreSQL tests are skipped. In CI (`CI` set) a missing server is an
 * error, not a skip: this throws, so a file calling it at load time fails loudly.
 */
export function pgTestUrl(): string | undefined {
  const url = process.env.WINROLL_TEST_PG?.trim();
  if (url) return url;
  if (process.env.CI) {
    throw new Error('WINROLL_TEST_PG is not set, but CI is: PostgreSQL tests must run in CI, refusing to skip them');
  }
  if (!announced) {
    announced = true;
    console.warn('[winroll tests] skipping PostgreSQL tests: set WINROLL_TEST_PG=postgres://user@host/db to run them');
  }
  return undefined;
}

/**
 * Creates a fresh, empty database `winroll_t_<random>` on the WINROLL_TEST_PG server and returns its URL;
 * `drop()` removes it (disconnecting leftover sessions). Undefined when no server is configured
 * (see pgTestUrl for the CI rule).
 */
export async function withPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const server = pgTestUrl();
  if (server === undefined) return undefined;
  const name = `winroll_t_${randomBytes(6).toString('hex')}`;
  await admin(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function admin(server: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
