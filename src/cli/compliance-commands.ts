/**
 * `winroll compliance rules show|set`, `compliance show <device-id>`, `compliance write-back
 * enable|disable|list`: compliance from the command line, on the same data as the server. Changes are
 * audited (actor `cli`); a rule change re-evaluates every device here, and the running server writes the
 * resulting changes to the directory.
 */
import type { Command } from 'commander';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import { CLI_CONTEXT } from '../core/admin/audit.js';
import type { ComplianceRules } from '../core/compliance/evaluate.js';
import { ComplianceService, type DeviceComplianceView } from '../core/compliance/service.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print, table } from './main.js';

interface DataFlags {
  dataDir?: string;
  databaseUrl?: string;
  json?: boolean;
}

async function withCompliance<T>(flags: DataFlags, fn: (c: ComplianceService) => Promise<T>): Promise<T> {
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  const storage = await openConfiguredStorage(config);
  try {
    return await fn(new ComplianceService({ storage, clock: systemClock }));
  } finally {
    await storage.close();
  }
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

function onOff(v: string, flag: string): boolean {
  const t = v.trim().toLowerCase();
  if (['on', 'yes', 'true', 'required'].includes(t)) return true;
  if (['off', 'no', 'false', 'none'].includes(t)) return false;
  throw new CliError(`${flag} takes on or off, not "${v}"`);
}

function versionOrNone(v: string): string | null {
  return v.trim().toLowerCase() === 'none' ? null : v.trim();
}

function wholeNumber(v: string, flag: string): number {
  if (!/^\d+$/.test(v.trim())) throw new CliError(`${flag} takes a whole number, not "${v}"`);
  return Number(v.trim());
}

export function describeRules(r: ComplianceRules): string {
  const yes = (b: boolean) => (b ? 'required' : 'off');
  return [
    `minimum Windows version     ${r.minOsVersion ?? 'off'}`,
    `maximum Windows version     ${r.maxOsVersion ?? 'off'}`,
    `BitLocker (encryption)      ${yes(r.requireEncryption)}`,
    `firewall                    ${yes(r.requireFirewall)}`,
    `antivirus on                ${yes(r.requireAntivirus)}`,
    `antivirus up to date        ${yes(r.requireAntivirusSignatures)}`,
    `antispyware on              ${yes(r.requireAntispyware)}`,
    `Defender real-time          ${yes(r.requireRealTimeProtection)}`,
    `grace period                ${r.gracePeriodHours} hours`,
    `noncompliant after          ${r.maxDaysWithoutCheckIn === null ? 'never (no check-in limit)' : `${r.maxDaysWithoutCheckIn} days without check-in`}`,
  ].join('\n');
}

export function complianceJson(v: DeviceComplianceView) {
  return {
    ...v,
    evaluatedAt: v.evaluatedAt.toISOString(),
    since: v.since.toISOString(),
    graceEndsAt: v.graceEndsAt?.toISOString() ?? null,
    lastCheckInAt: v.lastCheckInAt?.toISOString() ?? null,
    history: v.history.map((h) => ({ state: h.state, previousState: h.previousState, summary: h.summary, at: h.at.toISOString() })),
    writeBack: {
      ...v.writeBack,
      lastAttemptAt: v.writeBack.lastAttemptAt?.toISOString() ?? null,
      nextAttemptAt: v.writeBack.nextAttemptAt?.toISOString() ?? null,
    },
  };
}

function describeDevice(v: DeviceComplianceView): string {
  const wb = v.writeBack;
  const writeBack =
    wb.desired === null
      ? 'nothing to write (state unknown)'
      : wb.written === wb.desired
        ? `directory says isCompliant=${wb.written}${wb.tenantId ? ` (tenant ${wb.tenantId})` : ''}`
        : wb.entraDeviceId === null
          ? 'not written: the device reported no Entra device id'
          : `pending isCompliant=${wb.desired}${wb.lastResult ? `; last attempt ${iso(wb.lastAttemptAt)}: ${wb.lastResult}` : ''}`;
  return [
    `${v.deviceName ?? v.deviceId} (${v.deviceId}), ${v.upn}`,
    `state        ${v.state} since ${iso(v.since)}${v.graceEndsAt ? `, grace ends ${iso(v.graceEndsAt)}` : ''}`,
    `evaluated    ${iso(v.evaluatedAt)}; last check-in ${iso(v.lastCheckInAt) || 'never'}`,
    `write-back   ${writeBack}`,
    '',
    table(
      ['RULE', 'RESULT', 'REPORTED', 'REASON'],
      v.rules.map((r) => [r.title, r.status, r.reported ?? '-', r.reason]),
    ),
    '',
    'history:',
    table(
      ['AT', 'STATE', 'SUMMARY'],
      v.history.map((h) => [iso(h.at), h.state, h.summary]),
    ),
  ].join('\n');
}

export function registerComplianceCommands(program: Command): void {
  const compliance = program.command('compliance').description('compliance rules, device compliance and directory write-back');
  const rules = compliance.command('rules').description('the tenant-wide compliance rules');

  addDataOptions(rules.command('show').description('show the rules')).action(async (opts: DataFlags) => {
    const r = await withCompliance(opts, (c) => c.rules());
    print(opts.json, r, () => describeRules(r));
  });

  addDataOptions(
    rules
      .command('set')
      .description('change some rules (the others stay) and re-evaluate every device')
      .option('--min-os <version|none>', 'lowest Windows version allowed, e.g. 10.0.22631')
      .option('--max-os <version|none>', 'highest Windows version allowed, e.g. 10.0.26100')
      .option('--bitlocker <on|off>', 'require BitLocker on the Windows drive')
      .option('--firewall <on|off>', 'require the firewall on for every network')
      .option('--antivirus <on|off>', 'require antivirus on and monitoring')
      .option('--antivirus-up-to-date <on|off>', 'require antivirus security intelligence up to date')
      .option('--antispyware <on|off>', 'require antispyware on')
      .option('--real-time-protection <on|off>', 'require Microsoft Defender real-time protection')
      .option('--defender <on|off>', 'shorthand: antivirus on, up to date and real-time protection')
      .option('--grace-hours <n>', 'hours a failing device stays in grace before it is noncompliant (0: at once)')
      .option('--max-days-without-checkin <n|none>', 'noncompliant after this many days without a check-in'),
  ).action(
    async (
      opts: DataFlags & {
        minOs?: string;
        maxOs?: string;
        bitlocker?: string;
        firewall?: string;
        antivirus?: string;
        antivirusUpToDate?: string;
        antispyware?: string;
        realTimeProtection?: string;
        defender?: string;
        graceHours?: string;
        maxDaysWithoutCheckin?: string;
      },
    ) => {
      const change: Partial<ComplianceRules> = {};
      if (opts.defender !== undefined) {
        const v = onOff(opts.defender, '--defender');
        change.requireAntivirus = v;
        change.requireAntivirusSignatures = v;
        change.requireRealTimeProtection = v;
      }
      if (opts.minOs !== undefined) change.minOsVersion = versionOrNone(opts.minOs);
      if (opts.maxOs !== undefined) change.maxOsVersion = versionOrNone(opts.maxOs);
      if (opts.bitlocker !== undefined) change.requireEncryption = onOff(opts.bitlocker, '--bitlocker');
      if (opts.firewall !== undefined) change.requireFirewall = onOff(opts.firewall, '--firewall');
      if (opts.antivirus !== undefined) change.requireAntivirus = onOff(opts.antivirus, '--antivirus');
      if (opts.antivirusUpToDate !== undefined) change.requireAntivirusSignatures = onOff(opts.antivirusUpToDate, '--antivirus-up-to-date');
      if (opts.antispyware !== undefined) change.requireAntispyware = onOff(opts.antispyware, '--antispyware');
      if (opts.realTimeProtection !== undefined)
        change.requireRealTimeProtection = onOff(opts.realTimeProtection, '--real-time-protection');
      if (opts.graceHours !== undefined) change.gracePeriodHours = wholeNumber(opts.graceHours, '--grace-hours');
      if (opts.maxDaysWithoutCheckin !== undefined)
        change.maxDaysWithoutCheckIn =
          opts.maxDaysWithoutCheckin.trim().toLowerCase() === 'none'
            ? null
            : wholeNumber(opts.maxDaysWithoutCheckin, '--max-days-without-checkin');
      if (Object.keys(change).length === 0)
        throw new CliError('give at least one rule to change (see winroll compliance rules set --help)');
      const r = await withCompliance(opts, (c) => c.setRules(CLI_CONTEXT, change));
      print(opts.json, r, () => `${describeRules(r.rules)}\n\nre-evaluated ${r.evaluated} device(s); ${r.changed} changed state`);
    },
  );

  addDataOptions(
    compliance.command('show').argument('<device-id>').description("a device's compliance: state, every rule, history, write-back"),
  ).action(async (deviceId: string, opts: DataFlags) => {
    const v = await withCompliance(opts, (c) => c.show(deviceId));
    print(opts.json, complianceJson(v), () => describeDevice(v));
  });

  const writeBack = compliance.command('write-back').description("write compliance to a tenant's Entra ID (Microsoft Graph)");
  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    addDataOptions(
      writeBack
        .command(name)
        .description(enabled ? 'write device compliance to the tenant when it changes' : 'stop writing to the tenant')
        .requiredOption('--tenant <tenant-id>', 'a connected Entra tenant (winroll entra list)'),
    ).action(async (opts: DataFlags & { tenant: string }) => {
      const r = await withCompliance(opts, (c) => c.setWriteBack(CLI_CONTEXT, opts.tenant, enabled));
      print(opts.json, r, () => `compliance write-back ${r.enabled ? 'enabled' : 'disabled'} for tenant ${r.tenantId}`);
    });
  }
  addDataOptions(writeBack.command('list').description('tenants with write-back on')).action(async (opts: DataFlags) => {
    const list = (await withCompliance(opts, (c) => c.listWriteBackTenants())).map((t) => ({
      tenantId: t.tenantId,
      enabledAt: t.enabledAt.toISOString(),
    }));
    print(opts.json, list, () =>
      table(
        ['TENANT', 'ENABLED'],
        list.map((t) => [t.tenantId, t.enabledAt]),
      ),
    );
  });
}
