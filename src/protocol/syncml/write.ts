// OMA-DM SyncML 1.2 element writers shared by the server encoder and the client simulator (protocol.md
// §6.1 SyncHdr order, §6.3 IDs, §6.5 Status form, §6.6 Item child order and LocURI rules). Output is
// compact (no whitespace between elements); every text goes through escapeXml, never CDATA.

import { escapeXml } from '../xml/writer.js';
import { SYNCML_NS, VER_DTD, VER_PROTO } from './codes.js';
import { SyncMlError } from './errors.js';
import type { SyncMlCred, SyncMlItemInput, SyncMlMeta, SyncMlStatusFields } from './types.js';

/** Longest CmdID we write; servers may use UUIDs (36 characters), protocol.md §6.3 says keep ≤ ~64. */
export const MAX_CMD_ID_LENGTH = 64;

/**
 * Meta child order. `dtd` is the MetInf DTD order (Format, Type, Mark, Size, NextNonce) that servers
 * use; `windows` is the order a Windows client writes (Type before Format), seen in capture 05.
 */
export type MetaOrder = 'dtd' | 'windows';

export const el = (name: string, text: string): string => `<${name}>${escapeXml(text)}</${name}>`;

const metinf = (name: string, text: string): string => `<${name} xmlns="${SYNCML_NS.metinf}">${escapeXml(text)}</${name}>`;

export function checkCmdId(cmdId: string, where: string): void {
  if (cmdId === '') throw new SyncMlError(`${where}: CmdID must not be empty`);
  if (cmdId === '0') throw new SyncMlError(`${where}: CmdID must not be 0 (that is the SyncHdr's reference)`);
  if (cmdId.length > MAX_CMD_ID_LENGTH) throw new SyncMlError(`${where}: CmdID longer than ${MAX_CMD_ID_LENGTH} characters`);
  if (cmdId.trim() !== cmdId) throw new SyncMlError(`${where}: CmdID must not have surrounding whitespace`);
}

export function checkLocUri(uri: string, where: string): void {
  if (uri === '') throw new SyncMlError(`${where}: LocURI must not be empty`);
  if (uri.startsWith('/')) throw new SyncMlError(`${where}: LocURI must not start with "/": ${uri}`);
}

export function checkCode(code: number, where: string): void {
  if (!Number.isInteger(code) || code < 0) throw new SyncMlError(`${where}: ${code} is not a valid code`);
}

export function metaXml(meta: SyncMlMeta | undefined, order: MetaOrder): string {
  if (meta === undefined) return '';
  const format = meta.format === undefined ? '' : metinf('Format', meta.format);
  const type = meta.type === undefined ? '' : metinf('Type', meta.type);
  const rest =
    (meta.mark === undefined ? '' : metinf('Mark', meta.mark)) +
    (meta.size === undefined ? '' : metinf('Size', String(meta.size))) +
    (meta.nextNonce === undefined ? '' : metinf('NextNonce', meta.nextNonce));
  const inner = order === 'dtd' ? format + type + rest : type + format + rest;
  return inner === '' ? '' : `<Meta>${inner}</Meta>`;
}

export function itemXml(item: SyncMlItemInput, order: MetaOrder, where: string): string {
  let out = '<Item>';
  if (item.target !== undefined) {
    checkLocUri(item.target, `${where} Target`);
    out += `<Target>${el('LocURI', item.target)}</Target>`;
  }
  if (item.source !== undefined) {
    checkLocUri(item.source, `${where} Source`);
    out += `<Source>${el('LocURI', item.source)}</Source>`;
  }
  out += metaXml(item.meta, order);
  if (item.data !== undefined) out += el('Data', item.data);
  if (item.moreData === true) out += '<MoreData/>';
  return `${out}</Item>`;
}

export interface StatusToWrite extends SyncMlStatusFields<SyncMlItemInput> {
  msgRef?: number;
}

/** `<Status>` in DTD order: CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Chal, Data, Item*. */
export function statusXml(status: StatusToWrite, order: MetaOrder): string {
  const where = `Status ${status.cmdId}`;
  checkCmdId(status.cmdId, where);
  checkCode(status.data, where);
  if (status.cmd === '') throw new SyncMlError(`${where}: Cmd must not be empty`);
  let out = `<Status>${el('CmdID', status.cmdId)}`;
  if (status.msgRef !== undefined) {
    checkCode(status.msgRef, `${where} MsgRef`);
    out += el('MsgRef', String(status.msgRef));
  }
  out += el('CmdRef', status.cmdRef) + el('Cmd', status.cmd);
  for (const ref of status.targetRefs ?? []) out += el('TargetRef', ref);
  for (const ref of status.sourceRefs ?? []) out += el('SourceRef', ref);
  if (status.chal !== undefined) out += `<Chal>${metaXml(status.chal, order)}</Chal>`;
  out += el('Data', String(status.data));
  for (const item of status.items ?? []) out += itemXml(item, order, where);
  return `${out}</Status>`;
}

export interface HeaderToWrite {
  sessionId: string;
  msgId: number;
  target: string;
  source: string;
  cred?: SyncMlCred;
  maxMsgSize?: number;
}

/** SyncHdr in DTD order: VerDTD, VerProto, SessionID, MsgID, Target, Source, Cred, Meta. */
export function headerXml(h: HeaderToWrite): string {
  if (h.sessionId === '') throw new SyncMlError('SyncHdr: SessionID must not be empty');
  if (!Number.isInteger(h.msgId) || h.msgId < 1) throw new SyncMlError(`SyncHdr: MsgID ${h.msgId} is not a positive integer`);
  if (h.target === '') throw new SyncMlError('SyncHdr: Target must not be empty');
  if (h.source === '') throw new SyncMlError('SyncHdr: Source must not be empty');
  let out =
    `<SyncHdr>${el('VerDTD', VER_DTD)}${el('VerProto', VER_PROTO)}${el('SessionID', h.sessionId)}` +
    `${el('MsgID', String(h.msgId))}<Target>${el('LocURI', h.target)}</Target><Source>${el('LocURI', h.source)}</Source>`;
  if (h.cred !== undefined) {
    const meta = metaXml(
      { ...(h.cred.format === undefined ? {} : { format: h.cred.format }), ...(h.cred.type === undefined ? {} : { type: h.cred.type }) },
      'dtd',
    );
    out += `<Cred>${meta}${el('Data', h.cred.data)}</Cred>`;
  }
  if (h.maxMsgSize !== undefined) {
    checkCode(h.maxMsgSize, 'SyncHdr MaxMsgSize');
    out += `<Meta>${metinf('MaxMsgSize', String(h.maxMsgSize))}</Meta>`;
  }
  return `${out}</SyncHdr>`;
}

/** Root element open tag; SyncML 1.2 is the only version we emit. */
export const SYNCML_OPEN = `<SyncML xmlns="${SYNCML_NS.v12}">`;

/** Throws when a CmdID repeats within one message. */
export class CmdIdSet {
  readonly #seen = new Set<string>();
  add(cmdId: string, where: string): void {
    if (this.#seen.has(cmdId)) throw new SyncMlError(`${where}: CmdID ${cmdId} is used twice in one message`);
    this.#seen.add(cmdId);
  }
}
