import type { Kysely, Migration } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * Entra ID tenants whose directory tokens Winroll accepts for automatic enrollment (core/entra): tenant
 * id, the MDM app's client id, the accepted issuers (JSON array) and the signing keys, either a JWKS
 * document stored here or a URL the server fetches.
 */
export function directoryTenants(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('entra_tenants')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('issuers', 'text', (c) => c.notNull())
        .addColumn('jwks', 'text')
        .addColumn('jwks_url', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('entra_tenants').execute();
    },
  };
}
