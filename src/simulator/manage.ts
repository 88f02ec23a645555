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
  /** LocURI (case as the server sent it, compared case-insensitively) → value. */
  readonly nodes = new Map<string, string>();
  reboots = 0;
  wipes: string[] = [];
  unenrolled = false;
  computerName: string;
  /** Every command received, in order, as `<Verb> <LocURI>`. */
  readonly received: string[] = [];
  /** The WNS channel this PC reports once the server told it a PFN (tests point it at a stand-in). */
  pushChannelUri: string | undefined;

  readonly device: SimulatedDevice;

  constructor(device: SimulatedDevice) {
    this.device = device;
    this.computerName = device.deviceName;
  }

  get(locUri: string): string | undefined {
    return this.nodes.get(norm(locUri));
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

export interface CheckInOptions {
  managementUrl: string;
  state: DeviceSideState;
  /** An agent carrying the device certificate and key (mTLS). */
  agent: https.Agent;
  sessionId: string;
  loginStatus?: 'user' | 'others' | 'none';
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
  let message = clientPackage1({
    sessionId: opts.sessionId,
    serverUrl: opts.managementUrl,
    deviceId: state.device.deviceId,
    loginStatus: opts.loginStatus ?? 'user',
    trigger: opts.trigger ?? 'client',
    ...(opts.unenroll ? { extraAlerts: [unenrollAlert()] } : {}),
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
    message = clientReply(server, { msgId: message.msgId + 1, answer: (cmd) => answer(state, cmd) });
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

/** How Windows answers one command, applied to the simulated device. */
function answer(state: DeviceSideState, cmd: ItemCommand | AlertCommand | UnknownCommand): ClientAnswer {
  if (cmd.kind === 'Alert') return { status: STATUS.ok };
  if (cmd.kind === 'Unknown') return { status: STATUS.optionalFeatureNotSupported };
  const item = cmd.items[0];
  const locUri = item?.target ?? '';
  state.received.push(`${cmd.kind} ${locUri}`);
  const key = norm(locUri);
  switch (cmd.kind) {
    case 'Get': {
      const value = state.nodes.get(key) ?? state.builtin(locUri);
      if (value === undefined) return { status: STATUS.notFound };
      return { status: STATUS.ok, results: [{ source: locUri, meta: { format: 'chr', type: 'text/plain' }, data: value }] };
    }
    case 'Add':
      if (state.nodes.has(key)) return { status: STATUS.alreadyExists };
      state.nodes.set(key, item?.data ?? '');
      return { status: STATUS.ok };
    case 'Replace':
      if (key === './device/vendor/msft/accounts/domain/computername') {
        state.computerName = item?.data ?? state.computerName;
        return { status: STATUS.ok };
      }
      state.nodes.set(key, item?.data ?? '');
      return { status: STATUS.ok };
    case 'Delete':
      if (!state.nodes.delete(key)) return { status: STATUS.notFound };
      return { status: STATUS.ok };
    case 'Exec':
      if (key.endsWith('/reboot/rebootnow')) state.reboots++;
      else if (key.includes('/remotewipe/')) state.wipes.push(locUri.slice(locUri.lastIndexOf('/') + 1));
      else if (key.endsWith('/dmclient/unenroll')) state.unenrolled = true;
      else return { status: STATUS.notFound };
      return { status: STATUS.ok };
  }
  return { status: STATUS.optionalFeatureNotSupported };
}
