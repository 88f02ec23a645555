/**
 * Who may enroll, from the command line: licenses, the MDM/MAM user scopes, restrictions, device
 * enrollment managers, corporate identifiers, user import, explain, and the enrollment attempts log.
 */
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import { DirectoryService } from '../core/directory/directory-service.js';
import { EnrollmentPolicy } from '../core/policy/enrollment-policy.js';
import { CLI_CONTEXT } from '../core/admin/audit.js';
import { PolicyAdmin, type ScopeChange, effectiveMdmUrls } from '../core/policy/policy-admin.js';
import type { Restriction, RestrictionType, ScopeMode, TenantSettings } from '../core/policy/ports.js';
import type { Storage } from '../core/ports.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print, table } from './main.js';

interface DataFlags {
  dataDir?: string;
  databaseUrl?: string;
  json?: boolean;
}

export async function withPolicy<T>(flags: DataFlags, fn: (admin: PolicyAdmin, storage: Storage) => Promise<T>): Promise<T> {
  const storage = await openConfiguredStorage(loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl }));
  try {
    const directory = new DirectoryService({ storage, clock: systemClock });
    const policy = new EnrollmentPolicy({ storage, clock: systemClock });
    return await fn(new PolicyAdmin({ storage, clock: systemClock, directory, policy }), storage);
  } finally {
    await storage.close();
  }
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function scopeMode(v: string, flag: string): ScopeMode {
  if (v === 'none' || v === 'some' || v === 'all') return v;
  throw new CliError(`${flag} must be none, some or all, not "${v}"`);
}

function restrictionType(v: string): RestrictionType {
  if (v === 'platform') return 'platform';
  if (v === 'device-limit' || v === 'devicelimit' || v === 'limit') return 'deviceLimit';
  throw new CliError(`restriction type must be platform or device-limit, not "${v}"`);
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function describeRestriction(r: Restriction): string {
  if (r.type === 'deviceLimit') return `up to ${(r.config as { limit: number }).limit} devices per user`;
  const c = r.config as { windowsMdm: string; minOsVersion: string | null; maxOsVersion: string | null; blockPersonal: boolean };
  return [
    `Windows MDM ${c.windowsMdm}`,
    c.minOsVersion ? `min ${c.minOsVersion}` : '',
    c.maxOsVersion ? `max ${c.maxOsVersion}` : '',
    c.blockPersonal ? 'personal blocked' : 'personal allowed',
  ]
    .filter(Boolean)
    .join(', ');
}

function restrictionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--windows <allow|block>', 'platform: allow or block Windows MDM enrollment'))
    .addOption(new Option('--min-os <version>', 'platform: lowest Windows version, e.g. 10.0.19045.0'))
    .addOption(new Option('--max-os <version>', 'platform: highest Windows version'))
    .addOption(new Option('--block-personal', 'platform: refuse personally owned devices'))
    .addOption(new Option('--allow-personal', 'platform: allow personally owned devices'))
    .addOption(new Option('--limit <n>', 'device limit: 1-15 devices per user'));
}

interface RestrictionFlags {
  windows?: string;
  minOs?: string;
  maxOs?: string;
  blockPersonal?: boolean;
  allowPersonal?: boolean;
  limit?: string;
}

function restrictionConfigFrom(opts: RestrictionFlags) {
  const c: Record<string, unknown> = {};
  if (opts.windows !== undefined) {
    if (opts.windows !== 'allow' && opts.windows !== 'block') throw new CliError('--windows must be allow or block');
    c.windowsMdm = opts.windows;
  }
  if (opts.minOs !== undefined) c.minOsVersion = opts.minOs;
  if (opts.maxOs !== undefined) c.maxOsVersion = opts.maxOs;
  if (opts.blockPersonal) c.blockPersonal = true;
  if (opts.allowPersonal) c.blockPersonal = false;
  if (opts.limit !== undefined) c.limit = Number(opts.limit);
  return c;
}

function describeScopes(s: TenantSettings, names: Map<string, string>): string {
  const one = (label: string, sc: TenantSettings['mdmScope']) =>
    `${label} user scope: ${sc.mode}${sc.mode === 'some' ? ` (${sc.groupIds.map((g) => names.get(g) ?? g).join(', ')})` : ''}`;
  return [
    one('MDM', s.mdmScope),
    one('MAM', s.mamScope),
    'Group membership is evaluated transitively (members of nested groups count).',
  ].join('\n');
}

