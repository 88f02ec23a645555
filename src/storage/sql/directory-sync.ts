/**
 * SQL repository of directory sync (port in core/directory-sync/ports.ts): synced identities next to the
 * ordinary users and groups, SCIM tokens, and the Graph connection and delta links of each tenant. Free
 * functions over a Kysely handle; SqlStorage wraps each in its error mapping. Writes that read before they
 * write run in one transaction, serialised on PostgreSQL by an advisory lock (SCIM clients send requests
 * in parallel; SQLite has one writer at a time anyway).
 */
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type {
  EntraSyncConfig,
  IdentityKind,
  IdentityQuery,
  ScimTokenRecord,
  SyncedGroupInput,
  SyncedIdentity,
  SyncedUserInput,
  SyncOutcome,
} from '../../core/directory-sync/ports.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../shared/errors.js';
import { boolFromDb, boolToDb, jsonToDb, timeFromDb, timeFromDbOrNull, timeToDb } from './codecs.js';
import { newId } from './ids.js';
import type { SqlDialectKind } from './migrations/index.js';
import type { Database, EntraSyncTable, ScimTokensTable, SyncedIdentitiesTable } from './schema.js';

type Db = Kysely<Database>;
type Trx = Transaction<Database>;

/** PostgreSQL advisory lock of sync writes ("WnDS", 1). */
const LOCK_NS = 0x576e4453;
const MAX_GROUP_NAME = 128;

