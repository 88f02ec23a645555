/**
 * What admins change about who may enroll: licenses, the MDM/MAM user scopes, restrictions, device
 * enrollment managers, corporate identifiers, bulk user import, and the explanation of a decision. Every
 * refusal names what to fix; changes take effect on the next enrollment (nothing is cached).
 */
import { parse } from 'csv-parse/sync';
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError, NotFoundError } from '../../shared/errors.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { Storage, User } from '../ports.js';
import type { Decision, EnrollmentMethod } from './decide.js';
import type { EnrollmentPolicy } from './enrollment-policy.js';
import type { CorporateIdentifier, DeviceLimitRestrictionConfig, PlatformRestrictionConfig, Restriction, RestrictionType, ScopeMode, TenantSettings } from './ports.js';

export interface ScopeChange {
  mode: ScopeMode;
  /** Group names, for mode 'some'. */
  groups?: string[];
}

export interface RowError {
  row: number;
  error: string;
}

export class PolicyAdmin {
  readonly #s: Storage;
  readonly #clock: Clock;
  readonly #directory: DirectoryService;
  readonly #policy: EnrollmentPolicy;

  constructor(deps: { storage: Storage; clock: Clock; directory: DirectoryService; policy: EnrollmentPolicy }) {
    this.#s = deps.storage;
    this.#clock = deps.clock;
    this.#directory = deps.directory;
    this.#policy = deps.policy;
  }

