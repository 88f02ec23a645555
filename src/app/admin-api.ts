/**
 * Assembles the admin API's services (accounts, auth, audited operations, policy) over the one storage, for
 * the web listener. Kept apart from server.ts so the composition root stays a list of parts.
 */
import type { Config } from '../config/config.js';
import { AdminAccounts } from '../core/admin/accounts.js';
import { AdminAuth } from '../core/admin/auth.js';
import { AdminOperations } from '../core/admin/operations.js';
import { AppCatalog } from '../core/apps/app-service.js';
import type { ComplianceService } from '../core/compliance/service.js';
import type { DirectoryService } from '../core/directory/directory-service.js';
import { PROVIDER_ID } from '../core/enrollment/enrollment-service.js';
import { ManagementAdmin } from '../core/management/admin.js';
import { EntraTenants } from '../core/entra/tenants.js';
import { TermsTextAdmin } from '../core/enrollment/terms-text.js';
import type { EnrollmentPolicy } from '../core/policy/enrollment-policy.js';
import type { OidcProviders } from '../core/oidc/providers.js';
import { PolicyAdmin } from '../core/policy/policy-admin.js';
import type { Storage } from '../core/ports.js';
import type { ApiDeps } from '../http/api/index.js';
import type { DirectorySync } from './directory-sync.js';
import { buildDnsChecker } from './dns-checks.js';
import { WnsClient } from '../push/wns.js';
import type { Clock } from '../shared/clock.js';

/** How often expired and idle admin sessions are deleted. */
const SESSION_PRUNE_MS = 15 * 60 * 1000;

export function buildAdminApi(deps: {
  storage: Storage;
  directory: DirectoryService;
  clock: Clock;
  config: Config;
  /** The enrollment decision the endpoints use, so explain answers what a device gets. */
  policy: EnrollmentPolicy;
  /** `https://host[:port]` of the web listener (known once it listens). */
  webBase: () => string;
  /** Compliance (shared with the session engine, which re-evaluates on inventory). */
  compliance: ComplianceService;
  /** OIDC providers of the federated sign-in page (their secrets are sealed with the MFA master key). */
  oidcProviders: OidcProviders;
  /** SCIM and the Entra Graph sync (app/directory-sync.ts). */
  directorySync: DirectorySync;
}): {
  api: ApiDeps;
  close(): Promise<void>;
} {
  const { storage, directory, clock, config, policy, webBase } = deps;
  const push = config.wns ? new WnsClient(config.wns) : undefined;
  const management = new ManagementAdmin({ storage, clock, providerId: PROVIDER_ID, push });
  const auth = new AdminAuth({ storage, directory, clock });
  const api: ApiDeps = {
    auth,
    accounts: new AdminAccounts({ storage, directory, clock }),
    operations: new AdminOperations({ storage, directory, management, clock }),
    directory,
    management,
    policy: new PolicyAdmin({ storage, clock, directory, policy }),
    reads: storage,
    entra: new EntraTenants({ store: storage, clock }),
    termsText: new TermsTextAdmin({ store: storage, clock }),
    compliance: deps.compliance,
    oidcProviders: deps.oidcProviders,
    directorySync: deps.directorySync,
    apps: new AppCatalog({ store: storage, clock }),
    dns: buildDnsChecker({
      config,
      clock,
      configuredDomains: async () => (await storage.listDomains()).map((d) => d.name),
      probeConfiguredOnly: true,
    }),
    webBase,
  };
  const timer = setInterval(() => void auth.pruneSessions().catch(() => {}), SESSION_PRUNE_MS);
  timer.unref();
  return {
    api,
    async close() {
      clearInterval(timer);
      push?.close();
    },
  };
}
