// SOAP 1.2 envelope (W3C SOAP 1.2 Part 1 §5) with the WS-Addressing headers the enrollment services use
// (protocol.md §2.2, §4.1, §4.3). Everything is matched by namespace URI; any prefix is accepted.

import { XmlError } from '../xml/errors.js';
import { child, children, parseXml, type XmlElement, type XmlLimits } from '../xml/reader.js';
import { SoapFault } from './fault.js';
import { NS } from './namespaces.js';

export interface SoapEnvelope {
  root: XmlElement;
  header: XmlElement | undefined;
  body: XmlElement;
  /** The single element inside s:Body, if any. */
  payload: XmlElement | undefined;
  action: string | undefined;
  messageId: string | undefined;
  to: string | undefined;
  relatesTo: string | undefined;
}

const headerText = (header: XmlElement | undefined, local: string): string | undefined => {
  const el = header === undefined ? undefined : child(header, NS.wsa, local);
  const text = el?.text.trim();
  return text === undefined || text === '' ? undefined : text;
};

/**
 * Parses (when given bytes or text) and checks a SOAP 1.2 envelope. Anything unusable is reported as
 * SoapFault MessageFormat, with the XmlError as cause when the XML itself was the problem.
 */
export function decodeSoapEnvelope(input: Buffer | string | XmlElement, limits?: XmlLimits): SoapEnvelope {
  let root: XmlElement;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      root = parseXml(input, limits);
    } catch (err) {
      if (err instanceof XmlError) {
        throw new SoapFault({
          subcode: 'MessageFormat',
          message: 'The request is not well-formed XML.',
          detail: err.message,
          cause: err,
        });
      }
      throw err;
    }
  } else {
    root = input;
  }

  if (root.local !== 'Envelope' || root.uri !== NS.soap12) {
    const why = root.uri === NS.soap11 ? 'SOAP 1.1 is not supported; send a SOAP 1.2 envelope.' : 'The message is not a SOAP 1.2 envelope.';
    throw new SoapFault({ subcode: 'MessageFormat', message: why });
  }
  const headers = children(root, NS.soap12, 'Header');
  const bodies = children(root, NS.soap12, 'Body');
  const header = headers[0];
  const body = bodies[0];
  if (headers.length > 1 || bodies.length !== 1 || body === undefined) {
    throw new SoapFault({ subcode: 'MessageFormat', message: 'The SOAP envelope must hold at most one Header and exactly one Body.' });
  }
  if (header !== undefined && root.children.indexOf(header) > root.children.indexOf(body)) {
    throw new SoapFault({ subcode: 'MessageFormat', message: 'The SOAP Header must precede the Body.' });
  }
  if (body.children.length > 1) {
    throw new SoapFault({ subcode: 'MessageFormat', message: 'The SOAP Body must hold a single element.' });
  }
  return {
    root,
    header,
    body,
    payload: body.children[0],
    action: headerText(header, 'Action'),
    messageId: headerText(header, 'MessageID'),
    to: headerText(header, 'To'),
    relatesTo: headerText(header, 'RelatesTo'),
  };
}
