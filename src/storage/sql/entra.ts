/**
 * SQL repository of the Entra ID tenant connections (port in core/entra/ports.ts). Free functions over a
 * Kysely handle; SqlStorage wraps each in its error mapping.
 */
import type { Kysely, Selectable } from 'kysely';
import type { TermsText } from '../../core/enrollment/ports.js';
import type { DirectoryLinkResult, EntraTenant } from '../../core/entra/ports.js';
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

// -- directory object links (migration 0012) -----------------------------------------------------------

export async function linkDirectoryObject(
  db: Db,
  input: { userId: string; tenantId: string; objectId: string; now: Date },
): Promise<DirectoryLinkResult> {
  const tenantId = input.tenantId.toLowerCase();
  const objectId = input.objectId.toLowerCase();
  return db.transaction().execute(async (trx) => {
    const mine = await trx.selectFrom('user_directory_links').selectAll().where('user_id', '=', input.userId).executeTakeFirst();
    if (mine) {
      return mine.tenant_id === tenantId && mine.object_id === objectId
        ? { result: 'same' as const }
        : { result: 'conflict' as const, why: 'user_has_other_object' as const, tenantId: mine.tenant_id, objectId: mine.object_id };
    }
    // A unique (tenant, object) pair: a concurrent link of the same object to another user loses here.
    const res = await trx
      .insertInto('user_directory_links')
      .values({ user_id: input.userId, tenant_id: tenantId, object_id: objectId, linked_at: timeToDb(input.now) })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0n) === 1) return { result: 'linked' as const };
    const again = await trx.selectFrom('user_directory_links').selectAll().where('user_id', '=', input.userId).executeTakeFirst();
    if (again?.tenant_id === tenantId && again.object_id === objectId) return { result: 'same' as const };
    return { result: 'conflict' as const, why: 'object_has_other_user' as const, tenantId, objectId };
  });
}

export async function getDirectoryLink(
  db: Db,
  userId: string,
): Promise<{ tenantId: string; objectId: string; linkedAt: Date } | undefined> {
  const row = await db.selectFrom('user_directory_links').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row && { tenantId: row.tenant_id, objectId: row.object_id, linkedAt: timeFromDb(row.linked_at) };
}

// -- terms-of-use text (migration 0012) ------------------------------------------------------------------

export async function getTermsText(db: Db): Promise<TermsText> {
  const row = await db.selectFrom('terms_of_use_text').selectAll().where('id', '=', 1).executeTakeFirst();
  if (!row) return { title: null, body: null, version: 0, updatedAt: null };
  return { title: row.title, body: row.body, version: Number(row.version), updatedAt: timeFromDb(row.updated_at) };
}

export async function saveTermsText(db: Db, input: { title: string | null; body: string | null; now: Date }): Promise<TermsText> {
  const at = timeToDb(input.now);
  // One statement: the version grows by exactly one per save, whoever saves concurrently.
  await db
    .insertInto('terms_of_use_text')
    .values({ id: 1, title: input.title, body: input.body, version: 1, updated_at: at })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        title: input.title,
        body: input.body,
        version: eb('terms_of_use_text.version', '+', 1),
        updated_at: at,
      })),
    )
    .execute();
  return getTermsText(db);
}