export function registerPolicyCommands(program: Command): void {
  const licenses = program
    .command('licenses')
    .description('Winroll licenses: a user needs one to enroll devices; assign them to users or to groups (nested groups count)');
  const userOrGroup = (cmd: Command) =>
    addDataOptions(
      cmd.argument('[upn]', 'the user').option('--group <name>', 'a group instead: its enabled members, nested groups included'),
    );
  const target = (upn: string | undefined, opts: { group?: string }): { upn: string } | { group: string } => {
    if (opts.group !== undefined && upn !== undefined) throw new CliError('give a UPN or --group <name>, not both');
    if (opts.group !== undefined) return { group: opts.group };
    if (upn === undefined) throw new CliError('give a UPN or --group <name>');
    return { upn };
  };
  const assign = async (upn: string | undefined, opts: DataFlags & { group?: string }) => {
    const t = target(upn, opts);
    if ('group' in t) {
      const r = await withPolicy(opts, (a) => a.assignGroupLicense(CLI_CONTEXT, t.group));
      const g = r.group;
      print(opts.json, { group: g.name, assigned: true, changed: r.changed, assignment: g, usage: r.usage }, () =>
        [
          r.changed ? `assigned a license to group ${g.name}` : `group ${g.name} already holds a license`,
          `${g.licensedCount} of its ${g.memberCount} enabled members hold a license (nested groups included)`,
          ...(r.usage.withoutSeat > 0
            ? [`${r.usage.withoutSeat} members of licensed groups get no license: all ${r.usage.seats} seats are in use`]
            : []),
        ].join('\n'),
      );
      return;
    }
    const added = await withPolicy(opts, (a) => a.assignLicense(CLI_CONTEXT, t.upn));
    print(opts.json, { upn: t.upn, assigned: true, changed: added }, () =>
      added ? `assigned a license to ${t.upn}` : `${t.upn} already holds a license`,
    );
  };
  const unassign = async (upn: string | undefined, opts: DataFlags & { group?: string }) => {
    const t = target(upn, opts);
    if ('group' in t) {
      const r = await withPolicy(opts, (a) => a.removeGroupLicense(CLI_CONTEXT, t.group));
      print(opts.json, { group: t.group, assigned: false, changed: r.changed, usage: r.usage }, () =>
        r.changed
          ? `removed the license of group ${t.group}; members licensed only through it are refused at their next enrollment (UserLicense)`
          : `group ${t.group} held no license`,
      );
      return;
    }
    const removed = await withPolicy(opts, (a) => a.removeLicense(CLI_CONTEXT, t.upn));
    print(opts.json, { upn: t.upn, assigned: false, changed: removed }, () =>
      removed
        ? `removed the direct license of ${t.upn}; unless a licensed group reaches them, their next enrollment is refused (UserLicense)`
        : `${t.upn} held no direct license`,
    );
  };
  userOrGroup(licenses.command('assign').description('license a user, or a group with --group')).action(assign);
  userOrGroup(licenses.command('unassign').alias('remove').description('take the license off a user, or a group with --group')).action(
    unassign,
  );
  addDataOptions(licenses.command('show').argument('<upn>').description("a user's effective license and where it comes from")).action(
    async (upn: string, opts: DataFlags) => {
      const r = await withPolicy(opts, (a) => a.licenseOf(upn));
      print(
        opts.json,
        {
          upn: r.upn,
          licensed: r.license.licensed,
          direct: r.license.direct,
          groupPath: r.license.groupPath.map((g) => g.name),
          beyondSeats: r.license.beyondSeats,
          reason: r.reason,
        },
        () => r.reason,
      );
    },
  );
  addDataOptions(licenses.command('list')).action(async (opts: DataFlags) => {
    const o = await withPolicy(opts, (a) => a.licenseOverview());
    const u = o.usage;
    print(opts.json, { ...u, groups: o.groups, licenses: o.users }, () =>
      [
        `${u.assigned} users licensed of ${u.seats ?? 'unlimited'} seats${u.available !== null ? `, ${u.available} available` : ''} (${u.direct} directly, ${u.throughGroups} through groups${u.withoutSeat > 0 ? `; ${u.withoutSeat} group members without a seat` : ''})`,
        ...(o.groups.length > 0
          ? [
              table(
                ['GROUP', 'MEMBERS', 'LICENSED', 'ASSIGNED'],
                o.groups.map((g) => [g.name, String(g.memberCount), String(g.licensedCount), iso(g.assignedAt)]),
              ),
            ]
          : []),
        table(
          ['UPN', 'ASSIGNED'],
          o.users.map((l) => [l.upn, iso(l.assignedAt)]),
        ),
      ].join('\n'),
    );
  });
  addDataOptions(licenses.command('seats').argument('<seats>', 'a number, or "unlimited"')).action(async (v: string, opts: DataFlags) => {
    const seats = v === 'unlimited' ? null : Number(v);
    const s = await withPolicy(opts, (a) => a.setLicenseSeats(CLI_CONTEXT, seats));
    print(opts.json, { seats: s.licenseSeats }, () => `license seats: ${s.licenseSeats ?? 'unlimited'}`);
  });

  const scope = program.command('scope').description('automatic-enrollment user scopes (MDM and MAM)');
  addDataOptions(
    scope
      .command('set')
      .addOption(new Option('--mdm <mode>', 'MDM user scope: none, some or all'))
      .addOption(new Option('--mdm-group <group>', 'a group for --mdm some (repeatable)').argParser(collect))
      .addOption(new Option('--mam <mode>', 'MAM user scope: none, some or all'))
      .addOption(new Option('--mam-group <group>', 'a group for --mam some (repeatable)').argParser(collect)),
  ).action(async (opts: DataFlags & { mdm?: string; mdmGroup?: string[]; mam?: string; mamGroup?: string[] }) => {
    if (!opts.mdm && !opts.mam) throw new CliError('say what to set: --mdm and/or --mam');
    const change: { mdm?: ScopeChange; mam?: ScopeChange } = {};
    if (opts.mdm) change.mdm = { mode: scopeMode(opts.mdm, '--mdm'), groups: opts.mdmGroup ?? [] };
    if (opts.mam) change.mam = { mode: scopeMode(opts.mam, '--mam'), groups: opts.mamGroup ?? [] };
    const { settings, warnings } = await withPolicy(opts, (a) => a.setScopes(CLI_CONTEXT, change));
    const names = await withPolicy(opts, async (_a, s) => new Map((await s.listGroups()).map((g) => [g.id, g.name])));
    print(opts.json, { mdmScope: settings.mdmScope, mamScope: settings.mamScope, warnings }, () =>
      [describeScopes(settings, names), ...warnings.map((w) => `WARNING: ${w}`)].join('\n'),
    );
  });
  addDataOptions(scope.command('show')).action(async (opts: DataFlags) => {
    const [settings, warnings, names] = await withPolicy(opts, async (a, s) => {
      const st = await a.settings();
      return [st, await a.scopeWarnings(st), new Map((await s.listGroups()).map((g) => [g.id, g.name]))] as const;
    });
    print(opts.json, { mdmScope: settings.mdmScope, mamScope: settings.mamScope, warnings }, () =>
      [describeScopes(settings, names), ...warnings.map((w) => `WARNING: ${w}`)].join('\n'),
    );
  });

  const restrictions = program
    .command('restrictions')
    .description('enrollment restrictions: platform (Windows MDM, OS versions, personal devices) and device limits');
  addDataOptions(restrictions.command('list')).action(async (opts: DataFlags) => {
    const [list, names] = await withPolicy(
      opts,
      async (a, s) => [await a.listRestrictions(), new Map((await s.listGroups()).map((g) => [g.id, g.name]))] as const,
    );
    print(opts.json, list, () =>
      table(
        ['TYPE', 'PRIORITY', 'NAME', 'RULES', 'ASSIGNED TO'],
        list.map((r) => [
          r.type === 'platform' ? 'platform' : 'device-limit',
          r.isDefault ? 'default' : String(r.priority),
          r.name,
          describeRestriction(r),
          r.isDefault ? 'all users (and userless enrollments)' : r.groupIds.map((g) => names.get(g) ?? g).join(', '),
        ]),
      ),
    );
  });
  addDataOptions(restrictionOptions(restrictions.command('add').argument('<type>', 'platform or device-limit').argument('<name>'))).action(
    async (type: string, name: string, opts: DataFlags & RestrictionFlags) => {
      const r = await withPolicy(opts, (a) => a.createRestriction(CLI_CONTEXT, restrictionType(type), name, restrictionConfigFrom(opts)));
      print(
        opts.json,
        r,
        () =>
          `added ${type} restriction "${r.name}" at priority ${r.priority}: ${describeRestriction(r)}; assign it to a group to take effect`,
      );
    },
  );
  addDataOptions(restrictionOptions(restrictions.command('set').argument('<type>').argument('<name>', 'a restriction, or Default'))).action(
    async (type: string, name: string, opts: DataFlags & RestrictionFlags) => {
      const r = await withPolicy(opts, (a) => a.updateRestriction(CLI_CONTEXT, restrictionType(type), name, restrictionConfigFrom(opts)));
      print(opts.json, r, () => `updated "${r.name}": ${describeRestriction(r)} (applies to new enrollments)`);
    },
  );
  addDataOptions(restrictions.command('priority').argument('<type>').argument('<name>').argument('<priority>', '1 is highest')).action(
    async (type: string, name: string, p: string, opts: DataFlags) => {
      await withPolicy(opts, (a) => a.setRestrictionPriority(CLI_CONTEXT, restrictionType(type), name, Number(p)));
      print(opts.json, { ok: true }, () => `"${name}" now has priority ${p}`);
    },
  );
  for (const verb of ['assign', 'unassign'] as const) {
    addDataOptions(
      restrictions.command(verb).argument('<type>').argument('<name>').requiredOption('--group <group>', 'a group of users'),
    ).action(async (type: string, name: string, opts: DataFlags & { group: string }) => {
      await withPolicy(opts, (a) =>
        verb === 'assign'
          ? a.assignRestriction(CLI_CONTEXT, restrictionType(type), name, opts.group)
          : a.unassignRestriction(CLI_CONTEXT, restrictionType(type), name, opts.group),
      );
      print(
        opts.json,
        { ok: true },
        () => `${verb === 'assign' ? 'assigned' : 'unassigned'} "${name}" ${verb === 'assign' ? 'to' : 'from'} ${opts.group}`,
      );
    });
  }
  addDataOptions(restrictions.command('delete').argument('<type>').argument('<name>')).action(
    async (type: string, name: string, opts: DataFlags) => {
      await withPolicy(opts, (a) => a.deleteRestriction(CLI_CONTEXT, restrictionType(type), name));
      print(opts.json, { ok: true }, () => `deleted "${name}"`);
    },
  );

  const dem = program.command('dem').description('device enrollment managers: enroll up to 1,000 shared corporate devices');
  addDataOptions(dem.command('add').argument('<upn>')).action(async (upn: string, opts: DataFlags) => {
    await withPolicy(opts, (a) => a.addDem(CLI_CONTEXT, upn));
    print(opts.json, { ok: true }, () => `${upn} is now a device enrollment manager`);
  });
  addDataOptions(dem.command('remove').argument('<upn>')).action(async (upn: string, opts: DataFlags) => {
    await withPolicy(opts, (a) => a.removeDem(CLI_CONTEXT, upn));
    print(opts.json, { ok: true }, () => `${upn} is no longer a device enrollment manager`);
  });
  addDataOptions(dem.command('list')).action(async (opts: DataFlags) => {
    const list = await withPolicy(opts, (_a, s) => s.listDems());
    print(opts.json, list, () =>
      table(
        ['UPN', 'SINCE'],
        list.map((d) => [d.upn, iso(d.addedAt)]),
      ),
    );
  });

  const ids = program.command('identifiers').description('corporate device identifiers (manufacturer,model,serial)');
  addDataOptions(
    ids
      .command('import')
      .argument('<csv>', 'lines of manufacturer,model,serial; no header')
      .option('--replace', 'replace the current list instead of adding'),
  ).action(async (file: string, opts: DataFlags & { replace?: boolean }) => {
    const text = await readFile(file, 'utf8').catch((err: Error) => {
      throw new CliError(`cannot read ${file}: ${err.message}`);
    });
    const r = await withPolicy(opts, (a) => a.importCorporateIdentifiers(CLI_CONTEXT, text, opts.replace ? 'replace' : 'add'));
    print(opts.json, r, () => [`imported ${r.imported} identifiers`, ...r.errors.map((e) => `line ${e.row}: ${e.error}`)].join('\n'));
  });

  const users = program.commands.find((c) => c.name() === 'users') ?? program.command('users');
  for (const verb of ['disable', 'enable'] as const) {
    addDataOptions(users.command(verb).argument('<upn>')).action(async (upn: string, opts: DataFlags) => {
      const u = await withPolicy(opts, (a) => a.setUserEnabled(CLI_CONTEXT, upn, verb === 'enable'));
      print(
        opts.json,
        { upn: u.upn, enabled: u.enabled },
        () => `${u.upn} is ${u.enabled ? 'enabled' : 'disabled (sign-in and enrollment refused)'}`,
      );
    });
  }
  addDataOptions(users.command('import').argument('<csv>', 'header: upn,password[,displayName][,groups (a;b)][,license (yes/no)]')).action(
    async (file: string, opts: DataFlags) => {
      const text = await readFile(file, 'utf8').catch((err: Error) => {
        throw new CliError(`cannot read ${file}: ${err.message}`);
      });
      const bar =
        opts.json || !process.stderr.isTTY
          ? undefined
          : new cliProgress.SingleBar(
              { format: 'importing users [{bar}] {value}/{total} ({eta}s left)', stream: process.stderr },
              cliProgress.Presets.shades_classic,
            );
      let started = false;
      const r = await withPolicy(opts, (a) =>
        a.importUsers(CLI_CONTEXT, text, (done, total) => {
          if (!bar) return;
          if (!started) {
            bar.start(total, 0);
            started = true;
          }
          bar.update(done);
        }),
      );
      bar?.stop();
      print(opts.json, r, () =>
        [
          `imported ${r.added} users; ${r.errors.length} row${r.errors.length === 1 ? '' : 's'} refused`,
          ...r.errors.map((e) => `row ${e.row}: ${e.error}`),
        ].join('\n'),
      );
      if (r.errors.length > 0 && r.added === 0) throw new CliError(`no user imported (${r.errors.length} rows refused)`);
    },
  );

  addDataOptions(
    program
      .command('explain')
      .description('what an enrollment by this user would get now, and why')
      .argument('<upn>')
      .addOption(new Option('--ownership <ownership>', 'personal or corporate').default('personal'))
      .addOption(new Option('--os-version <version>', 'Windows version, e.g. 10.0.22631'))
      .addOption(
        new Option('--method <method>', 'user (Settings / Company Portal), automatic (directory join or work account) or bulk').default(
          'user',
        ),
      ),
  ).action(async (upn: string, opts: DataFlags & { ownership: string; osVersion?: string; method: string }) => {
    if (opts.ownership !== 'personal' && opts.ownership !== 'corporate') throw new CliError('--ownership must be personal or corporate');
    if (!['user', 'automatic', 'bulk'].includes(opts.method)) throw new CliError('--method must be user, automatic or bulk');
    const d = await withPolicy(opts, (a) =>
      a.explain(upn, { ownership: opts.ownership as 'personal', osVersion: opts.osVersion, method: opts.method as 'user' }),
    );
    print(opts.json, d, () =>
      [
        `${upn}: ${d.outcome === 'mdm' ? 'MDM enrollment' : d.outcome === 'mam' ? 'app protection (MAM) only' : `refused${d.errorType ? ` (${d.errorType})` : ''}`}, ${d.ownership}`,
        ...d.reasons.map((r) => `  because ${r}`),
        `  policies: platform "${d.policies.platform}", device limit "${d.policies.deviceLimit}"`,
      ].join('\n'),
    );
  });

  const attempts = program.command('attempts').description('enrollment attempts, allowed and refused, with their explanation and TraceID');
  addDataOptions(
    attempts
      .command('list')
      .option('--upn <upn>')
      .option('--outcome <outcome>', 'mdm, mam or refused')
      .option('--limit <n>', 'how many', '50'),
  ).action(async (opts: DataFlags & { upn?: string; outcome?: string; limit: string }) => {
    const list = await withPolicy(opts, (_a, s) =>
      s.listEnrollmentAttempts({
        limit: Math.min(Number(opts.limit) || 50, 1000),
        ...(opts.upn ? { upn: opts.upn.toLowerCase() } : {}),
        ...(opts.outcome ? { outcome: opts.outcome as 'mdm' } : {}),
      }),
    );
    print(opts.json, list, () =>
      table(
        ['WHEN', 'USER', 'DEVICE', 'OUTCOME', 'WHY', 'TRACE ID'],
        list.map((a) => [
          iso(a.at),
          a.upn ?? '',
          a.deviceId ?? '',
          a.outcome + (a.errorType ? ` (${a.errorType})` : ''),
          a.reasons.at(-1) ?? '',
          a.traceId,
        ]),
      ),
    );
  });
}

