/**
 * Conformance suite of the "who may enroll" storage ports (core/policy/ports.ts): every backend runs
 * exactly these tests, from sqlite.test.ts and postgres.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Group } from '../../src/core/management/ports.js';
import {
  defaultTenantSettings,
  MAX_GROUP_NESTING_DEPTH,
  type NewEnrollmentAttempt,
  type PlatformRestrictionConfig,
  type TenantSettings,
} from '../../src/core/policy/ports.js';
import type { NewEnrollment, Storage, User } from '../../src/core/ports.js';
import { ConflictError, InvalidInputError, NotFoundError, type WinrollError } from '../../src/shared/errors.js';
import { openPostgres, openSqlite, parseStorageUrl } from '../../src/storage/sql/dialects.js';
import { StaticMigrationProvider } from '../../src/storage/sql/migrations/index.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { newEnrollment, type StorageTestTarget } from './storage.suite.js';

const T0 = new Date('2025-03-04T05:06:07.891Z');
const DAY = 86_400_000;
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const uid = (): string => randomBytes(4).toString('hex');

const ALLOW: PlatformRestrictionConfig = { windowsMdm: 'allow', minOsVersion: null, maxOsVersion: null, blockPersonal: false };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function expectCode(p: Promise<unknown>, code: string, cls: abstract new (...a: never[]) => Error): Promise<WinrollError> {
  const err = await rejection(p);
  expect(err, `expected a ${code} error`).toBeInstanceOf(cls);
  expect((err as WinrollError).code).toBe(code);
  return err as WinrollError;
}

export function policyConformanceSuite(target: StorageTestTarget): void {
  describe(`Policy storage conformance (${target.kind})`, () => {
    const databases: Array<{ url: string; drop(): Promise<void> }> = [];
    const handles: Storage[] = [];
    let s: Storage;

    async function freshStorage(): Promise<Storage> {
      const db = await target.createDatabase();
      databases.push(db);
      const h = await openStorage(db.url);
      handles.push(h);
      return h;
    }

    beforeAll(async () => {
      s = await freshStorage();
    });

    afterAll(async () => {
      for (const h of handles) await h.close().catch(() => {});
      for (const d of databases) await d.drop();
    });

    const newUser = (store: Storage = s, name = 'user'): Promise<User> =>
      store.addUser({ upn: `${name}-${uid()}@Contoso.com`, displayName: null, passwordHash: 'h', now: T0 });
    const newGroup = (name = 'g', store: Storage = s): Promise<Group> => store.addGroup({ name: `${name}-${uid()}`, now: T0 });

    async function enroll(overrides: Partial<NewEnrollment> = {}, store: Storage = s) {
      const input = newEnrollment(overrides);
      const r = await store.recordEnrollment(input);
      return { pk: r.device.id, input };
    }

    describe('users', () => {
      it('disables and enables a user; updatedAt moves only when the flag changes', async () => {
        const u = await newUser();
        const off = await s.setUserEnabled(u.id, false, at(1000));
        expect(off).toEqual({ ...u, enabled: false, updatedAt: at(1000) });
        expect(await s.setUserEnabled(u.id, false, at(2000))).toEqual(off);
        expect((await s.getUserById(u.id))?.enabled).toBe(false);
        const on = await s.setUserEnabled(u.id, true, at(3000));
        expect(on).toMatchObject({ enabled: true, updatedAt: at(3000) });
        expect(await s.getUserByUpn(u.upn)).toEqual(on);
        await expectCode(s.setUserEnabled(`missing-${uid()}`, false, T0), 'not_found', NotFoundError);
      });
    });

    describe('nested groups', () => {
      it('evaluates membership transitively through three levels', async () => {
        const a = await newGroup('A');
        const b = await newGroup('B');
        const c = await newGroup('C');
        const other = await newGroup('other');
        await s.addGroupToGroup(a.id, b.id);
        await s.addGroupToGroup(b.id, c.id);
        await s.addGroupToGroup(a.id, b.id); // idempotent
        const deep = await newUser();
        const mid = await newUser();
        await s.addGroupMember(c.id, deep.id);
        await s.addGroupMember(b.id, mid.id);
        await s.addGroupMember(other.id, deep.id);

        expect(await s.groupsOfUser(deep.id)).toEqual([a.id, b.id, c.id, other.id].sort());
        expect(await s.groupsOfUser(mid.id)).toEqual([a.id, b.id].sort());
        expect(await s.groupsOfUser(`nobody-${uid()}`)).toEqual([]);
        expect(await s.usersInGroup(a.id)).toEqual([deep.id, mid.id].sort());
        expect(await s.usersInGroup(b.id)).toEqual([deep.id, mid.id].sort());
        expect(await s.usersInGroup(c.id)).toEqual([deep.id]);
        expect(await s.usersInGroup(`missing-${uid()}`)).toEqual([]);
        expect(await s.listChildGroups(a.id)).toEqual([b]);
        expect(await s.listChildGroups(c.id)).toEqual([]);

        await s.removeGroupFromGroup(b.id, c.id);
        await s.removeGroupFromGroup(b.id, c.id);
        expect(await s.groupsOfUser(deep.id)).toEqual([c.id, other.id].sort());
        expect(await s.usersInGroup(a.id)).toEqual([mid.id]);
      });

      it('counts a user reached along several paths once (diamond)', async () => {
        const top = await newGroup('top');
        const left = await newGroup('left');
        const right = await newGroup('right');
        const bottom = await newGroup('bottom');
        await s.addGroupToGroup(top.id, left.id);
        await s.addGroupToGroup(top.id, right.id);
        await s.addGroupToGroup(left.id, bottom.id);
        await s.addGroupToGroup(right.id, bottom.id);
        const u = await newUser();
        await s.addGroupMember(bottom.id, u.id);
        await s.addGroupMember(left.id, u.id);
        expect(await s.groupsOfUser(u.id)).toEqual([top.id, left.id, right.id, bottom.id].sort());
        expect(await s.usersInGroup(top.id)).toEqual([u.id]);
        const counts = (await s.listGroupsWithCounts()).find((g) => g.id === top.id);
        expect(counts).toEqual({ ...top, directMemberCount: 0, transitiveMemberCount: 1, childGroupCount: 2, parentGroupCount: 0 });
      });

      it('refuses cycles, naming them, and self-membership', async () => {
        const a = await newGroup('A');
        const b = await newGroup('B');
        const c = await newGroup('C');
        await s.addGroupToGroup(a.id, b.id);
        await s.addGroupToGroup(b.id, c.id);
        const err = await expectCode(s.addGroupToGroup(c.id, a.id), 'invalid_input', InvalidInputError);
        expect(err.message).toContain(`"${c.name}" contains "${a.name}" contains "${b.name}" contains "${c.name}"`);
        await expectCode(s.addGroupToGroup(b.id, a.id), 'invalid_input', InvalidInputError);
        const self = await expectCode(s.addGroupToGroup(a.id, a.id), 'invalid_input', InvalidInputError);
        expect(self.message).toContain(a.name);
        expect(await s.listChildGroups(c.id)).toEqual([]);
        await expectCode(s.addGroupToGroup(a.id, `missing-${uid()}`), 'not_found', NotFoundError);
        await expectCode(s.addGroupToGroup(`missing-${uid()}`, a.id), 'not_found', NotFoundError);
      });

      it('lets exactly one of two concurrent opposite links win', async () => {
        const x = await newGroup('X');
        const y = await newGroup('Y');
        const results = await Promise.allSettled([s.addGroupToGroup(x.id, y.id), s.addGroupToGroup(y.id, x.id)]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(InvalidInputError);
      });

      it(`refuses nesting deeper than ${MAX_GROUP_NESTING_DEPTH} links`, async () => {
        // MAX + 1 groups linked into one chain of MAX links, joined in the middle last.
        const chain: Group[] = [];
        for (let i = 0; i <= MAX_GROUP_NESTING_DEPTH; i++) chain.push(await newGroup(`level${i}`));
        const g = (i: number) => (chain[i] as Group).id;
        const mid = 10;
        for (let i = 0; i < mid; i++) await s.addGroupToGroup(g(i), g(i + 1));
        for (let i = MAX_GROUP_NESTING_DEPTH - 1; i > mid; i--) await s.addGroupToGroup(g(i), g(i + 1));
        await s.addGroupToGroup(g(mid), g(mid + 1)); // exactly the maximum
        const u = await newUser();
        await s.addGroupMember(g(MAX_GROUP_NESTING_DEPTH), u.id);
        expect(await s.groupsOfUser(u.id)).toHaveLength(MAX_GROUP_NESTING_DEPTH + 1);
        expect(await s.usersInGroup(g(0))).toEqual([u.id]);
        expect(await s.groupHasUsers(g(0))).toBe(true);
        const top = await newGroup('top');
        const err = await expectCode(s.addGroupToGroup(top.id, g(0)), 'invalid_input', InvalidInputError);
        expect(err.message).toContain(String(MAX_GROUP_NESTING_DEPTH));
        const bottom = await newGroup('bottom');
        await expectCode(s.addGroupToGroup(g(MAX_GROUP_NESTING_DEPTH), bottom.id), 'invalid_input', InvalidInputError);
        expect(await s.listChildGroups(top.id)).toEqual([]);
      });

      it('tells groups with users from groups without', async () => {
        const withUser = await newGroup('users');
        const parent = await newGroup('parent');
        const empty = await newGroup('empty');
        const onlyGroups = await newGroup('only-groups');
        await s.addGroupToGroup(parent.id, withUser.id);
        await s.addGroupToGroup(onlyGroups.id, empty.id);
        await s.addGroupMember(withUser.id, (await newUser()).id);
        expect(await s.groupHasUsers(withUser.id)).toBe(true);
        expect(await s.groupHasUsers(parent.id)).toBe(true);
        expect(await s.groupHasUsers(empty.id)).toBe(false);
        expect(await s.groupHasUsers(onlyGroups.id)).toBe(false);
        expect(await s.groupHasUsers(`missing-${uid()}`)).toBe(false);
      });

      it('lists every group with direct and transitive counts, by name', async () => {
        const h = await freshStorage();
        const outer = await h.addGroup({ name: 'Outer', now: T0 });
        const inner = await h.addGroup({ name: 'Inner', now: T0 });
        const lonely = await h.addGroup({ name: 'Lonely', now: at(1) });
        await h.addGroupToGroup(outer.id, inner.id);
        const [u1, u2, u3] = [await newUser(h), await newUser(h), await newUser(h)];
        await h.addGroupMember(outer.id, u1.id);
        await h.addGroupMember(inner.id, u2.id);
        await h.addGroupMember(inner.id, u3.id);
        await h.addGroupMember(inner.id, u1.id);
        expect(await h.listGroupsWithCounts()).toEqual([
          { ...inner, directMemberCount: 3, transitiveMemberCount: 3, childGroupCount: 0, parentGroupCount: 1 },
          { ...lonely, directMemberCount: 0, transitiveMemberCount: 0, childGroupCount: 0, parentGroupCount: 0 },
          { ...outer, directMemberCount: 1, transitiveMemberCount: 3, childGroupCount: 1, parentGroupCount: 0 },
        ]);
      });
    });

    describe('licenses', () => {
      it('assigns idempotently, counts, lists and removes', async () => {
        const h = await freshStorage();
        const a = await newUser(h, 'a');
        const b = await newUser(h, 'b');
        expect(await h.hasLicense(a.id)).toBe(false);
        expect(await h.assignLicense(a.id, at(1))).toBe(true);
        expect(await h.assignLicense(a.id, at(2))).toBe(false);
        expect(await h.assignLicense(b.id, at(3))).toBe(true);
        expect(await h.hasLicense(a.id)).toBe(true);
        expect(await h.licenseCounts()).toEqual({ assigned: 2, seats: null, available: null });
        expect(await h.listLicenses()).toEqual([
          { userId: a.id, upn: a.upn, assignedAt: at(1) },
          { userId: b.id, upn: b.upn, assignedAt: at(3) },
        ]);
        expect(await h.removeLicense(a.id)).toBe(true);
        expect(await h.removeLicense(a.id)).toBe(false);
        expect(await h.hasLicense(a.id)).toBe(false);
        expect(await h.licenseCounts()).toEqual({ assigned: 1, seats: null, available: null });
        await expectCode(h.assignLicense(`missing-${uid()}`, T0), 'not_found', NotFoundError);
      });

      it('never assigns more licenses than the seats, even concurrently; fewer seats keep existing licenses', async () => {
        const h = await freshStorage();
        const users = [await newUser(h), await newUser(h), await newUser(h), await newUser(h)];
        await h.saveTenantSettings({ ...defaultTenantSettings(), licenseSeats: 2 }, T0);
        expect(await h.assignLicense((users[0] as User).id, T0)).toBe(true);
        const raced = await Promise.allSettled(users.slice(1).map((u) => h.assignLicense(u.id, T0)));
        expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of raced.filter((x) => x.status === 'rejected')) expect(r.reason).toBeInstanceOf(ConflictError);
        expect(await h.licenseCounts()).toEqual({ assigned: 2, seats: 2, available: 0 });
        // Re-assigning a held license is still fine when the seats are full.
        expect(await h.assignLicense((users[0] as User).id, T0)).toBe(false);

        await h.saveTenantSettings({ ...defaultTenantSettings(), licenseSeats: 1 }, T0);
        expect(await h.licenseCounts()).toEqual({ assigned: 2, seats: 1, available: 0 });
        expect(await h.hasLicense((users[0] as User).id)).toBe(true);
        await h.saveTenantSettings({ ...defaultTenantSettings(), licenseSeats: null }, T0);
        for (const u of users.slice(1)) await h.assignLicense(u.id, T0);
        expect((await h.licenseCounts()).assigned).toBe(4);
      });

      it('drops a deleted user’s license with the user row (cascade)', async () => {
        const u = await newUser();
        await s.assignLicense(u.id, T0);
        await s.addDem(u.id, T0);
        const location = parseStorageUrl((databases[0] as { url: string }).url);
        const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
        try {
          await sql`delete from users where id = ${u.id}`.execute(opened.db);
        } finally {
          await opened.db.destroy();
        }
        expect(await s.hasLicense(u.id)).toBe(false);
        expect(await s.isDem(u.id)).toBe(false);
      });
    });

    describe('licenses by group', () => {
      const userAt = (h: Storage, name: string, created: Date): Promise<User> =>
        h.addUser({ upn: `${name}-${uid()}@contoso.com`, displayName: null, passwordHash: 'h', now: created });

      it('licenses enabled members of a licensed group through nesting, at once, each counted once', async () => {
        const h = await freshStorage();
        const [all, sales, emea] = [await newGroup('all', h), await newGroup('sales', h), await newGroup('emea', h)];
        await h.addGroupToGroup(all.id, sales.id);
        await h.addGroupToGroup(sales.id, emea.id);
        const u = await newUser(h, 'u');
        const both = await newUser(h, 'both');
        const outsider = await newUser(h, 'out');
        await h.addGroupMember(emea.id, u.id);
        await h.addGroupMember(sales.id, both.id);
        await h.assignLicense(both.id, at(1));

        expect(await h.hasLicense(u.id)).toBe(false);
        expect(await h.assignGroupLicense(all.id, at(2))).toBe(true);
        expect(await h.assignGroupLicense(all.id, at(3))).toBe(false);
        expect(await h.hasLicense(u.id)).toBe(true);
        expect(await h.hasLicense(outsider.id)).toBe(false);
        expect(await h.licenseOf(u.id)).toEqual({
          licensed: true,
          direct: false,
          groupPath: [
            { id: emea.id, name: emea.name },
            { id: sales.id, name: sales.name },
            { id: all.id, name: all.name },
          ],
          beyondSeats: false,
          seats: null,
        });
        expect((await h.licenseOf(both.id)).direct).toBe(true);
        expect(await h.licenseUsage()).toEqual({ assigned: 2, direct: 1, throughGroups: 1, withoutSeat: 0, seats: null, available: null });
        expect(await h.licenseCounts()).toEqual({ assigned: 2, seats: null, available: null });
        expect(await h.listGroupLicenses()).toEqual([
          { groupId: all.id, name: all.name, assignedAt: at(2), memberCount: 2, licensedCount: 2 },
        ]);
        // A nearer licensed group wins the explanation.
        await h.assignGroupLicense(sales.id, at(4));
        expect((await h.licenseOf(u.id)).groupPath.map((g) => g.id)).toEqual([emea.id, sales.id]);
        await h.removeGroupLicense(sales.id);

        // Nesting, membership and the enabled flag are read at each check.
        await h.removeGroupFromGroup(sales.id, emea.id);
        expect(await h.hasLicense(u.id)).toBe(false);
        expect((await h.licenseOf(u.id)).groupPath).toEqual([]);
        await h.addGroupToGroup(sales.id, emea.id);
        expect(await h.hasLicense(u.id)).toBe(true);
        await h.setUserEnabled(u.id, false, at(5));
        expect(await h.hasLicense(u.id)).toBe(false);
        expect((await h.licenseUsage()).assigned).toBe(1);
        await h.setUserEnabled(u.id, true, at(6));
        await h.removeGroupMember(emea.id, u.id);
        expect(await h.hasLicense(u.id)).toBe(false);
        await h.addGroupMember(emea.id, u.id);

        expect(await h.removeGroupLicense(all.id)).toBe(true);
        expect(await h.removeGroupLicense(all.id)).toBe(false);
        expect(await h.hasLicense(u.id)).toBe(false);
        expect(await h.hasLicense(both.id)).toBe(true);
        expect(await h.listGroupLicenses()).toEqual([]);
        await expectCode(h.assignGroupLicense(`missing-${uid()}`, T0), 'not_found', NotFoundError);
      });

      it('gives group members the seats left by direct licenses, in a fixed order; direct licenses are refused when full', async () => {
        const h = await freshStorage();
        const first = await newGroup('first', h);
        const later = await newGroup('later', h);
        const d = await userAt(h, 'direct', at(0));
        const oldest = await userAt(h, 'oldest', at(1));
        const newer = await userAt(h, 'newer', at(2));
        const veteran = await userAt(h, 'veteran', at(-DAY));
        const other = await userAt(h, 'other', at(3));
        await h.addGroupMember(first.id, newer.id);
        await h.addGroupMember(first.id, oldest.id);
        await h.addGroupMember(later.id, veteran.id);
        await h.saveTenantSettings({ ...defaultTenantSettings(), licenseSeats: 2 }, T0);
        await h.assignLicense(d.id, at(10));
        await h.assignGroupLicense(first.id, at(11));
        await h.assignGroupLicense(later.id, at(12));

        // One seat left: the group licensed first, then its oldest account.
        expect(await h.hasLicense(oldest.id)).toBe(true);
        expect(await h.hasLicense(newer.id)).toBe(false);
        expect(await h.hasLicense(veteran.id)).toBe(false);
        expect(await h.licenseOf(newer.id)).toMatchObject({ licensed: false, direct: false, beyondSeats: true, seats: 2 });
        expect(await h.licenseUsage()).toEqual({ assigned: 2, direct: 1, throughGroups: 1, withoutSeat: 2, seats: 2, available: 0 });
        expect((await h.listGroupLicenses()).map((g) => [g.name, g.memberCount, g.licensedCount])).toEqual([
          [first.name, 2, 1],
          [later.name, 1, 0],
        ]);

        // Full: a new direct license is refused; one for a user already seated through a group is not.
        await expectCode(h.assignLicense(other.id, at(13)), 'conflict', ConflictError);
        expect(await h.assignLicense(oldest.id, at(14))).toBe(true);
        expect(await h.licenseUsage()).toMatchObject({ assigned: 2, direct: 2, throughGroups: 0, withoutSeat: 2 });

        // A member leaving frees the seat for the next in order.
        await h.removeLicense(oldest.id);
        await h.removeGroupMember(first.id, oldest.id);
        expect(await h.hasLicense(newer.id)).toBe(true);
        await h.saveTenantSettings({ ...defaultTenantSettings(), licenseSeats: null }, T0);
        expect(await h.hasLicense(veteran.id)).toBe(true);
        expect((await h.licenseUsage()).assigned).toBe(3);
      });

      it('drops a deleted group’s license with the group row (cascade)', async () => {
        const h = await freshStorage();
        const g = await newGroup('gone', h);
        const u = await newUser(h);
        await h.addGroupMember(g.id, u.id);
        await h.assignGroupLicense(g.id, T0);
        expect(await h.hasLicense(u.id)).toBe(true);
        const location = parseStorageUrl((databases.at(-1) as { url: string }).url);
        const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
        try {
          await sql`delete from group_members where group_id = ${g.id}`.execute(opened.db);
          await sql`delete from groups where id = ${g.id}`.execute(opened.db);
        } finally {
          await opened.db.destroy();
        }
        expect(await h.listGroupLicenses()).toEqual([]);
      });
    });

    describe('tenant settings', () => {
      it('returns the documented defaults when nothing was saved', async () => {
        const h = await freshStorage();
        const d = await h.getTenantSettings();
        expect(d).toEqual(defaultTenantSettings());
        expect(d).toEqual({
          mdmScope: { mode: 'all', groupIds: [] },
          mamScope: { mode: 'none', groupIds: [] },
          urls: { termsOfUse: null, discovery: null, compliance: null },
          allowUnlicensedAdmins: false,
          licenseSeats: null,
          mfa: { required: 'off', groupIds: [] },
        });
      });

      it('round-trips a full document, normalising group lists', async () => {
        const h = await freshStorage();
        const g1 = await newGroup('mdm', h);
        const g2 = await newGroup('mam', h);
        const settings: TenantSettings = {
          mdmScope: { mode: 'some', groupIds: [g1.id, g2.id, g1.id] },
          mamScope: { mode: 'none', groupIds: [g2.id] },
          urls: { termsOfUse: 'https://mdm.contoso.com/tou', discovery: null, compliance: 'https://mdm.contoso.com/compliance?x=1' },
          allowUnlicensedAdmins: true,
          licenseSeats: 25,
          mfa: { required: 'groups', groupIds: [g1.id] },
        };
        const saved = await h.saveTenantSettings(settings, T0);
        const expected = { ...settings, mdmScope: { mode: 'some', groupIds: [g1.id, g2.id] } };
        expect(saved).toEqual(expected);
        expect(await h.getTenantSettings()).toEqual(expected);
        // Saving again replaces the whole document ("restore defaults").
        expect(await h.saveTenantSettings(defaultTenantSettings(), at(1))).toEqual(defaultTenantSettings());
        expect(await h.getTenantSettings()).toEqual(defaultTenantSettings());
        expect((await h.licenseCounts()).seats).toBeNull();
      });

      it('refuses malformed values and unknown groups, changing nothing', async () => {
        const h = await freshStorage();
        const good = { ...defaultTenantSettings(), licenseSeats: 3 };
        await h.saveTenantSettings(good, T0);
        const bad: unknown[] = [
          { ...good, mdmScope: { mode: 'maybe', groupIds: [] } },
          { ...good, mamScope: { mode: 'some', groupIds: [''] } },
          { ...good, urls: { ...good.urls, termsOfUse: 'ftp://contoso.com/tou' } },
          { ...good, urls: { ...good.urls, discovery: 'not a url' } },
          { ...good, licenseSeats: -1 },
          { ...good, licenseSeats: 1.5 },
          { ...good, allowUnlicensedAdmins: 'yes' },
          { ...good, mfa: { required: 'sometimes', groupIds: [] } },
        ];
        for (const b of bad) await expectCode(h.saveTenantSettings(b as TenantSettings, at(1)), 'invalid_input', InvalidInputError);
        const missing = `missing-${uid()}`;
        const err = await expectCode(
          h.saveTenantSettings({ ...good, mfa: { required: 'groups', groupIds: [missing] } }, at(1)),
          'not_found',
          NotFoundError,
        );
        expect(err.message).toContain(missing);
        expect(await h.getTenantSettings()).toEqual(good);
      });

      it('fills fields a stored document lacks from the defaults', async () => {
        const h = await freshStorage();
        const url = (databases[databases.length - 1] as { url: string }).url;
        const location = parseStorageUrl(url);
        const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
        try {
          const doc = JSON.stringify({
            mamScope: { mode: 'all', groupIds: [] },
            licenseSeats: 7,
            urls: { discovery: 'https://d.example/x' },
          });
          await sql`insert into tenant_settings (id, settings, updated_at) values (1, ${doc}, ${T0.toISOString()})`.execute(opened.db);
        } finally {
          await opened.db.destroy();
        }
        const d = defaultTenantSettings();
        expect(await h.getTenantSettings()).toEqual({
          ...d,
          mamScope: { mode: 'all', groupIds: [] },
          licenseSeats: 7,
          urls: { ...d.urls, discovery: 'https://d.example/x' },
        });
      });
    });

    describe('restrictions', () => {
      it('has one default per type from the start; ensureDefaultRestrictions is idempotent', async () => {
        const h = await freshStorage();
        const listed = await h.listRestrictions();
        expect(listed).toEqual([
          expect.objectContaining({
            type: 'deviceLimit',
            name: 'Default',
            isDefault: true,
            priority: null,
            config: { limit: 5 },
            groupIds: [],
          }),
          expect.objectContaining({ type: 'platform', name: 'Default', isDefault: true, priority: null, config: ALLOW, groupIds: [] }),
        ]);
        const ensured = await h.ensureDefaultRestrictions(T0);
        expect(ensured.platform).toEqual(listed[1]);
        expect(ensured.deviceLimit).toEqual(listed[0]);
        expect(await h.listRestrictions()).toHaveLength(2);
        expect(await h.restrictionsFor([], 'platform')).toEqual(ensured.platform);
        expect(await h.restrictionsFor([], 'deviceLimit')).toEqual(ensured.deviceLimit);
      });

      it('inserts new policies just above the default and applies the highest priority assigned', async () => {
        const h = await freshStorage();
        const [g1, g2, g3] = [await newGroup('one', h), await newGroup('two', h), await newGroup('three', h)];
        const p1 = await h.createRestriction({ type: 'platform', name: 'First', config: { ...ALLOW, minOsVersion: '10.0.19045' } }, at(1));
        const p2 = await h.createRestriction({ type: 'platform', name: 'Second', config: { ...ALLOW, blockPersonal: true } }, at(2));
        const p3 = await h.createRestriction({ type: 'platform', name: 'Third', config: { ...ALLOW, windowsMdm: 'block' } }, at(3));
        expect(p1).toEqual({
          id: expect.any(String),
          type: 'platform',
          name: 'First',
          priority: 1,
          isDefault: false,
          config: { ...ALLOW, minOsVersion: '10.0.19045' },
          groupIds: [],
          createdAt: at(1),
          updatedAt: at(1),
        });
        expect([p2.priority, p3.priority]).toEqual([2, 3]);
        const names = (await h.listRestrictions('platform')).map((r) => [r.name, r.priority]);
        expect(names).toEqual([
          ['First', 1],
          ['Second', 2],
          ['Third', 3],
          ['Default', null],
        ]);

        // Unassigned policies have no effect.
        expect((await h.restrictionsFor([g1.id, g2.id, g3.id], 'platform')).isDefault).toBe(true);
        await h.assignRestriction(p3.id, g1.id, at(4));
        await h.assignRestriction(p3.id, g1.id, at(5)); // idempotent
        await h.assignRestriction(p2.id, g2.id, at(4));
        expect((await h.restrictionsFor([g1.id], 'platform')).id).toBe(p3.id);
        expect((await h.restrictionsFor([g1.id, g2.id], 'platform')).id).toBe(p2.id);
        expect((await h.restrictionsFor([g3.id], 'platform')).isDefault).toBe(true);
        expect((await h.restrictionsFor([], 'platform')).isDefault).toBe(true);
        expect((await h.restrictionsFor([g1.id, g2.id], 'deviceLimit')).isDefault).toBe(true);
        expect((await h.getRestriction(p3.id))?.groupIds).toEqual([g1.id]);

        await h.unassignRestriction(p2.id, g2.id);
        await h.unassignRestriction(p2.id, g2.id);
        expect((await h.restrictionsFor([g1.id, g2.id], 'platform')).id).toBe(p3.id);
      });

      it('applies a policy assigned to a parent group to members of nested groups', async () => {
        const h = await freshStorage();
        const parent = await newGroup('parent', h);
        const child = await newGroup('child', h);
        await h.addGroupToGroup(parent.id, child.id);
        const u = await newUser(h);
        await h.addGroupMember(child.id, u.id);
        const limit = await h.createRestriction({ type: 'deviceLimit', name: 'Two', config: { limit: 2 } }, T0);
        await h.assignRestriction(limit.id, parent.id, T0);
        const applied = await h.restrictionsFor(await h.groupsOfUser(u.id), 'deviceLimit');
        expect(applied).toMatchObject({ id: limit.id, config: { limit: 2 }, groupIds: [parent.id] });
      });

      it('keeps priorities 1..n after reordering and deleting', async () => {
        const h = await freshStorage();
        const g = await newGroup('g', h);
        const ids: string[] = [];
        for (const n of ['a', 'b', 'c', 'd'])
          ids.push((await h.createRestriction({ type: 'deviceLimit', name: n, config: { limit: 3 } }, T0)).id);
        const order = async () => (await h.listRestrictions('deviceLimit')).filter((r) => !r.isDefault).map((r) => [r.name, r.priority]);

        await h.setRestrictionPriority(ids[3] as string, 1, at(10));
        expect(await order()).toEqual([
          ['d', 1],
          ['a', 2],
          ['b', 3],
          ['c', 4],
        ]);
        expect((await h.getRestriction(ids[3] as string))?.updatedAt).toEqual(at(10));
        await h.setRestrictionPriority(ids[0] as string, 4, at(11));
        expect(await order()).toEqual([
          ['d', 1],
          ['b', 2],
          ['c', 3],
          ['a', 4],
        ]);
        await h.setRestrictionPriority(ids[2] as string, 3, at(12)); // no move
        expect((await order()).map((x) => x[0])).toEqual(['d', 'b', 'c', 'a']);

        await h.assignRestriction(ids[1] as string, g.id, T0);
        await h.deleteRestriction(ids[1] as string);
        expect(await order()).toEqual([
          ['d', 1],
          ['c', 2],
          ['a', 3],
        ]);
        expect(await h.getRestriction(ids[1] as string)).toBeUndefined();
        expect((await h.restrictionsFor([g.id], 'deviceLimit')).isDefault).toBe(true);
        const e = await h.createRestriction({ type: 'deviceLimit', name: 'e', config: { limit: 1 } }, T0);
        expect(e.priority).toBe(4);

        for (const p of [0, 5, 1.5]) await expectCode(h.setRestrictionPriority(e.id, p, T0), 'invalid_input', InvalidInputError);
        const def = (await h.listRestrictions('deviceLimit')).find((r) => r.isDefault);
        await expectCode(h.setRestrictionPriority(def?.id as string, 1, T0), 'invalid_input', InvalidInputError);
        await expectCode(h.deleteRestriction(def?.id as string), 'invalid_input', InvalidInputError);
        await expectCode(h.deleteRestriction(`missing-${uid()}`), 'not_found', NotFoundError);
        await expectCode(h.setRestrictionPriority(`missing-${uid()}`, 1, T0), 'not_found', NotFoundError);
      });

      it('gives concurrent creations distinct priorities', async () => {
        const h = await freshStorage();
        const made = await Promise.all(
          [1, 2, 3, 4, 5].map((i) => h.createRestriction({ type: 'platform', name: `p${i}`, config: ALLOW }, T0)),
        );
        expect(made.map((r) => r.priority).sort()).toEqual([1, 2, 3, 4, 5]);
      });

      it('validates names and configs', async () => {
        const h = await freshStorage();
        await h.createRestriction({ type: 'platform', name: 'Same', config: ALLOW }, T0);
        await expectCode(h.createRestriction({ type: 'platform', name: 'Same', config: ALLOW }, T0), 'conflict', ConflictError);
        await h.createRestriction({ type: 'deviceLimit', name: 'Same', config: { limit: 15 } }, T0); // other type
        const badLimits = [0, 16, 2.5, '3'];
        for (const limit of badLimits) {
          await expectCode(
            h.createRestriction({ type: 'deviceLimit', name: `l-${uid()}`, config: { limit: limit as number } }, T0),
            'invalid_input',
            InvalidInputError,
          );
        }
        const badPlatforms: unknown[] = [
          { ...ALLOW, windowsMdm: 'maybe' },
          { ...ALLOW, minOsVersion: 'ten' },
          { ...ALLOW, maxOsVersion: '10.0.1.2.3' },
          { ...ALLOW, minOsVersion: '10.0.22631', maxOsVersion: '10.0.19045.9999' },
          { ...ALLOW, blockPersonal: 'no' },
        ];
        for (const config of badPlatforms) {
          await expectCode(
            h.createRestriction({ type: 'platform', name: `p-${uid()}`, config: config as PlatformRestrictionConfig }, T0),
            'invalid_input',
            InvalidInputError,
          );
        }
        await expectCode(h.createRestriction({ type: 'platform', name: '  ', config: ALLOW }, T0), 'invalid_input', InvalidInputError);
        await expectCode(
          h.createRestriction({ type: 'other' as 'platform', name: 'x', config: ALLOW }, T0),
          'invalid_input',
          InvalidInputError,
        );
        const ok = await h.createRestriction(
          {
            type: 'platform',
            name: 'Range',
            config: { windowsMdm: 'allow', minOsVersion: '10.0.19045.0', maxOsVersion: '10.0.19045', blockPersonal: true },
          },
          T0,
        );
        expect(ok.config).toEqual({ windowsMdm: 'allow', minOsVersion: '10.0.19045.0', maxOsVersion: '10.0.19045', blockPersonal: true });
        // Only the policies created above exist besides the defaults.
        expect((await h.listRestrictions()).map((r) => `${r.type}:${r.name}`)).toEqual([
          'deviceLimit:Same',
          'deviceLimit:Default',
          'platform:Same',
          'platform:Range',
          'platform:Default',
        ]);
      });

      it('updates names and configs, the default’s config too', async () => {
        const h = await freshStorage();
        const g = await newGroup('g', h);
        const p = await h.createRestriction({ type: 'platform', name: 'Old', config: ALLOW }, T0);
        await h.createRestriction({ type: 'platform', name: 'Taken', config: ALLOW }, T0);
        await h.assignRestriction(p.id, g.id, T0);
        const renamed = await h.updateRestriction(p.id, { name: 'New' }, at(5));
        expect(renamed).toEqual({ ...p, name: 'New', groupIds: [g.id], updatedAt: at(5) });
        const blocked = await h.updateRestriction(p.id, { config: { ...ALLOW, windowsMdm: 'block' } }, at(6));
        expect(blocked).toMatchObject({ name: 'New', config: { ...ALLOW, windowsMdm: 'block' }, priority: 1, updatedAt: at(6) });
        expect(await h.getRestriction(p.id)).toEqual(blocked);
        await expectCode(h.updateRestriction(p.id, { name: 'Taken' }, at(7)), 'conflict', ConflictError);
        await expectCode(h.updateRestriction(p.id, { config: { limit: 3 } }, at(7)), 'invalid_input', InvalidInputError);
        await expectCode(h.updateRestriction(`missing-${uid()}`, { name: 'x' }, at(7)), 'not_found', NotFoundError);

        const { deviceLimit } = await h.ensureDefaultRestrictions(T0);
        const raised = await h.updateRestriction(deviceLimit.id, { config: { limit: 10 } }, at(8));
        expect(raised).toMatchObject({ isDefault: true, priority: null, config: { limit: 10 } });
        expect((await h.restrictionsFor([], 'deviceLimit')).config).toEqual({ limit: 10 });
      });

      it('refuses to assign the default, unknown policies and unknown groups', async () => {
        const h = await freshStorage();
        const g = await newGroup('g', h);
        const { platform } = await h.ensureDefaultRestrictions(T0);
        await expectCode(h.assignRestriction(platform.id, g.id, T0), 'invalid_input', InvalidInputError);
        const p = await h.createRestriction({ type: 'platform', name: 'P', config: ALLOW }, T0);
        await expectCode(h.assignRestriction(p.id, `missing-${uid()}`, T0), 'not_found', NotFoundError);
        await expectCode(h.assignRestriction(`missing-${uid()}`, g.id, T0), 'not_found', NotFoundError);
      });
    });

    describe('device enrollment managers', () => {
      it('adds idempotently, lists by UPN, removes', async () => {
        const h = await freshStorage();
        const b = await h.addUser({ upn: 'b@contoso.com', displayName: null, passwordHash: 'h', now: T0 });
        const a = await h.addUser({ upn: 'a@contoso.com', displayName: null, passwordHash: 'h', now: T0 });
        await h.addDem(b.id, at(1));
        await h.addDem(a.id, at(2));
        await h.addDem(b.id, at(3));
        expect(await h.isDem(b.id)).toBe(true);
        expect(await h.listDems()).toEqual([
          { userId: a.id, upn: 'a@contoso.com', addedAt: at(2) },
          { userId: b.id, upn: 'b@contoso.com', addedAt: at(1) },
        ]);
        expect(await h.removeDem(b.id)).toBe(true);
        expect(await h.removeDem(b.id)).toBe(false);
        expect(await h.isDem(b.id)).toBe(false);
        await expectCode(h.addDem(`missing-${uid()}`, T0), 'not_found', NotFoundError);
      });
    });

    describe('corporate device identifiers', () => {
      it('matches ignoring case, surrounding spaces and periods in the serial', async () => {
        const h = await freshStorage();
        expect(await h.countCorporateIdentifiers()).toBe(0);
        const added = await h.addCorporateIdentifiers(
          [
            { manufacturer: 'Microsoft', model: 'Surface 5', serial: '0123.4567.890' },
            { manufacturer: 'Lenovo', model: 'ThinkPad X1', serial: 'PF12AB' },
            { manufacturer: 'microsoft ', model: 'surface 5', serial: '01234567890' }, // same as the first
          ],
          T0,
        );
        expect(added).toBe(2);
        expect(await h.countCorporateIdentifiers()).toBe(2);
        expect(await h.isCorporateIdentifier({ manufacturer: 'MICROSOFT', model: ' surface 5', serial: '01234567890' })).toBe(true);
        expect(await h.isCorporateIdentifier({ manufacturer: 'Microsoft', model: 'Surface 5', serial: '0123456.7890' })).toBe(true);
        expect(await h.isCorporateIdentifier({ manufacturer: 'lenovo', model: 'thinkpad x1', serial: 'pf12ab' })).toBe(true);
        expect(await h.isCorporateIdentifier({ manufacturer: 'Lenovo', model: 'ThinkPad X2', serial: 'PF12AB' })).toBe(false);
        expect(await h.isCorporateIdentifier({ manufacturer: 'Dell', model: 'ThinkPad X1', serial: 'PF12AB' })).toBe(false);
        expect(await h.isCorporateIdentifier({ manufacturer: 'Lenovo', model: 'ThinkPad X1', serial: 'PF12AC' })).toBe(false);
        expect(await h.isCorporateIdentifier({ manufacturer: '', model: '', serial: '' })).toBe(false);
        expect(await h.listCorporateIdentifiers()).toEqual([
          { manufacturer: 'Lenovo', model: 'ThinkPad X1', serial: 'PF12AB', addedAt: T0 },
          { manufacturer: 'Microsoft', model: 'Surface 5', serial: '0123.4567.890', addedAt: T0 },
        ]);
        expect(await h.listCorporateIdentifiers({ limit: 1, offset: 1 })).toEqual([
          { manufacturer: 'Microsoft', model: 'Surface 5', serial: '0123.4567.890', addedAt: T0 },
        ]);
        expect(await h.addCorporateIdentifiers([{ manufacturer: 'LENOVO', model: 'THINKPAD X1', serial: 'P.F.1.2.A.B' }], at(1))).toBe(0);

        expect(await h.removeCorporateIdentifier({ manufacturer: 'lenovo', model: 'thinkpad x1', serial: 'PF.12AB' })).toBe(true);
        expect(await h.removeCorporateIdentifier({ manufacturer: 'lenovo', model: 'thinkpad x1', serial: 'PF12AB' })).toBe(false);
        expect(await h.countCorporateIdentifiers()).toBe(1);
      });

      it('replaces the whole list, and rejects a bad row without changing anything', async () => {
        const h = await freshStorage();
        await h.addCorporateIdentifiers([{ manufacturer: 'A', model: 'M', serial: '1' }], T0);
        const rows = Array.from({ length: 1203 }, (_, i) => ({ manufacturer: 'Contoso', model: 'Laptop', serial: `SN${i}` }));
        expect(await h.replaceCorporateIdentifiers([...rows, { manufacturer: 'contoso', model: 'laptop', serial: 'sn7' }], at(1))).toBe(
          1203,
        );
        expect(await h.countCorporateIdentifiers()).toBe(1203);
        expect(await h.isCorporateIdentifier({ manufacturer: 'A', model: 'M', serial: '1' })).toBe(false);
        expect(await h.isCorporateIdentifier({ manufacturer: 'Contoso', model: 'Laptop', serial: 'SN1202' })).toBe(true);

        const err = await expectCode(
          h.replaceCorporateIdentifiers(
            [
              { manufacturer: 'X', model: 'Y', serial: 'Z' },
              { manufacturer: 'X', model: ' ', serial: 'Z2' },
            ],
            at(2),
          ),
          'invalid_input',
          InvalidInputError,
        );
        expect(err.message).toContain('row 2');
        await expectCode(
          h.addCorporateIdentifiers([{ manufacturer: 'X', model: 'Y', serial: '...' }], at(2)),
          'invalid_input',
          InvalidInputError,
        );
        expect(await h.countCorporateIdentifiers()).toBe(1203);
        expect(await h.replaceCorporateIdentifiers([], at(3))).toBe(0);
        expect(await h.countCorporateIdentifiers()).toBe(0);
      });
    });

    describe('device counts', () => {
      it('counts enrolled, recent, user-enrolled (Full) devices of the user toward the limit', async () => {
        const userId = `user-${uid()}`;
        const now = at(200 * DAY);
        const since = new Date(now.getTime() - 90 * DAY);
        const mine = (o: Partial<NewEnrollment> = {}) => enroll({ userId, upn: `${userId}@contoso.com`, ...o });

        const recent = await mine({ now: at(199 * DAY) });
        const checkedIn = await mine({ now: at(0) });
        await s.recordCheckIn(checkedIn.pk, at(150 * DAY));
        await mine({ now: at(0) }); // enrolled long ago, never checked in since
        await mine({ enrollmentType: 'Device', now: at(199 * DAY) }); // device context: shared
        const gone = await mine({ now: at(199 * DAY) });
        await s.markUnenrolled(gone.pk, at(199 * DAY));
        const retired = await mine({ now: at(199 * DAY) });
        await s.markRetired(retired.pk, at(199 * DAY));
        await enroll({ now: at(199 * DAY) }); // someone else's
        const reenrolled = await mine({ now: at(0) });
        await mine({ deviceId: reenrolled.input.deviceId, now: at(120 * DAY) }); // re-enrolled recently

        expect(await s.countUserDevicesForLimit(userId, { since })).toBe(3);
        expect(await s.countUserDevicesForLimit(userId, { since, excludeDeviceId: recent.input.deviceId.toLowerCase() })).toBe(2);
        expect(await s.countUserDevicesForLimit(userId, { since, excludeDeviceId: 'NOT-A-DEVICE' })).toBe(3);
        expect(await s.countUserDevicesForLimit(userId, { since: at(0) })).toBe(4);
        expect(await s.countUserDevicesForLimit(`nobody-${uid()}`, { since })).toBe(0);

        // Everything enrolled and not retired, any type or age.
        expect(await s.countDevicesEnrolledBy(userId)).toBe(5);
        expect(await s.countDevicesEnrolledBy(userId, { excludeDeviceId: recent.input.deviceId })).toBe(4);
      });
    });

    describe('ownership', () => {
      it('records the ownership with its rule and reads it back', async () => {
        const { pk, input } = await enroll({ enrollmentType: 'Device' });
        expect(await s.getOwnership(pk)).toEqual({ ownership: 'corporate', rule: null });
        await s.recordOwnership(pk, 'personal', 'directory join of a device not listed in the corporate device identifiers');
        expect(await s.getOwnership(pk)).toEqual({
          ownership: 'personal',
          rule: 'directory join of a device not listed in the corporate device identifiers',
        });
        expect((await s.getManagedDevice(input.deviceId))?.ownership).toBe('personal');
        await s.recordOwnership(pk, 'corporate', 'changed by admin@contoso.com');
        expect(await s.getOwnership(pk)).toEqual({ ownership: 'corporate', rule: 'changed by admin@contoso.com' });
        await expectCode(s.recordOwnership(pk, 'shared' as 'corporate', 'x'), 'invalid_input', InvalidInputError);
        await expectCode(s.recordOwnership(pk, 'corporate', ' '), 'invalid_input', InvalidInputError);
        await expectCode(s.recordOwnership(`missing-${uid()}`, 'corporate', 'x'), 'not_found', NotFoundError);
        expect(await s.getOwnership(`missing-${uid()}`)).toBeUndefined();
      });
    });

    describe('enrollment attempts', () => {
      const attempt = (o: Partial<NewEnrollmentAttempt> = {}): NewEnrollmentAttempt => ({
        at: T0,
        traceId: `trace-${uid()}`,
        upn: 'Alice@Contoso.com',
        userId: 'user-alice',
        deviceId: 'abcdef0123456789abcdef0123456789',
        method: 'automatic',
        enrollmentType: 'Full',
        osVersion: '10.0.22631.4391',
        ownership: 'personal',
        outcome: 'mdm',
        errorType: null,
        subcode: null,
        reasons: ['ownership personal: adding a work account is personal', 'in the MDM user scope'],
        policies: { platform: 'Default', deviceLimit: 'Default' },
        ...o,
      });

      it('records attempts and lists them newest first with filters', async () => {
        const h = await freshStorage();
        const a1 = await h.recordEnrollmentAttempt(attempt({ at: at(1000) }));
        expect(a1).toEqual({
          ...attempt({ at: at(1000), traceId: a1.traceId }),
          id: expect.any(String),
          upn: 'alice@contoso.com',
          deviceId: 'ABCDEF0123456789ABCDEF0123456789',
        });
        const a2 = await h.recordEnrollmentAttempt(
          attempt({
            at: at(2000),
            outcome: 'refused',
            errorType: 'DeviceCapReached',
            subcode: 'Authorization',
            reasons: ['limit reached'],
            policies: { deviceLimit: 'Two' },
          }),
        );
        const a3 = await h.recordEnrollmentAttempt(
          attempt({
            at: at(2000),
            upn: null,
            userId: null,
            deviceId: null,
            method: 'bulk',
            enrollmentType: null,
            ownership: null,
            outcome: 'mam',
            policies: {},
          }),
        );
        const a4 = await h.recordEnrollmentAttempt(attempt({ at: at(500), upn: 'bob@contoso.com', outcome: 'refused' }));

        const ids = (list: Array<{ id: string }>) => list.map((x) => x.id);
        expect(ids(await h.listEnrollmentAttempts({ limit: 10 }))).toEqual([a3.id, a2.id, a1.id, a4.id]);
        expect(ids(await h.listEnrollmentAttempts({ limit: 2 }))).toEqual([a3.id, a2.id]);
        expect(ids(await h.listEnrollmentAttempts({ limit: 10, upn: 'ALICE@contoso.com' }))).toEqual([a2.id, a1.id]);
        expect(ids(await h.listEnrollmentAttempts({ limit: 10, outcome: 'refused' }))).toEqual([a2.id, a4.id]);
        expect(ids(await h.listEnrollmentAttempts({ limit: 10, since: at(1000) }))).toEqual([a3.id, a2.id, a1.id]);
        expect(ids(await h.listEnrollmentAttempts({ limit: 10, before: at(2000) }))).toEqual([a1.id, a4.id]);
        expect(ids(await h.listEnrollmentAttempts({ limit: 10, deviceId: 'abcdef0123456789ABCDEF0123456789' }))).toEqual([
          a2.id,
          a1.id,
          a4.id,
        ]);
        expect(await h.listEnrollmentAttempts({ limit: 0 })).toEqual([]);
        const [latestRefusal] = await h.listEnrollmentAttempts({ limit: 1, outcome: 'refused' });
        expect(latestRefusal).toEqual(a2);
        expect((await h.listEnrollmentAttempts({ limit: 10, outcome: 'mam' }))[0]).toEqual(a3);

        expect(await h.countEnrollmentAttempts({ since: at(0) })).toBe(4);
        expect(await h.countEnrollmentAttempts({ since: at(1000) })).toBe(3);
        expect(await h.countEnrollmentAttempts({ since: at(0), outcome: 'refused' })).toBe(2);

        expect(await h.pruneEnrollmentAttempts(at(1000))).toBe(1);
        expect(ids(await h.listEnrollmentAttempts({ limit: 10 }))).toEqual([a3.id, a2.id, a1.id]);
        expect(await h.pruneEnrollmentAttempts(at(1000))).toBe(0);
      });

      it('rejects an unknown outcome and malformed reasons', async () => {
        await expectCode(s.recordEnrollmentAttempt(attempt({ outcome: 'maybe' as 'mdm' })), 'invalid_input', InvalidInputError);
        await expectCode(s.recordEnrollmentAttempt(attempt({ reasons: [1 as unknown as string] })), 'invalid_input', InvalidInputError);
        await expectCode(s.recordEnrollmentAttempt(attempt({ traceId: '' })), 'invalid_input', InvalidInputError);
      });
    });

    describe('upgrade from 0003', () => {
      it('keeps existing devices (ownership rule unknown) and creates the default restrictions', async () => {
        const db = await target.createDatabase();
        databases.push(db);
        const location = parseStorageUrl(db.url);
        const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
        const now = T0.toISOString();
        try {
          const { error } = await new Migrator({ db: opened.db, provider: new StaticMigrationProvider(opened.kind) }).migrateTo(
            '0003_renewal',
          );
          expect(error).toBeUndefined();
          await opened.db
            .insertInto('devices')
            .values({
              id: 'dev-old',
              device_id: 'DEV-OLD',
              enrollment_type: 'Device',
              user_id: 'u',
              upn: 'u@contoso.com',
              status: 'enrolled',
              first_enrolled_at: now,
              last_enrolled_at: now,
              current_enrollment_id: null,
              ownership: 'corporate',
            } as never)
            .execute();
        } finally {
          await opened.db.destroy();
        }
        const h = await openStorage(db.url);
        handles.push(h);
        expect(await h.getOwnership('dev-old')).toEqual({ ownership: 'corporate', rule: null });
        expect((await h.listRestrictions()).map((r) => [r.type, r.name, r.isDefault])).toEqual([
          ['deviceLimit', 'Default', true],
          ['platform', 'Default', true],
        ]);
        expect(await h.getTenantSettings()).toEqual(defaultTenantSettings());
      });
    });
  });
}
