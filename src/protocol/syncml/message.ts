// OMA-DM SyncML 1.2, client → server (protocol.md §5 walk-through, §6.1, §6.4 package 1, §6.7 client
// Status/Results, §8.1 unenrollment alert). Decodes what a Windows device posts to the management URL.

import type { XmlElement, XmlLimits } from '../xml/reader.js';
import { SyncMlError } from './errors.js';
import { readSyncMlDocument, parseCount, type SyncMlReader } from './read.js';
import type { ClientCommand, ItemCommand, ItemCommandKind, ResultsCommand, SyncMlMessage } from './types.js';

const ITEM_COMMANDS: ReadonlySet<string> = new Set<ItemCommandKind>(['Get', 'Add', 'Replace', 'Delete', 'Exec']);

/**
 * Decodes a client message. Throws SyncMlError (with the XmlError as cause when the XML itself was
 * refused) when the message is not SyncML 1.1/1.2 or its SyncHdr lacks SessionID, MsgID or Source.
 * A single unreadable command does not fail the message: it becomes `Unknown` with a `problem`.
 */
export function decodeSyncMl(input: Buffer | string, limits?: XmlLimits): SyncMlMessage {
  const doc = readSyncMlDocument(input, limits);
  return {
    version: doc.version,
    header: doc.header,
    commands: doc.body.map((el) => readClientCommand(doc.reader, el)),
    final: doc.final,
  };
}

function readClientCommand(r: SyncMlReader, el: XmlElement): ClientCommand {
  const cmdId = r.isSyncMl(el) ? r.cmdId(el) : '';
  if (!r.isSyncMl(el)) return { kind: 'Unknown', cmdId, name: el.local };
  try {
    switch (el.local) {
      case 'Status':
        return { kind: 'Status', ...r.status(el) };
      case 'Results': {
        const results: ResultsCommand = { kind: 'Results', cmdId, cmdRef: r.text(el, 'CmdRef') ?? '', items: r.items(el) };
        const msgRef = r.text(el, 'MsgRef');
        if (msgRef !== undefined) results.msgRef = parseCount(msgRef, 'Results/MsgRef');
        return results;
      }
      case 'Alert':
        return { kind: 'Alert', cmdId, data: parseCount(r.text(el, 'Data'), 'Alert/Data'), items: r.items(el) };
      default:
        if (ITEM_COMMANDS.has(el.local)) {
          const command: ItemCommand = { kind: el.local as ItemCommandKind, cmdId, items: r.items(el) };
          const meta = r.meta(r.one(el, 'Meta'));
          if (meta !== undefined) command.meta = meta;
          return command;
        }
        return { kind: 'Unknown', cmdId, name: el.local };
    }
  } catch (err) {
    if (err instanceof SyncMlError) return { kind: 'Unknown', cmdId, name: el.local, problem: err.message };
    throw err;
  }
}
