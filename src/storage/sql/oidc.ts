/**
 * SQL repository of the OIDC providers of the federated sign-in page (port in core/oidc/ports.ts). Free
 * functions over a Kysely handle; SqlStorage wraps each in its error mapping (a duplicate name becomes a
 * ConflictError there).
 */
import type { Kysely, Selectable } from 'kysely';
import type { NewOidcProvider, OidcClaim, OidcProvider } from '../../core/oidc/ports.js';
import { boolFromDb, boolToDb, jsonToDb, stringArrayFromDb, timeFromDb, timeToDb } from './codecs.js';
import type { Database, OidcProvidersTable } from './schema.js';

type Db = Kysely<Database>;

export async function addOidcProvider(db: Db, input: NewOidcProvider): Promise<OidcProvider> {
  const at = timeToDb(input.now);
  await db
    .insertInto('oidc_providers')
    .values({
      id: input.id,
      name: input.name,
      name_key: input.name.toLowerCase(),
      issuer: input.issuer,
      client_id: input.clientId,
      client_secret: input.clientSecretSealed,
      scopes: jsonToDb(input.scopes),
      claim: input.claim,
      domains: jsonToDb(input.domains.map((d) => d.toLowerCase())),
      trust_mfa: boolToDb(input.trustMfa),
      ca_pem: input.caPem,
      created_at: at,
      updated_at: at,
    })
    .execute();
  const saved = await getOidcProvider(db, input.id);
  if (!saved) throw new Error(`OIDC provider ${input.id} vanished after saving`);
  return saved;
}

export async function getOidcProvider(db: Db, id: string): Promise<OidcProvider | undefined> {
  const row = await db.selectFrom('oidc_providers').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toProvider(row);
}

export async function getOidcProviderByName(db: Db, name: string): Promise<OidcProvider | undefined> {
  const row = await db.selectFrom('oidc_providers').selectAll().where('name_key', '=', name.toLowerCase()).executeTakeFirst();
  return row && toProvider(row);
}

export async function listOidcProviders(db: Db): Promise<OidcProvider[]> {
  const rows = await db.selectFrom('oidc_providers').selectAll().orderBy('name_key').execute();
  return rows.map(toProvider);
}

export async function deleteOidcProvider(db: Db, id: string): Promise<boolean> {
  const res = await db.deleteFrom('oidc_providers').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

function toProvider(row: Selectable<OidcProvidersTable>): OidcProvider {
  return {
    id: row.id,
    name: row.name,
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecretSealed: row.client_secret,
    scopes: stringArrayFromDb(row.scopes),
    claim: row.claim as OidcClaim,
    domains: stringArrayFromDb(row.domains),
    trustMfa: boolFromDb(row.trust_mfa),
    caPem: row.ca_pem,
    createdAt: timeFromDb(row.created_at),
    updatedAt: timeFromDb(row.updated_at),
  };
}