/** Tenant settings that are not scopes: the three MDM URLs and the unlicensed-admins switch. */
export function registerSettingsCommands(program: Command): void {
  const settings = program
    .command('settings')
    .description('tenant settings: MDM terms-of-use, discovery and compliance URLs; unlicensed admins');
  const effective = (s: TenantSettings, publicHost: string, port: number) =>
    // Winroll's own pages when the admin has not set another (null).
    effectiveMdmUrls(s.urls, `https://${publicHost}${port === 443 ? '' : `:${port}`}`);
  const show = (opts: DataFlags & { publicHost?: string; port?: string }, s: TenantSettings) => {
    const cfg = loadConfig({ dataDir: opts.dataDir, publicHost: opts.publicHost, port: opts.port });
    const urls = effective(s, cfg.publicHost, cfg.port);
    print(opts.json, { urls, customized: s.urls, allowUnlicensedAdmins: s.allowUnlicensedAdmins, licenseSeats: s.licenseSeats }, () =>
      [
        `MDM terms of use URL   ${urls.termsOfUse}${s.urls.termsOfUse ? '' : ' (default)'}`,
        `MDM discovery URL      ${urls.discovery}${s.urls.discovery ? '' : ' (default)'}`,
        `MDM compliance URL     ${urls.compliance}${s.urls.compliance ? '' : ' (default)'}`,
        `unlicensed admins may sign in: ${s.allowUnlicensedAdmins ? 'yes' : 'no'}`,
      ].join('\n'),
    );
  };
  const hostOptions = (c: Command) =>
    c
      .addOption(new Option('--public-host <host>', 'public host the defaults are built from (env WINROLL_PUBLIC_HOST)'))
      .addOption(new Option('--port <port>', 'public port (env WINROLL_PORT)'));
  addDataOptions(hostOptions(settings.command('show'))).action(async (opts: DataFlags & { publicHost?: string; port?: string }) => {
    show(opts, await withPolicy(opts, (a) => a.settings()));
  });
  addDataOptions(
    hostOptions(
      settings
        .command('urls')
        .option('--terms-of-use <url>')
        .option('--discovery <url>')
        .option('--compliance <url>')
        .option('--restore-defaults', "go back to Winroll's own pages"),
    ),
  ).action(
    async (
      opts: DataFlags & {
        publicHost?: string;
        port?: string;
        termsOfUse?: string;
        discovery?: string;
        compliance?: string;
        restoreDefaults?: boolean;
      },
    ) => {
      const s = await withPolicy(opts, (a) =>
        opts.restoreDefaults
          ? a.restoreDefaultUrls(CLI_CONTEXT)
          : a.setUrls(CLI_CONTEXT, {
              ...(opts.termsOfUse !== undefined ? { termsOfUse: opts.termsOfUse } : {}),
              ...(opts.discovery !== undefined ? { discovery: opts.discovery } : {}),
              ...(opts.compliance !== undefined ? { compliance: opts.compliance } : {}),
            }),
      );
      show(opts, s);
    },
  );
  addDataOptions(settings.command('unlicensed-admins').argument('<allow|deny>')).action(async (v: string, opts: DataFlags) => {
    if (v !== 'allow' && v !== 'deny') throw new CliError('say allow or deny');
    const s = await withPolicy(opts, (a) => a.setAllowUnlicensedAdmins(CLI_CONTEXT, v === 'allow', { allowLockout: true }));
    print(
      opts.json,
      { allowUnlicensedAdmins: s.allowUnlicensedAdmins },
      () =>
        `unlicensed admins ${s.allowUnlicensedAdmins ? 'may' : 'may not'} sign in to the console (enrolling devices always needs a license)`,
    );
  });
}
