// The client side of OMA-DM SyncML 1.2 for the simulator (protocol.md §5 walk-through, §6.4 package 1,
// §6.7 client Status/Results, §6.8 ending a session, §8.1 unenrollment alert). Messages are written the
// way Windows writes them: compact, no XML declaration, package 1 CmdIDs from 2, Meta Type before Format.

import type { XmlElement, XmlLimits } from '../xml/reader.js';
import { ALERT, ALERT_TYPE, STATUS, isSuccessStatus } from './codes.js';
import { SyncMlError } from './errors.js';
import { type SyncMlReader, parseCount, readSyncMlDocument } from './read.js';
import type {
  AlertCommand,
  ClientCommandInput,
  ClientMessage,
  ItemCommand,
  ItemCommandKind,
  ReceivedServerCommand,
  ReceivedServerMessage,
  SyncMlItemInput,
  SyncMlStatus,
  UnknownCommand,
} from './types.js';
import { CmdIdSet, checkCmdId, checkCode, el, headerXml, itemXml, metaXml, statusXml, SYNCML_OPEN } from './write.js';

const ITEM_COMMANDS: ReadonlySet<string> = new Set<ItemCommandKind>(['Get', 'Add', 'Replace', 'Delete', 'Exec']);
// Elements of Atomic/Sequence that are not child commands.
const CONTAINER_FIELDS: ReadonlySet<string> = new Set(['CmdID', 'NoResp', 'Meta', 'Cred']);

/** Encodes a client message like Windows: compact, no XML declaration. */
export function encodeClientMessage(msg: ClientMessage): string {
  const ids = new CmdIdSet();
  let body = '';
  for (const command of msg.commands) {
    const where = `${command.kind} ${command.cmdId}`;
    ids.add(command.cmdId, where);
    switch (command.kind) {
      case 'Status':
        body += statusXml(command, 'windows');
        break;
      case 'Results': {
        checkCmdId(command.cmdId, where);
        const msgRef = command.msgRef === undefined ? '' : el('MsgRef', String(command.msgRef));
        const items = command.items.map((i) => itemXml(i, 'windows', where)).join('');
        body += `<Results>${el('CmdID', command.cmdId)}${msgRef}${el('CmdRef', command.cmdRef)}${items}</Results>`;
        break;
      }
      case 'Alert': {
        checkCmdId(command.cmdId, where);
        checkCode(command.data, where);
        const items = command.items.map((i) => itemXml(i, 'windows', where)).join('');
        body += `<Alert>${el('CmdID', command.cmdId)}${el('Data', String(command.data))}${items}</Alert>`;
        break;
      }
      default: {
        checkCmdId(command.cmdId, where);
        const items = command.items.map((i) => itemXml(i, 'windows', where)).join('');
        body += `<${command.kind}>${el('CmdID', command.cmdId)}${metaXml(command.meta, 'windows')}${items}</${command.kind}>`;
      }
    }
  }
  if (msg.final) body += '<Final/>';
  const header = headerXml({
    sessionId: msg.sessionId,
    msgId: msg.msgId,
    target: msg.target,
    source: msg.source,
    ...(msg.cred === undefined ? {} : { cred: msg.cred }),
    ...(msg.maxMsgSize === undefined ? {} : { maxMsgSize: msg.maxMsgSize }),
  });
  return `${SYNCML_OPEN}${header}<SyncBody>${body}</SyncBody></SyncML>`;
}

export interface DevInfo {
  devId: string;
  man: string;
  mod: string;
  /** `1.3` on Windows 10/11. */
  dmV: string;
  lang: string;
}

export interface Package1Input {
  sessionId: string;
  /** The management URL (SyncHdr Target). */
  serverUrl: string;
  /** The DeviceID (SyncHdr Source). */
  deviceId: string;
  /** `client` → Alert 1201 (poll, first session), `server` → Alert 1200 (after a push). Default client. */
  trigger?: 'client' | 'server';
  /** Alert 1224 LoginStatus data. Default `user`. */
  loginStatus?: 'user' | 'others' | 'none';
  /** Entra ID enrollments: an Alert 1224 AADUserToken with this token. */
  aadUserToken?: string;
  /** Further alerts after the login alerts, e.g. `unenrollAlert()`. */
  extraAlerts?: Array<{ data: number; items: SyncMlItemInput[] }>;
  devInfo: DevInfo;
}

/** Alert 1226 the device sends when the user presses Disconnect (§8.1); Windows writes Type, then Format. */
export function unenrollAlert(): { data: number; items: SyncMlItemInput[] } {
  return { data: ALERT.generic, items: [{ meta: { type: ALERT_TYPE.unenrollmentUserRequest, format: 'int' }, data: '1' }] };
}

/** Package 1 of a session (MsgID 1): trigger alert, login alert(s), extra alerts, DevInfo Replace, Final. */
export function clientPackage1(input: Package1Input): ClientMessage {
  let next = 2;
  const id = (): string => String(next++);
  const commands: ClientCommandInput[] = [
    {
      kind: 'Alert',
      cmdId: id(),
      data: input.trigger === 'server' ? ALERT.serverInitiatedSession : ALERT.clientInitiatedSession,
      items: [],
    },
    {
      kind: 'Alert',
      cmdId: id(),
      data: ALERT.clientEvent,
      items: [{ meta: { type: ALERT_TYPE.loginStatus }, data: input.loginStatus ?? 'user' }],
    },
  ];
  if (input.aadUserToken !== undefined) {
    commands.push({
      kind: 'Alert',
      cmdId: id(),
      data: ALERT.clientEvent,
      items: [{ meta: { type: ALERT_TYPE.aadUserToken }, data: input.aadUserToken }],
    });
  }
  for (const alert of input.extraAlerts ?? []) commands.push({ kind: 'Alert', cmdId: id(), ...alert });
  const d = input.devInfo;
  const devInfo: Array<[string, string]> = [
    ['DevId', d.devId],
    ['Man', d.man],
    ['Mod', d.mod],
    ['DmV', d.dmV],
    ['Lang', d.lang],
  ];
  commands.push({ kind: 'Replace', cmdId: id(), items: devInfo.map(([node, data]) => ({ source: `./DevInfo/${node}`, data })) });
  return { sessionId: input.sessionId, msgId: 1, target: input.serverUrl, source: input.deviceId, commands, final: true };
}

