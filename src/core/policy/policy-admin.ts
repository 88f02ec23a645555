/**
 * What admins change about who may enroll: licenses, the MDM/MAM user scopes, restrictions, device
 * enrollment managers, corporate identifiers, bulk user import, group nesting, and the explanation of a
 * decision. Every refusal names what to fix; changes take effect on the next enrollment (nothing is cached).
 *
 * Every change is audited the way AdminOperations audits (core/admin/audit.ts): each mutating method takes
 * the caller's AuditContext (the API's admin or token, or CLI_CONTEXT) and runs between a pending audit
 * entry and its completion, with the state before and after where it is cheap to read.
 */
import { parse } from 'csv-parse/sync';
import type { Clock } from '../../shared/clock.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../shared/errors.js';
import { type AuditContext, AuditTrail } from '../admin/audit.js';
import { type UserView, userView } from '../admin/operations.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { Storage, User } from '../ports.js';
import type { Decision, EnrollmentMethod } from './decide.js';
import type { EnrollmentPolicy } from './enrollment-policy.js';
import type {
  CorporateIdentifier,
  DeviceLimitRestrictionConfig,
  EffectiveLicense,
  GroupLicenseAssignment,
  LicenseAssignment,
  LicenseUsage,
  PlatformRestrictionConfig,
  Restriction,
  RestrictionType,
  ScopeMode,
  TenantSettings,
} from './ports.js';

export interface ScopeChange {
  mode: ScopeMode;
  /** Group names, for mode 'some'. */
  groups?: string[];
}

export interface RowError {
  row: number;
  error: string;
}

/** Config fields of either restriction type; only the fields of the policy's own type may be given. */
export type RestrictionConfigInput = Partial<PlatformRestrictionConfig> & Partial<DeviceLimitRestrictionConfig>;

/**
 * What `explain` answers (the CLI's `--json` and the API's POST /explain print exactly this): the outcome,
 * the ownership and the rule behind it, the reasons in order, and for refusals the fault a device gets.
 */
export interface Explanation {
  outcome: Decision['outcome'];
  ownership: Decision['ownership'];
  ownershipRule: string;
  reasons: string[];
  errorType: string | null;
  subcode: string | null;
  userMessage: string | null;
  policies: { platform: string; deviceLimit: string };
}

export function toExplanation(d: Decision): Explanation {
  return {
    outcome: d.outcome,
    ownership: d.ownership,
    ownershipRule: d.ownershipRule,
    reasons: [...d.reasons],
    errorType: d.errorType ?? null,
    subcode: d.subcode ?? null,
    userMessage: d.userMessage ?? null,
    policies: { platform: d.policies.platform, deviceLimit: d.policies.deviceLimit },
  };
}

/** The three MDM URLs as devices get them: the admin's, or Winroll's own pages under `webBase` (https://host[:port]). */
export function effectiveMdmUrls(
  urls: TenantSettings['urls'],
  webBase: string,
): { termsOfUse: string; discovery: string; compliance: string } {
  return {
    termsOfUse: urls.termsOfUse ?? `${webBase}/EnrollmentServer/TermsOfUse`,
    discovery: urls.discovery ?? `${webBase}/EnrollmentServer/Discovery.svc`,
    compliance: urls.compliance ?? `${webBase}/compliance`,
  };
}

/** A user scope as admins read it: group names next to the ids. */
export interface ScopeView {
  mode: ScopeMode;
  groups: Array<{ id: string; name: string }>;
}

/** Everything about automatic enrollment and licenses in one read (GET /settings/enrollment). */
export interface EnrollmentSettingsView {
  mdmScope: ScopeView;
  mamScope: ScopeView;
  warnings: string[];
  /** Effective: what devices get. */
  urls: { termsOfUse: string; discovery: string; compliance: string };
  /** What the admin set; null = Winroll's default. */
  customUrls: TenantSettings['urls'];
  allowUnlicensedAdmins: boolean;
  licenses: { assigned: number; seats: number | null; available: number | null };
}

/** A restriction as the audit log records it: group names instead of ids. */
export interface RestrictionView {
  type: RestrictionType;
  name: string;
  priority: number | null;
  isDefault: boolean;
  config: PlatformRestrictionConfig | DeviceLimitRestrictionConfig;
  groups: string[];
}

/** Audit entries list at most this many imported UPNs (the count is always exact). */
const AUDIT_LIST_MAX = 1000;

