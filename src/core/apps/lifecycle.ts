/**
 * An app's life on one device, read from the device's command history (no state of its own, so it cannot
 * disagree with what was sent): the install and uninstall commands Winroll queued for the app, their
 * device statuses, the result a background install reported (app-results.ts), and why each install was
 * sent (required assignment or the user's Install). From that
 * and the assignments reaching the device's user, `planAppCommands` decides what a session sends: installs
 * of required apps (a failed one retried by the policy below), the Delete of the app's node for an app
 * Winroll installed because it was required and no assignment requires any more (unassigned, the user left
 * the group, the app was deleted), and the Delete for an app a group says to uninstall. An app the user
 * installed from the Company Portal is only removed by an uninstall assignment; a background install still
 * installing is asked for its Status and LastError. Pure.
 */
import type { CommandQueue, NewCommand, QueuedCommand } from '../management/ports.js';
import { checkInFlight, installOutcome, resultChecks } from './app-results.js';
import { type InstallReason, installCommand, parseAppActionId, uninstallCommand } from './catalog.js';
import type { AppIntent, AppStore, CatalogApp } from './ports.js';

export type DeviceAppState =
  | 'not_installed'
  | 'queued'
  | 'sent'
  /** Accepted by the device, which installs it in the background (MSI, Store); its result is not in yet. */
  | 'installing'
  | 'installed'
  | 'failed'
  | 'uninstall_queued'
  | 'uninstall_sent'
  | 'uninstalled'
  | 'uninstall_failed';

/**
 * Automatic retries of a required install: at most 3 attempts in all, the 2nd no sooner than 1 hour after
 * the 1st failed and the 3rd no sooner than 8 hours after the 2nd. Why: Windows checks in every few minutes
 * right after enrollment, so retrying at each session would spend every attempt within minutes on a cause
 * that needs time (Store or download outage, no disk space, a reboot pending); 8 hours is Windows' usual
 * check-in interval afterwards. A package that fails three times is broken: it is shown failed (with the
 * device's status code) and only an admin's Retry (or the user's Install, for an available app) sends it again.
 */
export const MAX_AUTOMATIC_ATTEMPTS = 3;
export const RETRY_DELAYS_MS: readonly number[] = [60 * 60_000, 8 * 60 * 60_000];

export interface AppHistory {
  appId: string;
  state: DeviceAppState;
  /** Why the newest install was sent; null when none was. */
  reason: InstallReason | null;
  /** Installs sent since the app was last removed (the first install included). */
  attempts: number;
  /** Failed installs in a row, newest last; 0 after a success. */
  failures: number;
  /** The newest install command (its node is the one an uninstall deletes). */
  lastInstall: QueuedCommand | undefined;
  /** The newest app command. */
  latest: QueuedCommand;
}

/** Each app's history on one device, from its commands (canceled ones do not count). */
export function appHistories(commands: QueuedCommand[]): Map<string, AppHistory> {
  const out = new Map<string, AppHistory>();
  const sorted = commands.filter((c) => c.origin.kind === 'action' && c.state !== 'canceled').sort((a, b) => a.seq - b.seq);
  for (const c of sorted) {
    if (c.origin.kind !== 'action') continue;
    const parsed = parseAppActionId(c.origin.actionId);
    if (!parsed) continue;
    let h = out.get(parsed.appId);
    if (!h) {
      h = { appId: parsed.appId, state: 'not_installed', reason: null, attempts: 0, failures: 0, lastInstall: undefined, latest: c };
      out.set(parsed.appId, h);
    }
    h.latest = c;
    if (parsed.op === 'install') {
      h.reason = parsed.reason;
      h.lastInstall = c;
      h.attempts++;
      // A background install counts when its result is in: failed (refused, or reported failed) or installed.
      const outcome = installOutcome(c);
      if (outcome === 'failed') h.failures++;
      else if (outcome === 'installed') h.failures = 0;
      h.state = outcome;
    } else {
      h.attempts = 0;
      h.failures = 0;
      // 404 on the Delete: the app's node is not there, so the app is not installed; that is what was asked.
      h.state =
        c.state === 'pending'
          ? 'uninstall_queued'
          : c.state === 'sent'
            ? 'uninstall_sent'
            : c.state === 'acknowledged' || c.status === 404
              ? 'uninstalled'
              : 'uninstall_failed';
    }
  }
  return out;
}

/** When a failed install may be sent again automatically; null when the attempts are spent (or it did not fail). */
export function nextAutomaticRetry(h: AppHistory | undefined): Date | null {
  if (h?.state !== 'failed' || h.failures >= MAX_AUTOMATIC_ATTEMPTS) return null;
  const delay = RETRY_DELAYS_MS[h.failures - 1] ?? RETRY_DELAYS_MS[RETRY_DELAYS_MS.length - 1] ?? 0;
  return new Date(h.latest.updatedAt.getTime() + delay);
}

