// MS-WSTEP RequestSecurityToken as profiled by MS-MDE2 §3.4 (protocol.md §4.3, §4.5): the PKCS#10
// (Issue) or PKCS#7 (Renew, Recovery) in a BinarySecurityToken, plus AdditionalContext. The token
// bytes are returned undecoded; CSR parsing and its Windows quirks (§4.4) belong to the PKI layer.

import { encodeRequestHeader } from '../soap/addressing.js';
import { decodeBase64Binary, encodeBase64Binary } from '../soap/base64.js';
import type { SoapEnvelope } from '../soap/envelope.js';
import { SoapFault } from '../soap/fault.js';
import { ACTIONS, NS, VALUE_TYPES, WSS, WSTEP } from '../soap/namespaces.js';
import { decodeWsSecurity, encodeWsSecurity, type WsSecurityToken, wsseAttr } from '../soap/ws-security.js';
import { attr, child, children, type XmlElement } from '../xml/reader.js';
import { escapeXml } from '../xml/writer.js';
import { ContextItems } from './context-items.js';

export type RequestType = 'Issue' | 'Renew' | 'Recovery';

const REQUEST_TYPES: ReadonlyMap<string, RequestType> = new Map([
  [WSTEP.requestTypeIssue, 'Issue'],
  [WSTEP.requestTypeRenew, 'Renew'],
  [WSTEP.requestTypeRenewWsTrust, 'Renew'],
  [WSTEP.requestTypeRecovery, 'Recovery'],
]);

// Renew: MS-MDE2 §3.5 and Microsoft's renewal sample agree on the WS-Trust URI, so that is what we send.
const REQUEST_TYPE_URI: Record<RequestType, string> = {
  Issue: WSTEP.requestTypeIssue,
  Renew: WSTEP.requestTypeRenewWsTrust,
  Recovery: WSTEP.requestTypeRecovery,
};

// MS-MDE2 and the Microsoft docs disagree on the PKCS#7 ValueType; both are seen in the field.
const TOKEN_FORMATS: ReadonlyMap<string, 'PKCS10' | 'PKCS7'> = new Map([
  [VALUE_TYPES.pkcs10, 'PKCS10'],
  [VALUE_TYPES.pkcs7, 'PKCS7'],
  [VALUE_TYPES.pkcs7Docs, 'PKCS7'],
]);

export interface RequestSecurityToken {
  messageId: string;
  requestType: RequestType;
  tokenType: string;
  binaryToken: { valueType: string; format: 'PKCS10' | 'PKCS7'; value: Buffer };
  context: ContextItems;
  /** The wsse:Security header token, for the caller to authenticate. */
  security: WsSecurityToken | undefined;
}

const formatError = (message: string): SoapFault => new SoapFault({ subcode: 'MessageFormat', message });

/**
 * The wst:RequestSecurityToken element of an envelope, after the checks every RST request shares (a
 * MessageID to answer to, the right payload); the MDM and the MAM decoders both start here.
 */
export function requestSecurityTokenElement(envelope: SoapEnvelope): { messageId: string; rst: XmlElement } {
  if (envelope.messageId === undefined) throw formatError('RequestSecurityToken has no a:MessageID.');
  const rst = envelope.payload;
  if (rst === undefined || rst.uri !== NS.wst || rst.local !== 'RequestSecurityToken') {
    throw formatError('Expected a RequestSecurityToken request.');
  }
  return { messageId: envelope.messageId, rst };
}

/** The ac:AdditionalContext items of an RST; unnamed items are dropped. */
export function decodeAdditionalContext(rst: XmlElement): ContextItems {
  const items: Array<[string, string]> = [];
  const additional = child(rst, NS.ac, 'AdditionalContext');
  for (const item of additional === undefined ? [] : children(additional, NS.ac, 'ContextItem')) {
    const name = attr(item, 'Name')?.trim();
    if (name === undefined || name === '') continue;
    items.push([name, child(item, NS.ac, 'Value')?.text.trim() ?? '']);
  }
  return new ContextItems(items);
}

