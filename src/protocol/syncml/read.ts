// OMA-DM SyncML 1.2 decoding core shared by both directions (protocol.md §6.1 skeleton and SyncHdr,
// §6.6 Item order, §6.7 Status/Results, §8.1 "parse Meta by local name"). The root namespace is matched
// case-insensitively (SyncML 1.1 and 1.2), every SyncML element must be in the root's namespace, and Meta
// children are matched by local name only (devices send `syncml:metinf`, docs say `syncml:metinfo`,
// servers sometimes send no namespace at all).

import { SaxesParser } from 'saxes';
import { XmlError } from '../xml/errors.js';
import { parseXml, type XmlElement, type XmlLimits } from '../xml/reader.js';
import { SYNCML_NS } from './codes.js';
import { SyncMlError } from './errors.js';
import type { SyncMlCred, SyncMlHeader, SyncMlItem, SyncMlMeta, SyncMlStatus, SyncMlVersion } from './types.js';

const DEFAULT_MAX_INPUT = 4 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** A parsed SyncML document: header read, body still as elements. */
export interface SyncMlDocument {
  version: SyncMlVersion;
  header: SyncMlHeader;
  /** SyncBody children in order, `Final` excluded. */
  body: XmlElement[];
  final: boolean;
  reader: SyncMlReader;
}

/**
 * Element access bound to one document: its SyncML namespace, and the source text for raw Data slices.
 */
export class SyncMlReader {
  readonly ns: string;
  readonly #source: string;
  readonly #root: XmlElement;
  #slices: Map<XmlElement, string> | undefined;

  constructor(ns: string, source: string, root: XmlElement) {
    this.ns = ns;
    this.#source = source;
    this.#root = root;
  }

  isSyncMl(el: XmlElement, local?: string): boolean {
    return el.uri === this.ns && (local === undefined || el.local === local);
  }

  one(el: XmlElement, local: string): XmlElement | undefined {
    return el.children.find((c) => c.uri === this.ns && c.local === local);
  }

  all(el: XmlElement, local: string): XmlElement[] {
    return el.children.filter((c) => c.uri === this.ns && c.local === local);
  }

  /** Trimmed text of a child, undefined when the child is absent. */
  text(el: XmlElement, local: string): string | undefined {
    return this.one(el, local)?.text.trim();
  }

  /** CmdID text, '' when absent. */
  cmdId(el: XmlElement): string {
    return this.text(el, 'CmdID') ?? '';
  }

  /** `<X><LocURI>…</LocURI></X>` → the URI, undefined when X is absent. */
  locUri(el: XmlElement, local: 'Target' | 'Source'): string | undefined {
    const wrapper = this.one(el, local);
    if (wrapper === undefined) return undefined;
    return this.text(wrapper, 'LocURI') ?? '';
  }

  /** Data content: decoded text, or the raw source slice when Data holds elements. */
  data(dataEl: XmlElement): string {
    if (dataEl.children.length === 0) return dataEl.text;
    this.#slices ??= rawDataSlices(this.#source, this.#root, this.ns);
    const slice = this.#slices.get(dataEl);
    if (slice === undefined) throw new SyncMlError('internal: Data slice not found');
    return slice;
  }

  meta(metaEl: XmlElement | undefined): SyncMlMeta | undefined {
    if (metaEl === undefined) return undefined;
    const meta: SyncMlMeta = {};
    for (const c of metaEl.children) {
      const value = c.text.trim();
      switch (c.local) {
        case 'Format':
          meta.format = value;
          break;
        case 'Type':
          meta.type = value;
          break;
        case 'Mark':
          meta.mark = value;
          break;
        case 'Size':
          meta.size = parseCount(value, 'Meta/Size');
          break;
        case 'NextNonce':
          meta.nextNonce = value;
          break;
        default:
          // MaxMsgSize, MaxObjSize, Version, EMI...: not part of an Item's meta.
          break;
      }
    }
    return meta;
  }