const RANK: Record<AppIntent, number> = { available: 0, uninstall: 1, required: 2 };

/**
 * Each app's strongest intent among the assignments reaching the user: required over uninstall (one group
 * needing the app outweighs another removing it), uninstall over available (an app a group must not have
 * is not offered either).
 */
export function strongestIntents(
  assignments: Array<{ app: CatalogApp; intent: AppIntent }>,
): Map<string, { app: CatalogApp; intent: AppIntent }> {
  const out = new Map<string, { app: CatalogApp; intent: AppIntent }>();
  for (const a of assignments) {
    const prev = out.get(a.app.id);
    if (!prev || RANK[a.intent] > RANK[prev.intent]) out.set(a.app.id, { app: a.app, intent: a.intent });
  }
  return out;
}

/** What a session sends for apps: commands to queue and pending ones to cancel (no longer wanted). */
export function planAppCommands(input: {
  assignments: Array<{ app: CatalogApp; intent: AppIntent }>;
  commands: QueuedCommand[];
  now: Date;
}): { enqueue: NewCommand[]; cancel: QueuedCommand[] } {
  const histories = appHistories(input.commands);
  const wanted = strongestIntents(input.assignments);
  const enqueue: NewCommand[] = [];
  const cancel: QueuedCommand[] = [];
  for (const { app, intent } of wanted.values()) {
    const h = histories.get(app.id);
    const state = h?.state ?? 'not_installed';
    if (intent === 'required') {
      if (state === 'not_installed' || state === 'uninstalled' || state === 'uninstall_failed')
        enqueue.push(installCommand(app, app.id, 'required'));
      else if (state === 'failed') {
        const at = nextAutomaticRetry(h);
        if (at && at.getTime() <= input.now.getTime()) enqueue.push(installCommand(app, app.id, 'required'));
      } else if (state === 'uninstall_queued' && h) cancel.push(h.latest); // required again before the Delete left
    } else if (intent === 'uninstall') {
      if (state === 'queued' && h) cancel.push(h.latest);
      // Sent once, whatever Winroll knows (the app may have been installed another way); a failed Delete is
      // not repeated automatically (the admin sees it and may retry).
      if (state !== 'uninstall_queued' && state !== 'uninstall_sent' && state !== 'uninstalled' && state !== 'uninstall_failed')
        enqueue.push(uninstallCommand(app.id, { app }));
    }
  }
  // Installed because it was required, and nothing requires it now (unassigned, left the group, app deleted).
  for (const h of histories.values()) {
    const intent = wanted.get(h.appId)?.intent;
    if (h.reason !== 'required' || intent === 'required' || intent === 'uninstall' || !h.lastInstall) continue;
    if (h.state === 'queued') cancel.push(h.latest);
    else if (h.state === 'installed' || h.state === 'installing')
      enqueue.push(uninstallCommand(h.appId, { installLocUri: h.lastInstall.item.locUri }));
  }
  // Background installs with no result yet: ask the device (once per session, only while installing).
  for (const h of histories.values()) {
    if (h.state !== 'installing' || !h.lastInstall || checkInFlight(input.commands, h.appId, h.lastInstall.seq)) continue;
    if (enqueue.some((c) => c.origin.kind === 'action' && c.origin.actionId === `uninstall-${h.appId}`)) continue; // being removed
    enqueue.push(...resultChecks(h.lastInstall, h.appId));
  }
  return { enqueue, cancel };
}

/** Runs the plan for one device at the start of a session (the device's primary user, else its enrolling user). */
export async function reconcileDeviceApps(
  store: Pick<AppStore, 'appAssignmentsForUser'> & Pick<CommandQueue, 'listCommands' | 'enqueue' | 'cancelPending'>,
  devicePk: string,
  userId: string,
  now: Date,
): Promise<void> {
  const [assignments, commands] = await Promise.all([store.appAssignmentsForUser(userId), store.listCommands(devicePk, { limit: 10_000 })]);
  const plan = planAppCommands({ assignments, commands, now });
  for (const c of plan.cancel) await store.cancelPending(devicePk, { origin: c.origin }, now);
  if (plan.enqueue.length > 0) await store.enqueue(devicePk, plan.enqueue, now);
}

const STATUS_MEANING: Record<number, string> = {
  200: 'done',
  202: 'accepted; the device installs it in the background',
  400: 'the device could not read the command',
  403: 'the device refused it (forbidden)',
  404: 'not found on the device (the app, its node or the CSP is missing)',
  405: 'not allowed on this device (e.g. the CSP refuses it in this context)',
  406: 'not supported by this Windows edition',
  418: 'already there',
  425: 'permission denied on the device',
  500: 'the install failed on the device (download, hash, Store or installer error)',
  507: 'failed as part of an atomic group',
};

/** A device status code in words, for the console. */
export function statusMeaning(code: number): string {
  return STATUS_MEANING[code] ?? (code >= 200 && code < 300 ? 'done' : `the device answered ${code}`);
}