async function write<T>(db: Db, kind: SqlDialectKind, fn: (trx: Trx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    if (kind === 'postgres') await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_NS)}, 1)`.execute(trx);
    return fn(trx);
  });
}

function identityRow(trx: Trx | Db, kind: IdentityKind, localId: string) {
  return trx.selectFrom('synced_identities').selectAll().where('kind', '=', kind).where('local_id', '=', localId).executeTakeFirst();
}

function byExternalId(trx: Trx | Db, source: string, kind: IdentityKind, externalId: string) {
  return trx
    .selectFrom('synced_identities')
    .selectAll()
    .where('source', '=', source)
    .where('kind', '=', kind)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
}

async function externalIdFree(trx: Trx, source: string, kind: IdentityKind, externalId: string | null, localId: string): Promise<void> {
  if (externalId === null) return;
  const other = await byExternalId(trx, source, kind, externalId);
  if (other && other.local_id !== localId) throw new ConflictError(`externalId ${externalId} already belongs to another ${kind}`);
}

async function upnFree(trx: Trx, upn: string, userId: string): Promise<void> {
  const other = await trx.selectFrom('users').select('id').where('upn', '=', upn).where('id', '<>', userId).executeTakeFirst();
  if (other) throw new ConflictError(`user name ${upn} belongs to another user`);
}

function sourceLabel(source: string): string {
  return source === 'scim' ? 'SCIM' : source.startsWith('entra:') ? 'Entra' : source;
}

/** The display name if free, else suffixed with the source (and a number): group names are unique. */
async function uniqueGroupName(trx: Trx, displayName: string, source: string, selfId: string | null): Promise<string> {
  const base = displayName.trim().slice(0, MAX_GROUP_NAME - 16) || 'group';
  const label = sourceLabel(source);
  for (let i = 0; i < 1000; i++) {
    const candidate = i === 0 ? base : i === 1 ? `${base} (${label})` : `${base} (${label} ${i})`;
    let q = trx.selectFrom('groups').select('id').where('name', '=', candidate);
    if (selfId !== null) q = q.where('id', '<>', selfId);
    if (!(await q.executeTakeFirst())) return candidate;
  }
  throw new ConflictError(`no free group name for "${base}"`);
}

export async function upsertSyncedUser(
  db: Db,
  dialect: SqlDialectKind,
  input: SyncedUserInput,
): Promise<{ userId: string; identity: SyncedIdentity; outcome: SyncOutcome }> {
  const upn = input.upn.toLowerCase();
  if (!upn.includes('@')) throw new InvalidInputError('a synced user needs a UPN');
  const at = timeToDb(input.now);
  return write(db, dialect, async (trx) => {
    let ident = input.externalId === null ? undefined : await byExternalId(trx, input.source, 'user', input.externalId);
    let userId: string;
    let outcome: SyncOutcome;
    let linkedLocal = false;
    if (ident) {
      userId = ident.local_id;
      linkedLocal = boolFromDb(ident.linked_local);
      outcome = ident.deleted_at ? 'revived' : 'updated';
      await upnFree(trx, upn, userId);
    } else {
      const user = await trx.selectFrom('users').select('id').where('upn', '=', upn).executeTakeFirst();
      if (user) {
        userId = user.id;
        const other = await identityRow(trx, 'user', user.id);
        if (other && other.deleted_at === null) {
          if (other.source !== input.source) throw new ConflictError(`user ${upn} is already synced from ${other.source}`);
          if (input.sameSource === 'conflict') throw new ConflictError(`a user with userName ${upn} already exists`);
        }
        if (other) {
          ident = other;
          linkedLocal = boolFromDb(other.linked_local);
          outcome = other.deleted_at ? 'revived' : 'updated';
        } else {
          linkedLocal = true;
          outcome = 'linked';
        }
      } else {
        userId = newId();
        outcome = 'created';
        await trx
          .insertInto('users')
          .values({
            id: userId,
            upn,
            display_name: input.displayName ?? null,
            password_hash: input.newPasswordHash,
            enabled: boolToDb(input.enabled ?? true),
            created_at: at,
            updated_at: at,
          })
          .execute();
      }
    }
    if (outcome !== 'created') {
      await trx
        .updateTable('users')
        .set({
          upn,
          ...(input.displayName === undefined ? {} : { display_name: input.displayName }),
          ...(input.enabled === undefined ? {} : { enabled: boolToDb(input.enabled) }),
          updated_at: at,
        })
        .where('id', '=', userId)
        .execute();
    }
    const row: SyncedIdentitiesTable = {
      kind: 'user',
      local_id: userId,
      source: input.source,
      external_id: input.externalId,
      name: upn,
      linked_local: boolToDb(linkedLocal),
      attributes: jsonToDb(input.attributes ?? (ident ? parseAttributes(ident.attributes) : {})),
      deleted_at: null,
      created_at: ident?.created_at ?? at,
      updated_at: at,
    };
    await putIdentity(trx, row, ident !== undefined);
    return { userId, identity: toIdentity(row), outcome };
  });
}

async function putIdentity(trx: Trx, row: SyncedIdentitiesTable, exists: boolean): Promise<void> {
  if (!exists) {
    await trx.insertInto('synced_identities').values(row).execute();
    return;
  }
  const { kind, local_id, created_at: _c, ...rest } = row;
  await trx.updateTable('synced_identities').set(rest).where('kind', '=', kind).where('local_id', '=', local_id).execute();
}

export async function updateSyncedUser(
  db: Db,
  dialect: SqlDialectKind,
  userId: string,
  changes: {
    upn?: string | undefined;
    displayName?: string | null | undefined;
    enabled?: boolean | undefined;
    externalId?: string | null | undefined;
    attributes?: Record<string, unknown> | undefined;
  },
  now: Date,
): Promise<SyncedIdentity> {
  const at = timeToDb(now);
  return write(db, dialect, async (trx) => {
    const ident = await identityRow(trx, 'user', userId);
    if (!ident || ident.deleted_at !== null) throw new NotFoundError(`user ${userId} is not a synced user`);
    const upn = changes.upn?.toLowerCase();
    if (upn !== undefined) await upnFree(trx, upn, userId);
    if (changes.externalId !== undefined) await externalIdFree(trx, ident.source, 'user', changes.externalId, userId);
    await trx
      .updateTable('users')
      .set({
        ...(upn === undefined ? {} : { upn }),
        ...(changes.displayName === undefined ? {} : { display_name: changes.displayName }),
        ...(changes.enabled === undefined ? {} : { enabled: boolToDb(changes.enabled) }),
        updated_at: at,
      })
      .where('id', '=', userId)
      .execute();
    const row: SyncedIdentitiesTable = {
      ...ident,
      ...(upn === undefined ? {} : { name: upn }),
      ...(changes.externalId === undefined ? {} : { external_id: changes.externalId }),
      ...(changes.attributes === undefined ? {} : { attributes: jsonToDb(changes.attributes) }),
      updated_at: at,
    };
    await putIdentity(trx, row, true);
    return toIdentity(row);
  });
}

export async function deleteSyncedUser(db: Db, dialect: SqlDialectKind, userId: string, now: Date): Promise<boolean> {
  const at = timeToDb(now);
  return write(db, dialect, async (trx) => {
    const ident = await identityRow(trx, 'user', userId);
    if (!ident || ident.deleted_at !== null) return false;
    await trx
      .updateTable('synced_identities')
      .set({ deleted_at: at, updated_at: at })
      .where('kind', '=', 'user')
      .where('local_id', '=', userId)
      .execute();
    await trx
      .updateTable('users')
      .set({ enabled: boolToDb(false), updated_at: at })
      .where('id', '=', userId)
      .execute();
    await trx
      .deleteFrom('group_members')
      .where('user_id', '=', userId)
      .where('group_id', 'in', (eb) =>
        eb.selectFrom('synced_identities').select('local_id').where('kind', '=', 'group').where('source', '=', ident.source),
      )
      .execute();
    return true;
  });
}

export async function upsertSyncedGroup(
  db: Db,
  dialect: SqlDialectKind,
  input: SyncedGroupInput,
): Promise<{ groupId: string; identity: SyncedIdentity; outcome: SyncOutcome }> {
  const displayName = input.displayName.trim();
  if (displayName === '') throw new InvalidInputError('a synced group needs a display name');
  const at = timeToDb(input.now);
  return write(db, dialect, async (trx) => {
    const ident = input.externalId === null ? undefined : await byExternalId(trx, input.source, 'group', input.externalId);
    if (!ident && input.sameSource === 'conflict') {
      const same = await trx
        .selectFrom('synced_identities')
        .select('local_id')
        .where('source', '=', input.source)
        .where('kind', '=', 'group')
        .where('deleted_at', 'is', null)
        .where(sql<boolean>`lower(name) = ${displayName.toLowerCase()}`)
        .executeTakeFirst();
      if (same) throw new ConflictError(`a group with displayName "${displayName}" already exists`);
    }
    let groupId: string;
    let outcome: SyncOutcome;
    if (ident) {
      groupId = ident.local_id;
      outcome = ident.deleted_at ? 'revived' : 'updated';
      if (ident.name !== displayName) {
        const name = await uniqueGroupName(trx, displayName, input.source, groupId);
        await trx.updateTable('groups').set({ name }).where('id', '=', groupId).execute();
      }
    } else {
      groupId = newId();
      outcome = 'created';
      const name = await uniqueGroupName(trx, displayName, input.source, null);
      await trx.insertInto('groups').values({ id: groupId, name, created_at: at }).execute();
    }
    const row: SyncedIdentitiesTable = {
      kind: 'group',
      local_id: groupId,
      source: input.source,
      external_id: input.externalId,
      name: displayName,
      linked_local: boolToDb(false),
      attributes: jsonToDb(input.attributes ?? (ident ? parseAttributes(ident.attributes) : {})),
      deleted_at: null,
      created_at: ident?.created_at ?? at,
      updated_at: at,
    };
    await putIdentity(trx, row, ident !== undefined);
    return { groupId, identity: toIdentity(row), outcome };
  });
}

export async function updateSyncedGroup(
  db: Db,
  dialect: SqlDialectKind,
  groupId: string,
  changes: { displayName?: string | undefined; externalId?: string | null | undefined; attributes?: Record<string, unknown> | undefined },
  now: Date,
): Promise<SyncedIdentity> {
  const at = timeToDb(now);
  return write(db, dialect, async (trx) => {
    const ident = await identityRow(trx, 'group', groupId);
    if (!ident || ident.deleted_at !== null) throw new NotFoundError(`group ${groupId} is not a synced group`);
    const displayName = changes.displayName?.trim();
    if (displayName === '') throw new InvalidInputError('displayName must not be empty');
    if (displayName !== undefined && displayName !== ident.name) {
      const name = await uniqueGroupName(trx, displayName, ident.source, groupId);
      await trx.updateTable('groups').set({ name }).where('id', '=', groupId).execute();
    }
    if (changes.externalId !== undefined) await externalIdFree(trx, ident.source, 'group', changes.externalId, groupId);
    const row: SyncedIdentitiesTable = {
      ...ident,
      ...(displayName === undefined ? {} : { name: displayName }),
      ...(changes.externalId === undefined ? {} : { external_id: changes.externalId }),
      ...(changes.attributes === undefined ? {} : { attributes: jsonToDb(changes.attributes) }),
      updated_at: at,
    };
    await putIdentity(trx, row, true);
    return toIdentity(row);
  });
}

export async function deleteSyncedGroup(db: Db, dialect: SqlDialectKind, groupId: string, now: Date): Promise<boolean> {
  const at = timeToDb(now);
  return write(db, dialect, async (trx) => {
    const ident = await identityRow(trx, 'group', groupId);
    if (!ident || ident.deleted_at !== null) return false;
    await trx
      .updateTable('synced_identities')
      .set({ deleted_at: at, updated_at: at })
      .where('kind', '=', 'group')
      .where('local_id', '=', groupId)
      .execute();
    await trx.deleteFrom('group_members').where('group_id', '=', groupId).execute();
    await trx
      .deleteFrom('group_groups')
      .where((eb) => eb.or([eb('parent_id', '=', groupId), eb('child_id', '=', groupId)]))
      .execute();
    return true;
  });
}

export async function getIdentity(db: Db, kind: IdentityKind, localId: string): Promise<SyncedIdentity | undefined> {
  const row = await identityRow(db, kind, localId);
  return row && toIdentity(row);
}

export async function findIdentityByExternalId(
  db: Db,
  source: string,
  kind: IdentityKind,
  externalId: string,
): Promise<SyncedIdentity | undefined> {
  const row = await byExternalId(db, source, kind, externalId);
  return row && toIdentity(row);
}

export async function listIdentities(db: Db, q: IdentityQuery): Promise<{ total: number; items: SyncedIdentity[] }> {
  let base = db.selectFrom('synced_identities').where('source', '=', q.source).where('kind', '=', q.kind).where('deleted_at', 'is', null);
  if (q.name !== undefined) base = base.where(sql<boolean>`lower(name) = ${q.name.toLowerCase()}`);
  if (q.externalId !== undefined) base = base.where('external_id', '=', q.externalId);
  if (q.localId !== undefined) base = base.where('local_id', '=', q.localId);
  const count = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
  const rows = await base.selectAll().orderBy('created_at').orderBy('local_id').offset(q.offset).limit(q.limit).execute();
  return { total: Number(count?.n ?? 0), items: rows.map(toIdentity) };
}

export async function identitiesOf(db: Db, kind: IdentityKind, localIds: string[]): Promise<SyncedIdentity[]> {
  const out: SyncedIdentity[] = [];
  for (let i = 0; i < localIds.length; i += 500) {
    const chunk = localIds.slice(i, i + 500);
    const rows = await db.selectFrom('synced_identities').selectAll().where('kind', '=', kind).where('local_id', 'in', chunk).execute();
    out.push(...rows.map(toIdentity));
  }
  return out;
}

// -- SCIM tokens ----------------------------------------------------------------------------------------

export async function addScimToken(
  db: Db,
  input: { id: string; name: string; tokenHash: string; createdBy: string; now: Date },
): Promise<ScimTokenRecord> {
  const row: ScimTokensTable = {
    id: input.id,
    name: input.name,
    token_hash: input.tokenHash,
    created_by: input.createdBy,
    created_at: timeToDb(input.now),
    last_used_at: null,
    revoked_at: null,
  };
  await db.insertInto('scim_tokens').values(row).execute();
  return toToken(row);
}

export async function getScimTokenByHash(db: Db, tokenHash: string): Promise<ScimTokenRecord | undefined> {
  const row = await db.selectFrom('scim_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  return row && toToken(row);
}

export async function listScimTokens(db: Db): Promise<ScimTokenRecord[]> {
  return (await db.selectFrom('scim_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(toToken);
}

export async function revokeScimToken(db: Db, id: string, now: Date): Promise<ScimTokenRecord> {
  await db
    .updateTable('scim_tokens')
    .set({ revoked_at: timeToDb(now) })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
  const row = await db.selectFrom('scim_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`no SCIM token ${id}`);
  return toToken(row);
}

export async function touchScimToken(db: Db, id: string, now: Date): Promise<void> {
  const at = timeToDb(now);
  const minuteAgo = timeToDb(new Date(now.getTime() - 60_000));
  await db
    .updateTable('scim_tokens')
    .set({ last_used_at: at })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', minuteAgo)]))
    .execute();
}

// -- Entra sync ------------------------------------------------------------------------------------------

export async function saveEntraSyncConfig(
  db: Db,
  dialect: SqlDialectKind,
  input: { tenantId: string; graphUrl: string; tokenUrl: string; clientSecretSealed?: string | undefined; caPem: string | null; now: Date },
): Promise<EntraSyncConfig> {
  const tenantId = input.tenantId.toLowerCase();
  const at = timeToDb(input.now);
  return write(db, dialect, async (trx) => {
    const tenant = await trx.selectFrom('entra_tenants').select('tenant_id').where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!tenant) throw new NotFoundError(`tenant ${tenantId} is not connected`);
    const prev = await trx.selectFrom('entra_sync').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!prev) {
      if (input.clientSecretSealed === undefined) throw new InvalidInputError('syncing a tenant needs its client secret');
      await trx
        .insertInto('entra_sync')
        .values({
          tenant_id: tenantId,
          graph_url: input.graphUrl,
          token_url: input.tokenUrl,
          client_secret: input.clientSecretSealed,
          ca_pem: input.caPem,
          users_delta_link: null,
          groups_delta_link: null,
          last_run_at: null,
          last_status: null,
          last_error: null,
          last_counts: null,
          created_at: at,
          updated_at: at,
        })
        .execute();
    } else {
      const moved = prev.graph_url !== input.graphUrl;
      await trx
        .updateTable('entra_sync')
        .set({
          graph_url: input.graphUrl,
          token_url: input.tokenUrl,
          ...(input.clientSecretSealed === undefined ? {} : { client_secret: input.clientSecretSealed }),
          ca_pem: input.caPem,
          ...(moved ? { users_delta_link: null, groups_delta_link: null } : {}),
          updated_at: at,
        })
        .where('tenant_id', '=', tenantId)
        .execute();
    }
    const row = await trx.selectFrom('entra_sync').selectAll().where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    return toSyncConfig(row);
  });
}

export async function getEntraSyncConfig(db: Db, tenantId: string): Promise<EntraSyncConfig | undefined> {
  const row = await db.selectFrom('entra_sync').selectAll().where('tenant_id', '=', tenantId.toLowerCase()).executeTakeFirst();
  return row && toSyncConfig(row);
}

export async function listEntraSyncConfigs(db: Db): Promise<EntraSyncConfig[]> {
  return (await db.selectFrom('entra_sync').selectAll().orderBy('tenant_id').execute()).map(toSyncConfig);
}

export async function recordEntraSyncRun(
  db: Db,
  tenantId: string,
  run: {
    at: Date;
    status: 'succeeded' | 'failed';
    error: string | null;
    counts: Record<string, number>;
    usersDeltaLink?: string | undefined;
    groupsDeltaLink?: string | undefined;
  },
): Promise<void> {
  await db
    .updateTable('entra_sync')
    .set({
      last_run_at: timeToDb(run.at),
      last_status: run.status,
      last_error: run.error,
      last_counts: jsonToDb(run.counts),
      ...(run.usersDeltaLink === undefined ? {} : { users_delta_link: run.usersDeltaLink }),
      ...(run.groupsDeltaLink === undefined ? {} : { groups_delta_link: run.groupsDeltaLink }),
    })
    .where('tenant_id', '=', tenantId.toLowerCase())
    .execute();
}

// -- rows ------------------------------------------------------------------------------------------------

function parseAttributes(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function toIdentity(row: Selectable<SyncedIdentitiesTable>): SyncedIdentity {
  return {
    kind: row.kind as IdentityKind,
    localId: row.local_id,
    source: row.source,
    externalId: row.external_id,
    name: row.name,
    linkedLocal: boolFromDb(row.linked_local),
    attributes: parseAttributes(row.attributes),
    deletedAt: timeFromDbOrNull(row.deleted_at),
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
}

function toToken(row: Selectable<ScimTokensTable>): ScimTokenRecord {
  return {
    id: row.id,
    name: row.name,
    tokenHash: row.token_hash,
    createdBy: row.created_by,
    createdAt: timeFromDb(row.created_at),
    lastUsedAt: timeFromDbOrNull(row.last_used_at),
    revokedAt: timeFromDbOrNull(row.revoked_at),
  };
}

function toSyncConfig(row: Selectable<EntraSyncTable>): EntraSyncConfig {
  let counts: Record<string, number> | null = null;
  if (row.last_counts) {
    const parsed = parseAttributes(row.last_counts);
    counts = Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number'));
  }
  return {
    tenantId: row.tenant_id,
    graphUrl: row.graph_url,
    tokenUrl: row.token_url,
    clientSecretSealed: row.client_secret,
    caPem: row.ca_pem,
    usersDeltaLink: row.users_delta_link,
    groupsDeltaLink: row.groups_delta_link,
    lastRunAt: timeFromDbOrNull(row.last_run_at),
    lastStatus: row.last_status === 'succeeded' || row.last_status === 'failed' ? row.last_status : null,
    lastError: row.last_error,
    lastCounts: counts,
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
}
