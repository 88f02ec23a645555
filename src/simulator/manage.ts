/**
 * The management half of the Windows client simulator: OMA-DM sessions over mTLS with the enrolled
 * certificate, answering like Windows (a Status per command, Results for Get, 418 for Add on an existing
 * node, 404 for Delete of a missing one, 1226 on Disconnect) and keeping device-side state, so tests can
 * assert what a real PC would end up with.
 */
import type https from 'node:https';
import { STATUS } from '../protocol/syncml/codes.js';
import {
  type ClientAnswer,
  clientPackage1,
  clientReply,
  decodeServerMessage,
  encodeClientMessage,
  serverExpectsReply,
  unenrollAlert,
} from '../protocol/syncml/client.js';
import type { AlertCommand, ItemCommand, ReceivedServerMessage, UnknownCommand } from '../protocol/syncml/types.js';
import type { SimulatedDevice } from './device.js';
import { request } from './https-client.js';

/** What a simulated PC holds: its CSP tree and what remote actions did to it. */
export class DeviceSideState {
  /**
   * LocURI (case as the server sent it, compared case-insensitively) → value: ./Device nodes, and the
   * ./User nodes of sessions that named no user (a single-user enrollment's user).
   */
  readonly nodes = new Map<string, string>();
  /** ./User nodes per signed-in user (by the UPN the session's token names): Windows keeps one tree per user. */
  readonly userNodes = new Map<string, Map<string, string>>();
  reboots = 0;
  wipes: string[] = [];
  unenrolled = false;
  computerName: string;
  /** Every command received, in order, as `<Verb> <LocURI>`. */
  readonly received: string[] = [];
  /** The WNS channel this PC reports once the server told it a PFN (tests point it at a stand-in). */
  pushChannelUri: string | undefined;
  /**
   * LocURI (any case) → the status this PC answers instead of running the command (tests make an app install
   * fail). For an MSI's DownloadInstall, a value that is no SyncML status (outside 100-599, e.g. 1603 or an
   * HRESULT) is the installer's result instead: the Exec is accepted (202) and the next session's alert reports it.
   */
  readonly failWith = new Map<string, number>();
  /** MSI installs accepted and not reported yet: the next session's package 1 carries their result alerts. */
  readonly pendingInstallAlerts: Array<{ locUri: string; code: number }> = [];
  /** Test hook: result alerts are lost (never sent), so the server has to ask the MSI's Status. */
  dropInstallAlerts = false;

  readonly device: SimulatedDevice;

  constructor(device: SimulatedDevice) {
    this.device = device;
    this.computerName = device.deviceName;
  }

  /** A node's value; `user`: read the ./User tree of that signed-in user. */
  get(locUri: string, user?: string): string | undefined {
    return this.tree(locUri, user).get(norm(locUri));
  }

  /** The tree a LocURI lives in: a user's own for ./User paths in that user's sessions. */
  tree(locUri: string, user: string | undefined): Map<string, string> {
    if (user === undefined || !norm(locUri).startsWith('./user/')) return this.nodes;
    const key = user.toLowerCase();
    let t = this.userNodes.get(key);
    if (!t) {
      t = new Map();
      this.userNodes.set(key, t);
    }
    return t;
  }

  /** Read-only DevInfo/DevDetail values the simulated hardware reports. */
  builtin(locUri: string): string | undefined {
    const d = this.device;
    const table: Record<string, string> = {
      './devdetail/swv': d.osVersion,
      './devdetail/ext/microsoft/osplatform': 'Windows 11 Pro',
      './devinfo/man': 'Contoso Hardware',
      './devinfo/mod': 'Surface Simulator 9',
      './devinfo/lang': 'en-US',
      './devinfo/dmv': '1.3',
      './devinfo/devid': d.deviceId,
      './devdetail/ext/microsoft/smbiosserialnumber': `SN-${d.deviceId.slice(0, 10)}`,
      './vendor/msft/dmclient/hwdevid': d.hwDevId,
      './devdetail/ext/microsoft/devicename': this.computerName,
      './devdetail/ext/microsoft/totalstorage': '512000',
    };
    const key = locUri.toLowerCase();
    const security = securityNode(d.security, key);
    if (security !== null) return security;
    // DMClient Push: a channel exists once the server provisioned our PFN.
    if (/\/dmclient\/provider\/[^/]+\/push\/(channeluri|status)$/.test(key)) {
      const registered = [...this.nodes.keys()].some((k) => k.endsWith('/push/pfn'));
      if (!registered || !this.pushChannelUri) return undefined;
      return key.endsWith('channeluri') ? this.pushChannelUri : '0';
    }
    return table[key];
  }
}

