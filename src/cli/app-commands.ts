/**
 * `winroll apps add <file>|list|assign|unassign|remove|device|retry`: the app catalog (core/apps). Changes
 * are audited (actor `cli`). `assign <app> --group G --intent required|available|uninstall`; `unassign <app>
 * --group G`; `device <deviceId>`: each app's state there; `retry <deviceId> <app>`: send a failed install again.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import { CLI_CONTEXT } from '../core/admin/audit.js';
import { AppCatalog, type AppWithAssignments, type DeviceApp } from '../core/apps/app-service.js';
import type { AppIntent } from '../core/apps/ports.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print, table } from './main.js';

interface DataFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
}

async function withCatalog<T>(flags: DataFlags, fn: (c: AppCatalog) => Promise<T>): Promise<T> {
  const storage = await openConfiguredStorage(loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl }));
  try {
    return await fn(new AppCatalog({ store: storage, clock: systemClock }));
  } finally {
    await storage.close();
  }
}

const json = (a: AppWithAssignments) => ({
  ...a,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
  assignments: a.assignments.map((x) => ({ ...x, assignedAt: x.assignedAt.toISOString() })),
});

const deviceAppJson = (a: DeviceApp) => ({
  ...a,
  nextRetryAt: a.nextRetryAt?.toISOString() ?? null,
  queuedAt: a.queuedAt?.toISOString() ?? null,
  updatedAt: a.updatedAt?.toISOString() ?? null,
});

const stateText = (a: DeviceApp) =>
  `${a.state.replace('_', ' ')}${
    a.state === 'failed' && a.result
      ? ` (${a.result.code ?? 'no code'}: ${a.result.meaning})`
      : a.lastStatus && a.lastStatus.code >= 300
        ? ` (${a.lastStatus.code}: ${a.lastStatus.meaning})`
        : ''
  }`;

const assignmentsText = (a: AppWithAssignments) =>
  a.assignments.length === 0 ? '(not assigned)' : a.assignments.map((x) => `${x.group} (${x.intent})`).join(', ');

export function registerAppCommands(program: Command): void {
  const apps = program.command('apps').description('the app catalog: Store and MSI apps, required or available to groups');
  addDataOptions(
    apps
      .command('add')
      .argument(
        '<file>',
        'JSON: {name, publisher, version, kind: "store"|"msi", packageFamilyName, storeProductId | productCode, downloadUrl, sha256, minWindowsBuild}',
      ),
  ).action(async (file: string, opts: DataFlags) => {
    let input: unknown;
    try {
      input = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new CliError(`cannot read ${file} as JSON: ${(err as Error).message.split('\n')[0]}`);
    }
    const a = await withCatalog(opts, (c) => c.add(CLI_CONTEXT, input));
    print(
      opts.json,
      json(a),
      () => `app ${a.name} added (id ${a.id}); assign it with: winroll apps assign "${a.name}" --group <group> --intent available`,
    );
  });
  addDataOptions(apps.command('list')).action(async (opts: DataFlags) => {
    const all = await withCatalog(opts, (c) => c.list());
    print(opts.json, { items: all.map(json) }, () =>
      table(
        ['NAME', 'KIND', 'VERSION', 'MIN BUILD', 'ASSIGNMENTS', 'ID'],
        all.map((a) => [a.name, a.kind, a.version, String(a.minWindowsBuild), assignmentsText(a), a.id]),
      ),
    );
  });
  addDataOptions(
    apps
      .command('assign')
      .argument('<app>', 'id or name of the app')
      .requiredOption('--group <group>', 'name of the group (members of nested groups included)')
      .addOption(
        new Option(
          '--intent <intent>',
          'required: installed at check-in; available: from the Company Portal; uninstall: removed at check-in',
        )
          .choices(['required', 'available', 'uninstall'])
          .makeOptionMandatory(),
      ),
  ).action(async (ref: string, opts: DataFlags & { group: string; intent: AppIntent }) => {
    const a = await withCatalog(opts, (c) => c.assign(CLI_CONTEXT, ref, opts.group, opts.intent));
    print(opts.json, json(a), () => `${a.name} is ${opts.intent} to ${opts.group}; assignments: ${assignmentsText(a)}`);
  });
  addDataOptions(
    apps.command('unassign').argument('<app>', 'id or name of the app').requiredOption('--group <group>', 'name of the group'),
  ).action(async (ref: string, opts: DataFlags & { group: string }) => {
    const a = await withCatalog(opts, (c) => c.unassign(CLI_CONTEXT, ref, opts.group));
    print(opts.json, json(a), () => `${a.name} is no longer assigned to ${opts.group}; assignments: ${assignmentsText(a)}`);
  });
  addDataOptions(apps.command('remove').argument('<app>', 'id or name of the app')).action(async (ref: string, opts: DataFlags) => {
    await withCatalog(opts, (c) => c.remove(CLI_CONTEXT, ref));
    print(
      opts.json,
      { removed: ref },
      () => `app ${ref} removed; devices where it was installed as required get its removal at their next check-in`,
    );
  });
  addDataOptions(apps.command('device').argument('<deviceId>', 'the DeviceID Windows reported')).action(
    async (deviceId: string, opts: DataFlags) => {
      const items = await withCatalog(opts, (c) => c.deviceApps(deviceId));
      print(opts.json, { items: items.map(deviceAppJson) }, () =>
        table(
          ['APP', 'INTENT', 'GROUPS', 'STATE', 'ATTEMPTS'],
          items.map((a) => [
            a.name ?? `(deleted app ${a.appId})`,
            a.intent ?? '-',
            a.groups.map((g) => `${g.group} (${g.intent})`).join(', ') || '-',
            stateText(a),
            String(a.attempts),
          ]),
        ),
      );
    },
  );
  addDataOptions(
    apps
      .command('retry')
      .description('send a failed install (or removal) to the device again at its next check-in')
      .argument('<deviceId>', 'the DeviceID Windows reported')
      .argument('<app>', 'id or name of the app'),
  ).action(async (deviceId: string, ref: string, opts: DataFlags) => {
    const a = await withCatalog(opts, (c) => c.retry(CLI_CONTEXT, deviceId, ref));
    print(opts.json, deviceAppJson(a), () => `${a.name ?? ref} is ${stateText(a)} on ${deviceId}; the device gets it at its next check-in`);
  });
}
