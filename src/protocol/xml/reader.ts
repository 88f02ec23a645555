// XML 1.0 + Namespaces in XML (protocol.md §0 item 8: "Parse with namespace awareness").
// A small, hardened tree builder over saxes: device requests are untrusted, so anything a
// Windows client never sends (DOCTYPE, processing instructions) is refused outright, and
// size, depth and element count are bounded before any tree grows.

import { SaxesParser } from 'saxes';
import { XmlError } from './errors.js';

export interface XmlAttr {
  uri: string;
  local: string;
  value: string;
}

export interface XmlElement {
  uri: string;
  local: string;
  prefix: string;
  /** Attributes, namespace declarations excluded. */
  attrs: XmlAttr[];
  children: XmlElement[];
  /** Direct text and CDATA content of this element, concatenated, entities decoded. */
  text: string;
}

export interface XmlLimits {
  /** Deepest allowed element nesting (root = 1). Default 64. */
  maxDepth?: number;
  /** Most elements in one document. Default 20 000. */
  maxElements?: number;
  /** Longest direct text of a single element, in UTF-16 code units. Default 1 MiB. */
  maxTextLength?: number;
  /** Largest input, in bytes (Buffer) or UTF-16 code units (string). Default 4 MiB. */
  maxInputLength?: number;
}

const DEFAULT_LIMITS: Required<XmlLimits> = {
  maxDepth: 64,
  maxElements: 20_000,
  maxTextLength: 1024 * 1024,
  maxInputLength: 4 * 1024 * 1024,
};

const XMLNS_URI = 'http://www.w3.org/2000/xmlns/';

/** The fields SaxesParser.on() writes handlers to (private in its typings). */
interface HandlerSlots {
  xmldeclHandler: undefined;
  textHandler: undefined;
  piHandler: undefined;
  doctypeHandler: undefined;
  commentHandler: undefined;
  openTagStartHandler: undefined;
  attributeHandler: undefined;
  openTagHandler: undefined;
  closeTagHandler: undefined;
  cdataHandler: undefined;
  errorHandler: undefined;
  endHandler: undefined;
  readyHandler: undefined;
}

/**
 * SaxesParser with every handler slot created in the constructor. saxes' on() adds each handler as a new
 * property after construction; past a dozen such late properties V8 turns the parser into a dictionary-
 * mode object and every state access in its per-character loop slows down, about 6x for an enrollment
 * request. Assigning the slots here, as literal `this.x =` statements V8 counts when it sizes instances,
 * keeps the object fast. Behaviour is unchanged: saxes treats an undefined slot as "no handler".
 */
class SlottedSaxesParser extends SaxesParser<{ xmlns: true }> {
  constructor() {
    super({ xmlns: true });
    (this as unknown as HandlerSlots).xmldeclHandler = undefined;
    (this as unknown as HandlerSlots).textHandler = undefined;
    (this as unknown as HandlerSlots).piHandler = undefined;
    (this as unknown as HandlerSlots).doctypeHandler = undefined;
    (this as unknown as HandlerSlots).commentHandler = undefined;
    (this as unknown as HandlerSlots).openTagStartHandler = undefined;
    (this as unknown as HandlerSlots).attributeHandler = undefined;
    (this as unknown as HandlerSlots).openTagHandler = undefined;
    (this as unknown as HandlerSlots).closeTagHandler = undefined;
    (this as unknown as HandlerSlots).cdataHandler = undefined;
    (this as unknown as HandlerSlots).errorHandler = undefined;
    (this as unknown as HandlerSlots).endHandler = undefined;
    (this as unknown as HandlerSlots).readyHandler = undefined;
  }
}
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function parseXml(input: Buffer | string, limits?: XmlLimits): XmlElement {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  if (input.length > lim.maxInputLength) {
    throw new XmlError(`XML input too large (${input.length} > ${lim.maxInputLength})`);
  }
  let source: string;
  if (typeof input === 'string') {
    source = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else {
    try {
      // TextDecoder drops a leading UTF-8 BOM itself.
      source = utf8.decode(input);
    } catch (cause) {
      throw new XmlError('XML input is not valid UTF-8', { cause });
    }
  }

  const parser = new SlottedSaxesParser();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elementCount = 0;

  const appendText = (text: string): void => {
    const top = stack[stack.length - 1];
    // Whitespace outside the root element is legal and meaningless; saxes rejects anything else.
    if (top === undefined) return;
    if (top.text.length + text.length > lim.maxTextLength) {
      throw new XmlError(`XML text too long in <${top.local}> (limit ${lim.maxTextLength})`);
    }
    top.text += text;
  };

  parser.on('error', (err) => {
    throw new XmlError(`malformed XML: ${err.message}`, { cause: err });
  });
  parser.on('doctype', () => {
    // No Windows enrollment message carries a DTD; refusing it closes entity-expansion and XXE attacks.
    throw new XmlError('DOCTYPE is not allowed');
  });
  parser.on('processinginstruction', (pi) => {
    throw new XmlError(`processing instruction <?${pi.target}?> is not allowed`);
  });
  parser.on('opentagstart', () => {
    elementCount += 1;
    if (elementCount > lim.maxElements) {
      throw new XmlError(`too many XML elements (limit ${lim.maxElements})`);
    }
    if (stack.length + 1 > lim.maxDepth) {
      throw new XmlError(`XML nested too deeply (limit ${lim.maxDepth})`);
    }
  });
  parser.on('opentag', (tag) => {
    const attrs: XmlAttr[] = [];
    for (const a of Object.values(tag.attributes)) {
      if (a.uri === XMLNS_URI) continue;
      attrs.push({ uri: a.uri, local: a.local, value: a.value });
    }
    const el: XmlElement = { uri: tag.uri, local: tag.local, prefix: tag.prefix, attrs, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent === undefined) root = el;
    else parent.children.push(el);
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', appendText);
  parser.on('cdata', appendText);

  try {
    parser.write(source).close();
  } catch (err) {
    if (err instanceof XmlError) throw err;
    throw new XmlError(`malformed XML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (root === undefined) throw new XmlError('XML document has no root element');
  return root;
}

/** First direct child with this namespace URI and local name. */
export function child(el: XmlElement, uri: string, local: string): XmlElement | undefined {
  return el.children.find((c) => c.uri === uri && c.local === local);
}

/** All direct children with this namespace URI and local name, in document order. */
export function children(el: XmlElement, uri: string, local: string): XmlElement[] {
  return el.children.filter((c) => c.uri === uri && c.local === local);
}

/** First matching descendant (not `el` itself), depth-first in document order, like XPath `.//e:x`. */
export function descendant(el: XmlElement, uri: string, local: string): XmlElement | undefined {
  for (const c of el.children) {
    if (c.uri === uri && c.local === local) return c;
    const found = descendant(c, uri, local);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Attribute value; `uri` defaults to '' (an unprefixed attribute, which has no namespace). */
export function attr(el: XmlElement, local: string, uri = ''): string | undefined {
  return el.attrs.find((a) => a.local === local && a.uri === uri)?.value;
}
