/** The app catalog (core/apps/ports.ts AppStore): apps and their group assignments, membership transitive. */
import { type Kysely, sql } from 'kysely';
import type { AppAssignment, AppDefinition, AppIntent, CatalogApp } from '../../core/apps/ports.js';
import { timeFromDb, timeToDb } from './codecs.js';
import { groupsOfUsers } from './group-closure.js';
import { newId } from './ids.js';
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

export async function appsForUser(db: Kysely<Database>, userId: string): Promise<Array<{ app: CatalogApp; intent: AppIntent }>> {
  const rows = await sql<AppsTable & { intent: string }>`
    select p.*, a.intent from app_assignments a
    join ${groupsOfUsers([userId])} as ug on ug.group_id = a.group_id
    join apps p on p.id = a.app_id`.execute(db);
  const out = new Map<string, { app: CatalogApp; intent: AppIntent }>();
  for (const r of rows.rows) {
    const prev = out.get(r.id);
    if (!prev) out.set(r.id, { app: toApp(r), intent: r.intent as AppIntent });
    else if (r.intent === 'required') prev.intent = 'required';
  }
  return [...out.values()].sort((a, b) => (a.app.name.toLowerCase() < b.app.name.toLowerCase() ? -1 : 1));
}
