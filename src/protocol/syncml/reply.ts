// Building the server's reply to a client message (protocol.md §6.5 reply order, §6.3 IDs, §6.2 SyncHdr
// challenge, §6.9 large messages): the Status block, CmdID numbering, and splitting command batches so a
// message stays under the device's size limit.

import { STATUS, isSuccessStatus } from './codes.js';
import { encodeServerCommand, encodeSyncMl } from './encode.js';
import type {
  AnswerableCommand,
  ServerCommand,
  ServerCommandDraft,
  ServerMessage,
  ServerStatus,
  SyncMlMessage,
  SyncMlMeta,
} from './types.js';

/**
 * Budget for one server message when the device declares no MaxMsgSize (Windows omits SyncHdr Meta,
 * §6.9). No server→client limit is documented, and Windows clients given small limits aborted instead of
 * chunking, so we stay small: 64 KiB holds hundreds of ordinary commands or one large XML profile, keeps
 * each round trip a bounded amount of work on both ends, and makes a lost message cheap to resend.
 */
export const DEFAULT_MAX_MSG_SIZE = 64 * 1024;

const NEVER_ANSWERED: ReadonlySet<string> = new Set(['Status', 'Results']);

/** Numbers CmdIDs of one server message: "1", "2", ... */
export class CmdIdAllocator {
  #next: number;

  constructor(start = 1) {
    if (!Number.isInteger(start) || start < 1) throw new RangeError('CmdIDs start at 1');
    this.#next = start;
  }

  next(): string {
    const id = String(this.#next);
    this.#next += 1;
    return id;
  }

  /** Gives every draft (and every Atomic/Sequence child) without a CmdID the next number, in order. */
  assign(drafts: readonly ServerCommandDraft[]): ServerCommand[] {
    return drafts.map((d) => this.#assignOne(d));
  }

  #assignOne(draft: ServerCommandDraft): ServerCommand {
    const cmdId = draft.cmdId ?? this.next();
    if ('commands' in draft) return { ...draft, cmdId, commands: this.assign(draft.commands) };
    return { ...draft, cmdId };
  }
}

export interface StatusesOptions {
  /** SyncHdr status; default 200. 212 after a good digest, 401/407 (with `chal`) to challenge. */
  hdrStatus?: number;
  /** Chal Meta for a 401/407 SyncHdr status: type `syncml:auth-md5`, format `b64`, nextNonce. */
  chal?: SyncMlMeta;
  /** Allocator to draw CmdIDs from, so the commands that follow continue the numbering. Default: from 1. */
  ids?: CmdIdAllocator;
}

/**
 * The Status block of a reply: the SyncHdr status (CmdRef 0, MsgRef = the client's MsgID), then one
 * Status per client command in the client's order, except Status and Results, which are never
 * answered. `decide` gives each command's code; a command without CmdID, or an unreadable one
 * (`Unknown` with a problem), is answered 400 whatever `decide` says. When the SyncHdr status is not 2xx
 * (credentials missing or wrong), the commands were not processed and only the SyncHdr is answered.
 */
export function statusesFor(
  msg: SyncMlMessage,
  decide: (command: AnswerableCommand) => number,
  options: StatusesOptions = {},
): ServerStatus[] {
  const ids = options.ids ?? new CmdIdAllocator();
  const msgRef = msg.header.msgId;
  const hdr: ServerStatus = { cmdId: ids.next(), msgRef, cmdRef: '0', cmd: 'SyncHdr', data: options.hdrStatus ?? STATUS.ok };
  if (options.chal !== undefined) hdr.chal = options.chal;
  const statuses = [hdr];
  if (!isSuccessStatus(hdr.data)) return statuses;
  for (const command of msg.commands) {
    if (command.kind === 'Status' || command.kind === 'Results') continue;
    // An unreadable Status or Results is still not answered.
    if (command.kind === 'Unknown' && NEVER_ANSWERED.has(command.name)) continue;
    const unreadable = command.cmdId === '' || (command.kind === 'Unknown' && command.problem !== undefined);
    statuses.push({
      cmdId: ids.next(),
      msgRef,
      cmdRef: command.cmdId,
      cmd: command.kind === 'Unknown' ? command.name : command.kind,
      data: unreadable ? STATUS.badRequest : decide(command),
    });
  }
  return statuses;
}

/** Reply SyncHdr fields: SessionID echoed, server MsgID = client MsgID, Target = DeviceID. */
export function replyHeader(msg: SyncMlMessage, serverUrl: string): Pick<ServerMessage, 'sessionId' | 'msgId' | 'target' | 'source'> {
  return { sessionId: msg.header.sessionId, msgId: msg.header.msgId, target: msg.header.source, source: serverUrl };
}

/** The device's MaxMsgSize when it sent one, otherwise DEFAULT_MAX_MSG_SIZE. */
export function messageBudget(msg: SyncMlMessage): number {
  return msg.header.maxMsgSize ?? DEFAULT_MAX_MSG_SIZE;
}

/** Exact UTF-8 size of a command as encodeSyncMl writes it (validates it too). */
export function estimateSize(command: ServerCommand): number {
  return Buffer.byteLength(encodeServerCommand(command), 'utf8');
}

/** Exact UTF-8 size of a message without its commands: declaration, SyncHdr, statuses, Final. */
export function frameSize(frame: Omit<ServerMessage, 'commands'>): number {
  return Buffer.byteLength(encodeSyncMl({ ...frame, commands: [] }), 'utf8');
}

/** Room assumed for the frame when none is given: envelope, SyncHdr with long URLs, a few statuses. */
export const DEFAULT_FRAME_BYTES = 2048;

export interface FitOptions {
  /**
   * What else each message carries (declaration, SyncHdr, statuses, Final): the frame itself (measured
   * exactly) or its size in bytes. Default DEFAULT_FRAME_BYTES. Every batch is measured against this one
   * frame; re-fit when the next message's statuses differ.
   */
  frame?: Omit<ServerMessage, 'commands'> | number;
  /** At most this many top-level commands per message. */
  maxCommands?: number;
}

/**
 * Splits commands, in order, into batches that each fit one message of `budgetBytes` (frame included).
 * Atomic and Sequence are never split. Every batch holds at least one command, so a command that alone
 * exceeds the budget travels alone (check with estimateSize if that must not happen).
 */
export function fitToSize(commands: readonly ServerCommand[], budgetBytes: number, options: FitOptions = {}): ServerCommand[][] {
  const frame = options.frame ?? DEFAULT_FRAME_BYTES;
  const overhead = typeof frame === 'number' ? frame : frameSize(frame);
  const maxCommands = options.maxCommands ?? Number.POSITIVE_INFINITY;
  const batches: ServerCommand[][] = [];
  let batch: ServerCommand[] = [];
  let used = overhead;
  for (const command of commands) {
    const size = estimateSize(command);
    if (batch.length > 0 && (used + size > budgetBytes || batch.length >= maxCommands)) {
      batches.push(batch);
      batch = [];
      used = overhead;
    }
    batch.push(command);
    used += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