export class PolicyAdmin {
  readonly #s: Storage;
  readonly #clock: Clock;
  readonly #directory: DirectoryService;
  readonly #policy: EnrollmentPolicy;
  readonly #audit: AuditTrail;

  constructor(deps: { storage: Storage; clock: Clock; directory: DirectoryService; policy: EnrollmentPolicy }) {
    this.#s = deps.storage;
    this.#clock = deps.clock;
    this.#directory = deps.directory;
    this.#policy = deps.policy;
    this.#audit = new AuditTrail({ store: deps.storage, clock: deps.clock });
  }

  get audit(): AuditTrail {
    return this.#audit;
  }

  async #user(upn: string): Promise<User> {
    const u = await this.#directory.findUser(upn);
    if (!u) throw new NotFoundError(`no user ${upn}`);
    return u;
  }

  async #group(name: string): Promise<{ id: string; name: string }> {
    const g = await this.#s.getGroupByName(name);
    if (!g) throw new NotFoundError(`no group named "${name}"`);
    return g;
  }

  async #groupId(name: string): Promise<string> {
    return (await this.#group(name)).id;
  }

  async #groupNames(): Promise<Map<string, string>> {
    return new Map((await this.#s.listGroups()).map((g) => [g.id, g.name]));
  }

  // -- users and groups --------------------------------------------------------------------------------

  async setUserEnabled(ctx: AuditContext, upn: string, enabled: boolean): Promise<UserView> {
    const before = await this.#user(upn);
    const after = await this.#audit.record(
      ctx,
      { action: enabled ? 'user.enable' : 'user.disable', targetType: 'user', targetId: before.upn, before: userView(before) },
      () => this.#s.setUserEnabled(before.id, enabled, this.#clock.now()),
      userView,
    );
    return userView(after);
  }

  /**
   * Adds a user (a UPN, with @), or a group (nested; membership is evaluated transitively), to a group.
   * Nesting refuses cycles and depths over MAX_GROUP_NESTING_DEPTH.
   */
  async addGroupMember(ctx: AuditContext, group: string, member: string): Promise<'user' | 'group'> {
    const parent = await this.#group(group);
    if (member.includes('@')) {
      const user = await this.#user(member);
      const members = await this.#s.listGroupMembers(parent.id);
      await this.#audit.record(
        ctx,
        { action: 'group.add_member', targetType: 'group', targetId: parent.name, before: { memberCount: members.length } },
        () => this.#s.addGroupMember(parent.id, user.id),
        () => ({ added: user.upn }),
      );
      return 'user';
    }
    const child = await this.#group(member);
    const children = await this.#s.listChildGroups(parent.id);
    await this.#audit.record(
      ctx,
      { action: 'group.add_group', targetType: 'group', targetId: parent.name, before: { childGroups: children.map((g) => g.name) } },
      () => this.#s.addGroupToGroup(parent.id, child.id),
      () => ({ added: child.name }),
    );
    return 'group';
  }

  /** Takes a user out of a group (direct membership only; nested groups are untouched). Idempotent. */
  async removeUserFromGroup(ctx: AuditContext, group: string, upn: string): Promise<void> {
    const parent = await this.#group(group);
    const user = await this.#user(upn);
    const members = await this.#s.listGroupMembers(parent.id);
    await this.#audit.record(
      ctx,
      { action: 'group.remove_member', targetType: 'group', targetId: parent.name, before: { memberCount: members.length } },
      () => this.#s.removeGroupMember(parent.id, user.id),
      () => ({ removed: user.upn }),
    );
  }

  /** Takes a nested group out of a group. Idempotent. */
  async removeGroupFromGroup(ctx: AuditContext, group: string, member: string): Promise<void> {
    const parent = await this.#group(group);
    const child = await this.#group(member);
    const children = await this.#s.listChildGroups(parent.id);
    await this.#audit.record(
      ctx,
      { action: 'group.remove_group', targetType: 'group', targetId: parent.name, before: { childGroups: children.map((g) => g.name) } },
      () => this.#s.removeGroupFromGroup(parent.id, child.id),
      () => ({ removed: child.name }),
    );
  }

  /**
   * CSV import: `upn,password,displayName,groups,license` (header required; groups separated by `;`,
   * license yes/no). Each row stands alone: a bad row is reported and the rest go on. One audit entry for
   * the import (the UPNs added and the refused rows; never a password).
   */
  async importUsers(
    ctx: AuditContext,
    csv: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ added: number; errors: RowError[] }> {
    const r = await this.#audit.record(
      ctx,
      { action: 'user.import', targetType: 'user', targetId: null },
      () => this.#importUsers(csv, onProgress),
      (x) => ({
        added: x.added,
        upns: x.upns.slice(0, AUDIT_LIST_MAX),
        ...(x.upns.length > AUDIT_LIST_MAX ? { upnsNotListed: x.upns.length - AUDIT_LIST_MAX } : {}),
        errors: x.errors.slice(0, AUDIT_LIST_MAX),
      }),
    );
    return { added: r.added, errors: r.errors };
  }

  async #importUsers(
    csv: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ added: number; upns: string[]; errors: RowError[] }> {
    const rows = parseCsv(csv);
    const header = (rows.shift() ?? []).map((h) => h.trim().toLowerCase());
    const col = (name: string) => header.indexOf(name);
    if (col('upn') < 0 || col('password') < 0) throw new InvalidInputError('the CSV needs a header with at least upn and password columns');
    const errors: RowError[] = [];
    const upns: string[] = [];
    for (const [i, r] of rows.entries()) {
      const rowNo = i + 2;
      try {
        const get = (name: string) => (col(name) >= 0 ? (r[col(name)] ?? '').trim() : '');
        const user = await this.#directory.addUser({ upn: get('upn'), password: get('password'), displayName: get('displayname') || null });
        upns.push(user.upn);
        for (const g of get('groups')
          .split(';')
          .map((x) => x.trim())
          .filter(Boolean))
          await this.#s.addGroupMember(await this.#groupId(g), user.id);
        if (/^(yes|true|1)$/i.test(get('license'))) await this.#s.assignLicense(user.id, this.#clock.now());
      } catch (err) {
        errors.push({ row: rowNo, error: err instanceof Error ? err.message : String(err) });
      }
      onProgress?.(i + 1, rows.length);
    }
    return { added: upns.length, upns, errors };
  }

  // -- licenses ------------------------------------------------------------------------------------------

  /** Returns whether the license is new (false: the user already held one). */
  async assignLicense(ctx: AuditContext, upn: string): Promise<boolean> {
    const user = await this.#user(upn);
    const licensed = await this.#s.hasLicense(user.id);
    return this.#audit.record(
      ctx,
      { action: 'license.assign', targetType: 'license', targetId: user.upn, before: { licensed } },
      () => this.#s.assignLicense(user.id, this.#clock.now()),
      (changed) => ({ licensed: true, changed }),
    );
  }

  /** Returns whether a license was removed. */
  async removeLicense(ctx: AuditContext, upn: string): Promise<boolean> {
    const user = await this.#user(upn);
    const licensed = await this.#s.hasLicense(user.id);
    return this.#audit.record(
      ctx,
      { action: 'license.remove', targetType: 'license', targetId: user.upn, before: { licensed } },
      () => this.#s.removeLicense(user.id),
      (changed) => ({ licensed: false, changed }),
    );
  }

  /**
   * Licenses a group: its enabled members, and those of groups nested in it, hold a license from now on
   * (membership read at each check, so directory sync counts at once). Never refused for seats: members
   * beyond the seats get no license, and `explain` / `licenseOf` say so. Returns whether it is new.
   */
  async assignGroupLicense(
    ctx: AuditContext,
    group: string,
  ): Promise<{ changed: boolean; group: GroupLicenseAssignment; usage: LicenseUsage }> {
    const g = await this.#group(group);
    const before = await this.#s.licenseUsage();
    const { changed } = await this.#audit.record(
      ctx,
      { action: 'license.assign_group', targetType: 'license', targetId: `group:${g.name}`, before: { usage: before } },
      async () => {
        const changed = await this.#s.assignGroupLicense(g.id, this.#clock.now());
        return { changed, usage: await this.#s.licenseUsage() };
      },
      (r) => ({ licensed: true, changed: r.changed, usage: r.usage }),
    );
    return { changed, ...(await this.#groupLicenseState(g)) };
  }

  /** Takes the license off a group: members licensed only through it lose it at their next check. */
  async removeGroupLicense(ctx: AuditContext, group: string): Promise<{ changed: boolean; usage: LicenseUsage }> {
    const g = await this.#group(group);
    const before = await this.#s.licenseUsage();
    const { changed } = await this.#audit.record(
      ctx,
      { action: 'license.remove_group', targetType: 'license', targetId: `group:${g.name}`, before: { usage: before } },
      async () => {
        const changed = await this.#s.removeGroupLicense(g.id);
        return { changed, usage: await this.#s.licenseUsage() };
      },
      (r) => ({ licensed: false, changed: r.changed, usage: r.usage }),
    );
    return { changed, usage: await this.#s.licenseUsage() };
  }

  async #groupLicenseState(g: { id: string; name: string }): Promise<{ group: GroupLicenseAssignment; usage: LicenseUsage }> {
    const [list, usage] = await Promise.all([this.#s.listGroupLicenses(), this.#s.licenseUsage()]);
    const group = list.find((x) => x.groupId === g.id);
    if (!group) throw new NotFoundError(`group "${g.name}" holds no license`);
    return { group, usage };
  }

  /** Seats, direct and group assignments (what `licenses list` and GET /licenses show). */
  async licenseOverview(): Promise<{ usage: LicenseUsage; users: LicenseAssignment[]; groups: GroupLicenseAssignment[] }> {
    const [usage, users, groups] = await Promise.all([this.#s.licenseUsage(), this.#s.listLicenses(), this.#s.listGroupLicenses()]);
    return { usage, users, groups };
  }

  /** One user's effective license and where it comes from (`licenses show`, GET /licenses/{upn}). */
  async licenseOf(upn: string): Promise<{ upn: string; license: EffectiveLicense; reason: string }> {
    const user = await this.#user(upn);
    const license = await this.#s.licenseOf(user.id);
    return { upn: user.upn, license, reason: describeLicense(user, license) };
  }

  async setLicenseSeats(ctx: AuditContext, seats: number | null): Promise<TenantSettings> {
    return this.#changeSettings(
      ctx,
      'license.set_seats',
      'licenseSeats',
      (s) => ({ licenseSeats: s.licenseSeats }),
      async () => {
        if (seats !== null && (!Number.isInteger(seats) || seats < 0))
          throw new InvalidInputError('seats must be a whole number, or unlimited');
        return this.#save({ licenseSeats: seats });
      },
    );
  }

  // -- settings ------------------------------------------------------------------------------------------

  settings(): Promise<TenantSettings> {
    return this.#s.getTenantSettings();
  }

  /** Scopes (with group names and warnings), URLs (effective and custom), unlicensed admins and seats. */
  async enrollmentSettings(webBase: string): Promise<EnrollmentSettingsView> {
    const [settings, names, counts] = await Promise.all([this.#s.getTenantSettings(), this.#groupNames(), this.#s.licenseCounts()]);
    const scope = (sc: TenantSettings['mdmScope']): ScopeView => ({
      mode: sc.mode,
      groups: sc.groupIds.map((id) => ({ id, name: names.get(id) ?? id })),
    });
    return {
      mdmScope: scope(settings.mdmScope),
      mamScope: scope(settings.mamScope),
      warnings: await this.scopeWarnings(settings),
      urls: effectiveMdmUrls(settings.urls, webBase),
      customUrls: { ...settings.urls },
      allowUnlicensedAdmins: settings.allowUnlicensedAdmins,
      licenses: counts,
    };
  }

  async #save(patch: Partial<TenantSettings>): Promise<TenantSettings> {
    return this.#s.saveTenantSettings({ ...(await this.#s.getTenantSettings()), ...patch }, this.#clock.now());
  }

  /** One audited settings change: `view` picks what the entry records before and after. */
  async #changeSettings<T extends TenantSettings | { settings: TenantSettings }>(
    ctx: AuditContext,
    action: string,
    key: string,
    view: (s: TenantSettings, names: Map<string, string>) => unknown,
    change: () => Promise<T>,
    extra: (result: T) => Record<string, unknown> = () => ({}),
  ): Promise<T> {
    const names = await this.#groupNames();
    const before = view(await this.#s.getTenantSettings(), names);
    return this.#audit.record(ctx, { action, targetType: 'settings', targetId: key, before }, change, (r) => ({
      ...(view('settings' in r ? r.settings : r, names) as Record<string, unknown>),
      ...extra(r),
    }));
  }

  /**
   * Sets the MDM and/or MAM user scope. Groups must contain user objects (S9). Returns warnings, e.g.
   * users in both scopes (who get MAM, not MDM, on personal devices).
   */
  async setScopes(
    ctx: AuditContext,
    change: { mdm?: ScopeChange; mam?: ScopeChange },
  ): Promise<{ settings: TenantSettings; warnings: string[] }> {
    const view = (s: TenantSettings, names: Map<string, string>) => {
      const one = (sc: TenantSettings['mdmScope']) => ({ mode: sc.mode, groups: sc.groupIds.map((id) => names.get(id) ?? id) });
      return { mdmScope: one(s.mdmScope), mamScope: one(s.mamScope) };
    };
    return this.#changeSettings(
      ctx,
      'settings.set_scopes',
      'scopes',
      view,
      async () => {
        const current = await this.#s.getTenantSettings();
        const resolve = async (c: ScopeChange | undefined, now: TenantSettings['mdmScope'], label: string) => {
          if (!c) return now;
          const groupIds: string[] = [];
          for (const name of c.groups ?? []) {
            const id = await this.#groupId(name);
            if (!(await this.#s.groupHasUsers(id))) {
              throw new InvalidInputError(
                `group "${name}" contains no users; the ${label} user scope must be a group of users (devices do not count)`,
              );
            }
            groupIds.push(id);
          }
          if (c.mode === 'some' && groupIds.length === 0) throw new InvalidInputError(`${label} scope "some" needs at least one group`);
          return { mode: c.mode, groupIds: c.mode === 'some' ? groupIds : [] };
        };
        const mdmScope = await resolve(change.mdm, current.mdmScope, 'MDM');
        const mamScope = await resolve(change.mam, current.mamScope, 'MAM');
        const settings = await this.#save({ mdmScope, mamScope });
        return { settings, warnings: await this.scopeWarnings(settings) };
      },
      (r) => ({ warnings: r.warnings }),
    );
  }

  /** Who is in both scopes: on personal devices they get app protection, not MDM. */
  async scopeWarnings(settings: TenantSettings): Promise<string[]> {
    const { mdmScope: mdm, mamScope: mam } = settings;
    if (mdm.mode === 'none' || mam.mode === 'none') return [];
    if (mdm.mode === 'all' && mam.mode === 'all')
      return ['every user is in both scopes: personal devices get app protection (MAM), not MDM, on automatic enrollment'];
    const members = async (scope: TenantSettings['mdmScope']) => {
      if (scope.mode === 'all') return undefined;
      const all = new Set<string>();
      for (const g of scope.groupIds) for (const u of await this.#s.usersInGroup(g)) all.add(u);
      return all;
    };
    const [a, b] = await Promise.all([members(mdm), members(mam)]);
    const both = a && b ? [...a].filter((u) => b.has(u)) : [...(a ?? b ?? new Set<string>())];
    if (both.length === 0) return [];
    return [
      `${both.length} user${both.length === 1 ? ' is' : 's are'} in both the MDM and the MAM scope: their personal devices get app protection (MAM), not MDM, on automatic enrollment`,
    ];
  }

  /**
   * Whether admins without a license may sign in to the console and the API. Turning it off when no enabled
   * administrator holds a license would lock every administrator out: refused (ConflictError) unless
   * `allowLockout` (the CLI, which runs with the data folder's rights and can undo it).
   */
  async setAllowUnlicensedAdmins(ctx: AuditContext, allow: boolean, opts: { allowLockout?: boolean } = {}): Promise<TenantSettings> {
    return this.#changeSettings(
      ctx,
      'settings.set_unlicensed_admins',
      'allowUnlicensedAdmins',
      (s) => ({ allowUnlicensedAdmins: s.allowUnlicensedAdmins }),
      async () => {
        if (!allow && !opts.allowLockout) {
          const admins = (await this.#s.listAdmins()).filter((a) => a.enabled && a.role === 'administrator');
          const licensed = await Promise.all(admins.map((a) => this.#s.hasLicense(a.userId)));
          if (!licensed.includes(true)) {
            throw new ConflictError(
              'no enabled administrator holds a Winroll license: refusing unlicensed admins would lock every administrator out; assign one a license first',
            );
          }
        }
        return this.#save({ allowUnlicensedAdmins: allow });
      },
    );
  }

  /** Sets some of the three MDM URLs; null puts one back to Winroll's own page. */
  async setUrls(ctx: AuditContext, urls: Partial<TenantSettings['urls']>): Promise<TenantSettings> {
    return this.#changeSettings(
      ctx,
      'settings.set_urls',
      'urls',
      (s) => ({ urls: s.urls }),
      async () => this.#save({ urls: { ...(await this.#s.getTenantSettings()).urls, ...urls } }),
    );
  }

  /** Back to Winroll's own terms-of-use, discovery and compliance pages. */
  async restoreDefaultUrls(ctx: AuditContext): Promise<TenantSettings> {
    return this.#changeSettings(
      ctx,
      'settings.restore_default_urls',
      'urls',
      (s) => ({ urls: s.urls }),
      () => this.#save({ urls: { termsOfUse: null, discovery: null, compliance: null } }),
    );
  }

  // -- restrictions --------------------------------------------------------------------------------------

  listRestrictions(type?: RestrictionType): Promise<Restriction[]> {
    return this.#s.listRestrictions(type);
  }

  async getRestriction(type: RestrictionType, name: string): Promise<Restriction> {
    return this.#restriction(type, name);
  }

  async #restrictionView(r: Restriction, names?: Map<string, string>): Promise<RestrictionView> {
    const n = names ?? (await this.#groupNames());
    return {
      type: r.type,
      name: r.name,
      priority: r.priority,
      isDefault: r.isDefault,
      config: r.config,
      groups: r.groupIds.map((id) => n.get(id) ?? id),
    };
  }

  async createRestriction(ctx: AuditContext, type: RestrictionType, name: string, config: RestrictionConfigInput): Promise<Restriction> {
    const r = await this.#audit.record(
      ctx,
      { action: 'restriction.add', targetType: 'restriction', targetId: `${type}/${name.trim()}` },
      async () => {
        const clean = restrictionConfig(type, config);
        await this.#refuseTakenName(type, name);
        return type === 'platform'
          ? this.#s.createRestriction({ type: 'platform', name, config: clean as PlatformRestrictionConfig }, this.#clock.now())
          : this.#s.createRestriction({ type: 'deviceLimit', name, config: clean as DeviceLimitRestrictionConfig }, this.#clock.now());
      },
      (x) => ({ type: x.type, name: x.name, priority: x.priority, config: x.config, groups: [] }),
    );
    return r;
  }

  /** Reconfigures a restriction (the default's too) and, with `rename`, renames it. */
  async updateRestriction(
    ctx: AuditContext,
    type: RestrictionType,
    name: string,
    config: RestrictionConfigInput,
    rename?: string,
  ): Promise<Restriction> {
    const r = await this.#restriction(type, name);
    const names = await this.#groupNames();
    return this.#audit.record(
      ctx,
      {
        action: 'restriction.update',
        targetType: 'restriction',
        targetId: `${type}/${r.name}`,
        before: await this.#restrictionView(r, names),
      },
      async () => {
        if (rename !== undefined && rename.trim().toLowerCase() !== r.name.toLowerCase()) await this.#refuseTakenName(type, rename);
        return this.#s.updateRestriction(
          r.id,
          {
            config: restrictionConfig(type, { ...r.config, ...config }),
            ...(rename !== undefined && rename.trim() !== r.name ? { name: rename } : {}),
          },
          this.#clock.now(),
        );
      },
      (x) => ({
        type: x.type,
        name: x.name,
        priority: x.priority,
        isDefault: x.isDefault,
        config: x.config,
        groups: x.groupIds.map((id) => names.get(id) ?? id),
      }),
    );
  }

  async setRestrictionPriority(ctx: AuditContext, type: RestrictionType, name: string, priority: number): Promise<Restriction> {
    const r = await this.#restriction(type, name);
    await this.#audit.record(
      ctx,
      { action: 'restriction.set_priority', targetType: 'restriction', targetId: `${type}/${r.name}`, before: { priority: r.priority } },
      () => this.#s.setRestrictionPriority(r.id, priority, this.#clock.now()),
      () => ({ priority }),
    );
    return this.#restriction(type, r.name);
  }

  async assignRestriction(ctx: AuditContext, type: RestrictionType, name: string, group: string): Promise<Restriction> {
    return this.#assignment(ctx, 'assign', type, name, group);
  }

  async unassignRestriction(ctx: AuditContext, type: RestrictionType, name: string, group: string): Promise<Restriction> {
    return this.#assignment(ctx, 'unassign', type, name, group);
  }

  async #assignment(
    ctx: AuditContext,
    verb: 'assign' | 'unassign',
    type: RestrictionType,
    name: string,
    group: string,
  ): Promise<Restriction> {
    const r = await this.#restriction(type, name);
    const g = await this.#group(group);
    const names = await this.#groupNames();
    await this.#audit.record(
      ctx,
      {
        action: `restriction.${verb}`,
        targetType: 'restriction',
        targetId: `${type}/${r.name}`,
        before: { groups: r.groupIds.map((id) => names.get(id) ?? id) },
      },
      () => (verb === 'assign' ? this.#s.assignRestriction(r.id, g.id, this.#clock.now()) : this.#s.unassignRestriction(r.id, g.id)),
      () => ({ [verb === 'assign' ? 'assigned' : 'unassigned']: g.name }),
    );
    return this.#restriction(type, r.name);
  }

  async deleteRestriction(ctx: AuditContext, type: RestrictionType, name: string): Promise<void> {
    const r = await this.#restriction(type, name);
    await this.#audit.record(
      ctx,
      { action: 'restriction.delete', targetType: 'restriction', targetId: `${type}/${r.name}`, before: await this.#restrictionView(r) },
      () => this.#s.deleteRestriction(r.id),
      () => null,
    );
  }

  /** Names are looked up ignoring case, so two policies of a type may not differ by case only. */
  async #refuseTakenName(type: RestrictionType, name: string): Promise<void> {
    const taken = (await this.#s.listRestrictions(type)).find((x) => x.name.toLowerCase() === name.trim().toLowerCase());
    if (taken)
      throw new ConflictError(`a ${type === 'platform' ? 'platform' : 'device limit'} restriction named "${taken.name}" exists already`);
  }

  async #restriction(type: RestrictionType, name: string): Promise<Restriction> {
    const r = (await this.#s.listRestrictions(type)).find((x) => x.name.toLowerCase() === name.trim().toLowerCase());
    if (!r) throw new NotFoundError(`no ${type === 'platform' ? 'platform' : 'device limit'} restriction named "${name}"`);
    return r;
  }

  // -- device enrollment managers and corporate identifiers ------------------------------------------------

  async addDem(ctx: AuditContext, upn: string): Promise<void> {
    const user = await this.#user(upn);
    const dem = await this.#s.isDem(user.id);
    await this.#audit.record(
      ctx,
      { action: 'dem.add', targetType: 'dem', targetId: user.upn, before: { dem } },
      () => this.#s.addDem(user.id, this.#clock.now()),
      () => ({ dem: true }),
    );
  }

  /** Returns whether the user was a device enrollment manager. */
  async removeDem(ctx: AuditContext, upn: string): Promise<boolean> {
    const user = await this.#user(upn);
    const dem = await this.#s.isDem(user.id);
    return this.#audit.record(
      ctx,
      { action: 'dem.remove', targetType: 'dem', targetId: user.upn, before: { dem } },
      () => this.#s.removeDem(user.id),
      () => ({ dem: false }),
    );
  }

  /**
   * Corporate identifiers from `manufacturer,model,serial` lines, no header (the Intune format), or from
   * rows; adds them, or replaces the list. Bad lines are reported and skipped; a replace with no valid
   * line is refused (it would empty the list).
   */
  async importCorporateIdentifiers(
    ctx: AuditContext,
    input: string | CorporateIdentifier[],
    mode: 'add' | 'replace',
  ): Promise<{ imported: number; errors: RowError[] }> {
    const before = await this.#s.countCorporateIdentifiers();
    const r = await this.#audit.record(
      ctx,
      { action: 'corporate_identifiers.import', targetType: 'corporate_identifiers', targetId: null, before: { count: before } },
      async () => {
        const { rows, errors } = typeof input === 'string' ? identifierRowsFromCsv(input) : identifierRows(input);
        if (rows.length > 5000) throw new InvalidInputError('at most 5,000 identifiers per file');
        if (mode === 'replace' && rows.length === 0)
          throw new InvalidInputError('no valid identifier to replace the list with; nothing changed');
        const now = this.#clock.now();
        const imported =
          mode === 'replace' ? await this.#s.replaceCorporateIdentifiers(rows, now) : await this.#s.addCorporateIdentifiers(rows, now);
        return { imported, errors, count: await this.#s.countCorporateIdentifiers() };
      },
      (x) => ({ mode, imported: x.imported, count: x.count, errors: x.errors.slice(0, AUDIT_LIST_MAX) }),
    );
    return { imported: r.imported, errors: r.errors };
  }

  // -- explain ---------------------------------------------------------------------------------------------

  /** The decision an enrollment would get now, with its reasons (`winroll explain`, POST /explain). */
  async explain(
    upn: string,
    opts: { ownership: 'personal' | 'corporate'; osVersion?: string | undefined; method?: 'user' | 'automatic' | 'bulk' | undefined },
  ): Promise<Explanation> {
    const user = await this.#user(upn);
    const method: EnrollmentMethod = opts.method ?? 'user';
    if (method === 'user' && opts.ownership === 'corporate') {
      throw new InvalidInputError('a user-started enrollment is personal; use --method bulk (or automatic) for a corporate device');
    }
    const enrollmentType = method === 'bulk' || (method === 'automatic' && opts.ownership === 'corporate') ? 'Device' : 'Full';
    const { input: _input, ...decision } = await this.#policy.decide({
      user,
      method,
      enrollmentType,
      osVersion: opts.osVersion ?? null,
      deviceId: null,
    });
    return toExplanation(decision);
  }
}

