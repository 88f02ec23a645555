/**
 * SQL repository of compliance (port in core/compliance/ports.ts): rules, per-device state with the
 * write-back queue columns, the history of state changes, and the write-back tenants. Free functions over
 * a Kysely handle; SqlStorage wraps each in its error mapping.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import type {
  ComplianceHistoryEntry,
  ComplianceRules,
  ComplianceState,
  RuleResult,
  DeviceCompliance,
  NewDeviceCompliance,
  WriteBackTenant,
} from '../../core/compliance/ports.js';
import { jsonToDb, timeFromDb, timeFromDbOrNull, timeToDb } from './codecs.js';
import { newId } from './ids.js';
import type { Database, DeviceComplianceTable } from './schema.js';

type Db = Kysely<Database>;

const RULES_ROW = 'tenant';

export async function getComplianceRules(db: Db): Promise<ComplianceRules | undefined> {
  const row = await db.selectFrom('compliance_rules').select('rules').where('id', '=', RULES_ROW).executeTakeFirst();
  if (!row) return undefined;
  // Rules saved by an older version may lack newer keys; the service fills them with defaults.
  return JSON.parse(row.rules) as ComplianceRules;
}

export async function saveComplianceRules(db: Db, rules: ComplianceRules, now: Date): Promise<void> {
  const row = { id: RULES_ROW, rules: jsonToDb(rules), updated_at: timeToDb(now) };
  await db
    .insertInto('compliance_rules')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet({ rules: row.rules, updated_at: row.updated_at }))
    .execute();
}

export async function getDeviceCompliance(db: Db, devicePk: string): Promise<DeviceCompliance | undefined> {
  const row = await db.selectFrom('device_compliance').selectAll().where('device_pk', '=', devicePk).executeTakeFirst();
  return row && toCompliance(row);
}

const bit = (v: boolean | null): number | null => (v === null ? null : v ? 1 : 0);

export async function saveDeviceCompliance(
  db: Db,
  input: NewDeviceCompliance,
): Promise<{ previous: ComplianceState | null; changed: boolean }> {
  return db.transaction().execute(async (trx) => {
    const at = timeToDb(input.now);
    const current = await trx
      .selectFrom('device_compliance')
      .select(['state', 'since', 'wb_desired'])
      .where('device_pk', '=', input.devicePk)
      .executeTakeFirst();
    const previous = (current?.state as ComplianceState | undefined) ?? null;
    const changed = previous !== input.state;
    const desired = bit(input.desired);
    const values = {
      state: input.state,
      rules: jsonToDb(input.rules),
      summary: input.summary.slice(0, 2000),
      evaluated_at: at,
      since: changed ? at : (current?.since ?? at),
      failing_since: input.failingSince ? timeToDb(input.failingSince) : null,
      grace_ends_at: input.graceEndsAt ? timeToDb(input.graceEndsAt) : null,
      entra_device_id: input.entraDeviceId,
      wb_desired: desired,
    };
    if (!current) {
      await trx
        .insertInto('device_compliance')
        .values({ device_pk: input.devicePk, ...values })
        .execute();
    } else {
      // A new value to tell the directory starts a fresh round of attempts, due at once.
      const fresh = current.wb_desired !== desired ? { wb_attempts: 0, wb_next_attempt_at: null } : {};
      await trx
        .updateTable('device_compliance')
        .set({ ...values, ...fresh })
        .where('device_pk', '=', input.devicePk)
        .execute();
    }
    if (changed) {
      await trx
        .insertInto('compliance_history')
        .values({
          id: newId(),
          device_pk: input.devicePk,
          state: input.state,
          previous_state: previous,
          summary: values.summary,
          at,
        })
        .execute();
    }
    return { previous, changed };
  });
}

export async function listComplianceHistory(db: Db, devicePk: string, limit: number): Promise<ComplianceHistoryEntry[]> {
  const rows = await db
    .selectFrom('compliance_history')
    .selectAll()
    .where('device_pk', '=', devicePk)
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    devicePk: r.device_pk,
    state: r.state as ComplianceState,
    previousState: (r.previous_state as ComplianceState | null) ?? null,
    summary: r.summary,
    at: timeFromDb(r.at),
  }));
}

export async function listWriteBackDue(db: Db, now: Date, limit: number): Promise<DeviceCompliance[]> {
  const rows = await db
    .selectFrom('device_compliance')
    .selectAll()
    .where('wb_desired', 'is not', null)
    .where('entra_device_id', 'is not', null)
    .where((eb) => eb.or([eb('wb_written', 'is', null), eb('wb_written', '!=', eb.ref('wb_desired'))]))
    .where((eb) => eb.or([eb('wb_next_attempt_at', 'is', null), eb('wb_next_attempt_at', '<=', timeToDb(now))]))
    .orderBy('evaluated_at')
    .orderBy('device_pk')
    .limit(limit)
    .execute();
  return rows.map(toCompliance);
}

export async function recordWriteBack(
  db: Db,
  devicePk: string,
  r: { ok: boolean; value: boolean; tenantId: string | null; detail: string; nextAttemptAt: Date | null; now: Date },
): Promise<void> {
  await db
    .updateTable('device_compliance')
    .set({
      wb_attempts: sql<number>`wb_attempts + 1`,
      wb_last_attempt_at: timeToDb(r.now),
      wb_last_result: r.detail.slice(0, 1000),
      wb_next_attempt_at: r.nextAttemptAt ? timeToDb(r.nextAttemptAt) : null,
      ...(r.ok ? { wb_written: r.value ? 1 : 0 } : {}),
      ...(r.tenantId ? { wb_tenant_id: r.tenantId.toLowerCase() } : {}),
    })
    .where('device_pk', '=', devicePk)
    .execute();
}

export async function listWriteBackTenants(db: Db): Promise<WriteBackTenant[]> {
  const rows = await db.selectFrom('compliance_write_back_tenants').selectAll().orderBy('tenant_id').execute();
  return rows.map((r) => ({ tenantId: r.tenant_id, enabledAt: timeFromDb(r.enabled_at) }));
}

export async function setWriteBackTenant(db: Db, tenantId: string, enabled: boolean, now: Date): Promise<boolean> {
  const id = tenantId.toLowerCase();
  if (enabled) {
    const res = await db
      .insertInto('compliance_write_back_tenants')
      .values({ tenant_id: id, enabled_at: timeToDb(now) })
      .onConflict((oc) => oc.column('tenant_id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }
  const res = await db.deleteFrom('compliance_write_back_tenants').where('tenant_id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

function toCompliance(row: Selectable<DeviceComplianceTable>): DeviceCompliance {
  const b = (v: number | null) => (v === null ? null : Number(v) !== 0);
  return {
    devicePk: row.device_pk,
    state: row.state as ComplianceState,
    rules: JSON.parse(row.rules) as RuleResult[],
    summary: row.summary,
    evaluatedAt: timeFromDb(row.evaluated_at),
    since: timeFromDb(row.since),
    failingSince: timeFromDbOrNull(row.failing_since),
    graceEndsAt: timeFromDbOrNull(row.grace_ends_at),
    writeBack: {
      entraDeviceId: row.entra_device_id,
      tenantId: row.wb_tenant_id,
      desired: b(row.wb_desired),
      written: b(row.wb_written),
      attempts: Number(row.wb_attempts),
      lastAttemptAt: timeFromDbOrNull(row.wb_last_attempt_at),
      lastResult: row.wb_last_result,
      nextAttemptAt: timeFromDbOrNull(row.wb_next_attempt_at),
    },
  };
}
