/**
 * SQL repository of the second factor (ports in core/mfa/ports.ts): TOTP factors. (Who must use one is
 * TenantSettings.mfa, stored by policy.ts.)
 * Free functions over a Kysely handle; SqlStorage wraps each in its error mapping. The secret column holds
 * the service's ciphertext only.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { MfaFactor, MfaFactorStatus, MfaFactorSummary } from '../../core/mfa/ports.js';
import { InvalidInputError } from '../../shared/errors.js';
import { intFromDb, timeFromDb, timeFromDbOrNull, timeToDb } from './codecs.js';
import type { Database, MfaFactorsTable } from './schema.js';

type Db = Kysely<Database>;

function timeStep(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidInputError('a TOTP time step is a non-negative integer');
  return n;
}

export async function getMfaFactor(db: Db, userId: string): Promise<MfaFactor | undefined> {
  const row = await db.selectFrom('mfa_factors').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row && { ...toSummary(row), secretCiphertext: row.secret };
}

export async function listMfaFactors(db: Db): Promise<MfaFactorSummary[]> {
  const rows = await db
    .selectFrom('mfa_factors')
    .select(['user_id', 'kind', 'status', 'last_time_step', 'created_at', 'confirmed_at', 'last_used_at'])
    .orderBy('user_id')
    .execute();
  return rows.map(toSummary);
}

export async function savePendingMfaFactor(db: Db, input: { userId: string; secretCiphertext: string; now: Date }): Promise<boolean> {
  if (!input.secretCiphertext) throw new InvalidInputError('the sealed secret is required');
  const res = await db
    .insertInto('mfa_factors')
    .values({
      user_id: input.userId,
      kind: 'totp',
      status: 'pending' satisfies MfaFactorStatus,
      secret: input.secretCiphertext,
      last_time_step: null,
      attempts: 0,
      attempts_since: null,
      created_at: timeToDb(input.now),
      confirmed_at: null,
      last_used_at: null,
    })
    // A pending factor is replaced (the admin enrolled again); an active one is left alone.
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet((eb) => ({
          secret: eb.ref('excluded.secret'),
          created_at: eb.ref('excluded.created_at'),
          last_time_step: null,
          attempts: 0,
          attempts_since: null,
        }))
        .where('mfa_factors.status', '=', 'pending'),
    )
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function activateMfaFactor(db: Db, userId: string, step: number, now: Date): Promise<boolean> {
  const at = timeToDb(now);
  const res = await db
    .updateTable('mfa_factors')
    .set({
      status: 'active' satisfies MfaFactorStatus,
      last_time_step: timeStep(step),
      confirmed_at: at,
      last_used_at: at,
      attempts: 0,
      attempts_since: null,
    })
    .where('user_id', '=', userId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function recordMfaUse(db: Db, userId: string, step: number, now: Date): Promise<boolean> {
  const res = await db
    .updateTable('mfa_factors')
    .set({ last_time_step: timeStep(step), last_used_at: timeToDb(now), attempts: 0, attempts_since: null })
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    // Compare-and-set: of two requests with the same code, only one moves the step forward.
    .where((eb) => eb.or([eb('last_time_step', 'is', null), eb('last_time_step', '<', step)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function countMfaAttempt(db: Db, userId: string, now: Date, windowStart: Date): Promise<number> {
  const nowText = timeToDb(now);
  // ISO-8601 UTC text with milliseconds compares as time.
  const expired = sql<boolean>`(attempts_since is null or attempts_since < ${timeToDb(windowStart)})`;
  const row = await db
    .updateTable('mfa_factors')
    .set({
      attempts: sql<number>`case when ${expired} then 1 else attempts + 1 end`,
      attempts_since: sql<string>`case when ${expired} then ${nowText} else attempts_since end`,
    })
    .where('user_id', '=', userId)
    .returning('attempts')
    .executeTakeFirst();
  return row ? (intFromDb(row.attempts) ?? 0) : 0;
}

export async function deleteMfaFactor(db: Db, userId: string): Promise<boolean> {
  const res = await db.deleteFrom('mfa_factors').where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

function toSummary(row: Omit<Selectable<MfaFactorsTable>, 'secret' | 'attempts' | 'attempts_since'>): MfaFactorSummary {
  return {
    userId: row.user_id,
    kind: 'totp',
    status: row.status as MfaFactorStatus,
    lastTimeStep: intFromDb(row.last_time_step),
    createdAt: timeFromDb(row.created_at),
    confirmedAt: timeFromDbOrNull(row.confirmed_at),
    lastUsedAt: timeFromDbOrNull(row.last_used_at),
  };
}
