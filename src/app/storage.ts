/** Opens the configured store (SQLite file by default, PostgreSQL by URL) with migrations applied. */
import type { Config } from '../config/config.js';
import type { Storage } from '../core/ports.js';
import { openStorage } from '../storage/sql/sql-storage.js';
import { dataPaths, ensureDir } from './data-dir.js';

export async function openConfiguredStorage(config: Pick<Config, 'dataDir' | 'databaseUrl'>): Promise<Storage> {
  await ensureDir(dataPaths(config.dataDir).root);
  return openStorage(config.databaseUrl);
}
