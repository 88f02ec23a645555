/**
 * SQL repository of "who may enroll" (ports in core/policy/ports.ts): user status, nested groups,
 * licenses, tenant settings, enrollment restrictions, device enrollment managers, corporate device
 * identifiers, device counts, ownership rules and the enrollment attempt log. Free functions over a
 * Kysely handle; SqlStorage wraps each in its error mapping. Every function is one statement or one
 * transaction.
 *
 * Writes whose checks read other rows (cycle refusal, seat counting, restriction priorities) are
 * serialised: SQLite has one writer at a time (BEGIN IMMEDIATE); PostgreSQL takes a transaction-scoped
 * advisory lock per concern.
 */
import { type Kysely, type Selectable, type SqlBool, sql, type Transaction } from 'kysely';
import type { Group, Ownership } from '../../core/management/ports.js';
import {
  type CorporateIdentifier,
  DEFAULT_DEVICE_LIMIT,
  DEFAULT_PLATFORM_RESTRICTION,
  DEFAULT_RESTRICTION_NAME,
  type DeviceEnrollmentManager,
  type DeviceLimitRestrictionConfig,
  defaultTenantSettings,
  type EnrollmentAttempt,
  type EnrollmentOutcome,
  type EffectiveLicense,
  type GroupLicenseAssignment,
  type GroupWithCounts,
  type LicenseAssignment,
  type LicenseUsage,
  MAX_GROUP_NESTING_DEPTH,
  type NewEnrollmentAttempt,
  type PlatformRestrictionConfig,
  type Restriction,
  type RestrictionConfigs,
  type RestrictionType,
  type ScopeMode,
  type TenantSettings,
  type UserScope,
} from '../../core/policy/ports.js';
import type { EnrollmentType, User } from '../../core/ports.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../shared/errors.js';
import { boolFromDb, boolToDb, stringArrayFromDb, timeFromDb, timeToDb } from './codecs.js';
import { groupsOfUsers, usersInGroups } from './group-closure.js';
import { newId } from './ids.js';
import type { SqlDialectKind } from './migrations/index.js';
import type { CorporateIdentifiersTable, Database, EnrollmentAttemptsTable, EnrollmentRestrictionsTable, UsersTable } from './schema.js';

type Db = Kysely<Database>;

/** First key of this module's PostgreSQL advisory locks ("WnRP"); the second names the concern. */
const LOCK_NS = 0x576e5250;
const LOCK = { groups: 1, restrictions: 2, licenses: 3 } as const;
/** Rows per multi-row statement: far below SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 500;

async function serialise(trx: Transaction<Database>, kind: SqlDialectKind, key: number): Promise<void> {
  if (kind === 'postgres') await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_NS)}, ${sql.lit(key)})`.execute(trx);
}

function required(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidInputError(`${what} is required`);
  return value.trim();
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** `column IN (values)` with one bound parameter, whatever the number of values. */
function inList(kind: SqlDialectKind, column: string, values: readonly string[]) {
  const list = [...new Set(values)];
  return kind === 'postgres'
    ? sql<SqlBool>`${sql.ref(column)} = any(cast(${list} as text[]))`
    : sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(list)}))`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

// -- users ---------------------------------------------------------------------------------------------

/** updatedAt moves only when the flag changes, so repeating a call changes nothing. */
export async function setUserEnabled(db: Db, userId: string, enabled: boolean, now: Date): Promise<User> {
  if (typeof enabled !== 'boolean') throw new InvalidInputError('enabled must be true or false');
  const flag = boolToDb(enabled);
  const row = await db
    .updateTable('users')
    .set((eb) => ({
      enabled: flag,
      updated_at: eb.case().when('enabled', '<>', flag).then(timeToDb(now)).else(eb.ref('updated_at')).end(),
    }))
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`user ${userId} does not exist`);
  return toUser(row);
}

// -- nested groups -------------------------------------------------------------------------------------

type Edge = { parent_id: string; child_id: string };

/**
 * The group-in-group links below (`down`: the start's descendants) or above (`up`: its ancestors) one
 * group. The recursive CTE keeps each group once (UNION), so it ends even on a cycle.
 */
async function linksFrom(db: Db | Transaction<Database>, start: string, direction: 'down' | 'up'): Promise<Edge[]> {
  const q =
    direction === 'down'
      ? sql<Edge>`with recursive reach(id) as (
            select cast(${start} as text)
            union
            select gg.child_id from group_groups gg join reach r on gg.parent_id = r.id
          )
          select gg.parent_id, gg.child_id from group_groups gg join reach r on gg.parent_id = r.id`
      : sql<Edge>`with recursive reach(id) as (
            select cast(${start} as text)
            union
            select gg.parent_id from group_groups gg join reach r on gg.child_id = r.id
          )
          select gg.parent_id, gg.child_id from group_groups gg join reach r on gg.child_id = r.id`;
  return (await q.execute(db)).rows;
}

/** A path of links from `from` to `to` following parent → child (breadth first: a shortest one). */
function pathBetween(edges: Edge[], from: string, to: string): string[] | undefined {
  const children = new Map<string, string[]>();
  for (const e of edges) children.set(e.parent_id, [...(children.get(e.parent_id) ?? []), e.child_id]);
  const cameFrom = new Map<string, string>([[from, from]]);
  const queue = [from];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    if (at === to) {
      const path = [to];
      while (path[0] !== from) path.unshift(cameFrom.get(path[0] as string) as string);
      return path;
    }
    for (const next of children.get(at) ?? []) {
      if (!cameFrom.has(next)) {
        cameFrom.set(next, at);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** The most links on any chain leaving `start` along `next` (0 for none); a cycle, should one exist, ends a chain. */
function longestChain(start: string, next: Map<string, string[]>): number {
  const memo = new Map<string, number>();
  const visiting = new Set<string>();
  const walk = (id: string): number => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let best = 0;
    for (const n of next.get(id) ?? []) best = Math.max(best, 1 + walk(n));
    visiting.delete(id);
    memo.set(id, best);
    return best;
  };
  return walk(start);
}

function adjacency(edges: Edge[], direction: 'down' | 'up'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of edges) {
    const [from, to] = direction === 'down' ? [e.parent_id, e.child_id] : [e.child_id, e.parent_id];
    out.set(from, [...(out.get(from) ?? []), to]);
  }
  return out;
}

export async function addGroupToGroup(db: Db, kind: SqlDialectKind, parentId: string, childId: string): Promise<void> {
  required(parentId, 'parent group id');
  required(childId, 'member group id');
  await db.transaction().execute(async (trx) => {
    await serialise(trx, kind, LOCK.groups);
    const named = await trx.selectFrom('groups').select(['id', 'name']).where('id', 'in', [parentId, childId]).execute();
    const names = new Map(named.map((g) => [g.id, g.name]));
    const parentName = names.get(parentId);
    const childName = names.get(childId);
    if (parentName === undefined) throw new NotFoundError(`group ${parentId} does not exist`);
    if (childName === undefined) throw new NotFoundError(`group ${childId} does not exist`);
    if (parentId === childId) throw new InvalidInputError(`group "${parentName}" cannot contain itself`);
    const existing = await trx
      .selectFrom('group_groups')
      .select('parent_id')
      .where('parent_id', '=', parentId)
      .where('child_id', '=', childId)
      .executeTakeFirst();
    if (existing) return;

    const below = await linksFrom(trx, childId, 'down');
    const back = pathBetween(below, childId, parentId);
    if (back) {
      const onPath = await trx.selectFrom('groups').select(['id', 'name']).where('id', 'in', back).execute();
      const nameOf = new Map(onPath.map((g) => [g.id, g.name]));
      const cycle = [parentId, ...back].map((id) => `"${nameOf.get(id) ?? id}"`).join(' contains ');
      throw new InvalidInputError(
        `cannot add group "${childName}" to "${parentName}": "${childName}" already contains "${parentName}", so this would make a cycle: ${cycle}`,
      );
    }
    const above = await linksFrom(trx, parentId, 'up');
    const depth = longestChain(parentId, adjacency(above, 'up')) + 1 + longestChain(childId, adjacency(below, 'down'));
    if (depth > MAX_GROUP_NESTING_DEPTH) {
      throw new InvalidInputError(
        `cannot add group "${childName}" to "${parentName}": groups would be nested ${depth} levels deep (at most ${MAX_GROUP_NESTING_DEPTH})`,
      );
    }
    await trx
      .insertInto('group_groups')
      .values({ parent_id: parentId, child_id: childId })
      .onConflict((oc) => oc.columns(['parent_id', 'child_id']).doNothing())
      .execute();
  });
}

export async function removeGroupFromGroup(db: Db, parentId: string, childId: string): Promise<void> {
  await db.deleteFrom('group_groups').where('parent_id', '=', parentId).where('child_id', '=', childId).execute();
}

export async function listChildGroups(db: Db, groupId: string): Promise<Group[]> {
  const rows = await db
    .selectFrom('group_groups as gg')
    .innerJoin('groups as g', 'g.id', 'gg.child_id')
    .select(['g.id', 'g.name', 'g.created_at'])
    .where('gg.parent_id', '=', groupId)
    .orderBy('g.name')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: timeFromDb(r.created_at) }));
}

/** The groups holding the user directly or through nesting (group-closure.ts). */
export async function groupsOfUser(db: Db, userId: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select distinct ug.group_id as id from ${groupsOfUsers([userId])} as ug order by id`.execute(db);
  return rows.map((r) => r.id);
}

