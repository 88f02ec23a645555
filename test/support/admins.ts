/** Admin accounts for API tests: each UPN given a role (as `winroll admins add` does), then signed in. */
import { expect } from 'vitest';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { systemClock } from '../../src/shared/clock.js';
import type { apiClient, Creds } from './api-client.js';
import type { TestServer } from './server.js';

export type AdminRole = 'administrator' | 'helpdesk' | 'readonly';

/** Grants `role` to an existing user. */
export async function grantAdmin(t: TestServer, upn: string, role: AdminRole): Promise<void> {
  await new AdminAccounts({ storage: t.server.storage, directory: t.directory, clock: systemClock }).add(CLI_CONTEXT, upn, role);
}

/** Grants each role to its UPN and signs it in with `password`: the session of each, by role. */
export async function signInAdmins<R extends AdminRole>(
  t: TestServer,
  signIn: ReturnType<typeof apiClient>['signIn'],
  password: string,
  upns: Record<R, string>,
): Promise<Record<R, Creds>> {
  const sessions = {} as Record<R, Creds>;
  for (const [role, upn] of Object.entries(upns) as Array<[R, string]>) {
    await grantAdmin(t, upn, role);
    const signed = await signIn(upn, password);
    expect(signed.res.status, signed.res.text).toBe(201);
    sessions[role] = { cookie: signed.cookie, csrf: signed.csrf };
  }
  return sessions;
}
