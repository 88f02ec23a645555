/**
 * Admin roles and what each may do. The API enforces these through its route table (http/api); this
 * file is the vocabulary both share.
 *
 * - readonly: reads everything, including the audit log; changes nothing.
 * - helpdesk: reads (not the audit log) and runs the harmless device actions (sync, restart).
 * - administrator: everything.
 */
import type { RemoteAction } from '../management/actions.js';
import type { AdminRole } from './ports.js';

const RANK: Record<AdminRole, number> = { readonly: 0, helpdesk: 1, administrator: 2 };

/** Whether `role` has at least the rights of `floor` (administrator > helpdesk > readonly). */
export function roleAtLeast(role: AdminRole, floor: AdminRole): boolean {
  return RANK[role] >= RANK[floor];
}

/** The lower of two roles: a token never grants more than its creator holds now. */
export function lowerRole(a: AdminRole, b: AdminRole): AdminRole {
  return RANK[a] <= RANK[b] ? a : b;
}

export function isAdminRole(v: unknown): v is AdminRole {
  return v === 'administrator' || v === 'helpdesk' || v === 'readonly';
}

/** Every role: reads. */
export const ANY_ROLE: readonly AdminRole[] = ['administrator', 'helpdesk', 'readonly'];
/** Device remote actions that help desk staff may run. */
export const HELPDESK_ROLES: readonly AdminRole[] = ['administrator', 'helpdesk'];
/** Changes of configuration, accounts and tokens. */
export const ADMINISTRATOR_ONLY: readonly AdminRole[] = ['administrator'];
/** The audit log: administrators and read-only auditors, not help desk. */
export const AUDIT_READERS: readonly AdminRole[] = ['administrator', 'readonly'];

const HELPDESK_ACTIONS = new Set<RemoteAction['kind']>(['sync', 'restart']);

/** Who may queue this remote action: sync and restart are help desk work; the rest loses data or control. */
export function rolesForAction(kind: RemoteAction['kind']): readonly AdminRole[] {
  return HELPDESK_ACTIONS.has(kind) ? HELPDESK_ROLES : ADMINISTRATOR_ONLY;
}
