/**
 * SQL repository of the admin surface (ports in core/admin/ports.ts): admin roles, sessions, API tokens,
 * the audit log and the paged device list. Free functions over a Kysely handle; SqlStorage wraps each in
 * its error mapping. Writes that carry an audit entry write it in the same transaction as the change.
 */
import type { Kysely, Selectable } from 'kysely';
import type {
  AdminAccount,
  AdminRole,
  AdminSessionRecord,
  ApiTokenRecord,
  AuditActor,
  AuditEntry,
  AuditOutcome,
  AuditQuery,
  NewAuditEntry,
} from '../../core/admin/ports.js';
import { NotFoundError } from '../../shared/errors.js';
import { boolFromDb, timeFromDb, timeFromDbOrNull, timeToDb } from './codecs.js';
import { newId } from './ids.js';
import type { ApiTokensTable, AuditLogTable, Database } from './schema.js';

type Db = Kysely<Database>;

// -- audit -----------------------------------------------------------------------------------------------

function jsonOrNull(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}

function parseJson(s: string | null): unknown {
  if (s === null) return null;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function auditRow(entry: NewAuditEntry, id: string = newId()): AuditLogTable {
  const a = entry.actor;
  return {
    id,
    at: timeToDb(entry.at),
    actor_kind: a.kind,
    actor_user_id: a.kind === 'cli' ? null : a.userId,
    actor_upn: a.kind === 'cli' ? null : a.upn.toLowerCase(),
    actor_token_id: a.kind === 'token' ? a.tokenId : null,
    actor_token_name: a.kind === 'token' ? a.name : null,
    action: entry.action,
    target_type: entry.targetType,
    target_id: entry.targetId,
    before: jsonOrNull(entry.before),
    after: jsonOrNull(entry.after),
    outcome: entry.outcome,
    error: entry.error,
    trace_id: entry.traceId,
  };
}

function toAudit(row: Selectable<AuditLogTable>): AuditEntry {
  let actor: AuditActor;
  if (row.actor_kind === 'token') {
    actor = {
      kind: 'token',
      tokenId: row.actor_token_id ?? '',
      name: row.actor_token_name ?? '',
      userId: row.actor_user_id ?? '',
      upn: row.actor_upn ?? '',
    };
  } else if (row.actor_kind === 'admin' || row.actor_kind === 'user') {
    actor = { kind: row.actor_kind, userId: row.actor_user_id ?? '', upn: row.actor_upn ?? '' };
  } else {
    actor = { kind: 'cli' };
  }
  return {
    id: row.id,
    at: timeFromDb(row.at),
    actor,
    actorName: actor.kind === 'admin' || actor.kind === 'user' ? actor.upn : actor.kind === 'token' ? `token:${actor.name}` : 'cli',
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    before: parseJson(row.before),
    after: parseJson(row.after),
    outcome: row.outcome as AuditOutcome,
    error: row.error,
    traceId: row.trace_id,
  };
}

async function insertAudit(db: Db, entry: NewAuditEntry): Promise<AuditEntry> {
  const row = auditRow(entry);
  await db.insertInto('audit_log').values(row).execute();
  return toAudit(row);
}

export function appendAudit(db: Db, entry: NewAuditEntry): Promise<AuditEntry> {
  return insertAudit(db, entry);
}

export async function completeAudit(
  db: Db,
  id: string,
  result: { outcome: Exclude<AuditOutcome, 'pending'>; after: unknown; error: string | null },
): Promise<void> {
  const res = await db
    .updateTable('audit_log')
    .set({ outcome: result.outcome, after: jsonOrNull(result.after), error: result.error })
    .where('id', '=', id)
    .where('outcome', '=', 'pending')
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) throw new NotFoundError(`no pending audit entry ${id}`);
}

export async function listAudit(db: Db, q: AuditQuery): Promise<AuditEntry[]> {
  let query = db.selectFrom('audit_log').selectAll();
  if (q.targetType !== undefined) query = query.where('target_type', '=', q.targetType);
  if (q.targetId !== undefined) query = query.where('target_id', '=', q.targetId);
  if (q.since !== undefined) query = query.where('at', '>=', timeToDb(q.since));
  if (q.actorKind !== undefined) query = query.where('actor_kind', '=', q.actorKind);
  if (q.actor !== undefined) {
    const actor = q.actor;
    query =
      actor.toLowerCase() === 'cli'
        ? query.where('actor_kind', '=', 'cli')
        : query.where((eb) =>
            eb.or([
              eb('actor_user_id', '=', actor),
              eb('actor_upn', '=', actor.toLowerCase()),
              eb('actor_token_id', '=', actor),
              eb('actor_token_name', '=', actor.replace(/^token:/, '')),
            ]),
          );
  }
  if (q.after !== undefined) {
    const at = timeToDb(q.after.at);
    const id = q.after.id;
    query = query.where((eb) => eb.or([eb('at', '<', at), eb.and([eb('at', '=', at), eb('id', '<', id)])]));
  }
  const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map(toAudit);
}

// -- admin roles -----------------------------------------------------------------------------------------

function selectAdmins(db: Db) {
  return db
    .selectFrom('admin_roles as a')
    .innerJoin('users as u', 'u.id', 'a.user_id')
    .select(['a.user_id', 'a.role', 'a.created_at', 'a.updated_at', 'u.upn', 'u.display_name', 'u.enabled']);
}

type AdminRow = Awaited<ReturnType<ReturnType<typeof selectAdmins>['executeTakeFirstOrThrow']>>;