/** How the simulated device answers one server command. */
export interface ClientAnswer {
  status: number;
  /** Items of a Results element (Get only). */
  results?: SyncMlItemInput[];
}

export interface ClientReplyInput {
  /** This client message's MsgID (the previous one + 1). */
  msgId: number;
  /** Answers every Get/Add/Replace/Delete/Exec/Alert, including those inside Atomic/Sequence. */
  answer: (command: ItemCommand | AlertCommand | UnknownCommand) => ClientAnswer;
}

/**
 * The client's next message: Status for the server's SyncHdr (CmdID 1, CmdRef 0), then per server
 * command its Status (CmdRef = the server's CmdID) followed by Results for a Get that has any, Final.
 * Atomic: a Status for the Atomic (200, or 507 when a child failed) before its children's. This is the
 * simulator's model; no raw device capture of Atomic replies was available.
 */
export function clientReply(server: ReceivedServerMessage, input: ClientReplyInput): ClientMessage {
  let next = 1;
  const id = (): string => String(next++);
  const msgRef = server.header.msgId;
  const commands: ClientCommandInput[] = [{ kind: 'Status', cmdId: id(), msgRef, cmdRef: '0', cmd: 'SyncHdr', data: STATUS.ok }];

  const answerAll = (list: ReceivedServerCommand[]): ClientCommandInput[] => {
    const out: ClientCommandInput[] = [];
    for (const command of list) {
      if ('commands' in command) {
        const status: ClientCommandInput = {
          kind: 'Status',
          cmdId: id(),
          msgRef,
          cmdRef: command.cmdId,
          cmd: command.kind,
          data: STATUS.ok,
        };
        const inner = answerAll(command.commands);
        const failed = inner.some((c) => c.kind === 'Status' && !isSuccessStatus(c.data));
        if (command.kind === 'Atomic' && failed) status.data = STATUS.atomicFailed;
        out.push(status, ...inner);
        continue;
      }
      const answer = input.answer(command);
      const cmd = command.kind === 'Unknown' ? command.name : command.kind;
      out.push({ kind: 'Status', cmdId: id(), msgRef, cmdRef: command.cmdId, cmd, data: answer.status });
      if (command.kind === 'Get' && answer.results !== undefined && answer.results.length > 0) {
        out.push({ kind: 'Results', cmdId: id(), msgRef, cmdRef: command.cmdId, items: answer.results });
      }
    }
    return out;
  };
  commands.push(...answerAll(server.commands));
  return {
    sessionId: server.header.sessionId,
    msgId: input.msgId,
    target: server.header.source,
    source: server.header.target,
    commands,
    final: true,
  };
}

/**
 * Whether the client must send another message (§6.8): the server sent at least one command. A reply
 * holding only statuses ends the session.
 */
export function serverExpectsReply(msg: ReceivedServerMessage): boolean {
  return msg.commands.length > 0;
}

/** Decodes a server message (server → client). Throws SyncMlError like decodeSyncMl. */
export function decodeServerMessage(input: Buffer | string, limits?: XmlLimits): ReceivedServerMessage {
  const doc = readSyncMlDocument(input, limits);
  const statuses: SyncMlStatus[] = [];
  const commands: ReceivedServerCommand[] = [];
  for (const el of doc.body) {
    if (doc.reader.isSyncMl(el, 'Status')) statuses.push(doc.reader.status(el));
    else commands.push(readServerCommand(doc.reader, el));
  }
  return { version: doc.version, header: doc.header, statuses, commands, final: doc.final };
}

function readServerCommand(r: SyncMlReader, el: XmlElement): ReceivedServerCommand {
  if (!r.isSyncMl(el)) return { kind: 'Unknown', cmdId: '', name: el.local };
  const cmdId = r.cmdId(el);
  try {
    if (el.local === 'Atomic' || el.local === 'Sequence') {
      const children = el.children.filter((c) => !(r.isSyncMl(c) && CONTAINER_FIELDS.has(c.local)));
      const container: ReceivedServerCommand = { kind: el.local, cmdId, commands: children.map((c) => readServerCommand(r, c)) };
      const meta = r.meta(r.one(el, 'Meta'));
      if (meta !== undefined) container.meta = meta;
      return container;
    }
    if (el.local === 'Alert') {
      return { kind: 'Alert', cmdId, data: parseCount(r.text(el, 'Data'), 'Alert/Data'), items: r.items(el) };
    }
    if (ITEM_COMMANDS.has(el.local)) {
      const command: ItemCommand = { kind: el.local as ItemCommandKind, cmdId, items: r.items(el) };
      const meta = r.meta(r.one(el, 'Meta'));
      if (meta !== undefined) command.meta = meta;
      return command;
    }
    return { kind: 'Unknown', cmdId, name: el.local };
  } catch (err) {
    if (err instanceof SyncMlError) return { kind: 'Unknown', cmdId, name: el.local, problem: err.message };
    throw err;
  }
}
