/** The app catalog (core/apps/ports.ts AppStore): apps and their group assignments, membership transitive. */
import { type Kysely, sql } from 'kysely';
import type {
  AppAssignment,
  AppDefinition,
  AppIntent,
  AppResult,
  AppResultState,
  CatalogApp,
  InstallCounts,
  OfferIntent,
} from '../../core/apps/ports.js';
import { timeFromDb, timeToDb } from './codecs.js';
import { groupsOfUsers } from './group-closure.js';
import { newId } from './ids.js';
import { APP_COMMANDS } from './migrations/0019_app_results.js';
import type { Database } from './schema.js';

interface AppsTable {
  id: string;
  name: string;
  name_key: string;
  kind: string;
  min_windows_build: number;
  definition: string;
  created_at: string;
  updated_at: string;
}
interface AppAssignmentsTable {
  app_id: string;
  group_id: string;
  intent: string;
  assigned_at: string;
}
type AppsDb = Kysely<Database & { apps: AppsTable; app_assignments: AppAssignmentsTable }>;
const appsDb = (db: Kysely<Database>) => db as unknown as AppsDb;

function toApp(r: AppsTable): CatalogApp {
  const def = JSON.parse(r.definition) as AppDefinition;
  return {
    ...def,
    name: r.name,
    minWindowsBuild: Number(r.min_windows_build),
    id: r.id,
    createdAt: timeFromDb(r.created_at),
    updatedAt: timeFromDb(r.updated_at),
  };
}

export async function addApp(db: Kysely<Database>, input: AppDefinition & { now: Date }): Promise<CatalogApp> {
  const { now, ...def } = input;
  const row: AppsTable = {
    id: newId(),
    name: def.name,
    name_key: def.name.toLowerCase(),
    kind: def.kind,
    min_windows_build: def.minWindowsBuild,
    definition: JSON.stringify(def),
    created_at: timeToDb(now),
    updated_at: timeToDb(now),
  };
  await appsDb(db).insertInto('apps').values(row).execute();
  return toApp(row);
}

export async function getApp(db: Kysely<Database>, ref: string): Promise<CatalogApp | undefined> {
  const r = await appsDb(db)
    .selectFrom('apps')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', ref), eb('name_key', '=', ref.toLowerCase())]))
    .executeTakeFirst();
  return r ? toApp(r) : undefined;
}

export async function listApps(db: Kysely<Database>): Promise<CatalogApp[]> {
  const rows = await appsDb(db).selectFrom('apps').selectAll().orderBy('name_key').orderBy('id').execute();
  return rows.map(toApp);
}

