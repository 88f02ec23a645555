/**
 * The second factor for enrollment: `users mfa enroll|confirm|reset` (per-user TOTP) and `mfa
 * require|status` (who must give a code on the federated sign-in page). Off by default; recommended.
 */
import type { Command } from 'commander';
import { renderUnicodeCompact } from 'uqr';
import { dataPaths, loadOrCreateSecret } from '../app/data-dir.js';
import { openConfiguredStorage } from '../app/storage.js';
import { loadConfig } from '../config/config.js';
import { MfaService, mfaStatusByUser } from '../core/mfa/mfa-service.js';
import type { MfaRequired } from '../core/mfa/ports.js';
import type { Storage } from '../core/ports.js';
import { systemClock } from '../shared/clock.js';
import { CliError, addDataOptions, print } from './main.js';

interface DataFlags {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  json?: boolean | undefined;
}

async function withMfa<T>(
  flags: DataFlags & { issuer?: string | undefined },
  fn: (mfa: MfaService, storage: Storage) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  // The same key file the server uses: the CLI must run on the server's data folder.
  const masterKey = await loadOrCreateSecret(dataPaths(config.dataDir).mfaKey);
  const storage = await openConfiguredStorage(config);
  try {
    return await fn(
      new MfaService({ store: storage, masterKey, clock: systemClock, issuer: flags.issuer ?? config.organizationName }),
      storage,
    );
  } finally {
    await storage.close();
  }
}

function parseRequired(v: string): MfaRequired {
  const r = v.toLowerCase();
  if (r === 'off' || r === 'all' || r === 'groups') return r;
  throw new CliError(`mfa require takes off, all or groups, not "${v}"`);
}

const RECOMMENDATION =
  'Recommended: require a second factor for enrollment (winroll mfa require all), at least for admins and device enrollment managers.';

export function registerMfaCommands(program: Command): void {
  const users = program.commands.find((c) => c.name() === 'users');
  if (!users) throw new Error('register the users command before the MFA commands');
  const userMfa = users.command('mfa').description('per-user second factor (TOTP authenticator app) for enrollment');

  addDataOptions(
    userMfa
      .command('enroll')
      .description('create a pending TOTP secret; prints it once as a QR code and an otpauth:// URI')
      .argument('<upn>')
      .option('--issuer <name>', 'name the authenticator app shows (default: the organisation name)'),
  ).action(async (upn: string, opts: DataFlags & { issuer?: string }) => {
    const e = await withMfa(opts, (mfa) => mfa.enroll(upn));
    print(opts.json, { upn: e.upn, status: 'pending', secret: e.secret, uri: e.uri }, () =>
      [
        `Second factor created for ${e.upn} (pending until confirmed).`,
        'Scan this QR code with an authenticator app (Microsoft Authenticator, Google Authenticator, 1Password, ...):',
        '',
        renderUnicodeCompact(e.uri, { ecc: 'M' }),
        '',
        `Or type this key into the app: ${e.secret.replace(/(.{4})(?=.)/g, '$1 ')}`,
        `URI: ${e.uri}`,
        '',
        'This is the only time the secret is shown: Winroll keeps it encrypted and cannot display it again.',
        `Activate it with a code from the app: winroll users mfa confirm ${e.upn} <code>`,
      ].join('\n'),
    );
  });

  addDataOptions(
    userMfa
      .command('confirm')
      .description('activate a pending second factor with one code from the app')
      .argument('<upn>')
      .argument('<code>', 'the 6-digit code'),
  ).action(async (upn: string, code: string, opts: DataFlags) => {
    const who = await withMfa(opts, (mfa) => mfa.confirm(upn, code));
    print(opts.json, { upn: who, status: 'active' }, () => `second factor for ${who} is active`);
  });

  addDataOptions(
    userMfa.command('reset').description("remove a user's second factor (lost phone); enroll again afterwards").argument('<upn>'),
  ).action(async (upn: string, opts: DataFlags) => {
    const r = await withMfa(opts, (mfa) => mfa.reset(upn));
    print(opts.json, r, () => (r.removed ? `removed the second factor of ${r.upn}` : `${r.upn} had no second factor`));
  });

  const mfa = program.command('mfa').description('require a second factor on the federated sign-in page (off by default; recommended)');
  addDataOptions(
    mfa
      .command('require')
      .description('who must give a second factor to enroll: off, all users, or members of groups')
      .argument('<who>', 'off | all | groups')
      .option('--group <name...>', 'with "groups": the groups whose members must use a second factor'),
  ).action(async (who: string, opts: DataFlags & { group?: string[] }) => {
    const required = parseRequired(who);
    const view = await withMfa(opts, (m) => m.setRequirement(required, opts.group ?? []));
    print(opts.json, view, () => `${describeRequirement(view)}${required === 'off' ? `\n${RECOMMENDATION}` : ''}`);
  });

  addDataOptions(mfa.command('status').description('the requirement, and who cannot enroll because of it')).action(
    async (opts: DataFlags) => {
      const report = await withMfa(opts, async (m, storage) => {
        const requirement = await m.requirement();
        const statuses = await mfaStatusByUser(storage);
        const onPremise = new Set((await storage.listDomains()).filter((d) => d.authPolicy === 'OnPremise').map((d) => d.name));
        const missing: string[] = [];
        const passwordOnly: string[] = [];
        let required = 0;
        if (requirement.required !== 'off') {
          for (const u of await storage.listUsers()) {
            if (!u.enabled || !(await m.isRequiredFor(u))) continue;
            required++;
            if (statuses.get(u.id) !== 'active') missing.push(u.upn);
            if (onPremise.has(u.upn.slice(u.upn.lastIndexOf('@') + 1))) passwordOnly.push(u.upn);
          }
        }
        const counts = { active: 0, pending: 0 };
        for (const s of statuses.values()) counts[s]++;
        return {
          ...requirement,
          factors: counts,
          usersRequired: required,
          usersWithoutFactor: missing,
          usersInPasswordDomains: passwordOnly,
        };
      });
      print(opts.json, report, () => {
        const lines = [describeRequirement(report), `factors: ${report.factors.active} active, ${report.factors.pending} pending`];
        if (report.required === 'off') lines.push(RECOMMENDATION);
        else lines.push(`users who must give a second factor: ${report.usersRequired}`);
        if (report.usersWithoutFactor.length > 0) {
          lines.push(`cannot enroll until a factor is enrolled (winroll users mfa enroll <upn>): ${report.usersWithoutFactor.join(', ')}`);
        }
        if (report.usersInPasswordDomains.length > 0) {
          lines.push(
            `cannot enroll while their domain uses password sign-in (Windows cannot ask for a code; winroll domains set <domain> --auth-policy federated): ${report.usersInPasswordDomains.join(', ')}`,
          );
        }
        return lines.join('\n');
      });
    },
  );
}

function describeRequirement(v: { required: MfaRequired; groups: Array<{ id: string; name: string | null }> }): string {
  if (v.required === 'off') return 'second factor for enrollment: off';
  if (v.required === 'all') return 'second factor for enrollment: required for all users';
  return `second factor for enrollment: required for members of ${v.groups.map((g) => g.name ?? `(deleted group ${g.id})`).join(', ')}`;
}