  async #user(upn: string): Promise<User> {
    const u = await this.#directory.findUser(upn);
    if (!u) throw new NotFoundError(`no user ${upn}`);
    return u;
  }

  async #groupId(name: string): Promise<string> {
    const g = await this.#s.getGroupByName(name);
    if (!g) throw new NotFoundError(`no group named "${name}"`);
    return g.id;
  }

  // -- users and groups --------------------------------------------------------------------------------

  async setUserEnabled(upn: string, enabled: boolean): Promise<User> {
    return this.#s.setUserEnabled((await this.#user(upn)).id, enabled, this.#clock.now());
  }

  /** Adds a user, or a group (nested; membership is evaluated transitively), to a group. */
  async addGroupMember(group: string, member: string): Promise<'user' | 'group'> {
    const parent = await this.#groupId(group);
    if (member.includes('@')) {
      await this.#s.addGroupMember(parent, (await this.#user(member)).id);
      return 'user';
    }
    await this.#s.addGroupToGroup(parent, await this.#groupId(member));
    return 'group';
  }

  /**
   * CSV import: `upn,password,displayName,groups,license` (header required; groups separated by `;`,
   * license yes/no). Each row stands alone: a bad row is reported and the rest go on.
   */
  async importUsers(csv: string, onProgress?: (done: number, total: number) => void): Promise<{ added: number; errors: RowError[] }> {
    const rows = parseCsv(csv);
    const header = (rows.shift() ?? []).map((h) => h.trim().toLowerCase());
    const col = (name: string) => header.indexOf(name);
    if (col('upn') < 0 || col('password') < 0) throw new InvalidInputError('the CSV needs a header with at least upn and password columns');
    const errors: RowError[] = [];
    let added = 0;
    for (const [i, r] of rows.entries()) {
      const rowNo = i + 2;
      try {
        const get = (name: string) => (col(name) >= 0 ? (r[col(name)] ?? '').trim() : '');
        const user = await this.#directory.addUser({ upn: get('upn'), password: get('password'), displayName: get('displayname') || null });
        for (const g of get('groups').split(';').map((x) => x.trim()).filter(Boolean)) await this.#s.addGroupMember(await this.#groupId(g), user.id);
        if (/^(yes|true|1)$/i.test(get('license'))) await this.#s.assignLicense(user.id, this.#clock.now());
        added++;
      } catch (err) {
        errors.push({ row: rowNo, error: err instanceof Error ? err.message : String(err) });
      }
      onProgress?.(i + 1, rows.length);
    }
    return { added, errors };
  }

  // -- licenses ------------------------------------------------------------------------------------------

  async assignLicense(upn: string): Promise<boolean> {
    return this.#s.assignLicense((await this.#user(upn)).id, this.#clock.now());
  }

  async removeLicense(upn: string): Promise<boolean> {
    return this.#s.removeLicense((await this.#user(upn)).id);
  }

  async setLicenseSeats(seats: number | null): Promise<TenantSettings> {
    if (seats !== null && (!Number.isInteger(seats) || seats < 0)) throw new InvalidInputError('seats must be a whole number, or unlimited');
    return this.#save({ licenseSeats: seats });
  }

  // -- settings ------------------------------------------------------------------------------------------

  settings(): Promise<TenantSettings> {
    return this.#s.getTenantSettings();
  }

  async #save(patch: Partial<TenantSettings>): Promise<TenantSettings> {
    return this.#s.saveTenantSettings({ ...(await this.#s.getTenantSettings()), ...patch }, this.#clock.now());
  }

  /**
   * Sets the MDM and/or MAM user scope. Groups must contain user objects (S9). Returns warnings, e.g.
   * users in both scopes (who get MAM, not MDM, on personal devices).
   */
  async setScopes(change: { mdm?: ScopeChange; mam?: ScopeChange }): Promise<{ settings: TenantSettings; warnings: string[] }> {
    const current = await this.#s.getTenantSettings();
    const resolve = async (c: ScopeChange | undefined, now: TenantSettings['mdmScope'], label: string) => {
      if (!c) return now;
      const groupIds: string[] = [];
      for (const name of c.groups ?? []) {
        const id = await this.#groupId(name);
        if (!(await this.#s.groupHasUsers(id))) {
          throw new InvalidInputError(`group "${name}" contains no users; the ${label} user scope must be a group of users (devices do not count)`);
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
  }

  /** Who is in both scopes: on personal devices they get app protection, not MDM. */
  async scopeWarnings(settings: TenantSettings): Promise<string[]> {
    const { mdmScope: mdm, mamScope: mam } = settings;
    if (mdm.mode === 'none' || mam.mode === 'none') return [];
    if (mdm.mode === 'all' && mam.mode === 'all') return ['every user is in both scopes: personal devices get app protection (MAM), not MDM, on automatic enrollment'];
    const members = async (scope: TenantSettings['mdmScope']) => {
      if (scope.mode === 'all') return undefined;
      const all = new Set<string>();
      for (const g of scope.groupIds) for (const u of await this.#s.usersInGroup(g)) all.add(u);
      return all;
    };
    const [a, b] = await Promise.all([members(mdm), members(mam)]);
    const both = a && b ? [...a].filter((u) => b.has(u)) : [...(a ?? b ?? new Set<string>())];
    if (both.length === 0) return [];
    return [`${both.length} user${both.length === 1 ? ' is' : 's are'} in both the MDM and the MAM scope: their personal devices get app protection (MAM), not MDM, on automatic enrollment`];
  }

  async setAllowUnlicensedAdmins(allow: boolean): Promise<TenantSettings> {
    return this.#save({ allowUnlicensedAdmins: allow });
  }

  async setUrls(urls: Partial<TenantSettings['urls']>): Promise<TenantSettings> {
    return this.#save({ urls: { ...(await this.#s.getTenantSettings()).urls, ...urls } });
  }

  /** Back to Winroll's own terms-of-use, discovery and compliance pages. */
  async restoreDefaultUrls(): Promise<TenantSettings> {
    return this.#save({ urls: { termsOfUse: null, discovery: null, compliance: null } });
  }

  // -- restrictions --------------------------------------------------------------------------------------

  listRestrictions(type?: RestrictionType): Promise<Restriction[]> {
    return this.#s.listRestrictions(type);
  }

  async createRestriction(type: RestrictionType, name: string, config: Partial<PlatformRestrictionConfig> & Partial<DeviceLimitRestrictionConfig>): Promise<Restriction> {
    const clean = restrictionConfig(type, config);
    return type === 'platform'
      ? this.#s.createRestriction({ type: 'platform', name, config: clean as PlatformRestrictionConfig }, this.#clock.now())
      : this.#s.createRestriction({ type: 'deviceLimit', name, config: clean as DeviceLimitRestrictionConfig }, this.#clock.now());
  }

  async updateRestriction(type: RestrictionType, name: string, config: Partial<PlatformRestrictionConfig> & Partial<DeviceLimitRestrictionConfig>): Promise<Restriction> {
    const r = await this.#restriction(type, name);
    return this.#s.updateRestriction(r.id, { config: restrictionConfig(type, { ...r.config, ...config }) }, this.#clock.now());
  }

  async setRestrictionPriority(type: RestrictionType, name: string, priority: number): Promise<void> {
    await this.#s.setRestrictionPriority((await this.#restriction(type, name)).id, priority, this.#clock.now());
  }

  async assignRestriction(type: RestrictionType, name: string, group: string): Promise<void> {
    await this.#s.assignRestriction((await this.#restriction(type, name)).id, await this.#groupId(group), this.#clock.now());
  }

  async unassignRestriction(type: RestrictionType, name: string, group: string): Promise<void> {
    await this.#s.unassignRestriction((await this.#restriction(type, name)).id, await this.#groupId(group));
  }

  async deleteRestriction(type: RestrictionType, name: string): Promise<void> {
    await this.#s.deleteRestriction((await this.#restriction(type, name)).id);
  }

  async #restriction(type: RestrictionType, name: string): Promise<Restriction> {
    const r = (await this.#s.listRestrictions(type)).find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!r) throw new NotFoundError(`no ${type === 'platform' ? 'platform' : 'device limit'} restriction named "${name}"`);
    return r;
  }

  // -- device enrollment managers and corporate identifiers ------------------------------------------------

  async addDem(upn: string): Promise<void> {
    await this.#s.addDem((await this.#user(upn)).id, this.#clock.now());
  }

  async removeDem(upn: string): Promise<boolean> {
    return this.#s.removeDem((await this.#user(upn)).id);
  }

  /** `manufacturer,model,serial` lines, no header (the Intune format); replaces or adds. */
  async importCorporateIdentifiers(csv: string, mode: 'add' | 'replace'): Promise<{ imported: number; errors: RowError[] }> {
    const rows: CorporateIdentifier[] = [];
    const errors: RowError[] = [];
    for (const [i, r] of parseCsv(csv).entries()) {
      if (r.length === 1 && r[0]?.trim() === '') continue;
      const [manufacturer = '', model = '', serial = ''] = r.map((x) => x.trim());
      if (r.length !== 3 || !manufacturer || !model || !serial) errors.push({ row: i + 1, error: 'expected manufacturer,model,serial' });
      else rows.push({ manufacturer, model, serial });
    }
    if (rows.length > 5000) throw new InvalidInputError('at most 5,000 identifiers per file');
    const now = this.#clock.now();
    const imported = mode === 'replace' ? await this.#s.replaceCorporateIdentifiers(rows, now) : await this.#s.addCorporateIdentifiers(rows, now);
    return { imported, errors };
  }

  // -- explain ---------------------------------------------------------------------------------------------

  /** The decision an enrollment would get now, with its reasons (`winroll explain`). */
  async explain(upn: string, opts: { ownership: 'personal' | 'corporate'; osVersion?: string | undefined; method?: 'user' | 'automatic' | 'bulk' }): Promise<Decision> {
    const user = await this.#user(upn);
    const method: EnrollmentMethod = opts.method ?? 'user';
    if (method === 'user' && opts.ownership === 'corporate') {
      throw new InvalidInputError('a user-started enrollment is personal; use --method bulk (or automatic) for a corporate device');
    }
    const enrollmentType = method === 'bulk' || (method === 'automatic' && opts.ownership === 'corporate') ? 'Device' : 'Full';
    const { input: _input, ...decision } = await this.#policy.decide({ user, method, enrollmentType, osVersion: opts.osVersion ?? null, deviceId: null });
    return decision;
  }
}

function restrictionConfig(type: RestrictionType, c: Partial<PlatformRestrictionConfig> & Partial<DeviceLimitRestrictionConfig>): PlatformRestrictionConfig | DeviceLimitRestrictionConfig {
  if (type === 'deviceLimit') {
    const limit = c.limit ?? 5;
    if (!Number.isInteger(limit) || limit < 1 || limit > 15) throw new InvalidInputError('the device limit must be 1 to 15');
    return { limit };
  }
  const version = (v: string | null | undefined) => {
    if (v === undefined || v === null || v === '') return null;
    if (!/^\d+(\.\d+){0,3}$/.test(v)) throw new InvalidInputError(`"${v}" is not a Windows version like 10.0.22631.0`);
    return v;
  };
  return { windowsMdm: c.windowsMdm ?? 'allow', minOsVersion: version(c.minOsVersion), maxOsVersion: version(c.maxOsVersion), blockPersonal: c.blockPersonal ?? false };
}

/** CSV rows as strings (csv-parse): quoted fields, CRLF or LF, a leading BOM, ragged rows allowed. */
export function parseCsv(text: string): string[][] {
  return parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: false }) as string[][];
}

