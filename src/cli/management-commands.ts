/** `devices show|action`, `profiles`, `groups`: management from the command line, on the same data as the server. */
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import { PROVIDER_ID } from '../core/enrollment/enrollment-service.js';
import { type RemoteAction, ACTION_KINDS } from '../core/management/actions.js';
import { ManagementAdmin } from '../core/management/admin.js';
import type { QueuedCommand } from '../core/management/ports.js';
import { WnsClient } from '../push/wns.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print, table } from './main.js';
import { cliOperations } from './admin-commands.js';
import { withPolicy } from './policy-commands.js';
import { CLI_CONTEXT } from '../core/admin/audit.js';
import { normalizeUpn } from '../core/directory/names.js';
import type { Storage } from '../core/ports.js';
import { historyJson, historyLines } from './device-history.js';
import type { AdminOperations } from '../core/admin/operations.js';

interface DataFlags {
  dataDir?: string;
  databaseUrl?: string;
  json?: boolean;
}

async function withAdmin<T>(
  flags: DataFlags,
  fn: (admin: ManagementAdmin, audited: AdminOperations, storage: Storage) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  const storage = await openConfiguredStorage(config);
  const push = config.wns ? new WnsClient(config.wns) : undefined;
  try {
    const admin = new ManagementAdmin({ storage, clock: systemClock, providerId: PROVIDER_ID, push });
    // Changes go through the audited operations (the audit log names the actor `cli`).
    return await fn(admin, cliOperations(storage, admin).ops, storage);
  } finally {
    push?.close();
    await storage.close();
  }
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

/** An admin-readable state of a command or action. */
export function describeCommand(c: QueuedCommand): string {
  switch (c.state) {
    case 'pending':
      return c.attempts > 0 ? 'queued (resend)' : 'queued';
    case 'sent':
      return 'sent, waiting for the device';
    case 'acknowledged':
      return `acknowledged (${c.status})`;
    case 'failed':
      return `failed (device status ${c.status})`;
    case 'canceled':
      return 'canceled';
  }
}

function originLabel(c: QueuedCommand): string {
  switch (c.origin.kind) {
    case 'action':
      return `action ${c.origin.actionId.split('-')[0]}`;
    case 'profile':
      return 'profile';
    case 'inventory':
      return 'inventory';
    case 'system':
      return c.origin.purpose;
  }
}

export function registerManagementCommands(program: Command): void {
  const devices = program.commands.find((c) => c.name() === 'devices') ?? program.command('devices');
  addDataOptions(devices.command('show').argument('<device-id>', 'the Windows DeviceID')).action(async (id: string, opts: DataFlags) => {
    const [d, history] = await withAdmin(opts, async (a, _o, storage) => [await a.device(id), await storage.deviceHistory(id)] as const);
    print(opts.json, history ? { ...d, history: historyJson(history) } : d, () => {
      const inv = d.inventory;
      const lines = [
        `Device ${d.device.deviceId} (${d.device.deviceName ?? 'unnamed'})`,
        `  status        ${d.device.status}${d.retiredAt ? `, retired ${iso(d.retiredAt)} (told to unenroll at next check-in)` : ''}`,
        `  ownership     ${d.ownership}`,
        `  enrolled by   ${d.device.upn} (enrollment ${d.enrollment.enrollmentType})`,
        `  primary user  ${d.device.primaryUpn ?? 'none (shared device)'}`,
        `  enrolled      ${iso(d.device.firstEnrolledAt)}, last ${iso(d.device.lastEnrolledAt)}`,
        `  last check-in ${d.lastCheckInAt ? iso(d.lastCheckInAt) : 'never'}`,
        d.device.managementMode === 'mam'
          ? '  management    app protection (MAM) registration: no certificate; only the CSPs Windows allows for MAM are sent'
          : `  certificate   ${d.device.certThumbprint ?? ''} until ${iso(d.device.certNotAfter)}`,
      ];
      if (inv) {
        lines.push(
          `  OS            ${inv.osEdition ?? ''} ${inv.osVersion ?? ''}`.trimEnd(),
          `  hardware      ${inv.manufacturer ?? ''} ${inv.model ?? ''}, serial ${inv.serialNumber ?? '?'}, storage ${inv.totalStorageMb ?? '?'} MB`,
          `  inventory at  ${inv.collectedAt}`,
        );
      }
      for (const w of d.device.warnings) lines.push(`  WARNING       ${w.detail}`);
      if (history) lines.push(...historyLines(history));
      for (const n of d.notApplicable) lines.push(`  NOT SENT      ${n.locUri} (profile ${n.profile}): ${n.reason}`);
      lines.push(
        '',
        d.users.length === 0
          ? 'Signed-in users: none seen yet'
          : table(
              ['SIGNED-IN USER', 'FIRST SEEN', 'LAST SEEN'],
              d.users.map((u) => [u.upn, iso(u.firstSeenAt), iso(u.lastSeenAt)]),
            ),
      );
      lines.push(
        '',
        table(
          ['WHEN', 'WHAT', 'COMMAND', 'STATE'],
          d.commands.map((c) => [iso(c.createdAt), originLabel(c), `${c.verb} ${c.item.locUri}`, describeCommand(c)]),
        ),
      );
      return lines.join('\n');
    });
  });
  addDataOptions(
    devices
      .command('action')
      .argument('<device-id>', 'the Windows DeviceID')
      .argument('<action>', ACTION_KINDS.join('|'))
      .argument('[name]', 'new computer name, for rename')
      .addOption(new Option('--keep-enrollment', 'wipe: keep the device enrolled (provisioning data survives the reset)')),
  ).action(async (id: string, kind: string, name: string | undefined, opts: DataFlags & { keepEnrollment?: boolean }) => {
    let action: RemoteAction;
    switch (kind) {
      case 'sync':
      case 'restart':
      case 'retire':
      case 'delete':
        action = { kind };
        break;
      case 'rename':
        if (!name) throw new CliError('rename needs the new name: winroll devices action <id> rename <name>');
        action = { kind, name };
        break;
      case 'wipe':
        action = { kind, keepEnrollment: Boolean(opts.keepEnrollment) };
        break;
      default:
        throw new CliError(`unknown action "${kind}"; use one of ${ACTION_KINDS.join(', ')}`);
    }
    const cmd = await withAdmin(opts, (_a, o) => o.queueAction(CLI_CONTEXT, id, action));
    const woke = cmd.push.ok ? 'the device was asked to check in now (push)' : cmd.push.detail;
    print(
      opts.json,
      { actionId: cmd.origin.kind === 'action' ? cmd.origin.actionId : cmd.id, commandId: cmd.id, state: cmd.state, push: cmd.push },
      () => `queued ${kind} for ${id.toUpperCase()}; ${woke} (follow it with: winroll devices show ${id.toUpperCase()})`,
    );
  });

  addDataOptions(devices.command('ownership').argument('<device-id>').argument('<ownership>', 'personal or corporate')).action(
    async (id: string, ownership: string, opts: DataFlags) => {
      if (ownership !== 'personal' && ownership !== 'corporate') throw new CliError('ownership must be personal or corporate');
      await withAdmin(opts, (_a, o) => o.setOwnership(CLI_CONTEXT, id, ownership));
      print(opts.json, { deviceId: id.toUpperCase(), ownership }, () => `${id.toUpperCase()} is now ${ownership}`);
    },
  );

  addDataOptions(
    devices
      .command('primary-user')
      .description("change a device's primary user, or make it shared with --none (audited)")
      .argument('<device-id>')
      .argument('[upn]', 'the new primary user (enabled and licensed)')
      .addOption(new Option('--none', 'no primary user: a shared device')),
  ).action(async (id: string, upn: string | undefined, opts: DataFlags & { none?: boolean }) => {
    if (opts.none && upn) throw new CliError('give a UPN or --none, not both');
    if (!opts.none && !upn) throw new CliError('give the new primary user (a UPN) or --none for a shared device');
    const primary = await withAdmin(opts, (_a, o) => o.setPrimaryUser(CLI_CONTEXT, id, opts.none ? null : (upn as string)));
    const deviceId = id.toUpperCase();
    print(opts.json, { deviceId, primaryUser: primary, shared: primary === null }, () =>
      primary ? `${deviceId}: primary user is now ${primary.upn}` : `${deviceId} is now a shared device (no primary user)`,
    );
  });

  const profiles = program.command('profiles').description('configuration profiles: CSP settings assigned to groups or devices');
  addDataOptions(
    profiles
      .command('add')
      .argument(
        '<file>',
        'profile as JSON or YAML: name, scope (user|device), settings [{path, format, value}]; or name, type: wip, wip: {enterpriseId, enforcement, ...}',
      ),
  ).action(async (file: string, opts: DataFlags) => {
    let raw: unknown;
    try {
      const text = await readFile(file, 'utf8');
      raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!raw || typeof raw !== 'object') throw new CliError(`${file} does not hold a profile object`);
    const p = await withAdmin(opts, (_a, o) => o.saveProfile(CLI_CONTEXT, raw as { name: unknown }));
    print(opts.json, p, () => `saved profile ${p.name} (${p.scope}, ${p.settings.length} settings, version ${p.version})`);
  });
  addDataOptions(profiles.command('list')).action(async (opts: DataFlags) => {
    const list = await withAdmin(opts, (a) => a.listProfiles());
    print(opts.json, list, () =>
      table(
        ['NAME', 'TYPE', 'SCOPE', 'SETTINGS', 'VERSION', 'UPDATED'],
        list.map((p) => [
          p.name,
          p.type === 'wip' ? 'WIP' : 'custom',
          p.scope,
          String(p.settings.length),
          String(p.version),
          iso(p.updatedAt),
        ]),
      ),
    );
  });
  for (const verb of ['assign', 'unassign'] as const) {
    const command = profiles
      .command(verb)
      .argument('<profile>')
      .option('--group <group>', 'a group of users')
      .option('--device <device-id>', 'one device');
    if (verb === 'assign')
      command.option('--intent <intent>', 'required (delivered to every targeted device) or available (offered in the Company Portal)');
    addDataOptions(command).action(async (name: string, opts: DataFlags & { group?: string; device?: string; intent?: string }) => {
      if (verb === 'assign') {
        const n = await withAdmin(opts, (_a, o) => o.assignProfile(CLI_CONTEXT, name, opts));
        print(opts.json, { queued: n }, () =>
          opts.intent === 'available'
            ? `offered ${name} as available; a device gets it after its primary user installs it in the Company Portal`
            : `assigned ${name}; ${n} commands queued for the targeted devices`,
        );
      } else {
        await withAdmin(opts, (_a, o) => o.unassignProfile(CLI_CONTEXT, name, opts));
        print(opts.json, { ok: true }, () => `unassigned ${name}; devices remove its settings at their next check-in`);
      }
    });
  }
  addDataOptions(profiles.command('delete').argument('<profile>')).action(async (name: string, opts: DataFlags) => {
    await withAdmin(opts, (_a, o) => o.deleteProfile(CLI_CONTEXT, name));
    print(opts.json, { ok: true }, () => `deleted ${name}; devices remove its settings at their next check-in`);
  });

  const groups = program.command('groups').description('groups of users, for assigning profiles');
  addDataOptions(groups.command('add').argument('<name>')).action(async (name: string, opts: DataFlags) => {
    const g = await withAdmin(opts, (_a, o) => o.addGroup(CLI_CONTEXT, name));
    print(opts.json, g, () => `added group ${g.name}`);
  });
  addDataOptions(groups.command('list')).action(async (opts: DataFlags) => {
    const list = await withAdmin(opts, (a) => a.listGroups());
    print(opts.json, list, () =>
      table(
        ['NAME', 'ADDED'],
        list.map((g) => [g.name, iso(g.createdAt)]),
      ),
    );
  });
  addDataOptions(
    groups
      .command('add-member')
      .description('add a user, or nest a group (membership is evaluated transitively: members of nested groups count)')
      .argument('<group>')
      .argument('<upn-or-group>', 'a UPN (with @) or the name of a group to nest'),
  ).action(async (group: string, member: string, opts: DataFlags) => {
    const kind = await withPolicy(opts, (p) => p.addGroupMember(CLI_CONTEXT, group, member));
    print(opts.json, { ok: true, kind }, () =>
      kind === 'group' ? `nested group ${member} in ${group}; its members are now members of ${group}` : `added ${member} to ${group}`,
    );
  });
  addDataOptions(
    groups
      .command('remove-member')
      .description('take a user out of a group, or un-nest a group (direct membership only)')
      .argument('<group>')
      .argument('<upn-or-group>', 'a UPN (with @) or the name of a nested group'),
  ).action(async (group: string, member: string, opts: DataFlags) => {
    const kind = await withPolicy(opts, async (p, storage) => {
      // The API's DELETE is idempotent; a person typing the command wants to hear that nothing was there.
      const parent = await storage.getGroupByName(group);
      if (!parent) throw new CliError(`no group named "${group}"`);
      if (member.includes('@')) {
        const user = await storage.getUserByUpn(normalizeUpn(member).upn);
        if (!user) throw new CliError(`no user ${member}`);
        if (!(await storage.listGroupMembers(parent.id)).includes(user.id)) {
          const through = (await storage.groupsOfUser(user.id)).includes(parent.id) ? ' (only through a nested group)' : '';
          throw new CliError(`${user.upn} is not a direct member of ${parent.name}${through}`);
        }
        await p.removeUserFromGroup(CLI_CONTEXT, parent.name, user.upn);
        return { kind: 'user' as const, name: user.upn };
      }
      const child = await storage.getGroupByName(member);
      if (!child) throw new CliError(`no group named "${member}"`);
      if (!(await storage.listChildGroups(parent.id)).some((g) => g.id === child.id)) {
        throw new CliError(`group ${child.name} is not nested in ${parent.name}`);
      }
      await p.removeGroupFromGroup(CLI_CONTEXT, parent.name, child.name);
      return { kind: 'group' as const, name: child.name };
    });
    print(opts.json, { ok: true, kind: kind.kind }, () =>
      kind.kind === 'group'
        ? `un-nested group ${kind.name} from ${group}; its members no longer count as members of ${group}`
        : `removed ${kind.name} from ${group}`,
    );
  });
}
