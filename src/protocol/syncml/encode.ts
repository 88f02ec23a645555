// OMA-DM SyncML 1.2, server → client (protocol.md §6.1 skeleton, §6.5 reply order, §6.6 commands and
// Atomic restrictions, §8.2 server-initiated unenroll). Compact output that starts with an XML declaration:
// every server message a Windows client is recorded accepting carried `<?xml version="1.0"
// encoding="UTF-8"?>`, so we keep that proven form (Windows' own messages omit it; both are valid XML).
// Refuses what Windows rejects: empty or "0" CmdIDs, LocURIs starting with "/", nested Atomic, Get inside
// Atomic, Add then Replace of one node inside an Atomic.

import { SyncMlError } from './errors.js';
import type { ServerCommand, ServerMessage, ServerStatus } from './types.js';
import { CmdIdSet, checkCmdId, checkCode, el, headerXml, itemXml, metaXml, statusXml, SYNCML_OPEN } from './write.js';

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const ATOMIC_CHILDREN: ReadonlySet<ServerCommand['kind']> = new Set(['Add', 'Replace', 'Delete', 'Exec']);
const SEQUENCE_CHILDREN: ReadonlySet<ServerCommand['kind']> = new Set(['Add', 'Replace', 'Delete', 'Exec', 'Get', 'Alert', 'Atomic']);

/** Encodes a server message: SyncHdr, statuses, commands, then `<Final/>` when `final`. */
export function encodeSyncMl(msg: ServerMessage): string {
  const ids = new CmdIdSet();
  let body = '';
  for (const status of msg.statuses) {
    ids.add(status.cmdId, `Status ${status.cmdId}`);
    body += encodeServerStatus(status);
  }
  for (const command of msg.commands) body += commandXml(command, ids, undefined);
  if (msg.final) body += '<Final/>';
  const header = headerXml({ sessionId: msg.sessionId, msgId: msg.msgId, target: msg.target, source: msg.source });
  return `${XML_DECLARATION}${SYNCML_OPEN}${header}<SyncBody>${body}</SyncBody></SyncML>`;
}

/** One server Status element, as encodeSyncMl writes it. */
export function encodeServerStatus(status: ServerStatus): string {
  return statusXml(status, 'dtd');
}

/** One server command element (with its children), as encodeSyncMl writes it. */
export function encodeServerCommand(command: ServerCommand): string {
  return commandXml(command, new CmdIdSet(), undefined);
}

function commandXml(command: ServerCommand, ids: CmdIdSet, parent: 'Atomic' | 'Sequence' | undefined): string {
  const where = `${command.kind} ${command.cmdId}`;
  checkCmdId(command.cmdId, command.kind);
  ids.add(command.cmdId, where);
  if (parent === 'Atomic' && !ATOMIC_CHILDREN.has(command.kind)) {
    const why = command.kind === 'Atomic' ? 'Atomic must not be nested' : `${command.kind} is not allowed inside Atomic`;
    throw new SyncMlError(`${where}: ${why}`);
  }
  if (parent === 'Sequence' && !SEQUENCE_CHILDREN.has(command.kind)) {
    throw new SyncMlError(`${where}: ${command.kind} is not allowed inside Sequence`);
  }
  const head = el('CmdID', command.cmdId);
  switch (command.kind) {
    case 'Atomic':
    case 'Sequence': {
      if (command.commands.length === 0) throw new SyncMlError(`${where}: needs at least one command`);
      if (command.kind === 'Atomic') refuseAddThenReplace(command.commands, where);
      const children = command.commands.map((c) => commandXml(c, ids, command.kind)).join('');
      return `<${command.kind}>${head}${metaXml(command.meta, 'dtd')}${children}</${command.kind}>`;
    }
    case 'Alert': {
      checkCode(command.data, where);
      const items = command.items.map((i) => itemXml(i, 'dtd', where)).join('');
      return `<Alert>${head}${el('Data', String(command.data))}${items}</Alert>`;
    }
    default: {
      if (command.items.length === 0) throw new SyncMlError(`${where}: needs at least one Item`);
      if (command.kind === 'Exec' && command.items.length !== 1) throw new SyncMlError(`${where}: Exec carries exactly one Item`);
      const items = command.items.map((i) => itemXml(i, 'dtd', where)).join('');
      return `<${command.kind}>${head}${metaXml(command.meta, 'dtd')}${items}</${command.kind}>`;
    }
  }
}

// Windows does not support an Add followed by a Replace of the same node inside one Atomic (§6.6).
function refuseAddThenReplace(children: ServerCommand[], where: string): void {
  const added = new Set<string>();
  for (const c of children) {
    if (c.kind !== 'Add' && c.kind !== 'Replace') continue;
    for (const item of c.items) {
      if (item.target === undefined) continue;
      if (c.kind === 'Add') added.add(item.target);
      else if (added.has(item.target)) {
        throw new SyncMlError(`${where}: Add then Replace of ${item.target} in one Atomic is not supported by Windows`);
      }
    }
  }
}
