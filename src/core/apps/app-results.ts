/**
 * Installs that finish in the background. Windows only accepts an MSI's DownloadInstall and a Store
 * app's StoreInstall (Status 200/202); the outcome comes later: an MSI's in a generic alert (1226, or
 * 1224 in Microsoft's own example) whose item names the DownloadInstall node, Meta/Type
 * `Reversed-Domain-Name:com.microsoft.mdm.win32csp_install`, Format int and Data the result code (0 is
 * success); a Store app's only in its AppInstallation/{PFN}/Status node. So an accepted install is
 * `installing` until its alert arrives or, without one, until a Get of the install's Status and
 * LastError nodes settles it (at the next session; for a Store app also right after it was accepted,
 * since Store installs are often done within seconds and nothing else reports them).
 *
 * Where the outcome lives: a row per install command in the app results table (for per-app counts in
 * SQL), and the same outcome as the install command's Results (`[{ locUri: <install>, data:
 * 'installed' | 'failed' }, { locUri: <reporting node>, format: 'int', data: <code> }]`), so a device's
 * command list alone says which installs are still in flight: a session loads it anyway, and a device
 * with nothing in flight costs no extra query.
 */
import type { ClientCommand } from '../../protocol/syncml/types.js';
import type { CommandQueue, NewCommand, QueuedCommand } from '../management/ports.js';
import { parseAppActionId } from './catalog.js';
import type { AppStore } from './ports.js';

export const WIN32_INSTALL_ALERT_TYPE = 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install';
/** Alert codes Windows reports CSP results with: 1226 (generic alert), 1224 in Microsoft's CSP example. */
const RESULT_ALERT_CODES = new Set([1224, 1226]);
/** Action id prefix of the Status/LastError Gets (not an install or uninstall: app history ignores them). */
export const CHECK_ACTION_PREFIX = 'appcheck-';
/**
 * Status checks of one install before it is shown failed for want of a result: Windows retries an MSI
 * download itself (RetryCount/RetryInterval) and a Store download may wait for the network, but an
 * install that reports nothing after this many sessions is not coming back on its own.
 */
export const MAX_RESULT_CHECKS = 10;

export type InstallOutcome = 'queued' | 'sent' | 'installing' | 'installed' | 'failed';
export type AsyncInstallKind = 'msi' | 'store';

const INSTALL_LEAF = /\/(DownloadInstall|StoreInstall)$/i;

/** Whether an install command's LocURI is one that completes in the background, and which kind. */
export function asyncInstallKind(locUri: string): AsyncInstallKind | undefined {
  if (/\/EnterpriseDesktopAppManagement\/MSI\/[^/]+\/DownloadInstall$/i.test(locUri)) return 'msi';
  if (/\/EnterpriseModernAppManagement\/AppInstallation\/[^/]+\/StoreInstall$/i.test(locUri)) return 'store';
  return undefined;
}

