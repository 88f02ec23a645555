/**
 * SQL repository of the Entra ID tenant connections (port in core/entra/ports.ts). Free functions over a
 * Kysely handle; SqlStorage wraps each in its error mapping.
 */
import type { Kysely, Selectable } from 'kysely';
import type { EntraTenant } from '../../core/entra/ports.js';
import { jsonToDb, stringArrayFromDb, timeFromDb, timeToDb } from './codecs.js';
import type { Database, EntraTenantsTable } from './schema.js';

type Db = Kysely<Database>;

export async function saveEntraTenant(db: Db, input: Omit<EntraTenant, 'createdAt' | 'updatedAt'> & { now: Date }): Promise<EntraTenant> {
  const at = timeToDb(input.now);
  const row = {
    tenant_id: input.tenantId.toLowerCase(),
    client_id: input.clientId.toLowerCase(),
    issuers: jsonToDb(input.issuers),
    jwks: input.jwksJson,
    jwks_url: input.jwksUrl,
    created_at: at,
    updated_at: at,
  };
  await db
    .insertInto('entra_tenants')
    .values(row)
    .onConflict((oc) =>
      oc.column('tenant_id').doUpdateSet({
        client_id: row.client_id,
        issuers: row.issuers,
        jwks: row.jwks,
        jwks_url: row.jwks_url,
        updated_at: row.updated_at,
      }),
    )
    .execute();
  const saved = await getEntraTenant(db, row.tenant_id);
  if (!saved) throw new Error(`tenant ${row.tenant_id} vanished after saving`);
  return saved;
}

export async function getEntraTenant(db: Db, tenantId: string): Promise<EntraTenant | undefined> {
  const row = await db.selectFrom('entra_tenants').selectAll().where('tenant_id', '=', tenantId.toLowerCase()).executeTakeFirst();
  return row && toTenant(row);
}

export async function listEntraTenants(db: Db): Promise<EntraTenant[]> {
  const rows = await db.selectFrom('entra_tenants').selectAll().orderBy('tenant_id').execute();
  return rows.map(toTenant);
}

export async function deleteEntraTenant(db: Db, tenantId: string): Promise<boolean> {
  const res = await db.deleteFrom('entra_tenants').where('tenant_id', '=', tenantId.toLowerCase()).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

function toTenant(row: Selectable<EntraTenantsTable>): EntraTenant {
  return {
    tenantId: row.tenant_id,
    clientId: row.client_id,
    issuers: stringArrayFromDb(row.issuers),
    jwksJson: row.jwks,
    jwksUrl: row.jwks_url,
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
}
