/**
 * The `winroll` command. Commands are thin: parse flags, build config, call the app or a domain service,
 * print a table (or JSON with --json). Every failure prints one line naming the cause and exits non-zero.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, type ConfigFlags, loadConfig, redactDatabaseUrl } from '../config/config.js';
import { WinrollError } from '../shared/errors.js';
import { registerAdminCommands } from './admin-commands.js';
import { registerAppCommands } from './app-commands.js';
import { registerComplianceCommands } from './compliance-commands.js';
import { registerDataCommands } from './data-commands.js';
import { registerDnsCommands } from './dns-commands.js';
import { registerManagementCommands } from './management-commands.js';
import { registerPolicyCommands, registerSettingsCommands } from './policy-commands.js';
import { registerMfaCommands } from './mfa-commands.js';
import { registerEntraCommands } from './entra-commands.js';
import { registerTermsCommands } from './terms-commands.js';
import { registerScimCommands } from './directory-sync-commands.js';
import { registerOidcCommands } from './oidc-commands.js';
import { registerServe } from './serve.js';
import { registerSimulate } from './simulate.js';

export class CliError extends Error {
  override name = 'CliError';
}

/** Options every command that touches the data folder or database accepts. */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'data folder (env WINROLL_DATA_DIR, default ./data)'))
    .addOption(
      new Option('--database-url <url>', 'postgres://... or sqlite:<file> (env WINROLL_DATABASE_URL, default SQLite in the data folder)'),
    )
    .addOption(new Option('--json', 'print JSON for scripts'));
}

export function configFrom(flags: ConfigFlags) {
  return loadConfig(flags);
}

export function print(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function buildProgram(): Command {
  const program = new Command()
    .name('winroll')
    .description('Enroll and manage Windows 10/11 devices.')
    .version('0.1.0')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerServe(program);
  registerDataCommands(program);
  registerDnsCommands(program);
  registerAdminCommands(program);
  registerMfaCommands(program);
  registerEntraCommands(program);
  registerScimCommands(program);
  registerOidcCommands(program);
  registerManagementCommands(program);
  registerComplianceCommands(program);
  registerAppCommands(program);
  registerPolicyCommands(program);
  registerSettingsCommands(program);
  registerTermsCommands(program);
  registerSimulate(program);
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed usage errors; help and version exit cleanly.
      return err.exitCode;
    }
    process.stderr.write(`winroll: ${describe(err)}\n`);
    return 1;
  }
}

function describe(err: unknown): string {
  if (err instanceof ConfigError || err instanceof CliError || err instanceof WinrollError) return err.message;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return `${err.message} (another process is using that port; choose one with --port/--management-port)`;
    if (code === 'EACCES') return `${err.message} (permission denied)`;
    if (code === 'ECONNREFUSED') return `${redactDatabaseUrl(err.message)} (nothing is listening there)`;
    return redactDatabaseUrl(err.message);
  }
  return String(err);
}
