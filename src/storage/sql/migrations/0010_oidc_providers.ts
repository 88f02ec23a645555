import type { Kysely, Migration } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * OpenID Connect providers for the federated sign-in page (core/oidc): issuer, client, the client secret
 * sealed with AES-256-GCM (never in the clear), scopes and domains (JSON arrays), the claim that names the
 * user, whether its MFA assertion is trusted, and optional extra CA certificates. `name_key` is the
 * lower-cased name, so names are unique whatever their case.
 */
export function oidcProviders(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('oidc_providers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('client_secret', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('claim', 'text', (c) => c.notNull())
        .addColumn('domains', 'text', (c) => c.notNull())
        .addColumn('trust_mfa', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('ca_pem', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('oidc_providers_name_key_key', ['name_key'])
        .execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('oidc_providers').execute();
    },
  };
}