  item(el: XmlElement): SyncMlItem {
    const item: SyncMlItem = { moreData: this.one(el, 'MoreData') !== undefined };
    const target = this.locUri(el, 'Target');
    if (target !== undefined) item.target = target;
    const source = this.locUri(el, 'Source');
    if (source !== undefined) item.source = source;
    const meta = this.meta(this.one(el, 'Meta'));
    if (meta !== undefined) item.meta = meta;
    const dataEl = this.one(el, 'Data');
    if (dataEl !== undefined) item.data = this.data(dataEl);
    return item;
  }

  items(el: XmlElement): SyncMlItem[] {
    return this.all(el, 'Item').map((i) => this.item(i));
  }

  /** Status element; throws SyncMlError when Data is not a status code or MsgRef is not a number. */
  status(el: XmlElement): SyncMlStatus {
    const status: SyncMlStatus = {
      cmdId: this.cmdId(el),
      cmdRef: this.text(el, 'CmdRef') ?? '',
      cmd: this.text(el, 'Cmd') ?? '',
      data: parseCount(this.text(el, 'Data'), 'Status/Data'),
    };
    const msgRef = this.text(el, 'MsgRef');
    if (msgRef !== undefined) status.msgRef = parseCount(msgRef, 'Status/MsgRef');
    const originalError = this.one(el, 'Data')?.attrs.find((a) => a.local === 'originalerror')?.value;
    if (originalError !== undefined) status.originalError = originalError;
    const targetRefs = this.all(el, 'TargetRef').map((r) => r.text.trim());
    if (targetRefs.length > 0) status.targetRefs = targetRefs;
    const sourceRefs = this.all(el, 'SourceRef').map((r) => r.text.trim());
    if (sourceRefs.length > 0) status.sourceRefs = sourceRefs;
    const chal = this.one(el, 'Chal');
    if (chal !== undefined) status.chal = this.meta(this.one(chal, 'Meta')) ?? {};
    const items = this.items(el);
    if (items.length > 0) status.items = items;
    return status;
  }
}

/** Parses a non-negative decimal integer; throws SyncMlError naming `what` otherwise. */
export function parseCount(text: string | undefined, what: string): number {
  const t = text?.trim();
  if (t === undefined || t === '') throw new SyncMlError(`${what} is missing`);
  if (!/^\d{1,15}$/.test(t)) throw new SyncMlError(`${what} is not a number: ${JSON.stringify(t.slice(0, 40))}`);
  return Number(t);
}

/**
 * Windows' docs show device replies whose Format xml Data starts with an XML declaration. That is not
 * well-formed XML, so the declaration (only there: directly after a Data start tag) is dropped first.
 */
function dropDeclarationsInData(source: string): string {
  if (source.indexOf('<?xml', 1) === -1) return source;
  return source.replace(/(<(?:[A-Za-z_][\w.-]*:)?Data(?:\s[^<>]*)?>)\s*<\?xml\s[^<>]*?\?>/g, '$1');
}

function toText(input: Buffer | string, maxInput: number): string {
  if (typeof input === 'string') return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (input.length > maxInput) throw new SyncMlError(`SyncML message too large (${input.length} > ${maxInput} bytes)`);
  try {
    return utf8.decode(input);
  } catch (cause) {
    throw new SyncMlError('SyncML message is not valid UTF-8', { cause });
  }
}

