import type https from 'node:https';
import { decodeSoapFault, type ReceivedFault } from '../../src/protocol/soap/fault.js';
import { parseXml, type XmlElement } from '../../src/protocol/xml/reader.js';
import { type HttpResponse, request } from '../../src/simulator/https-client.js';

export const SOAP = { 'content-type': 'application/soap+xml; charset=utf-8', 'user-agent': 'ENROLLClient' };

export function postSoap(
  agent: https.Agent,
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = SOAP,
): Promise<HttpResponse> {
  return request({ method: 'POST', url, body, headers, agent });
}

/** A SOAP answer as Windows requires it framed: 200, SOAP content type, Content-Length, never chunked. */
export function soapBody(res: HttpResponse): XmlElement {
  if (res.status !== 200) throw new Error(`expected HTTP 200, got ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`);
  if (!String(res.headers['content-type']).startsWith('application/soap+xml'))
    throw new Error(`content-type ${res.headers['content-type']}`);
  if (res.headers['transfer-encoding'] !== undefined) throw new Error('chunked response');
  if (Number(res.headers['content-length']) !== res.body.length) throw new Error('Content-Length does not match the body');
  return parseXml(res.body);
}

export function faultOf(res: HttpResponse): ReceivedFault {
  const fault = decodeSoapFault(soapBody(res));
  if (!fault) throw new Error(`expected a SOAP fault, got ${res.body.toString('utf8').slice(0, 400)}`);
  return fault;
}