/** One sentence an admin reads: where a user's license comes from, or why there is none. */
export function describeLicense(user: Pick<User, 'upn' | 'enabled'>, l: EffectiveLicense): string {
  const route = l.groupPath.map((g) => g.name);
  const through = route.length > 1 ? `${route.join(' ← ')} (license assigned to ${route.at(-1)})` : (route[0] ?? '');
  if (l.direct) return `${user.upn} is licensed (assigned directly)${route.length > 0 ? `; also through group ${through}` : ''}`;
  if (l.licensed) return `${user.upn} is licensed through group ${through}`;
  if (l.beyondSeats)
    return `${user.upn} holds no license: group ${through} is licensed, but all ${l.seats} license seats are in use by users ahead of them`;
  if (!user.enabled) return `${user.upn} holds no license: disabled users get none through groups`;
  return `${user.upn} holds no license: none is assigned to them or to a group they are in`;
}

function identifierRowsFromCsv(csv: string): { rows: CorporateIdentifier[]; errors: RowError[] } {
  const rows: CorporateIdentifier[] = [];
  const errors: RowError[] = [];
  for (const [i, r] of parseCsv(csv).entries()) {
    if (r.length === 1 && r[0]?.trim() === '') continue;
    const [manufacturer = '', model = '', serial = ''] = r.map((x) => x.trim());
    if (r.length !== 3 || !manufacturer || !model || !serial) errors.push({ row: i + 1, error: 'expected manufacturer,model,serial' });
    else rows.push({ manufacturer, model, serial });
  }
  return { rows, errors };
}

