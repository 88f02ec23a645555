/**
 * Assembles the admin API's services (accounts, auth, audited operations, policy) over the one storage, for
 * the web listener. Kept apart from server.ts so the composition root stays a list of parts.
 */
import type { Config } from '../config/config.js';
import { AdminAccounts } from '../core/admin/accounts.js';
import { AdminAuth } from '../core/admin/auth.js';
import { AdminOperations } from '../core/admin/operations.js';
import type { DirectoryService } from '../core/directory/directory-service.js';
import { PROVIDER_ID } from '../core/enrollment/enrollment-service.js';
import { ManagementAdmin } from '../core/management/admin.js';
import type { EnrollmentPolicy } from '../core/policy/enrollment-policy.js';
import { PolicyAdmin } from '../core/policy/policy-admin.js';
import type { Storage } from '../core/ports.js';
import type { ApiDeps } from '../http/api/index.js';
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
