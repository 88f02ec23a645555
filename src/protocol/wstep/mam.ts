// The MAM variation of MS-MDE2 (Microsoft's "Implement server-side support for mobile application
// management on Windows"): app-protection registration without MDM. No discovery, an Entra token as the
// only credential, and no client-authentication certificate, hence no MS-XCEP and no PKCS#10 to sign.
// The RequestSecurityToken keeps its shape (TokenType, RequestType Issue, AdditionalContext); a body
// BinarySecurityToken, if the client sends one, is ignored because nothing is issued. The answer is the
// usual RSTR carrying a provisioning document that holds only the w7 APPLICATION (policy syncs then run
// over one-way TLS with the Entra token as `Authorization: Bearer`).

import type { SoapEnvelope } from '../soap/envelope.js';
import { SoapFault } from '../soap/fault.js';
import { NS, WSTEP } from '../soap/namespaces.js';
import { decodeWsSecurity, type WsSecurityToken } from '../soap/ws-security.js';
import { attr, child, parseXml } from '../xml/reader.js';
import { escapeXml } from '../xml/writer.js';
import { MalformedResponseError } from '../soap/client-errors.js';
import type { ContextItems } from './context-items.js';
import { decodeAdditionalContext, encodeRequestSecurityTokenEnvelope, requestSecurityTokenElement } from './request-security-token.js';

export interface MamRegistrationRequest {
  messageId: string;
  context: ContextItems;
  /** The wsse:Security header token (the Entra JWT), for the caller to authenticate. */
  security: WsSecurityToken | undefined;
}

export function decodeMamRegistrationRequest(envelope: SoapEnvelope): MamRegistrationRequest {
  const { messageId, rst } = requestSecurityTokenElement(envelope);
  const requestType = child(rst, NS.wst, 'RequestType')?.text.trim() ?? '';
  if (requestType !== WSTEP.requestTypeIssue) {
    throw new SoapFault({
      subcode: 'MessageFormat',
      message: 'App-protection registration takes RequestType Issue only; there is no certificate to renew.',
    });
  }
  return { messageId, context: decodeAdditionalContext(rst), security: decodeWsSecurity(envelope.header) };
}

/** Client side (simulator): a MAM registration request, with no certificate request in the body. */
export function encodeMamRegistrationRequest(input: {
  messageId: string;
  to: string;
  security: WsSecurityToken;
  context: Array<[string, string]>;
}): string {
  return encodeRequestSecurityTokenEnvelope({ ...input, requestTypeUri: WSTEP.requestTypeIssue, bodyXml: '' });
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