const norm = (locUri: string) => locUri.toLowerCase();

/** DeviceStatus, Defender and AADDeviceID values; null when the URI is none of them, undefined when absent (404). */
function securityNode(s: SimulatedDevice['security'], key: string): string | undefined | null {
  const text = (v: number | string | boolean | undefined) => (v === undefined ? undefined : String(v));
  const uri = key.replace(/^\.\/device\//, './');
  if (/^\.\/vendor\/msft\/dmclient\/provider\/[^/]+\/aaddeviceid$/.test(uri)) return s.entraDeviceId;
  const table: Record<string, () => string | undefined> = {
    './vendor/msft/devicestatus/compliance/encryptioncompliance': () => text(s.encryptionCompliance),
    './vendor/msft/devicestatus/firewall/status': () => text(s.firewallStatus),
    './vendor/msft/devicestatus/antivirus/status': () => text(s.antivirusStatus),
    './vendor/msft/devicestatus/antivirus/signaturestatus': () => text(s.antivirusSignatureStatus),
    './vendor/msft/devicestatus/antispyware/status': () => text(s.antispywareStatus),
    './vendor/msft/devicestatus/antispyware/signaturestatus': () => text(s.antispywareSignatureStatus),
    './vendor/msft/devicestatus/tpm/specificationversion': () => s.tpmVersion,
    './vendor/msft/defender/health/rtpenabled': () => text(s.realTimeProtection),
  };
  const read = table[uri];
  return read ? read() : null;
}

export interface CheckInOptions {
  managementUrl: string;
  state: DeviceSideState;
  /** An agent carrying the device certificate and key (mTLS). */
  agent: https.Agent;
  sessionId: string;
  loginStatus?: 'user' | 'others' | 'none';
  /**
   * Entra ID: the signed-in user's token. Windows sends it as Alert 1224 AADUserToken in package 1 and as
   * `Authorization: Bearer` on every message (`send`, default both). The session's ./User commands land in
   * that user's tree (`DeviceSideState.get(uri, upn)`), named by the token's upn claim unless `as` says.
   */
  userToken?: { jwt: string; send?: 'alert' | 'bearer' | 'both'; as?: string };
  /** Send Alert 1226 (the user pressed Disconnect). */
  unenroll?: boolean;
  trigger?: 'client' | 'server';
  /** Safety net: a server that never ends the session fails the check-in. */
  maxMessages?: number;
}

export interface CheckInResult {
  messages: number;
  /** SyncHdr status of the server's first reply (200, or 401/403 when refused). */
  headerStatus: number;
  commandsReceived: number;
}

export async function checkIn(opts: CheckInOptions): Promise<CheckInResult> {
  const { state } = opts;
  const url = `${opts.managementUrl}?mode=Maintenance&Platform=WoA`;
  const token = opts.userToken;
  const send = token?.send ?? 'both';
  const user = token ? (token.as ?? upnOf(token.jwt)) : undefined;
  let message = clientPackage1({
    sessionId: opts.sessionId,
    serverUrl: opts.managementUrl,
    deviceId: state.device.deviceId,
    loginStatus: opts.loginStatus ?? 'user',
    trigger: opts.trigger ?? 'client',
    ...(token && send !== 'bearer' ? { aadUserToken: token.jwt } : {}),
    extraAlerts: [...(opts.unenroll ? [unenrollAlert()] : []), ...installResultAlerts(state)],
    devInfo: {
      devId: state.device.deviceId,
      man: state.builtin('./DevInfo/Man') ?? '',
      mod: state.builtin('./DevInfo/Mod') ?? '',
      dmV: '1.3',
      lang: 'en-US',
    },
  });
  let messages = 0;
  let headerStatus = 0;
  let commandsReceived = 0;
  for (;;) {
    messages++;
    if (messages > (opts.maxMessages ?? 50)) throw new Error('the server did not end the session');
    const res = await request({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/vnd.syncml.dm+xml',
        'user-agent': 'MSFT OMA DM Client/1.2.0.1',
        accept: 'application/vnd.syncml.dm+xml',
        ...(token && send !== 'alert' ? { authorization: `Bearer ${token.jwt}` } : {}),
      },
      body: encodeClientMessage(message),
      agent: opts.agent,
      strictFraming: true,
    });
    if (res.status !== 200) throw new Error(`management endpoint answered HTTP ${res.status}`);
    const server = decodeServerMessage(res.body);
    const hdr = server.statuses.find((s) => s.cmdRef === '0');
    if (messages === 1) headerStatus = hdr?.data ?? 0;
    if (opts.unenroll) state.unenrolled = true;
    if (!serverExpectsReply(server)) return { messages, headerStatus, commandsReceived };
    commandsReceived += countCommands(server);
    message = clientReply(server, { msgId: message.msgId + 1, answer: (cmd) => answer(state, cmd, user) });
  }
}

