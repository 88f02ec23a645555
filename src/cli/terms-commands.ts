/**
 * `winroll settings terms set|show|reset`: the admin's own terms-of-use title and text, shown on the page
 * Windows opens during join and "add work account" (core/enrollment/terms-text.ts). Audited (actor `cli`).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import { CLI_CONTEXT } from '../core/admin/audit.js';
import type { TermsText } from '../core/enrollment/ports.js';
import { TermsTextAdmin } from '../core/enrollment/terms-text.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print } from './main.js';

interface DataFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
}

async function withTerms<T>(flags: DataFlags, fn: (terms: TermsTextAdmin) => Promise<T>): Promise<T> {
  const storage = await openConfiguredStorage(loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl }));
  try {
    return await fn(new TermsTextAdmin({ store: storage, clock: systemClock }));
  } finally {
    await storage.close();
  }
}

const json = (t: TermsText) => ({
  title: t.title,
  body: t.body,
  format: 'markdown-subset',
  version: t.version,
  updatedAt: t.updatedAt?.toISOString() ?? null,
});

const text = (t: TermsText) =>
  [
    `version ${t.version}${t.updatedAt ? `, changed ${t.updatedAt.toISOString()}` : ''}`,
    `title: ${t.title ?? '(default: <organisation> terms of use)'}`,
    t.body === null ? "text: Winroll's default" : `text:\n${t.body}`,
  ].join('\n');

export function registerTermsCommands(program: Command): void {
  const settings = program.commands.find((c) => c.name() === 'settings') ?? program.command('settings');
  const terms = settings
    .command('terms')
    .description('the text of the MDM terms-of-use page (plain text or a small Markdown subset; {org} = organisation name)');
  addDataOptions(
    terms
      .command('set')
      .requiredOption('--file <file>', 'the text, UTF-8: paragraphs, # headings, - lists, **bold**, *italic*')
      .option('--title <title>', 'the page title (default: kept as it is)'),
  ).action(async (opts: DataFlags & { file: string; title?: string }) => {
    let body: string;
    try {
      body = await readFile(opts.file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${opts.file}: ${(err as Error).message.split('\n')[0]}`);
    }
    const t = await withTerms(opts, (x) => x.set(CLI_CONTEXT, { body, ...(opts.title !== undefined ? { title: opts.title } : {}) }));
    print(opts.json, json(t), () => `terms of use set (version ${t.version}); users accept this text from now on`);
  });
  addDataOptions(terms.command('show')).action(async (opts: DataFlags) => {
    const t = await withTerms(opts, (x) => x.get());
    print(opts.json, json(t), () => text(t));
  });
  addDataOptions(terms.command('reset').description("back to Winroll's default title and text")).action(async (opts: DataFlags) => {
    const t = await withTerms(opts, (x) => x.reset(CLI_CONTEXT));
    print(opts.json, json(t), () => `terms of use back to the default text (version ${t.version})`);
  });
}