/** The users in the group or in a group nested in it (group-closure.ts). */
export async function usersInGroup(db: Db, groupId: string): Promise<string[]> {
  const { rows } = await sql<{ user_id: string }>`
    select distinct u.user_id from ${usersInGroups([groupId])} as u order by u.user_id`.execute(db);
  return rows.map((r) => r.user_id);
}

export async function groupHasUsers(db: Db, groupId: string): Promise<boolean> {
  const { rows } = await sql<{ one: number }>`
    select 1 as one from ${usersInGroups([groupId])} as u limit 1`.execute(db);
  return rows.length > 0;
}

/** One query: the closure of every group (itself and its descendants) joined to the members. */
export async function listGroupsWithCounts(db: Db): Promise<GroupWithCounts[]> {
  const { rows } = await sql<{
    id: string;
    name: string;
    created_at: string;
    direct_members: number | string;
    transitive_members: number | string;
    child_groups: number | string;
    parent_groups: number | string;
  }>`
    with recursive closure(ancestor, descendant, depth) as (
      select id, id, 0 from groups
      union
      select c.ancestor, gg.child_id, c.depth + 1 from closure c join group_groups gg on gg.parent_id = c.descendant
      where c.depth < ${sql.lit(MAX_GROUP_NESTING_DEPTH)}
    ),
    transitive as (
      select c.ancestor as group_id, count(distinct m.user_id) as n
      from closure c join group_members m on m.group_id = c.descendant
      group by c.ancestor
    )
    select g.id, g.name, g.created_at,
      (select count(*) from group_members m where m.group_id = g.id) as direct_members,
      coalesce((select t.n from transitive t where t.group_id = g.id), 0) as transitive_members,
      (select count(*) from group_groups gg where gg.parent_id = g.id) as child_groups,
      (select count(*) from group_groups gg where gg.child_id = g.id) as parent_groups
    from groups g
    order by g.name`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    createdAt: timeFromDb(r.created_at),
    directMemberCount: Number(r.direct_members),
    transitiveMemberCount: Number(r.transitive_members),
    childGroupCount: Number(r.child_groups),
    parentGroupCount: Number(r.parent_groups),
  }));
}

// -- licenses ------------------------------------------------------------------------------------------

type Q = Db | Transaction<Database>;

/**
 * Direct licenses first; group licenses reach enabled members (nesting included). Nothing is stored per
 * member: every read follows the membership tables, so sync and nesting changes count at once. Seat order
 * of group-licensed users (ports.ts LicenseStore): the group licensed first, then the oldest account.
 */
export async function assignLicense(db: Db, kind: SqlDialectKind, userId: string, now: Date): Promise<boolean> {
  const at = timeToDb(now);
  return db.transaction().execute(async (trx) => {
    await serialise(trx, kind, LOCK.licenses);
    const held = await trx.selectFrom('user_licenses').select('user_id').where('user_id', '=', userId).executeTakeFirst();
    if (held) return false;
    const user = await trx.selectFrom('users').select('upn').where('id', '=', userId).executeTakeFirst();
    if (!user) throw new NotFoundError(`user ${userId} does not exist`);
    const seats = (await readSettings(trx)).licenseSeats;
    if (seats !== null) {
      const direct = await countLicenses(trx);
      const grouped = await groupLicensedUsers(trx);
      const seated = Math.min(grouped.length, Math.max(0, seats - direct));
      // A user already seated through a group keeps the same seat when assigned directly.
      const index = grouped.indexOf(userId);
      if (direct + seated >= seats && !(index >= 0 && index < seated)) {
        throw new ConflictError(`cannot license ${user.upn}: all ${seats} license seats are in use`);
      }
    }
    await trx.insertInto('user_licenses').values({ user_id: userId, assigned_at: at }).execute();
    return true;
  });
}