function countCommands(server: ReceivedServerMessage): number {
  let n = 0;
  const walk = (cmds: ReceivedServerMessage['commands']) => {
    for (const c of cmds) {
      if ('commands' in c) walk(c.commands as ReceivedServerMessage['commands']);
      else n++;
    }
  };
  walk(server.commands);
  return n;
}

/** The upn (else unique_name) claim of a JWT, read without verifying: only to file ./User nodes by user. */
function upnOf(jwt: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const upn = claims.upn ?? claims.unique_name;
    return typeof upn === 'string' ? upn.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The result alerts of MSI installs finished since the last session (Alert 1226, win32csp_install, Data the
 * result code); the MSI's Status and LastError nodes say the same (70 done, 60 failed).
 */
function installResultAlerts(
  state: DeviceSideState,
): Array<{ data: number; items: Array<{ source: string; meta: { type: string; format: string }; data: string }> }> {
  const done = state.pendingInstallAlerts.splice(0);
  for (const d of done) {
    const node = norm(d.locUri).replace(/\/downloadinstall$/, '');
    state.nodes.set(`${node}/status`, d.code === 0 ? '70' : '60');
    state.nodes.set(`${node}/lasterror`, String(d.code));
    if (d.code !== 0) state.nodes.delete(node);
  }
  if (state.dropInstallAlerts) return [];
  return done.map((d) => ({
    data: 1226,
    items: [
      {
        source: d.locUri,
        meta: { type: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install', format: 'int' },
        data: String(d.code),
      },
    ],
  }));
}

/** How Windows answers one command, applied to the simulated device (./User paths to the signed-in user's tree). */
function answer(state: DeviceSideState, cmd: ItemCommand | AlertCommand | UnknownCommand, user: string | undefined): ClientAnswer {
  if (cmd.kind === 'Alert') return { status: STATUS.ok };
  if (cmd.kind === 'Unknown') return { status: STATUS.optionalFeatureNotSupported };
  const item = cmd.items[0];
  const locUri = item?.target ?? '';
  state.received.push(`${cmd.kind} ${locUri}`);
  const key = norm(locUri);
  const nodes = state.tree(locUri, user);
  for (const [uri, status] of state.failWith) if (norm(uri) === key && status >= 100 && status < 600) return { status };
  switch (cmd.kind) {
    case 'Get': {
      const value = nodes.get(key) ?? state.builtin(locUri);
      if (value === undefined) return { status: STATUS.notFound };
      return { status: STATUS.ok, results: [{ source: locUri, meta: { format: 'chr', type: 'text/plain' }, data: value }] };
    }
    case 'Add':
      if (nodes.has(key)) return { status: STATUS.alreadyExists };
      nodes.set(key, item?.data ?? '');
      return { status: STATUS.ok };
    case 'Replace':
      if (key === './device/vendor/msft/accounts/domain/computername') {
        state.computerName = item?.data ?? state.computerName;
        return { status: STATUS.ok };
      }
      nodes.set(key, item?.data ?? '');
      return { status: STATUS.ok };
    case 'Delete':
      if (!nodes.delete(key)) return { status: STATUS.notFound };
      return { status: STATUS.ok };
    case 'Exec':
      if (key.endsWith('/reboot/rebootnow')) state.reboots++;
      else if (key.includes('/remotewipe/')) state.wipes.push(locUri.slice(locUri.lastIndexOf('/') + 1));
      else if (key.endsWith('/dmclient/unenroll')) state.unenrolled = true;
      // App installs (Store and MSI): the installed app's node appears (a Delete of it uninstalls).
      else if (/\/enterprisemodernappmanagement\/appinstallation\/[^/]+\/storeinstall$/.test(key))
        nodes.set(key.replace(/\/appinstallation\/([^/]+)\/storeinstall$/, '/appmanagement/appstore/$1'), '');
      else if (/\/enterprisedesktopappmanagement\/msi\/[^/]+\/downloadinstall$/.test(key)) {
        // Like Windows: accepted, installed in the background, the result alerted at the next session.
        const node = key.replace(/\/downloadinstall$/, '');
        const code = [...state.failWith].find(([uri]) => norm(uri) === key)?.[1] ?? 0;
        nodes.set(node, '');
        nodes.set(`${node}/status`, '50');
        state.pendingInstallAlerts.push({ locUri, code });
        return { status: STATUS.acceptedForProcessing };
      } else return { status: STATUS.notFound };
      return { status: STATUS.ok };
  }
  return { status: STATUS.optionalFeatureNotSupported };
}
