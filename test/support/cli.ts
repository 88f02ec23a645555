/** Runs the compiled `winroll` CLI (bin/winroll.js) against a test server's data folder and database. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestServer } from './server.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/winroll.js');
const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Never throws for a non-zero exit: the code, stdout and stderr are what the tests look at. */
export async function winroll(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `--data-dir` (and `--database-url` on PostgreSQL): the flags that point the CLI at this server's data. */
export function dataFlags(t: TestServer): string[] {
  return ['--data-dir', t.dataDir, ...(t.databaseUrl ? ['--database-url', t.databaseUrl] : [])];
}