/** The install's node (…/MSI/{ProductCode}, …/AppInstallation/{PFN}) in one spelling: decoded, lower case. */
function nodeKey(locUri: string): string {
  let s = locUri.replace(INSTALL_LEAF, '');
  try {
    s = decodeURIComponent(s);
  } catch {
    // Not percent-encoded after all: compare as sent.
  }
  return s.replace(/^\.\/device\//i, './').toLowerCase();
}

/** The outcome recorded on an install command (its Results), or undefined while none is. */
export function settledResult(c: QueuedCommand): { state: 'installed' | 'failed'; code: number | null } | undefined {
  const first = c.results?.[0];
  if (!first || (first.data !== 'installed' && first.data !== 'failed')) return undefined;
  const code = parseCode(c.results?.[1]?.data);
  return { state: first.data, code: code ?? null };
}

/** An install command's outcome: its queue state, then for a background install what the device reported. */
export function installOutcome(c: QueuedCommand): InstallOutcome {
  if (c.state === 'pending') return 'queued';
  if (c.state === 'sent') return 'sent';
  if (c.state !== 'acknowledged') return 'failed';
  if (!asyncInstallKind(c.item.locUri)) return 'installed';
  return settledResult(c)?.state ?? 'installing';
}

/** The Gets that tell how a background install is going: its Status and LastError nodes. */
export function resultChecks(install: QueuedCommand, appId: string): NewCommand[] {
  const node = install.item.locUri.replace(INSTALL_LEAF, '');
  return ['Status', 'LastError'].map((leaf) => ({
    verb: 'Get' as const,
    item: { locUri: `${node}/${leaf}` },
    userId: install.userId,
    origin: { kind: 'action' as const, actionId: `${CHECK_ACTION_PREFIX}${appId}` },
  }));
}

/** Whether a Status/LastError check of the app is queued or on its way after the install `afterSeq`. */
export function checkInFlight(commands: QueuedCommand[], appId: string, afterSeq: number): boolean {
  const id = `${CHECK_ACTION_PREFIX}${appId}`;
  return commands.some(
    (c) => c.seq > afterSeq && c.origin.kind === 'action' && c.origin.actionId === id && (c.state === 'pending' || c.state === 'sent'),
  );
}

/** A result code as the device wrote it: decimal (maybe negative) or 0x hex; undefined otherwise. */
export function parseCode(data: string | undefined): number | undefined {
  const s = (data ?? '').trim();
  if (/^-?\d+$/.test(s)) return Number(s);
  if (/^0x[0-9a-f]{1,8}$/i.test(s)) return Number.parseInt(s.slice(2), 16);
  return undefined;
}

const u32 = (code: number) => (code < 0 ? code + 2 ** 32 : code);
const hresult = (win32: number) => (0x80070000 | win32) >>> 0;
/** msiexec exit codes that mean installed (0; 3010 and 1641: installed, a restart finishes it), bare or as HRESULT. */
const SUCCESS = new Set([0, 3010, 1641, hresult(3010), hresult(1641)]);

export const isSuccessCode = (code: number) => SUCCESS.has(u32(code));

const MEANING: Record<number, string> = {
  0: 'installed',
  3010: 'installed; a restart finishes it',
  1641: 'installed; the installer restarted Windows',
  1602: 'the user canceled the installation (msiexec 1602)',
  1603: 'the installer failed (msiexec 1603, fatal error during installation)',
  1618: 'another installation was in progress (msiexec 1618)',
  1619: 'the package could not be opened: download or hash mismatch (msiexec 1619)',
  1620: 'the package could not be opened (msiexec 1620)',
  1625: 'blocked by system policy (msiexec 1625)',
  1638: 'another version of the product is already installed (msiexec 1638)',
};

/** A background install's result code in words, for the console. */
export function resultMeaning(code: number | null): string {
  if (code === null) return 'the device reported no result code';
  const v = u32(code);
  const win32 = (v & 0xffff0000) >>> 0 === 0x80070000 ? v & 0xffff : v;
  const known = MEANING[win32];
  if (known) return known;
  return v > 0xffff ? `the device reported HRESULT 0x${v.toString(16).toUpperCase().padStart(8, '0')}` : `the installer exited with ${v}`;
}

export interface InstallAlert {
  source: string;
  data: string;
}

/** The install-result alerts of a message (other alerts are not ours to settle, and are answered 200 anyway). */
export function installAlerts(commands: ClientCommand[]): InstallAlert[] {
  const out: InstallAlert[] = [];
  for (const c of commands) {
    if (c.kind !== 'Alert' || !RESULT_ALERT_CODES.has(c.data)) continue;
    for (const i of c.items) {
      if (i.meta?.type?.trim() === WIN32_INSTALL_ALERT_TYPE && (i.source ?? i.target))
        out.push({ source: i.source ?? i.target ?? '', data: i.data ?? '' });
    }
  }
  return out;
}

type ResultsStore = Pick<AppStore, 'recordAppResult'> & Pick<CommandQueue, 'listCommands' | 'recordResults' | 'enqueue'>;

/**
 * What one client message says about background installs: installs it accepted (installing; a Store
 * install is asked for its Status right away), result alerts, and answers to Status/LastError checks.
 * Queries only when the message carries one of those.
 */
export async function recordAppReports(
  store: ResultsStore,
  devicePk: string,
  input: { alerts: InstallAlert[]; outcomes: QueuedCommand[] },
  now: Date,
): Promise<void> {
  const checks = new Map<string, QueuedCommand[]>();
  for (const c of input.outcomes) {
    if (c.origin.kind !== 'action') continue;
    if (c.origin.actionId.startsWith(CHECK_ACTION_PREFIX)) {
      const appId = c.origin.actionId.slice(CHECK_ACTION_PREFIX.length);
      checks.set(appId, [...(checks.get(appId) ?? []), c]);
      continue;
    }
    const parsed = parseAppActionId(c.origin.actionId);
    const kind = asyncInstallKind(c.item.locUri);
    if (parsed?.op !== 'install' || !kind || c.state !== 'acknowledged') continue;
    await store.recordAppResult({
      commandId: c.id,
      devicePk,
      appId: parsed.appId,
      state: 'installing',
      code: null,
      detail: null,
      updatedAt: now,
    });
    if (kind === 'store') await store.enqueue(devicePk, resultChecks(c, parsed.appId), now);
  }
  if (checks.size === 0 && input.alerts.length === 0) return;

  const commands = await store.listCommands(devicePk, { limit: 10_000 });
  const installs = commands
    .filter((c) => c.origin.kind === 'action' && parseAppActionId(c.origin.actionId)?.op === 'install')
    .sort((a, b) => b.seq - a.seq);
  const settle = async (install: QueuedCommand, state: 'installed' | 'failed', code: number | null, node: string, detail: string) => {
    const parsed = install.origin.kind === 'action' ? parseAppActionId(install.origin.actionId) : undefined;
    if (!parsed) return;
    await store.recordAppResult({ commandId: install.id, devicePk, appId: parsed.appId, state, code, detail, updatedAt: now });
    const items: Array<{ locUri: string; format: string; data: string }> = [{ locUri: install.item.locUri, format: 'chr', data: state }];
    if (code !== null) items.push({ locUri: node, format: 'int', data: String(code) });
    await store.recordResults(devicePk, install.id, items, now);
    // The list in hand is reused for the next report of this message.
    install.results = items;
  };
  const inFlight = (c: QueuedCommand | undefined) => c && installOutcome(c) === 'installing';

  for (const a of input.alerts) {
    // The device's newest install of that product: an older one's alert (a retry's predecessor) settles nothing.
    const key = nodeKey(a.source);
    const install = installs.find((c) => asyncInstallKind(c.item.locUri) === 'msi' && nodeKey(c.item.locUri) === key);
    if (!install || !inFlight(install)) continue;
    const code = parseCode(a.data);
    if (code === undefined) continue;
    await settle(install, isSuccessCode(code) ? 'installed' : 'failed', code, a.source, `alert: ${a.data.trim()}`);
  }

  for (const [appId, answered] of checks) {
    const install = installs.find((c) => c.origin.kind === 'action' && parseAppActionId(c.origin.actionId)?.appId === appId);
    if (!install || !inFlight(install)) continue;
    const kind = asyncInstallKind(install.item.locUri);
    const status = answered.find((c) => /\/Status$/i.test(c.item.locUri));
    const lastError = answered.find((c) => /\/LastError$/i.test(c.item.locUri));
    const statusValue = status?.state === 'acknowledged' ? parseCode(status.results?.[0]?.data) : undefined;
    const errorCode = lastError?.state === 'acknowledged' ? parseCode(lastError.results?.[0]?.data) : undefined;
    const code = errorCode !== undefined && errorCode !== 0 ? errorCode : null;
    const node = lastError?.item.locUri ?? status?.item.locUri ?? install.item.locUri;
    let verdict: 'installed' | 'failed' | undefined;
    if (kind === 'msi') {
      // MSI Status: 70 enforcement completed; 30 download failed, 60 enforcement failed; others are steps on the way.
      if (statusValue === 70) verdict = 'installed';
      else if (statusValue === 30 || statusValue === 60) verdict = 'failed';
    } else if (kind === 'store') {
      // Store Status: 3 installed, 2 failed, 0 and 1 on the way; the node is removed once the install succeeded.
      if (status?.state === 'failed' && status.status === 404) verdict = 'installed';
      else if (statusValue === 3) verdict = 'installed';
      else if (statusValue === 2) verdict = 'failed';
    }
    const detail =
      status?.state === 'acknowledged' ? `Status ${status.results?.[0]?.data ?? ''}` : `Status not read (${status?.status ?? 'no answer'})`;
    if (verdict) {
      await settle(install, verdict, verdict === 'failed' ? code : null, node, detail);
      continue;
    }
    const rounds = commands.filter(
      (c) =>
        c.seq > install.seq &&
        c.origin.kind === 'action' &&
        c.origin.actionId === `${CHECK_ACTION_PREFIX}${appId}` &&
        /\/Status$/i.test(c.item.locUri) &&
        (c.state === 'acknowledged' || c.state === 'failed'),
    ).length;
    if (rounds >= MAX_RESULT_CHECKS) await settle(install, 'failed', code, node, `no result after ${rounds} checks (${detail})`);
  }
}