function identifierRows(input: CorporateIdentifier[]): { rows: CorporateIdentifier[]; errors: RowError[] } {
  const rows: CorporateIdentifier[] = [];
  const errors: RowError[] = [];
  for (const [i, r] of input.entries()) {
    const manufacturer = r.manufacturer.trim();
    const model = r.model.trim();
    const serial = r.serial.trim();
    if (!manufacturer || !model || !serial) errors.push({ row: i + 1, error: 'manufacturer, model and serial must all be set' });
    else rows.push({ manufacturer, model, serial });
  }
  return { rows, errors };
}

const PLATFORM_FIELDS = ['windowsMdm', 'minOsVersion', 'maxOsVersion', 'blockPersonal'] as const;

function restrictionConfig(type: RestrictionType, c: RestrictionConfigInput): PlatformRestrictionConfig | DeviceLimitRestrictionConfig {
  if (type === 'deviceLimit') {
    const wrong = PLATFORM_FIELDS.filter((f) => c[f] !== undefined);
    if (wrong.length > 0) throw new InvalidInputError(`a device limit restriction has only a limit, not ${wrong.join(', ')}`);
    const limit = c.limit ?? 5;
    if (!Number.isInteger(limit) || limit < 1 || limit > 15) throw new InvalidInputError('the device limit must be 1 to 15');
    return { limit };
  }
  const version = (v: string | null | undefined) => {
    if (v === undefined || v === null || v === '') return null;
    if (!/^\d+(\.\d+){0,3}$/.test(v)) throw new InvalidInputError(`"${v}" is not a Windows version like 10.0.22631.0`);
    return v;
  };
  if (c.limit !== undefined) throw new InvalidInputError('a platform restriction has no device limit; use a device limit restriction');
  return {
    windowsMdm: c.windowsMdm ?? 'allow',
    minOsVersion: version(c.minOsVersion),
    maxOsVersion: version(c.maxOsVersion),
    blockPersonal: c.blockPersonal ?? false,
  };
}

/** CSV rows as strings (csv-parse): quoted fields, CRLF or LF, a leading BOM, ragged rows allowed. */
export function parseCsv(text: string): string[][] {
  return parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: false }) as string[][];
}