/** Parses bytes or text into a SyncML document and reads its SyncHdr. */
export function readSyncMlDocument(input: Buffer | string, limits?: XmlLimits): SyncMlDocument {
  const source = dropDeclarationsInData(toText(input, limits?.maxInputLength ?? DEFAULT_MAX_INPUT));
  let root: XmlElement;
  try {
    root = parseXml(source, limits);
  } catch (err) {
    if (err instanceof XmlError) throw new SyncMlError(`SyncML message is not acceptable XML: ${err.message}`, { cause: err });
    throw err;
  }

  const nsLower = root.uri.toLowerCase();
  if (root.local !== 'SyncML' || (nsLower !== SYNCML_NS.v12.toLowerCase() && nsLower !== SYNCML_NS.v11.toLowerCase())) {
    throw new SyncMlError(`not a SyncML message: root element {${root.uri}}${root.local}`);
  }
  const version: SyncMlVersion = nsLower.endsWith('1.1') ? '1.1' : '1.2';
  const reader = new SyncMlReader(root.uri, source, root);

  const hdr = reader.one(root, 'SyncHdr');
  if (hdr === undefined) throw new SyncMlError('SyncML message has no SyncHdr');
  const bodyEl = reader.one(root, 'SyncBody');
  if (bodyEl === undefined) throw new SyncMlError('SyncML message has no SyncBody');

  const sessionId = reader.text(hdr, 'SessionID');
  if (sessionId === undefined || sessionId === '') throw new SyncMlError('SyncHdr has no SessionID');
  const sender = reader.locUri(hdr, 'Source');
  if (sender === undefined || sender === '') throw new SyncMlError('SyncHdr has no Source/LocURI');
  const header: SyncMlHeader = {
    verDtd: reader.text(hdr, 'VerDTD') ?? '',
    verProto: reader.text(hdr, 'VerProto') ?? '',
    sessionId,
    msgId: parseCount(reader.text(hdr, 'MsgID'), 'SyncHdr/MsgID'),
    target: reader.locUri(hdr, 'Target') ?? '',
    source: sender,
  };
  const credEl = reader.one(hdr, 'Cred');
  if (credEl !== undefined) {
    const meta = reader.meta(reader.one(credEl, 'Meta'));
    const cred: SyncMlCred = { data: reader.text(credEl, 'Data') ?? '' };
    if (meta?.format !== undefined) cred.format = meta.format;
    if (meta?.type !== undefined) cred.type = meta.type;
    header.cred = cred;
  }
  const maxMsgSize = reader.one(hdr, 'Meta')?.children.find((c) => c.local === 'MaxMsgSize');
  if (maxMsgSize !== undefined) header.maxMsgSize = parseCount(maxMsgSize.text, 'SyncHdr/Meta/MaxMsgSize');

  let final = false;
  const body: XmlElement[] = [];
  for (const c of bodyEl.children) {
    if (reader.isSyncMl(c, 'Final')) final = true;
    else body.push(c);
  }
  return { version, header, body, final, reader };
}

/**
 * Second, position-tracking pass over the (already validated) source: the exact text between each
 * SyncML Data start tag and its end tag, keyed by the tree's Data elements (both passes see the same
 * Data elements in the same document order).
 */
function rawDataSlices(source: string, root: XmlElement, ns: string): Map<XmlElement, string> {
  const ordered: XmlElement[] = [];
  const walk = (el: XmlElement): void => {
    if (el.uri === ns && el.local === 'Data') ordered.push(el);
    for (const c of el.children) walk(c);
  };
  walk(root);

  const slices: string[] = [];
  const open: Array<{ index: number; start: number }> = [];
  const parser = new SaxesParser({ xmlns: true });
  parser.on('opentag', (tag) => {
    if (tag.uri !== ns || tag.local !== 'Data') return;
    const index = slices.length;
    slices.push('');
    if (!tag.isSelfClosing) open.push({ index, start: parser.position });
  });
  parser.on('closetag', (tag) => {
    if (tag.uri !== ns || tag.local !== 'Data' || tag.isSelfClosing) return;
    const top = open.pop();
    if (top === undefined) return;
    // The end tag starts at the last `</` before the parser's position: an end tag holds no `<`.
    const end = source.lastIndexOf('</', parser.position - 1);
    slices[top.index] = source.slice(top.start, end);
  });
  parser.write(source).close();

  const map = new Map<XmlElement, string>();
  ordered.forEach((el, i) => {
    const slice = slices[i];
    if (slice !== undefined) map.set(el, slice);
  });
  return map;
}
