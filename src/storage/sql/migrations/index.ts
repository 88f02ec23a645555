import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './0001_initial.js';
import { management } from './0002_management.js';
import { renewal } from './0003_renewal.js';
import { policy } from './0004_policy.js';
import { admin } from './0005_admin.js';
import { mfa } from './0006_mfa.js';
import { directoryTenants } from './0007_directory_tenants.js';
import { deviceUsers } from './0008_device_users.js';
import { directorySync } from './0009_directory_sync.js';
import { oidcProviders } from './0010_oidc_providers.js';
import { compliance } from './0011_compliance.js';
import { deviceIdentity } from './0012_device_identity.js';
import { mam } from './0013_mam.js';
import { groupLicenses } from './0014_group_licenses.js';
import { deviceList } from './0015_device_list.js';
import { apps } from './0016_apps.js';
import { availableProfiles } from './0017_available_profiles.js';
import { auditEndUsers } from './0018_audit_end_users.js';
import { appResults } from './0019_app_results.js';

export type SqlDialectKind = 'sqlite' | 'postgres';

/**
 * The one migration set, listed statically so the compiled build needs no file globbing. Names sort in
 * apply order; append new files as `0002_<what>.ts` and list them here. Never edit an applied migration.
 */
export function migrationsFor(dialect: SqlDialectKind): Record<string, Migration> {
  return {
    '0001_initial': initial(dialect),
    '0002_management': management(dialect),
    '0003_renewal': renewal(dialect),
    '0004_policy': policy(dialect),
    '0005_admin': admin(dialect),
    '0006_mfa': mfa(dialect),
    '0007_directory_tenants': directoryTenants(dialect),
    '0008_device_users': deviceUsers(dialect),
    '0009_directory_sync': directorySync(dialect),
    '0010_oidc_providers': oidcProviders(dialect),
    '0011_compliance': compliance(dialect),
    '0012_device_identity': deviceIdentity(dialect),
    '0013_mam': mam(dialect),
    '0014_group_licenses': groupLicenses(dialect),
    '0015_device_list': deviceList(dialect),
    '0016_apps': apps(dialect),
    '0017_available_profiles': availableProfiles(dialect),
    '0018_audit_end_users': auditEndUsers(dialect),
    '0019_app_results': appResults(dialect),
  };
}

/** Kysely `MigrationProvider` over the static list above. */
export class StaticMigrationProvider implements MigrationProvider {
  readonly #dialect: SqlDialectKind;
  constructor(dialect: SqlDialectKind) {
    this.#dialect = dialect;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrationsFor(this.#dialect);
  }
}
