import type { Kysely, Migration } from 'kysely';
import type { SqlDialectKind } from './index.js';

/**
 * Certificate renewal (ROBO): an enrollment created by renewing a certificate remembers the enrollment
 * whose certificate signed the request. recordRenewal uses it to recognise a retried renewal after a lost
 * response; admins see a device's certificate history as a chain. Null for enrollments made by enrolling.
 */
export function renewal(_dialect: SqlDialectKind): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('enrollments').addColumn('renewed_from', 'text').execute();
    },

    // biome-ignore lint/suspicious/noExplicitAny: see up()
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('enrollments').dropColumn('renewed_from').execute();
    },
  };
}