export async function removeApp(db: Kysely<Database>, appId: string): Promise<boolean> {
  return appsDb(db)
    .transaction()
    .execute(async (tx) => {
      await tx.deleteFrom('app_assignments').where('app_id', '=', appId).execute();
      const r = await tx.deleteFrom('apps').where('id', '=', appId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
}

export async function assignApp(
  db: Kysely<Database>,
  input: { appId: string; groupId: string; intent: AppIntent; now: Date },
): Promise<void> {
  await appsDb(db)
    .insertInto('app_assignments')
    .values({ app_id: input.appId, group_id: input.groupId, intent: input.intent, assigned_at: timeToDb(input.now) })
    .onConflict((oc) => oc.columns(['app_id', 'group_id']).doUpdateSet({ intent: input.intent, assigned_at: timeToDb(input.now) }))
    .execute();
}

export async function unassignApp(db: Kysely<Database>, appId: string, groupId: string): Promise<boolean> {
  const r = await appsDb(db).deleteFrom('app_assignments').where('app_id', '=', appId).where('group_id', '=', groupId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function listAppAssignments(db: Kysely<Database>, appId?: string): Promise<AppAssignment[]> {
  let q = appsDb(db)
    .selectFrom('app_assignments as a')
    .innerJoin('groups as g', 'g.id', 'a.group_id')
    .innerJoin('apps as p', 'p.id', 'a.app_id')
    .select(['a.app_id', 'a.group_id', 'g.name as group_name', 'a.intent', 'a.assigned_at']);
  if (appId !== undefined) q = q.where('a.app_id', '=', appId);
  const rows = await q.orderBy('p.name_key').orderBy('g.name').execute();
  return rows.map((r) => ({
    appId: r.app_id,
    groupId: r.group_id,
    groupName: r.group_name,
    intent: r.intent as AppIntent,
    assignedAt: timeFromDb(r.assigned_at),
  }));
}

export async function appAssignmentsForUser(
  db: Kysely<Database>,
  userId: string,
): Promise<Array<{ app: CatalogApp; intent: AppIntent; groupId: string; groupName: string }>> {
  // A group reached through two nesting paths appears once (distinct on the assignment).
  const rows = await sql<AppsTable & { intent: string; group_id: string; group_name: string }>`
    select distinct p.*, a.intent, a.group_id, g.name as group_name from app_assignments a
    join ${groupsOfUsers([userId])} as ug on ug.group_id = a.group_id
    join groups g on g.id = a.group_id
    join apps p on p.id = a.app_id
    order by p.name_key, group_name`.execute(db);
  return rows.rows.map((r) => ({ app: toApp(r), intent: r.intent as AppIntent, groupId: r.group_id, groupName: r.group_name }));
}

/** Strongest intent per app: required over uninstall over available; apps to uninstall are not offered. */
export async function appsForUser(db: Kysely<Database>, userId: string): Promise<Array<{ app: CatalogApp; intent: OfferIntent }>> {
  const rank: Record<string, number> = { available: 0, uninstall: 1, required: 2 };
  const out = new Map<string, { app: CatalogApp; intent: AppIntent }>();
  for (const r of await appAssignmentsForUser(db, userId)) {
    const prev = out.get(r.app.id);
    if (!prev || (rank[r.intent] ?? 0) > (rank[prev.intent] ?? 0)) out.set(r.app.id, { app: r.app, intent: r.intent });
  }
  return [...out.values()]
    .filter((a): a is { app: CatalogApp; intent: OfferIntent } => a.intent !== 'uninstall')
    .sort((a, b) => (a.app.name.toLowerCase() < b.app.name.toLowerCase() ? -1 : 1));
}

interface AppResultsTable {
  command_id: string;
  device_pk: string;
  app_id: string;
  state: string;
  code: number | string | null;
  detail: string | null;
  updated_at: string;
}
type ResultsDb = Kysely<Database & { app_results: AppResultsTable }>;
const resultsDb = (db: Kysely<Database>) => db as unknown as ResultsDb;

/** The app id inside an app command's origin key (`["action","install-{id}~required"]`, `…"uninstall-{id}"]`). */
const APP_ID_OF_ORIGIN = sql<string>`replace(replace(replace(replace(replace(origin_key, '["action","', ''), '"]', ''), '~required', ''), 'uninstall-', ''), 'install-', '')`;

/**
 * Per app, devices whose newest app command (canceled ones aside) is an install, by outcome: failed (the
 * device refused it, or its result says so), installed (acknowledged and, for a background install,
 * reported installed), pending otherwise. One aggregate query: no command rows reach Node.
 */
export async function appInstallCounts(db: Kysely<Database>): Promise<Map<string, InstallCounts>> {
  const rows = await sql<{ app_id: string; failed: number | string; installed: number | string; total: number | string }>`
    with app_cmds as (
      select id, device_pk, seq, state, origin_key, ${APP_ID_OF_ORIGIN} as app_id from commands
      where ${APP_COMMANDS} and state <> 'canceled'
    ),
    newest as (select device_pk, app_id, max(seq) as seq from app_cmds group by device_pk, app_id)
    select c.app_id,
      sum(case when c.state = 'failed' or r.state = 'failed' then 1 else 0 end) as failed,
      sum(case when c.state = 'acknowledged' and (r.state is null or r.state = 'installed') then 1 else 0 end) as installed,
      count(*) as total
    from newest n
    join app_cmds c on c.device_pk = n.device_pk and c.seq = n.seq
    left join app_results r on r.command_id = c.id
    where c.origin_key like '["action","install-%'
    group by c.app_id`.execute(db);
  const out = new Map<string, InstallCounts>();
  for (const r of rows.rows) {
    const failed = Number(r.failed);
    const installed = Number(r.installed);
    out.set(r.app_id, { installed, failed, pending: Number(r.total) - failed - installed });
  }
  return out;
}

export async function recordAppResult(db: Kysely<Database>, r: AppResult): Promise<void> {
  const row: AppResultsTable = {
    command_id: r.commandId,
    device_pk: r.devicePk,
    app_id: r.appId,
    state: r.state,
    code: r.code,
    detail: r.detail,
    updated_at: timeToDb(r.updatedAt),
  };
  await resultsDb(db)
    .insertInto('app_results')
    .values(row)
    .onConflict((oc) => oc.column('command_id').doUpdateSet({ state: r.state, code: r.code, detail: r.detail, updated_at: row.updated_at }))
    .execute();
}

export async function appResultsFor(db: Kysely<Database>, devicePk: string, commandIds: string[]): Promise<AppResult[]> {
  if (commandIds.length === 0) return [];
  const rows = await resultsDb(db)
    .selectFrom('app_results')
    .selectAll()
    .where('device_pk', '=', devicePk)
    .where('command_id', 'in', commandIds)
    .execute();
  return rows.map((r) => ({
    commandId: r.command_id,
    devicePk: r.device_pk,
    appId: r.app_id,
    state: r.state as AppResultState,
    code: r.code === null ? null : Number(r.code),
    detail: r.detail,
    updatedAt: timeFromDb(r.updated_at),
  }));
}