export async function removeLicense(db: Db, userId: string): Promise<boolean> {
  const res = await db.deleteFrom('user_licenses').where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

async function hasDirectLicense(db: Q, userId: string): Promise<boolean> {
  const row = await db.selectFrom('user_licenses').select('user_id').where('user_id', '=', userId).executeTakeFirst();
  return row !== undefined;
}

/** Whether `userId` is seated among the group-licensed users (who hold no direct license). */
async function seatedThroughGroups(db: Q, userId: string, seats: number): Promise<boolean> {
  const [direct, grouped] = await Promise.all([countLicenses(db), groupLicensedUsers(db)]);
  const index = grouped.indexOf(userId);
  return index >= 0 && direct + index < seats;
}

export async function hasLicense(db: Db, userId: string): Promise<boolean> {
  if (await hasDirectLicense(db, userId)) return true;
  // One query for the common case: is the user enabled and in a licensed group at all?
  const { rows } = await sql<{ one: number }>`
    select 1 as one from ${groupsOfUsers([userId])} as ug
    join group_licenses gl on gl.group_id = ug.group_id
    join users u on u.id = ug.user_id
    where u.enabled = 1
    limit 1`.execute(db);
  if (rows.length === 0) return false;
  const seats = (await readSettings(db)).licenseSeats;
  return seats === null || seatedThroughGroups(db, userId, seats);
}

export async function licenseOf(db: Db, userId: string): Promise<EffectiveLicense> {
  const [direct, user, settings] = await Promise.all([
    hasDirectLicense(db, userId),
    db.selectFrom('users').select('enabled').where('id', '=', userId).executeTakeFirst(),
    readSettings(db),
  ]);
  const seats = settings.licenseSeats;
  const groupPath = user && boolFromDb(user.enabled) ? await licensedGroupPath(db, userId) : [];
  const viaGroup = !direct && groupPath.length > 0 && (seats === null || (await seatedThroughGroups(db, userId, seats)));
  return { licensed: direct || viaGroup, direct, groupPath, beyondSeats: !direct && groupPath.length > 0 && !viaGroup, seats };
}

/**
 * The shortest route from one of the user's groups up to a licensed group (breadth first over the nesting
 * links, at most MAX_GROUP_NESTING_DEPTH deep); among licensed groups at the same depth, the one licensed
 * first. Group graphs are small, so this reads the links once and walks them here.
 */
async function licensedGroupPath(db: Db, userId: string): Promise<Array<{ id: string; name: string }>> {
  const [own, licensed] = await Promise.all([
    db.selectFrom('group_members').select('group_id').where('user_id', '=', userId).execute(),
    db.selectFrom('group_licenses').select(['group_id', 'assigned_at']).execute(),
  ]);
  if (own.length === 0 || licensed.length === 0) return [];
  const licensedAt = new Map(licensed.map((l) => [l.group_id, l.assigned_at]));
  const edges = await db.selectFrom('group_groups').select(['parent_id', 'child_id']).execute();
  const parents = new Map<string, string[]>();
  for (const e of edges) parents.set(e.child_id, [...(parents.get(e.child_id) ?? []), e.parent_id]);
  const route = new Map<string, string[]>(own.map((m) => [m.group_id, [m.group_id]]));
  let level = [...route.keys()].sort();
  for (let depth = 0; level.length > 0 && depth <= MAX_GROUP_NESTING_DEPTH; depth++) {
    const hits = level.filter((g) => licensedAt.has(g));
    if (hits.length > 0) {
      hits.sort((a, b) => cmpStr(licensedAt.get(a) ?? '', licensedAt.get(b) ?? '') || cmpStr(a, b));
      const ids = route.get(hits[0] as string) ?? [];
      const names = new Map(
        (await db.selectFrom('groups').select(['id', 'name']).where('id', 'in', ids).execute()).map((g) => [g.id, g.name]),
      );
      return ids.map((id) => ({ id, name: names.get(id) ?? id }));
    }
    const next: string[] = [];
    for (const g of level) {
      for (const p of parents.get(g) ?? []) {
        if (route.has(p)) continue;
        route.set(p, [...(route.get(g) ?? []), p]);
        next.push(p);
      }
    }
    level = next.sort();
  }
  return [];
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Enabled users reached by a group license who hold no direct one, in seat order: the earliest licensed
 * group reaching them, then account creation, then id. The CTE carries the licensed root down the nesting.
 */
async function groupLicensedUsers(db: Q): Promise<string[]> {
  const { rows } = await sql<{ user_id: string }>`
    with recursive down(root_id, id, depth) as (
      select gl.group_id, gl.group_id, 0 from group_licenses gl
      union
      select d.root_id, gg.child_id, d.depth + 1 from group_groups gg join down d on gg.parent_id = d.id
      where d.depth < ${sql.lit(MAX_GROUP_NESTING_DEPTH)}
    )
    select m.user_id as user_id, min(gl.assigned_at) as first_at, min(u.created_at) as created_at
    from down d
    join group_members m on m.group_id = d.id
    join group_licenses gl on gl.group_id = d.root_id
    join users u on u.id = m.user_id
    where u.enabled = 1 and not exists (select 1 from user_licenses ul where ul.user_id = m.user_id)
    group by m.user_id
    order by first_at, created_at, user_id`.execute(db);
  return rows.map((r) => r.user_id);
}

async function countLicenses(db: Q): Promise<number> {
  const row = await db
    .selectFrom('user_licenses')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function usage(db: Q): Promise<LicenseUsage & { grouped: string[] }> {
  const [direct, grouped, settings] = await Promise.all([countLicenses(db), groupLicensedUsers(db), readSettings(db)]);
  const seats = settings.licenseSeats;
  const throughGroups = seats === null ? grouped.length : Math.min(grouped.length, Math.max(0, seats - direct));
  const assigned = direct + throughGroups;
  return {
    assigned,
    direct,
    throughGroups,
    withoutSeat: grouped.length - throughGroups,
    seats,
    available: seats === null ? null : Math.max(0, seats - assigned),
    grouped,
  };
}

export async function licenseUsage(db: Db): Promise<LicenseUsage> {
  const { grouped: _grouped, ...u } = await usage(db);
  return u;
}

export async function licenseCounts(db: Db): Promise<{ assigned: number; seats: number | null; available: number | null }> {
  const u = await usage(db);
  return { assigned: u.assigned, seats: u.seats, available: u.available };
}

export async function listLicenses(db: Db): Promise<LicenseAssignment[]> {
  const rows = await db
    .selectFrom('user_licenses as l')
    .innerJoin('users as u', 'u.id', 'l.user_id')
    .select(['l.user_id', 'u.upn', 'l.assigned_at'])
    .orderBy('u.upn')
    .execute();
  return rows.map((r) => ({ userId: r.user_id, upn: r.upn, assignedAt: timeFromDb(r.assigned_at) }));
}

export async function assignGroupLicense(db: Db, groupId: string, now: Date): Promise<boolean> {
  const at = timeToDb(now);
  return db.transaction().execute(async (trx) => {
    const group = await trx.selectFrom('groups').select('id').where('id', '=', groupId).executeTakeFirst();
    if (!group) throw new NotFoundError(`group ${groupId} does not exist`);
    const res = await trx
      .insertInto('group_licenses')
      .values({ group_id: groupId, assigned_at: at })
      .onConflict((oc) => oc.column('group_id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  });
}

export async function removeGroupLicense(db: Db, groupId: string): Promise<boolean> {
  const res = await db.deleteFrom('group_licenses').where('group_id', '=', groupId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function listGroupLicenses(db: Db): Promise<GroupLicenseAssignment[]> {
  const groups = await db
    .selectFrom('group_licenses as gl')
    .innerJoin('groups as g', 'g.id', 'gl.group_id')
    .select(['g.id', 'g.name', 'gl.assigned_at'])
    .orderBy('g.name')
    .execute();
  if (groups.length === 0) return [];
  const u = await usage(db);
  const seated = new Set(u.grouped.slice(0, u.throughGroups));
  const direct = new Set((await db.selectFrom('user_licenses').select('user_id').execute()).map((r) => r.user_id));
  const out: GroupLicenseAssignment[] = [];
  for (const g of groups) {
    const { rows } = await sql<{ user_id: string }>`
      select distinct m.user_id as user_id from ${usersInGroups([g.id])} as m
      join users u on u.id = m.user_id where u.enabled = 1`.execute(db);
    out.push({
      groupId: g.id,
      name: g.name,
      assignedAt: timeFromDb(g.assigned_at),
      memberCount: rows.length,
      licensedCount: rows.filter((r) => direct.has(r.user_id) || seated.has(r.user_id)).length,
    });
  }
  return out;
}

// -- tenant settings -----------------------------------------------------------------------------------

const SCOPE_MODES: readonly ScopeMode[] = ['none', 'some', 'all'];
const MFA_MODES: readonly TenantSettings['mfa']['required'][] = ['off', 'all', 'groups'];
const URL_KEYS = ['termsOfUse', 'discovery', 'compliance'] as const;

function groupIdList(v: unknown, what: string): string[] {
  if (!Array.isArray(v)) throw new InvalidInputError(`${what} must be a list of group ids`);
  const out: string[] = [];
  for (const id of v) {
    const g = required(id, `${what} entry`);
    if (!out.includes(g)) out.push(g);
  }
  return out;
}

function scopeFrom(v: unknown, what: string): UserScope {
  if (!isObject(v) || !SCOPE_MODES.includes(v.mode as ScopeMode)) throw new InvalidInputError(`${what} mode must be none, some or all`);
  return { mode: v.mode as ScopeMode, groupIds: groupIdList(v.groupIds ?? [], `${what} groups`) };
}

function urlFrom(v: unknown, what: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new InvalidInputError(`${what} must be a URL or null`);
  let url: URL;
  try {
    url = new URL(v.trim());
  } catch {
    throw new InvalidInputError(`${what} is not a valid URL: ${v}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidInputError(`${what} must be an http(s) URL`);
  return v.trim();
}

/** Strict: what saveTenantSettings accepts, in canonical form. */
function validSettings(input: TenantSettings): TenantSettings {
  if (!isObject(input)) throw new InvalidInputError('tenant settings must be an object');
  const urls: Record<string, unknown> = isObject(input.urls) ? input.urls : {};
  const seats = input.licenseSeats;
  if (seats !== null && !(Number.isSafeInteger(seats) && seats >= 0))
    throw new InvalidInputError('license seats must be a whole number ≥ 0, or null for unlimited');
  if (typeof input.allowUnlicensedAdmins !== 'boolean') throw new InvalidInputError('allowUnlicensedAdmins must be true or false');
  const mfa: unknown = input.mfa;
  if (!isObject(mfa) || !MFA_MODES.includes(mfa.required as TenantSettings['mfa']['required'])) {
    throw new InvalidInputError('MFA requirement must be off, all or groups');
  }
  return {
    mdmScope: scopeFrom(input.mdmScope, 'MDM user scope'),
    mamScope: scopeFrom(input.mamScope, 'MAM user scope'),
    urls: {
      termsOfUse: urlFrom(urls.termsOfUse, 'terms of use URL'),
      discovery: urlFrom(urls.discovery, 'discovery URL'),
      compliance: urlFrom(urls.compliance, 'compliance URL'),
    },
    allowUnlicensedAdmins: input.allowUnlicensedAdmins,
    licenseSeats: seats,
    mfa: { required: mfa.required as TenantSettings['mfa']['required'], groupIds: groupIdList(mfa.groupIds ?? [], 'MFA groups') },
  };
}

/** Lenient: the stored document over the defaults, field by field; anything unreadable stays default. */
function settingsFromDb(text: string | undefined): TenantSettings {
  const out = defaultTenantSettings();
  const stored = text === undefined ? null : parseJson(text);
  if (!isObject(stored)) return out;
  const attempt = <T>(read: () => T, keep: (v: T) => void) => {
    try {
      keep(read());
    } catch {
      // keep the default
    }
  };
  attempt(
    () => scopeFrom(stored.mdmScope, 'MDM user scope'),
    (v) => {
      out.mdmScope = v;
    },
  );
  attempt(
    () => scopeFrom(stored.mamScope, 'MAM user scope'),
    (v) => {
      out.mamScope = v;
    },
  );
  if (isObject(stored.urls)) {
    const urls = stored.urls;
    for (const k of URL_KEYS) {
      attempt(
        () => urlFrom(urls[k], k),
        (v) => {
          out.urls[k] = v;
        },
      );
    }
  }
  if (typeof stored.allowUnlicensedAdmins === 'boolean') out.allowUnlicensedAdmins = stored.allowUnlicensedAdmins;
  const seats = stored.licenseSeats;
  if (seats === null || (typeof seats === 'number' && Number.isSafeInteger(seats) && seats >= 0)) out.licenseSeats = seats;
  const mfa = stored.mfa;
  if (isObject(mfa) && MFA_MODES.includes(mfa.required as TenantSettings['mfa']['required'])) {
    attempt(
      () => groupIdList(mfa.groupIds ?? [], 'MFA groups'),
      (groupIds) => {
        out.mfa = { required: mfa.required as TenantSettings['mfa']['required'], groupIds };
      },
    );
  }
  return out;
}

async function readSettings(db: Db | Transaction<Database>): Promise<TenantSettings> {
  const row = await db.selectFrom('tenant_settings').select('settings').where('id', '=', 1).executeTakeFirst();
  return settingsFromDb(row?.settings);
}

export async function getTenantSettings(db: Db): Promise<TenantSettings> {
  return readSettings(db);
}

export async function saveTenantSettings(db: Db, settings: TenantSettings, now: Date): Promise<TenantSettings> {
  const valid = validSettings(settings);
  const at = timeToDb(now);
  const json = JSON.stringify(valid);
  return db.transaction().execute(async (trx) => {
    const wanted = [...new Set([...valid.mdmScope.groupIds, ...valid.mamScope.groupIds, ...valid.mfa.groupIds])];
    if (wanted.length > 0) {
      const found = new Set((await trx.selectFrom('groups').select('id').where('id', 'in', wanted).execute()).map((g) => g.id));
      const missing = wanted.find((id) => !found.has(id));
      if (missing !== undefined) throw new NotFoundError(`group ${missing} does not exist`);
    }
    await trx
      .insertInto('tenant_settings')
      .values({ id: 1, settings: json, updated_at: at })
      .onConflict((oc) => oc.column('id').doUpdateSet({ settings: json, updated_at: at }))
      .execute();
    return valid;
  });
}

// -- enrollment restrictions ---------------------------------------------------------------------------

const VERSION = /^\d{1,9}(\.\d{1,9}){0,3}$/;
const RESTRICTION_TYPES: readonly RestrictionType[] = ['platform', 'deviceLimit'];

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function versionFrom(v: unknown, what: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || !VERSION.test(v.trim())) {
    throw new InvalidInputError(`${what} must be a dotted version such as 10.0.22631.0 (got ${JSON.stringify(v)})`);
  }
  return v.trim();
}

function restrictionType(type: unknown): RestrictionType {
  if (!RESTRICTION_TYPES.includes(type as RestrictionType)) throw new InvalidInputError(`unknown restriction type ${JSON.stringify(type)}`);
  return type as RestrictionType;
}

/** Validates a config of `type` and returns it with a fixed key order. */
function validConfig<T extends RestrictionType>(type: T, config: unknown): RestrictionConfigs[T];
function validConfig(type: RestrictionType, config: unknown): PlatformRestrictionConfig | DeviceLimitRestrictionConfig {
  if (!isObject(config)) throw new InvalidInputError(`a ${type} restriction needs a config object`);
  if (type === 'deviceLimit') {
    const limit = config.limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 15) {
      throw new InvalidInputError(`the device limit must be a whole number from 1 to 15 (got ${JSON.stringify(limit)})`);
    }
    return { limit };
  }
  if (config.windowsMdm !== 'allow' && config.windowsMdm !== 'block') throw new InvalidInputError('Windows (MDM) must be allow or block');
  if (typeof config.blockPersonal !== 'boolean') throw new InvalidInputError('blockPersonal must be true or false');
  const minOsVersion = versionFrom(config.minOsVersion, 'the minimum OS version');
  const maxOsVersion = versionFrom(config.maxOsVersion, 'the maximum OS version');
  if (minOsVersion !== null && maxOsVersion !== null && compareVersions(minOsVersion, maxOsVersion) > 0) {
    throw new InvalidInputError(`the minimum OS version ${minOsVersion} is above the maximum ${maxOsVersion}`);
  }
  return { windowsMdm: config.windowsMdm, minOsVersion, maxOsVersion, blockPersonal: config.blockPersonal };
}

type RestrictionRow = Selectable<EnrollmentRestrictionsTable>;

async function withAssignments(db: Db | Transaction<Database>, rows: RestrictionRow[]): Promise<Restriction[]> {
  if (rows.length === 0) return [];
  const assigned = await db
    .selectFrom('restriction_assignments')
    .select(['restriction_id', 'group_id'])
    .where(
      'restriction_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('group_id')
    .execute();
  const byRestriction = new Map<string, string[]>();
  for (const a of assigned) byRestriction.set(a.restriction_id, [...(byRestriction.get(a.restriction_id) ?? []), a.group_id]);
  return rows.map((r) => toRestriction(r, byRestriction.get(r.id) ?? []));
}

async function oneWithAssignments(db: Db | Transaction<Database>, row: RestrictionRow): Promise<Restriction> {
  const [r] = await withAssignments(db, [row]);
  if (!r) throw new Error('unreachable: a restriction row maps to one restriction');
  return r;
}

function selectRestrictions(db: Db | Transaction<Database>) {
  return db.selectFrom('enrollment_restrictions').selectAll();
}

async function restrictionRow(db: Db | Transaction<Database>, id: string): Promise<RestrictionRow> {
  const row = await selectRestrictions(db).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`restriction ${id} does not exist`);
  return row;
}

/** Gives the listed non-default policies of a type priorities 1..n in that order; `moved` gets updated_at. */
async function renumber(
  trx: Transaction<Database>,
  type: RestrictionType,
  order: string[],
  touch?: { id: string; at: string },
): Promise<void> {
  // Out of the way first: (type, priority) is unique and both engines check it row by row.
  await trx
    .updateTable('enrollment_restrictions')
    .set((eb) => ({ priority: eb.neg(eb.ref('priority')) }))
    .where('type', '=', type)
    .where('is_default', '=', 0)
    .execute();
  for (const [i, id] of order.entries()) {
    await trx
      .updateTable('enrollment_restrictions')
      .set(touch?.id === id ? { priority: i + 1, updated_at: touch.at } : { priority: i + 1 })
      .where('id', '=', id)
      .execute();
  }
}

async function orderedIds(trx: Transaction<Database>, type: RestrictionType): Promise<string[]> {
  const rows = await trx
    .selectFrom('enrollment_restrictions')
    .select('id')
    .where('type', '=', type)
    .where('is_default', '=', 0)
    .orderBy('priority')
    .execute();
  return rows.map((r) => r.id);
}

export async function ensureDefaultRestrictions(
  db: Db,
  kind: SqlDialectKind,
  now: Date,
): Promise<{ platform: Restriction<'platform'>; deviceLimit: Restriction<'deviceLimit'> }> {
  const at = timeToDb(now);
  return db.transaction().execute(async (trx) => {
    await serialise(trx, kind, LOCK.restrictions);
    const out: Partial<Record<RestrictionType, Restriction>> = {};
    for (const type of RESTRICTION_TYPES) {
      let row = await selectRestrictions(trx).where('type', '=', type).where('is_default', '=', 1).executeTakeFirst();
      if (!row) {
        const config = type === 'platform' ? DEFAULT_PLATFORM_RESTRICTION : DEFAULT_DEVICE_LIMIT;
        // A non-default policy may carry the default's name: the default then takes a free variant.
        let name = DEFAULT_RESTRICTION_NAME;
        for (let n = 2; await selectRestrictions(trx).where('type', '=', type).where('name', '=', name).executeTakeFirst(); n++) {
          name = `${DEFAULT_RESTRICTION_NAME} (${n})`;
        }
        row = await trx
          .insertInto('enrollment_restrictions')
          .values({
            id: newId(),
            type,
            name,
            priority: null,
            is_default: 1,
            config: JSON.stringify(validConfig(type, config)),
            created_at: at,
            updated_at: at,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
      }
      out[type] = await oneWithAssignments(trx, row);
    }
    return { platform: out.platform as Restriction<'platform'>, deviceLimit: out.deviceLimit as Restriction<'deviceLimit'> };
  });
}

export async function createRestriction<T extends RestrictionType>(
  db: Db,
  kind: SqlDialectKind,
  input: { type: T; name: string; config: RestrictionConfigs[T] },
  now: Date,
): Promise<Restriction<T>> {
  const type = restrictionType(input.type);
  const name = required(input.name, 'restriction name');
  const config = validConfig(type, input.config);
  const at = timeToDb(now);
  return db.transaction().execute(async (trx) => {
    await serialise(trx, kind, LOCK.restrictions);
    const top = await trx
      .selectFrom('enrollment_restrictions')
      .select((eb) => eb.fn.max('priority').as('p'))
      .where('type', '=', type)
      .where('is_default', '=', 0)
      .executeTakeFirst();
    const row = await trx
      .insertInto('enrollment_restrictions')
      .values({
        id: newId(),
        type,
        name,
        priority: Number(top?.p ?? 0) + 1,
        is_default: 0,
        config: JSON.stringify(config),
        created_at: at,
        updated_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRestriction(row, []) as Restriction<T>;
  });
}

export async function getRestriction(db: Db, id: string): Promise<Restriction | undefined> {
  const row = await selectRestrictions(db).where('id', '=', id).executeTakeFirst();
  return row && oneWithAssignments(db, row);
}

export async function updateRestriction(
  db: Db,
  id: string,
  changes: { name?: string; config?: PlatformRestrictionConfig | DeviceLimitRestrictionConfig },
  now: Date,
): Promise<Restriction> {
  const name = changes.name === undefined ? undefined : required(changes.name, 'restriction name');
  return db.transaction().execute(async (trx) => {
    const row = await restrictionRow(trx, id);
    const config = changes.config === undefined ? undefined : validConfig(row.type as RestrictionType, changes.config);
    const updated = await trx
      .updateTable('enrollment_restrictions')
      .set({
        ...(name === undefined ? {} : { name }),
        ...(config === undefined ? {} : { config: JSON.stringify(config) }),
        updated_at: timeToDb(now),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return oneWithAssignments(trx, updated);
  });
}

export async function setRestrictionPriority(db: Db, kind: SqlDialectKind, id: string, priority: number, now: Date): Promise<void> {
  const at = timeToDb(now);
  await db.transaction().execute(async (trx) => {
    await serialise(trx, kind, LOCK.restrictions);
    const row = await restrictionRow(trx, id);
    if (boolFromDb(row.is_default))
      throw new InvalidInputError(`the default ${row.type} restriction has no priority: it always applies last`);
    const ids = await orderedIds(trx, row.type as RestrictionType);
    if (!Number.isInteger(priority) || priority < 1 || priority > ids.length) {
      throw new InvalidInputError(`priority must be a whole number from 1 to ${ids.length}`);
    }
    const order = ids.filter((x) => x !== id);
    order.splice(priority - 1, 0, id);
    await renumber(trx, row.type as RestrictionType, order, { id, at });
  });
}

export async function deleteRestriction(db: Db, kind: SqlDialectKind, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await serialise(trx, kind, LOCK.restrictions);
    const row = await restrictionRow(trx, id);
    if (boolFromDb(row.is_default)) throw new InvalidInputError(`the default ${row.type} restriction cannot be deleted`);
    await trx.deleteFrom('enrollment_restrictions').where('id', '=', id).execute();
    await renumber(trx, row.type as RestrictionType, await orderedIds(trx, row.type as RestrictionType));
  });
}

export async function assignRestriction(db: Db, id: string, groupId: string, now: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await restrictionRow(trx, id);
    if (boolFromDb(row.is_default)) {
      throw new InvalidInputError(`the default ${row.type} restriction applies to everyone; it cannot be assigned to a group`);
    }
    const group = await trx.selectFrom('groups').select('id').where('id', '=', groupId).executeTakeFirst();
    if (!group) throw new NotFoundError(`group ${groupId} does not exist`);
    await trx
      .insertInto('restriction_assignments')
      .values({ restriction_id: id, group_id: groupId, created_at: timeToDb(now) })
      .onConflict((oc) => oc.columns(['restriction_id', 'group_id']).doNothing())
      .execute();
  });
}

export async function unassignRestriction(db: Db, id: string, groupId: string): Promise<void> {
  await db.deleteFrom('restriction_assignments').where('restriction_id', '=', id).where('group_id', '=', groupId).execute();
}

export async function listRestrictions(db: Db, type?: RestrictionType): Promise<Restriction[]> {
  let q = selectRestrictions(db);
  if (type !== undefined) q = q.where('type', '=', restrictionType(type));
  const rows = await q.orderBy('type').orderBy('is_default').orderBy('priority').execute();
  return withAssignments(db, rows);
}

export async function restrictionsFor<T extends RestrictionType>(
  db: Db,
  kind: SqlDialectKind,
  groupIds: string[],
  type: T,
): Promise<Restriction<T>> {
  restrictionType(type);
  // Read-only and on the enrollment path: no transaction (on SQLite one would take the write lock).
  let row: RestrictionRow | undefined;
  if (groupIds.length > 0) {
    row = await selectRestrictions(db)
      .where('type', '=', type)
      .where('is_default', '=', 0)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('restriction_assignments as a')
            .select('a.group_id')
            .whereRef('a.restriction_id', '=', 'enrollment_restrictions.id')
            .where(inList(kind, 'a.group_id', groupIds)),
        ),
      )
      .orderBy('priority')
      .limit(1)
      .executeTakeFirst();
  }
  row ??= await selectRestrictions(db).where('type', '=', type).where('is_default', '=', 1).executeTakeFirst();
  if (!row) throw new NotFoundError(`no default ${type} restriction exists`);
  return (await oneWithAssignments(db, row)) as Restriction<T>;
}

// -- device enrollment managers ------------------------------------------------------------------------

export async function addDem(db: Db, userId: string, now: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw new NotFoundError(`user ${userId} does not exist`);
    await trx
      .insertInto('device_enrollment_managers')
      .values({ user_id: userId, added_at: timeToDb(now) })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
  });
}

export async function removeDem(db: Db, userId: string): Promise<boolean> {
  const res = await db.deleteFrom('device_enrollment_managers').where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function isDem(db: Db, userId: string): Promise<boolean> {
  const row = await db.selectFrom('device_enrollment_managers').select('user_id').where('user_id', '=', userId).executeTakeFirst();
  return row !== undefined;
}

export async function listDems(db: Db): Promise<DeviceEnrollmentManager[]> {
  const rows = await db
    .selectFrom('device_enrollment_managers as d')
    .innerJoin('users as u', 'u.id', 'd.user_id')
    .select(['d.user_id', 'u.upn', 'd.added_at'])
    .orderBy('u.upn')
    .execute();
  return rows.map((r) => ({ userId: r.user_id, upn: r.upn, addedAt: timeFromDb(r.added_at) }));
}

// -- corporate device identifiers ----------------------------------------------------------------------

type IdentifierKey = Pick<CorporateIdentifiersTable, 'manufacturer_key' | 'model_key' | 'serial_key'>;

/** The matching form: trimmed and lower-cased; the serial also without periods. Undefined when a field is empty. */
function identifierKey(row: CorporateIdentifier): IdentifierKey | undefined {
  if (!isObject(row)) return undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : '');
  const key = {
    manufacturer_key: text(row.manufacturer),
    model_key: text(row.model),
    serial_key: text(row.serial).replaceAll('.', '').trim(),
  };
  return key.manufacturer_key && key.model_key && key.serial_key ? key : undefined;
}

/** Validated rows, deduplicated by key (the first occurrence wins). */
function identifierRows(rows: CorporateIdentifier[], at: string): CorporateIdentifiersTable[] {
  if (!Array.isArray(rows)) throw new InvalidInputError('corporate identifiers must be a list');
  const out = new Map<string, CorporateIdentifiersTable>();
  for (const [i, row] of rows.entries()) {
    const key = identifierKey(row);
    if (!key) throw new InvalidInputError(`corporate identifier row ${i + 1}: manufacturer, model and serial number are all required`);
    const id = JSON.stringify([key.manufacturer_key, key.model_key, key.serial_key]);
    if (!out.has(id)) {
      out.set(id, { ...key, manufacturer: row.manufacturer.trim(), model: row.model.trim(), serial: row.serial.trim(), added_at: at });
    }
  }
  return [...out.values()];
}

async function insertIdentifiers(trx: Transaction<Database>, rows: CorporateIdentifiersTable[]): Promise<number> {
  let added = 0;
  for (const chunk of chunks(rows)) {
    const res = await trx
      .insertInto('corporate_identifiers')
      .values(chunk)
      .onConflict((oc) => oc.columns(['manufacturer_key', 'model_key', 'serial_key']).doNothing())
      .executeTakeFirst();
    added += Number(res.numInsertedOrUpdatedRows ?? 0n);
  }
  return added;
}

export async function replaceCorporateIdentifiers(db: Db, rows: CorporateIdentifier[], now: Date): Promise<number> {
  const valid = identifierRows(rows, timeToDb(now));
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom('corporate_identifiers').execute();
    return insertIdentifiers(trx, valid);
  });
}

export async function addCorporateIdentifiers(db: Db, rows: CorporateIdentifier[], now: Date): Promise<number> {
  const valid = identifierRows(rows, timeToDb(now));
  return db.transaction().execute((trx) => insertIdentifiers(trx, valid));
}

export async function countCorporateIdentifiers(db: Db): Promise<number> {
  const row = await db
    .selectFrom('corporate_identifiers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function isCorporateIdentifier(db: Db, device: CorporateIdentifier): Promise<boolean> {
  const key = identifierKey(device);
  if (!key) return false;
  const row = await db
    .selectFrom('corporate_identifiers')
    .select('serial_key')
    .where('manufacturer_key', '=', key.manufacturer_key)
    .where('model_key', '=', key.model_key)
    .where('serial_key', '=', key.serial_key)
    .executeTakeFirst();
  return row !== undefined;
}

export async function removeCorporateIdentifier(db: Db, row: CorporateIdentifier): Promise<boolean> {
  const key = identifierKey(row);
  if (!key) return false;
  const res = await db
    .deleteFrom('corporate_identifiers')
    .where('manufacturer_key', '=', key.manufacturer_key)
    .where('model_key', '=', key.model_key)
    .where('serial_key', '=', key.serial_key)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function listCorporateIdentifiers(
  db: Db,
  opts: { limit?: number; offset?: number } = {},
): Promise<Array<CorporateIdentifier & { addedAt: Date }>> {
  let q = db.selectFrom('corporate_identifiers').selectAll().orderBy('manufacturer_key').orderBy('model_key').orderBy('serial_key');
  const limit = opts.limit === undefined ? undefined : Math.floor(opts.limit);
  const offset = opts.offset === undefined ? 0 : Math.max(0, Math.floor(opts.offset));
  if (limit !== undefined && !(limit > 0)) return [];
  // SQLite needs a LIMIT for an OFFSET.
  if (limit !== undefined || offset > 0) q = q.limit(limit ?? 2 ** 31 - 1).offset(offset);
  const rows = await q.execute();
  return rows.map((r) => ({ manufacturer: r.manufacturer, model: r.model, serial: r.serial, addedAt: timeFromDb(r.added_at) }));
}

// -- device counts and ownership -----------------------------------------------------------------------

export async function countUserDevicesForLimit(db: Db, userId: string, opts: { since: Date; excludeDeviceId?: string }): Promise<number> {
  const since = timeToDb(opts.since);
  let q = db
    .selectFrom('devices')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('status', '=', 'enrolled')
    .where('retired_at', 'is', null)
    .where('enrollment_type', '=', 'Full' satisfies EnrollmentType)
    .where((eb) => eb.or([eb('last_check_in_at', '>=', since), eb('last_enrolled_at', '>=', since)]));
  if (opts.excludeDeviceId !== undefined) q = q.where('device_id', '<>', opts.excludeDeviceId.toUpperCase());
  return Number((await q.executeTakeFirstOrThrow()).n);
}

export async function countDevicesEnrolledBy(db: Db, userId: string, opts: { excludeDeviceId?: string } = {}): Promise<number> {
  let q = db
    .selectFrom('devices')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('status', '=', 'enrolled')
    .where('retired_at', 'is', null);
  if (opts.excludeDeviceId !== undefined) q = q.where('device_id', '<>', opts.excludeDeviceId.toUpperCase());
  return Number((await q.executeTakeFirstOrThrow()).n);
}

function ownershipFrom(v: unknown): Ownership {
  if (v !== 'corporate' && v !== 'personal') throw new InvalidInputError(`unknown ownership ${JSON.stringify(v)}`);
  return v;
}

export async function recordOwnership(db: Db, devicePk: string, ownership: Ownership, rule: string): Promise<void> {
  const res = await db
    .updateTable('devices')
    .set({ ownership: ownershipFrom(ownership), ownership_rule: required(rule, 'ownership rule') })
    .where('id', '=', devicePk)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw new NotFoundError(`device ${devicePk} does not exist`);
}

export async function getOwnership(db: Db, devicePk: string): Promise<{ ownership: Ownership; rule: string | null } | undefined> {
  const row = await db.selectFrom('devices').select(['ownership', 'ownership_rule']).where('id', '=', devicePk).executeTakeFirst();
  return row && { ownership: row.ownership as Ownership, rule: row.ownership_rule };
}

// -- enrollment attempts -------------------------------------------------------------------------------

const OUTCOMES: readonly EnrollmentOutcome[] = ['mdm', 'mam', 'refused'];

function outcomeFrom(v: unknown): EnrollmentOutcome {
  if (!OUTCOMES.includes(v as EnrollmentOutcome)) throw new InvalidInputError(`unknown enrollment outcome ${JSON.stringify(v)}`);
  return v as EnrollmentOutcome;
}

function policiesToDb(p: NewEnrollmentAttempt['policies']): string {
  const out: NewEnrollmentAttempt['policies'] = {};
  if (typeof p?.platform === 'string') out.platform = p.platform;
  if (typeof p?.deviceLimit === 'string') out.deviceLimit = p.deviceLimit;
  return JSON.stringify(out);
}

export async function recordEnrollmentAttempt(db: Db, attempt: NewEnrollmentAttempt): Promise<EnrollmentAttempt> {
  if (!Array.isArray(attempt.reasons) || attempt.reasons.some((r) => typeof r !== 'string')) {
    throw new InvalidInputError('enrollment attempt reasons must be a list of strings');
  }
  const row: EnrollmentAttemptsTable = {
    id: newId(),
    at: timeToDb(attempt.at),
    trace_id: required(attempt.traceId, 'trace id'),
    upn: attempt.upn === null ? null : attempt.upn.trim().toLowerCase(),
    user_id: attempt.userId,
    device_id: attempt.deviceId === null ? null : attempt.deviceId.trim().toUpperCase(),
    method: required(attempt.method, 'enrollment method'),
    enrollment_type: attempt.enrollmentType,
    os_version: attempt.osVersion,
    ownership: attempt.ownership === null ? null : ownershipFrom(attempt.ownership),
    outcome: outcomeFrom(attempt.outcome),
    error_type: attempt.errorType,
    subcode: attempt.subcode,
    reasons: JSON.stringify(attempt.reasons),
    policies: policiesToDb(attempt.policies),
  };
  await db.insertInto('enrollment_attempts').values(row).execute();
  return toAttempt(row);
}

export async function listEnrollmentAttempts(
  db: Db,
  opts: { limit: number; upn?: string; deviceId?: string; outcome?: EnrollmentOutcome; since?: Date; before?: Date },
): Promise<EnrollmentAttempt[]> {
  const limit = Math.floor(opts.limit);
  if (!(limit > 0)) return [];
  let q = db.selectFrom('enrollment_attempts').selectAll();
  if (opts.upn !== undefined) q = q.where('upn', '=', opts.upn.trim().toLowerCase());
  if (opts.deviceId !== undefined) q = q.where('device_id', '=', opts.deviceId.trim().toUpperCase());
  if (opts.outcome !== undefined) q = q.where('outcome', '=', outcomeFrom(opts.outcome));
  if (opts.since !== undefined) q = q.where('at', '>=', timeToDb(opts.since));
  if (opts.before !== undefined) q = q.where('at', '<', timeToDb(opts.before));
  const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toAttempt);
}

export async function countEnrollmentAttempts(db: Db, opts: { since: Date; outcome?: EnrollmentOutcome }): Promise<number> {
  let q = db
    .selectFrom('enrollment_attempts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('at', '>=', timeToDb(opts.since));
  if (opts.outcome !== undefined) q = q.where('outcome', '=', outcomeFrom(opts.outcome));
  return Number((await q.executeTakeFirstOrThrow()).n);
}

export async function pruneEnrollmentAttempts(db: Db, before: Date): Promise<number> {
  const res = await db.deleteFrom('enrollment_attempts').where('at', '<', timeToDb(before)).executeTakeFirst();
  return Number(res.numDeletedRows);
}

// -- row mapping ---------------------------------------------------------------------------------------

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    upn: row.upn,
    displayName: row.display_name,
    passwordHash: row.password_hash,
    enabled: boolFromDb(row.enabled),
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
}

function toRestriction(row: RestrictionRow, groupIds: string[]): Restriction {
  const type = row.type as RestrictionType;
  const stored = parseJson(row.config);
  const common = {
    id: row.id,
    name: row.name,
    priority: row.priority === null ? null : Number(row.priority),
    isDefault: boolFromDb(row.is_default),
    groupIds,
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
  return type === 'platform'
    ? { ...common, type, config: { ...DEFAULT_PLATFORM_RESTRICTION, ...(isObject(stored) ? stored : {}) } as PlatformRestrictionConfig }
    : {
        ...common,
        type: 'deviceLimit',
        config: { ...DEFAULT_DEVICE_LIMIT, ...(isObject(stored) ? stored : {}) } as DeviceLimitRestrictionConfig,
      };
}

function toAttempt(row: Selectable<EnrollmentAttemptsTable>): EnrollmentAttempt {
  const policies = parseJson(row.policies);
  const p: EnrollmentAttempt['policies'] = {};
  if (isObject(policies)) {
    if (typeof policies.platform === 'string') p.platform = policies.platform;
    if (typeof policies.deviceLimit === 'string') p.deviceLimit = policies.deviceLimit;
  }
  return {
    id: row.id,
    at: timeFromDb(row.at),
    traceId: row.trace_id,
    upn: row.upn,
    userId: row.user_id,
    deviceId: row.device_id,
    method: row.method as EnrollmentAttempt['method'],
    enrollmentType: row.enrollment_type as EnrollmentType | null,
    osVersion: row.os_version,
    ownership: row.ownership as Ownership | null,
    outcome: row.outcome as EnrollmentOutcome,
    errorType: row.error_type,
    subcode: row.subcode,
    reasons: stringArrayFromDb(row.reasons),
    policies: p,
  };
}