export function decodeRequestSecurityToken(envelope: SoapEnvelope): RequestSecurityToken {
  const { messageId, rst } = requestSecurityTokenElement(envelope);
  const tokenType = child(rst, NS.wst, 'TokenType')?.text.trim();
  if (tokenType === undefined || tokenType === '') throw formatError('RequestSecurityToken has no TokenType.');
  const requestTypeUri = child(rst, NS.wst, 'RequestType')?.text.trim() ?? '';
  const requestType = REQUEST_TYPES.get(requestTypeUri);
  if (requestType === undefined) throw formatError(`Unsupported RequestType "${requestTypeUri}".`);

  const tokens = children(rst, NS.wsse, 'BinarySecurityToken');
  const token = tokens[0];
  if (token === undefined) throw formatError('RequestSecurityToken carries no BinarySecurityToken.');
  if (tokens.length > 1) throw formatError('RequestSecurityToken carries more than one BinarySecurityToken.');
  const valueType = wsseAttr(token, 'ValueType')?.trim() ?? '';
  const format = TOKEN_FORMATS.get(valueType);
  if (format === undefined) throw formatError(`Unsupported BinarySecurityToken ValueType "${valueType}".`);
  const encodingType = wsseAttr(token, 'EncodingType')?.trim();
  if (encodingType !== undefined && encodingType !== '' && encodingType !== WSS.base64Binary) {
    throw formatError('The BinarySecurityToken encoding is not base64Binary.');
  }
  const value = decodeBase64Binary(token.text);
  if (value === undefined || value.length === 0) throw formatError('The BinarySecurityToken is not valid base64.');

  return {
    messageId,
    requestType,
    tokenType,
    binaryToken: { valueType, format, value },
    context: decodeAdditionalContext(rst),
    security: decodeWsSecurity(envelope.header),
  };
}

export interface RequestSecurityTokenInput {
  messageId: string;
  to: string;
  /** Omitted for a ROBO renewal: the device authenticates with its TLS client certificate (MS-MDE2 §3.5.4.1.1.1). */
  security?: WsSecurityToken | undefined;
  /** PKCS#10 DER for Issue; the PKCS#7 blob for Renew / Recovery. */
  csrDer: Uint8Array;
  context: Array<[string, string]>;
  requestType: RequestType;
  /** Defaults to PKCS10 for Issue and the MS-MDE2 PKCS7 ValueType otherwise. */
  valueType?: string;
}

/** Client side: a RequestSecurityToken as Windows sends it (compact, same layout as the capture). */
export function encodeRequestSecurityToken(input: RequestSecurityTokenInput): string {
  const valueType = input.valueType ?? (input.requestType === 'Issue' ? VALUE_TYPES.pkcs10 : VALUE_TYPES.pkcs7);
  return encodeRequestSecurityTokenEnvelope({
    ...input,
    requestTypeUri: REQUEST_TYPE_URI[input.requestType],
    bodyXml:
      `<wsse:BinarySecurityToken ValueType="${escapeXml(valueType)}" EncodingType="${WSS.base64Binary}">` +
      `${encodeBase64Binary(input.csrDer)}</wsse:BinarySecurityToken>`,
  });
}

/** Client side: the RST envelope both the MDM and the MAM requests use; `bodyXml` goes before the context. */
export function encodeRequestSecurityTokenEnvelope(input: {
  messageId: string;
  to: string;
  security?: WsSecurityToken | undefined;
  requestTypeUri: string;
  bodyXml: string;
  context: Array<[string, string]>;
}): string {
  const header = encodeRequestHeader({
    action: ACTIONS.requestSecurityToken,
    messageId: input.messageId,
    to: input.to,
    ...(input.security === undefined ? {} : { extraXml: encodeWsSecurity(input.security) }),
  });
  const items = input.context
    .map(([name, value]) => `<ac:ContextItem Name="${escapeXml(name)}"><ac:Value>${escapeXml(value)}</ac:Value></ac:ContextItem>`)
    .join('');
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}" xmlns:u="${NS.wsu}" xmlns:wsse="${NS.wsse}" ` +
    `xmlns:wst="${NS.wst}" xmlns:ac="${NS.ac}">${header}<s:Body><wst:RequestSecurityToken>` +
    `<wst:TokenType>${WSTEP.tokenType}</wst:TokenType>` +
    `<wst:RequestType>${input.requestTypeUri}</wst:RequestType>` +
    input.bodyXml +
    `<ac:AdditionalContext xmlns="${NS.ac}">${items}</ac:AdditionalContext>` +
    `</wst:RequestSecurityToken></s:Body></s:Envelope>`
  );
}
