// MS-WSTEP RequestSecurityTokenResponseCollection carrying the wap-provisioningdoc (protocol.md §4.6).
// Windows finds the document by the WS-Trust / wsse namespaces of four nested elements, so those are
// exact; the ValueType is still the documented DeviceEnrollmentProvisionDoc.

import { encodeResponseHeader } from '../soap/addressing.js';
import { decodeBase64Binary, encodeBase64Binary } from '../soap/base64.js';
import { MalformedResponseError, ReceivedFaultError } from '../soap/client-errors.js';
import type { SoapEnvelope } from '../soap/envelope.js';
import { decodeSoapFault } from '../soap/fault.js';
import { ACTIONS, NS, VALUE_TYPES, WSS, WSTEP } from '../soap/namespaces.js';
import { descendant } from '../xml/reader.js';

export interface RequestSecurityTokenResponseInput {
  relatesTo: string;
  activityId: string;
  provisioningDocXml: string;
  /** wsu:Timestamp bounds; the caller passes its clock's now and now + a few minutes. */
  created: Date;
  expires: Date;
}

export function encodeRequestSecurityTokenResponse(input: RequestSecurityTokenResponseInput): string {
  const security =
    `<o:Security xmlns:o="${NS.wsse}" s:mustUnderstand="1"><u:Timestamp u:Id="_0">` +
    `<u:Created>${input.created.toISOString()}</u:Created><u:Expires>${input.expires.toISOString()}</u:Expires>` +
    `</u:Timestamp></o:Security>`;
  const header = encodeResponseHeader({
    action: ACTIONS.requestSecurityTokenResponse,
    activityId: input.activityId,
    relatesTo: input.relatesTo,
    extraXml: security,
  });
  const doc = encodeBase64Binary(Buffer.from(input.provisioningDocXml, 'utf8'));
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}" xmlns:u="${NS.wsu}">${header}<s:Body>` +
    `<RequestSecurityTokenResponseCollection xmlns="${NS.wst}"><RequestSecurityTokenResponse>` +
    `<TokenType>${WSTEP.tokenType}</TokenType>` +
    `<DispositionMessage xmlns="${NS.enrollment}"></DispositionMessage>` +
    `<RequestedSecurityToken><BinarySecurityToken xmlns="${NS.wsse}" ValueType="${VALUE_TYPES.provisionDoc}" ` +
    `EncodingType="${WSS.base64Binary}">${doc}</BinarySecurityToken></RequestedSecurityToken>` +
    `<RequestID xmlns="${NS.enrollment}">0</RequestID>` +
    `</RequestSecurityTokenResponse></RequestSecurityTokenResponseCollection></s:Body></s:Envelope>`
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Client side: extracts the provisioning document the way Windows does
 * (`//wst:RequestSecurityTokenResponseCollection//wst:RequestSecurityTokenResponse
 * //wst:RequestedSecurityToken//wsse:BinarySecurityToken`, ValueType unchecked) and returns its XML text.
 */
export function decodeRequestSecurityTokenResponse(envelope: SoapEnvelope): string {
  const fault = decodeSoapFault(envelope.root);
  if (fault !== undefined) throw new ReceivedFaultError(fault);
  const collection = descendant(envelope.root, NS.wst, 'RequestSecurityTokenResponseCollection');
  const response = collection && descendant(collection, NS.wst, 'RequestSecurityTokenResponse');
  const requested = response && descendant(response, NS.wst, 'RequestedSecurityToken');
  const token = requested && descendant(requested, NS.wsse, 'BinarySecurityToken');
  if (token === undefined) throw new MalformedResponseError('No RequestedSecurityToken/BinarySecurityToken in the response.');
  const bytes = decodeBase64Binary(token.text);
  if (bytes === undefined || bytes.length === 0) {
    throw new MalformedResponseError('The provisioning document is not valid base64.');
  }
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new MalformedResponseError('The provisioning document is not UTF-8.', { cause });
  }
}
