/**
 * Starts a real Winroll server for end-to-end tests: a temp data folder, real TLS on loopback with
 * ephemeral ports, and the chosen database (a SQLite file, or a fresh PostgreSQL database).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'vitest';
import { type RunningServer, startServer } from '../../src/app/server.js';
import { loadConfig } from '../../src/config/config.js';
import { DirectoryService } from '../../src/core/directory/directory-service.js';
import type { AuthPolicy } from '../../src/core/ports.js';
import { createLogger } from '../../src/observability/logger.js';
import { type Clock, systemClock } from '../../src/shared/clock.js';
import { createAgent } from '../../src/simulator/https-client.js';
import { withPostgresDatabase } from './databases.js';

export type Engine = 'sqlite' | 'postgres';

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  directory: DirectoryService;
  /** https://localhost:<port> */
  base: string;
  /** The PostgreSQL database's URL; undefined on SQLite (the database is `<dataDir>/winroll.db`). */
  databaseUrl: string | undefined;
  agent: ReturnType<typeof createAgent>;
  /** Log lines the server wrote (JSON), for asserting that trace ids are logged. */
  logs: string[];
  addDomain(name: string, policy?: AuthPolicy): Promise<void>;
  /** Stops the server and starts a new one on the same data folder and database (a crash and restart). */
  restart(): Promise<void>;
  /** Adds a user; licensed unless `{ license: false }` (enrolling needs a license). */
  addUser(upn: string, password: string, opts?: { license?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** Undefined when the engine is unavailable here (PostgreSQL without WINROLL_TEST_PG outside CI). */
export async function startTestServer(
  engine: Engine,
  extra: Partial<import('../../src/config/config.js').ConfigFlags> = {},
  env: NodeJS.ProcessEnv = {},
  /** `clock`: the server's time source (tests that need a certificate to age). */
  opts: { clock?: Clock } = {},
): Promise<TestServer | undefined> {
  const pg = engine === 'postgres' ? await withPostgresDatabase() : undefined;
  if (engine === 'postgres' && !pg) return undefined;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'winroll-e2e-'));
  const config = loadConfig(
    {
      dataDir,
      port: 0,
      managementPort: 0,
      listen: '127.0.0.1',
      publicHost: 'localhost',
      logLevel: 'info',
      // 2048-bit CAs keep start-up fast; the default (4096) is exercised by the CLI tests and the bench.
      caKeyBits: 2048,
      ...(pg ? { databaseUrl: pg.url } : {}),
      ...extra,
    },
    env,
  );
  const logs: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(line) });
  const server = await startServer(config, { logger, domainPollMs: 200, ...(opts.clock ? { clock: opts.clock } : {}) });
  // Tests enroll many PCs for one user; the Intune-like default of 5 per user would get in their way.
  // (The policy tests set their own limits.)
  const defaultLimit = (await server.storage.listRestrictions('deviceLimit')).find((r) => r.isDefault);
  if (defaultLimit) await server.storage.updateRestriction(defaultLimit.id, { config: { limit: 15 } }, new Date());
  const directory = new DirectoryService({ storage: server.storage, clock: systemClock });
  const agent = createAgent({ ca: server.tlsRootCaPem, maxSockets: 8 });
  const t: TestServer = {
    server,
    dataDir,
    directory,
    base: `https://localhost:${server.port}`,
    databaseUrl: pg?.url,
    agent,
    logs,
    async addDomain(name, policy = 'OnPremise') {
      await t.directory.addDomain(name, policy);
    },
    async addUser(upn, password, opts = {}) {
      const user = await t.directory.addUser({ upn, password });
      if (opts.license !== false) await t.server.storage.assignLicense(user.id, new Date());
    },
    async restart() {
      await t.server.close();
      t.server = await startServer(config, { logger, domainPollMs: 200, ...(opts.clock ? { clock: opts.clock } : {}) });
      t.base = `https://localhost:${t.server.port}`;
      t.directory = new DirectoryService({ storage: t.server.storage, clock: systemClock });
    },
    async stop() {
      agent.destroy();
      await t.server.close();
      await pg?.drop();
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
  return t;
}

/** Engines to run end-to-end suites on: SQLite always, PostgreSQL when configured (always in CI). */
export const ENGINES: Engine[] = ['sqlite', 'postgres'];

/**
 * `it` for suites run on each engine: PostgreSQL cases are skipped (with the reason printed by
 * pgTestUrl) when no server is configured outside CI; in CI a missing server fails instead.
 */
export function itOn(engine: Engine): typeof it {
  return (engine === 'postgres' && !process.env.WINROLL_TEST_PG && !process.env.CI ? it.skip : it) as typeof it;
}
