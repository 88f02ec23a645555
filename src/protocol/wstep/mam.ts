// The MAM variation of MS-MDE2 (Microsoft's "Implement server-side support for mobile application
// management on Windows"): app-protection registration without MDM. No discovery, an Entra token as the
// only credential, and no client-authentication certificate, hence no MS-XCEP and no PKCS#10 to sign.
// The RequestSecurityToken keeps its shape (TokenType, RequestType Issue, AdditionalContext); a body
// BinarySecurityToken, if the client sends one, is ignored because nothing is issued. The answer is the
// usual RSTR carrying a provisioning document that holds only the w7 APPLICATION (policy syncs then run
// over one-way TLS with the Entra token as `Authorization: Bearer`).

import { encodeRequestHeader } from '../soap/addressing.js';
import type { SoapEnvelope } from '../soap/envelope.js';
import { SoapFault } from '../soap/fault.js';
import { ACTIONS, NS, WSTEP } from '../soap/namespaces.js';
import { decodeWsSecurity, encodeWsSecurity, type WsSecurityToken } from '../soap/ws-security.js';
import { attr, child, children, parseXml } from '../xml/reader.js';
import { escapeXml } from '../xml/writer.js';
import { MalformedResponseError } from '../soap/client-errors.js';
import { ContextItems } from './context-items.js';

export interface MamRegistrationRequest {
  messageId: string;
  context: ContextItems;
  /** The wsse:Security header token (the Entra JWT), for the caller to authenticate. */
  security: WsSecurityToken | undefined;
}

const formatError = (message: string): SoapFault => new SoapFault({ subcode: 'MessageFormat', message });

export function decodeMamRegistrationRequest(envelope: SoapEnvelope): MamRegistrationRequest {
  if (envelope.messageId === undefined) throw formatError('RequestSecurityToken has no a:MessageID.');
  const rst = envelope.payload;
  if (rst === undefined || rst.uri !== NS.wst || rst.local !== 'RequestSecurityToken') {
    throw formatError('Expected a RequestSecurityToken request.');
  }
  const requestType = child(rst, NS.wst, 'RequestType')?.text.trim() ?? '';
  if (requestType !== WSTEP.requestTypeIssue) {
    throw formatError('App-protection registration takes RequestType Issue only; there is no certificate to renew.');
  }
  const items: Array<[string, string]> = [];
  const additional = child(rst, NS.ac, 'AdditionalContext');
  for (const item of additional === undefined ? [] : children(additional, NS.ac, 'ContextItem')) {
    const name = attr(item, 'Name')?.trim();
    if (name === undefined || name === '') continue;
    items.push([name, child(item, NS.ac, 'Value')?.text.trim() ?? '']);
  }
  return { messageId: envelope.messageId, context: new ContextItems(items), security: decodeWsSecurity(envelope.header) };
}

/** Client side (simulator): a MAM registration request, with no certificate request in the body. */
export function encodeMamRegistrationRequest(input: {
  messageId: string;
  to: string;
  security: WsSecurityToken;
  context: Array<[string, string]>;
}): string {
  const header = encodeRequestHeader({
    action: ACTIONS.requestSecurityToken,
    messageId: input.messageId,
    to: input.to,
    extraXml: encodeWsSecurity(input.security),
  });
  const items = input.context
    .map(([name, value]) => `<ac:ContextItem Name="${escapeXml(name)}"><ac:Value>${escapeXml(value)}</ac:Value></ac:ContextItem>`)
    .join('');
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}" xmlns:u="${NS.wsu}" xmlns:wsse="${NS.wsse}" ` +
    `xmlns:wst="${NS.wst}" xmlns:ac="${NS.ac}">${header}<s:Body><wst:RequestSecurityToken>` +
    `<wst:TokenType>${WSTEP.tokenType}</wst:TokenType>` +
    `<wst:RequestType>${WSTEP.requestTypeIssue}</wst:RequestType>` +
    `<ac:AdditionalContext xmlns="${NS.ac}">${items}</ac:AdditionalContext>` +
    `</wst:RequestSecurityToken></s:Body></s:Envelope>`
  );
}

export interface MamProvisioningDocInput {
  /** w7 PROVIDER-ID. */
  providerId: string;
  /** w7 NAME: the service name Windows shows. */
  name: string;
  /** w7 ADDR: the MAM policy-sync (OMA-DM) URL, served over one-way TLS. */
  managementUrl: string;
}

/**
 * The MAM provisioning document: the w7 APPLICATION characteristic only. No CertificateStore (nothing is
 * issued), no APPAUTH (optional for MAM; the bearer token authenticates), no DMClient Poll (Windows then
 * syncs once every 24 hours).
 */
export function encodeMamProvisioningDoc(input: MamProvisioningDocInput): string {
  if (!/^https:\/\//i.test(input.managementUrl)) throw new RangeError('the MAM policy-sync URL must be https');
  const parm = (name: string, value: string) => `<parm name="${name}" value="${escapeXml(value)}" />`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?><wap-provisioningdoc version="1.1"><characteristic type="APPLICATION">` +
    parm('APPID', 'w7') +
    parm('PROVIDER-ID', input.providerId) +
    parm('NAME', input.name) +
    parm('ADDR', input.managementUrl) +
    parm('DEFAULTENCODING', 'application/vnd.syncml.dm+xml') +
    `</characteristic></wap-provisioningdoc>`
  );
}

/** Client side: the w7 parms of a MAM provisioning document; refuses a document that carries certificates. */
export function decodeMamProvisioningDoc(xml: string): Record<string, string> {
  const doc = parseXml(xml);
  if (doc.uri !== '' || doc.local !== 'wap-provisioningdoc')
    throw new MalformedResponseError('The root element is not wap-provisioningdoc.');
  const top = doc.children.filter((c) => c.local === 'characteristic');
  if (top.some((c) => attr(c, 'type') === 'CertificateStore')) {
    throw new MalformedResponseError('A MAM provisioning document must not carry certificates.');
  }
  const app = top.find((c) => attr(c, 'type') === 'APPLICATION');
  if (app === undefined) throw new MalformedResponseError('No APPLICATION characteristic.');
  const out: Record<string, string> = {};
  for (const p of app.children) if (p.local === 'parm') out[attr(p, 'name') ?? ''] = attr(p, 'value') ?? '';
  if (out.APPID !== 'w7') throw new MalformedResponseError('The APPLICATION is not w7.');
  return out;
}
