/**
 * Remote actions an admin queues (intune-features.md 2.9) and the OMA-DM commands that carry them.
 * Each action is one queued command whose state is the action's state.
 */
import { InvalidInputError } from '../../shared/errors.js';
import { adminActionVerdict } from './capabilities.js';
import type { NewCommand, Ownership } from './ports.js';

export type RemoteAction =
  | { kind: 'sync' }
  | { kind: 'restart' }
  | { kind: 'rename'; name: string }
  | { kind: 'wipe'; keepEnrollment: boolean }
  | { kind: 'retire' }
  | { kind: 'delete' };

export const ACTION_KINDS = ['sync', 'restart', 'rename', 'wipe', 'retire', 'delete'] as const;

const FORBIDDEN_NAME_CHARS = /[{|}~[\\\]^':;<=>?&@!"#$%`()+/,._*\s]/;

/** Windows computer-name rules for Rename (Accounts CSP): ≤ 63 characters, letters/digits/hyphen, not all digits. */
export function renameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the new name is empty';
  if (name.length > 63) return 'the new name is longer than 63 characters';
  if (/^\d+$/.test(name)) return 'the new name cannot be only digits';
  if (FORBIDDEN_NAME_CHARS.test(name)) return 'the new name may only contain letters, digits and hyphens';
  if ([...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return 'the new name contains control characters';
  return undefined;
}

/**
 * The command for an action. Sync has no CSP of its own: a small Get proves the device checked in,
 * which is exactly what the admin wants to see acknowledged.
 */
export function commandForAction(
  action: RemoteAction,
  actionId: string,
  ctx: {
    ownership: Ownership;
    providerId: string;
    /** The primary user acting from the Company Portal: checked by core/portal (userActionVerdict) instead. */
    by?: 'organisation' | 'primary-user';
  },
): NewCommand {
  const origin = { kind: 'action' as const, actionId };
  // Who may do what to which device is decided in one table (capabilities.ts), which the portal's
  // "What your organisation can see" page also reads. MAM applicability is checked by the caller.
  if (ctx.by !== 'primary-user') {
    const verdict = adminActionVerdict(action.kind, ctx.ownership, 'mdm');
    if (!verdict.allowed) throw new InvalidInputError(verdict.reason);
  }
  switch (action.kind) {
    case 'sync':
      return { verb: 'Get', item: { locUri: './DevDetail/SwV' }, userId: null, origin };
    case 'restart':
      return {
        verb: 'Exec',
        item: { locUri: './Device/Vendor/MSFT/Reboot/RebootNow', format: 'null', type: 'text/plain', data: '' },
        userId: null,
        origin,
      };
    case 'rename': {
      const problem = renameProblem(action.name);
      if (problem) throw new InvalidInputError(problem);
      return {
        verb: 'Replace',
        item: { locUri: './Device/Vendor/MSFT/Accounts/Domain/ComputerName', format: 'chr', type: 'text/plain', data: action.name },
        userId: null,
        origin,
      };
    }
    case 'wipe':
      // doWipePersistProvisionedData keeps the provisioning (enrollment) across the reset.
      return {
        verb: 'Exec',
        item: {
          locUri: `./Device/Vendor/MSFT/RemoteWipe/${action.keepEnrollment ? 'doWipePersistProvisionedData' : 'doWipe'}`,
          format: 'chr',
          type: 'text/plain',
          data: '',
        },
        userId: null,
        origin,
      };
    case 'retire':
    case 'delete':
      return {
        verb: 'Exec',
        item: { locUri: './Device/Vendor/MSFT/DMClient/Unenroll', format: 'chr', type: 'text/plain', data: ctx.providerId },
        userId: null,
        origin,
      };
  }
}