function toAdmin(row: AdminRow): AdminAccount {
  return {
    userId: row.user_id,
    upn: row.upn,
    displayName: row.display_name,
    enabled: boolFromDb(row.enabled),
    role: row.role as AdminRole,
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
}

export async function getAdmin(db: Db, userId: string): Promise<AdminAccount | undefined> {
  const row = await selectAdmins(db).where('a.user_id', '=', userId).executeTakeFirst();
  return row && toAdmin(row);
}

export async function listAdmins(db: Db): Promise<AdminAccount[]> {
  return (await selectAdmins(db).orderBy('u.upn').execute()).map(toAdmin);
}

export async function setAdminRole(
  db: Db,
  input: { userId: string; role: AdminRole; now: Date },
  audit?: NewAuditEntry,
): Promise<AdminAccount> {
  const now = timeToDb(input.now);
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('admin_roles')
      .values({ user_id: input.userId, role: input.role, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ role: input.role, updated_at: now }))
      .execute();
    if (audit) await insertAudit(trx, audit);
    const row = await selectAdmins(trx).where('a.user_id', '=', input.userId).executeTakeFirst();
    if (!row) throw new NotFoundError(`user ${input.userId} does not exist`);
    return toAdmin(row);
  });
}

export async function removeAdmin(db: Db, userId: string, now: Date, audit?: NewAuditEntry): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const res = await trx.deleteFrom('admin_roles').where('user_id', '=', userId).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) return false;
    await trx.deleteFrom('admin_sessions').where('user_id', '=', userId).execute();
    await trx
      .updateTable('api_tokens')
      .set({ revoked_at: timeToDb(now) })
      .where('created_by', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    if (audit) await insertAudit(trx, audit);
    return true;
  });
}

// -- sessions --------------------------------------------------------------------------------------------

export async function createAdminSession(db: Db, s: AdminSessionRecord): Promise<void> {
  await db
    .insertInto('admin_sessions')
    .values({
      id_hash: s.idHash,
      user_id: s.userId,
      csrf_token: s.csrfToken,
      created_at: timeToDb(s.createdAt),
      last_seen_at: timeToDb(s.lastSeenAt),
      expires_at: timeToDb(s.expiresAt),
    })
    .execute();
}

export async function getAdminSession(db: Db, idHash: string): Promise<AdminSessionRecord | undefined> {
  const row = await db.selectFrom('admin_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  return (
    row && {
      idHash: row.id_hash,
      userId: row.user_id,
      csrfToken: row.csrf_token,
      createdAt: timeFromDb(row.created_at),
      lastSeenAt: timeFromDb(row.last_seen_at),
      expiresAt: timeFromDb(row.expires_at),
    }
  );
}

export async function touchAdminSession(db: Db, idHash: string, lastSeenAt: Date): Promise<void> {
  const at = timeToDb(lastSeenAt);
  // Never move last-seen backwards (two requests finishing out of order).
  await db.updateTable('admin_sessions').set({ last_seen_at: at }).where('id_hash', '=', idHash).where('last_seen_at', '<', at).execute();
}

export async function deleteAdminSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('id_hash', '=', idHash).execute();
}

export async function pruneAdminSessions(db: Db, now: Date, idleBefore: Date): Promise<number> {
  const res = await db
    .deleteFrom('admin_sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', timeToDb(now)), eb('last_seen_at', '<', timeToDb(idleBefore))]))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

// -- API tokens ------------------------------------------------------------------------------------------

function selectTokens(db: Db) {
  return db.selectFrom('api_tokens as t').innerJoin('users as u', 'u.id', 't.created_by').selectAll('t').select('u.upn');
}

function toToken(row: Selectable<ApiTokensTable> & { upn: string }): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    tokenHash: row.token_hash,
    role: row.role as AdminRole,
    createdByUserId: row.created_by,
    createdByUpn: row.upn,
    createdAt: timeFromDb(row.created_at),
    expiresAt: timeFromDbOrNull(row.expires_at),
    lastUsedAt: timeFromDbOrNull(row.last_used_at),
    revokedAt: timeFromDbOrNull(row.revoked_at),
  };
}

export async function createApiToken(
  db: Db,
  input: Omit<ApiTokenRecord, 'createdByUpn' | 'lastUsedAt' | 'revokedAt'>,
  audit?: NewAuditEntry,
): Promise<ApiTokenRecord> {
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('api_tokens')
      .values({
        id: input.id,
        name: input.name,
        token_hash: input.tokenHash,
        role: input.role,
        created_by: input.createdByUserId,
        created_at: timeToDb(input.createdAt),
        expires_at: input.expiresAt ? timeToDb(input.expiresAt) : null,
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    if (audit) await insertAudit(trx, audit);
    return toToken(await selectTokens(trx).where('t.id', '=', input.id).executeTakeFirstOrThrow());
  });
}

export async function getApiTokenByHash(db: Db, tokenHash: string): Promise<ApiTokenRecord | undefined> {
  const row = await selectTokens(db).where('t.token_hash', '=', tokenHash).executeTakeFirst();
  return row && toToken(row);
}

export async function getApiToken(db: Db, id: string): Promise<ApiTokenRecord | undefined> {
  const row = await selectTokens(db).where('t.id', '=', id).executeTakeFirst();
  return row && toToken(row);
}

export async function listApiTokens(db: Db): Promise<ApiTokenRecord[]> {
  return (await selectTokens(db).orderBy('t.created_at', 'desc').orderBy('t.id', 'desc').execute()).map(toToken);
}

export async function revokeApiToken(db: Db, id: string, now: Date, audit?: NewAuditEntry): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const res = await trx
      .updateTable('api_tokens')
      .set({ revoked_at: timeToDb(now) })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    if (audit) await insertAudit(trx, audit);
    return true;
  });
}

export async function touchApiToken(db: Db, id: string, now: Date): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: timeToDb(now) })
    .where('id', '=', id)
    .execute();
}
