import { describe, expect, it } from 'vitest';
import { decodeSoapEnvelope } from '../../src/protocol/soap/envelope.js';
import { decodeSoapFault, encodeSoapFault, SoapFault, type SoapFaultSubcode } from '../../src/protocol/soap/fault.js';
import { windowsHResultForFault, windowsHResultForUnparsedFault } from '../../src/protocol/soap/fault-hresult.js';
import { NS, VALUE_TYPES, WSS } from '../../src/protocol/soap/namespaces.js';
import { decodeWsSecurity, encodeWsSecurity } from '../../src/protocol/soap/ws-security.js';
import { XmlError } from '../../src/protocol/xml/errors.js';
import { parseXml, type XmlElement } from '../../src/protocol/xml/reader.js';
import { CAPTURES, must, readCapture } from './support.js';

/** Follows a path of exact-case `prefix:local` steps from the root, checking namespace URIs too. */
function at(root: XmlElement, steps: Array<[prefix: string, uri: string, local: string]>): XmlElement {
  let el = root;
  for (const [prefix, uri, local] of steps) {
    const next = el.children.find((c) => c.uri === uri && c.local === local && c.prefix === prefix);
    if (next === undefined) throw new Error(`no ${prefix}:${local} under ${el.prefix}:${el.local}`);
    el = next;
  }
  return el;
}

const S = (local: string): [string, string, string] => ['s', NS.soap12, local];
const E = (local: string): [string, string, string] => ['', NS.enrollment, local];

const faultOf = (xml: string): SoapFault => {
  try {
    decodeSoapEnvelope(xml);
  } catch (err) {
    if (err instanceof SoapFault) return err;
    throw err;
  }
  throw new Error('expected a SoapFault');
};

describe('decodeSoapEnvelope', () => {
  it('reads the WS-Addressing headers of a real request', () => {
    const env = decodeSoapEnvelope(readCapture(CAPTURES.discover));
    expect(env.action).toBe('http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/Discover');
    expect(env.messageId).toBe('urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478');
    expect(env.to).toBe('https://EnterpriseEnrollment.fleetdm.ngrok.io:443/EnrollmentServer/Discovery.svc');
    expect(env.payload?.local).toBe('Discover');
  });

  it('accepts any prefix and a pre-parsed tree', () => {
    const xml =
      `<env:Envelope xmlns:env="${NS.soap12}" xmlns:wsa="${NS.wsa}"><env:Header><wsa:MessageID> urn:x </wsa:MessageID>` +
      `</env:Header><env:Body><p xmlns="urn:p"/></env:Body></env:Envelope>`;
    expect(decodeSoapEnvelope(xml).messageId).toBe('urn:x');
    expect(decodeSoapEnvelope(parseXml(xml)).payload?.local).toBe('p');
  });

  it('answers MessageFormat for XML that is broken or not SOAP 1.2', () => {
    const broken = faultOf('<s:Envelope');
    expect(broken.subcode).toBe('MessageFormat');
    expect(broken.cause).toBeInstanceOf(XmlError);
    expect(faultOf('<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body/></Envelope>').message).toMatch(/SOAP 1\.1/);
    expect(faultOf(`<s:Envelope xmlns:s="${NS.soap12}"/>`).subcode).toBe('MessageFormat');
    expect(faultOf(`<s:Envelope xmlns:s="${NS.soap12}"><s:Body/><s:Body/></s:Envelope>`).subcode).toBe('MessageFormat');
    expect(faultOf(`<s:Envelope xmlns:s="${NS.soap12}"><s:Body/><s:Header/></s:Envelope>`).subcode).toBe('MessageFormat');
    expect(faultOf('<!DOCTYPE x><x/>').cause).toBeInstanceOf(XmlError);
  });
});

describe('WS-Security header', () => {
  const envelopeWith = (security: string): string =>
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:wsse="${NS.wsse}" xmlns:u="${NS.wsu}"><s:Header>${security}</s:Header><s:Body/></s:Envelope>`;

  it('reads the UsernameToken of the real GetPolicies and RST', () => {
    for (const capture of [CAPTURES.getPolicies, CAPTURES.rst]) {
      const env = decodeSoapEnvelope(readCapture(capture));
      expect(decodeWsSecurity(env.header)).toEqual({ kind: 'username', username: 'demio', password: 'demo' });
    }
  });

  it('reads the programmatic BinarySecurityToken as base64-decoded bytes', () => {
    const token = decodeWsSecurity(decodeSoapEnvelope(readCapture(CAPTURES.rstProgrammatic)).header);
    expect(token?.kind).toBe('binary');
    if (token?.kind !== 'binary') return;
    expect(token.valueType).toBe(VALUE_TYPES.deviceEnrollmentUserToken);
    expect(token.encodingType).toBe(WSS.base64Binary);
    expect(token.value.toString('utf8')).toBe('helloworld');
  });

  it('accepts wsse-prefixed ValueType/EncodingType (docs sample) and wrapped base64', () => {
    const env = decodeSoapEnvelope(
      envelopeWith(
        `<wsse:Security><wsse:BinarySecurityToken wsse:ValueType="${VALUE_TYPES.deviceEnrollmentUserToken}" ` +
          `wsse:EncodingType="${WSS.base64Binary}">aGVsbG93\r\n  b3JsZA==\r\n</wsse:BinarySecurityToken></wsse:Security>`,
      ),
    );
    const token = decodeWsSecurity(env.header);
    expect(token).toMatchObject({ kind: 'binary', valueType: VALUE_TYPES.deviceEnrollmentUserToken });
    expect(token?.kind === 'binary' && token.value.toString()).toBe('helloworld');
  });

  it('returns undefined without a Security header and InvalidSecurity when it is unusable', () => {
    expect(decodeWsSecurity(undefined)).toBeUndefined();
    expect(decodeWsSecurity(decodeSoapEnvelope(envelopeWith('')).header)).toBeUndefined();
    const bad = [
      `<wsse:Security><wsse:BinarySecurityToken ValueType="x">not base64!</wsse:BinarySecurityToken></wsse:Security>`,
      `<wsse:Security><wsse:BinarySecurityToken>aGk=</wsse:BinarySecurityToken></wsse:Security>`,
      `<wsse:Security><wsse:UsernameToken><wsse:Username>u</wsse:Username><wsse:Password Type="urn:digest">p</wsse:Password></wsse:UsernameToken></wsse:Security>`,
      `<wsse:Security><wsse:UsernameToken><wsse:Username>u</wsse:Username></wsse:UsernameToken></wsse:Security>`,
    ];
    for (const security of bad) {
      const header = decodeSoapEnvelope(envelopeWith(security)).header;
      expect(() => decodeWsSecurity(header)).toThrow(expect.objectContaining({ subcode: 'InvalidSecurity' }));
    }
  });

  it('encodes a header that decodes back to the same token', () => {
    for (const token of [
      { kind: 'username' as const, username: 'R&D <lab>', password: `p"'&<` },
      { kind: 'binary' as const, valueType: VALUE_TYPES.jwt, encodingType: WSS.base64Binary, value: Buffer.from('jwt') },
    ]) {
      const header = decodeSoapEnvelope(envelopeWith(encodeWsSecurity(token))).header;
      expect(decodeWsSecurity(header)).toEqual(token);
    }
  });
});

describe('encodeSoapFault', () => {
  const traceId = '2493ee37-beeb-4cb9-833c-cadde9067645';
  const relatesTo = 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749';
  const action = 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep';

  it('produces the exact casing Windows reads (protocol.md §9.1)', () => {
    const fault = new SoapFault({
      subcode: 'Authorization',
      errorType: 'DeviceCapReached',
      message: 'Device cap reached',
      detail: 'internal: user has 5 devices',
    });
    const xml = encodeSoapFault({ fault, action, relatesTo, traceId });
    expect(xml).toBe(
      `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">` +
        `<s:Header><a:Action s:mustUnderstand="1">${action}</a:Action>` +
        `<ActivityId CorrelationId="${traceId}" xmlns="http://schemas.microsoft.com/2004/09/ServiceModel/Diagnostics">${traceId}</ActivityId>` +
        `<a:RelatesTo>${relatesTo}</a:RelatesTo></s:Header>` +
        `<s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>s:Authorization</s:Value></s:Subcode></s:Code>` +
        `<s:Reason><s:Text xml:lang="en-US">Device cap reached</s:Text></s:Reason>` +
        `<s:Detail><DeviceEnrollmentServiceError xmlns="http://schemas.microsoft.com/windows/pki/2009/01/enrollment">` +
        `<ErrorType>DeviceCapReached</ErrorType><Message>Device cap reached</Message><TraceId>${traceId}</TraceId>` +
        `</DeviceEnrollmentServiceError></s:Detail></s:Fault></s:Body></s:Envelope>`,
    );
    expect(xml).not.toContain('internal');

    const root = parseXml(xml);
    expect(root).toMatchObject({ prefix: 's', uri: NS.soap12, local: 'Envelope' });
    const f = at(root, [S('Body'), S('Fault')]);
    expect(at(f, [S('Code'), S('Value')]).text).toBe('s:Receiver');
    expect(at(f, [S('Code'), S('Subcode'), S('Value')]).text).toBe('s:Authorization');
    const text = at(f, [S('Reason'), S('Text')]);
    expect(text.attrs).toEqual([{ uri: NS.xml, local: 'lang', value: 'en-US' }]);
    const error = at(f, [S('Detail'), E('DeviceEnrollmentServiceError')]);
    expect(error.children.map((c) => c.local)).toEqual(['ErrorType', 'Message', 'TraceId']);
    expect(at(error, [E('ErrorType')]).text).toBe('DeviceCapReached');
    expect(at(error, [E('TraceId')]).text).toBe(traceId);
  });

  it('writes a: for the WS-Addressing subcodes and s: for the rest', () => {
    const expected: Record<SoapFaultSubcode, string> = {
      MessageFormat: 's:MessageFormat',
      Authentication: 's:Authentication',
      Authorization: 's:Authorization',
      CertificateRequest: 's:CertificateRequest',
      EnrollmentServer: 's:EnrollmentServer',
      InternalServiceFault: 'a:InternalServiceFault',
      InvalidSecurity: 'a:InvalidSecurity',
    };
    for (const [subcode, value] of Object.entries(expected) as Array<[SoapFaultSubcode, string]>) {
      const xml = encodeSoapFault({ fault: new SoapFault({ subcode, message: 'm' }), traceId });
      const root = parseXml(xml);
      expect(at(root, [S('Body'), S('Fault'), S('Code'), S('Subcode'), S('Value')]).text).toBe(value);
    }
  });

  it('omits ErrorType, Action and RelatesTo when not given but keeps Message and TraceId', () => {
    const xml = encodeSoapFault({
      fault: new SoapFault({ subcode: 'MessageFormat', message: 'Bad <request> & co', codeValue: 'Sender' }),
      traceId,
    });
    const root = parseXml(xml);
    const header = at(root, [S('Header')]);
    expect(header.children.map((c) => c.local)).toEqual(['ActivityId']);
    const f = at(root, [S('Body'), S('Fault')]);
    expect(at(f, [S('Code'), S('Value')]).text).toBe('s:Sender');
    expect(at(f, [S('Reason'), S('Text')]).text).toBe('Bad <request> & co');
    const error = at(f, [S('Detail'), E('DeviceEnrollmentServiceError')]);
    expect(error.children.map((c) => c.local)).toEqual(['Message', 'TraceId']);
  });
});

describe('client view of faults', () => {
  const roundTrip = (fault: SoapFault) => decodeSoapFault(parseXml(encodeSoapFault({ fault, traceId: 't-1' })));

  it('decodes our own faults and maps them like the Windows client', () => {
    const cap = roundTrip(new SoapFault({ subcode: 'Authorization', errorType: 'DeviceCapReached', message: 'cap' }));
    expect(cap).toEqual({
      codeValue: 's:Receiver',
      subcode: 's:Authorization',
      errorType: 'DeviceCapReached',
      reason: 'cap',
      message: 'cap',
      traceId: 't-1',
    });
    expect(windowsHResultForFault(must(cap))).toBe(0x80180013);
    const cases: Array<[SoapFault, number]> = [
      [new SoapFault({ subcode: 'MessageFormat', message: 'x' }), 0x80180001],
      [new SoapFault({ subcode: 'Authentication', message: 'x' }), 0x80180002],
      [new SoapFault({ subcode: 'CertificateRequest', message: 'x' }), 0x80180004],
      [new SoapFault({ subcode: 'EnrollmentServer', message: 'x' }), 0x80180005],
      [new SoapFault({ subcode: 'InternalServiceFault', message: 'x' }), 0x80180006],
      [new SoapFault({ subcode: 'InvalidSecurity', message: 'x' }), 0x80180007],
      [new SoapFault({ subcode: 'MessageFormat', errorType: 'DeviceNotSupported', message: 'x' }), 0x80180014],
      [new SoapFault({ subcode: 'Authorization', errorType: 'NotSupported', message: 'x' }), 0x80180015],
      [new SoapFault({ subcode: 'Authorization', errorType: 'NotEligibleToRenew', message: 'x' }), 0x80180016],
    ];
    for (const [fault, hresult] of cases) expect(windowsHResultForFault(must(roundTrip(fault)))).toBe(hresult);
  });

  it('treats lower-case (fleet-style) subcodes as unknown, and a missing fault as unparsed', () => {
    const lower = `<s:Envelope xmlns:s="${NS.soap12}"><s:Body><s:Fault><s:Code><s:Value>s:receiver</s:Value><s:Subcode><s:Value>s:authentication</s:Value></s:Subcode></s:Code><s:Reason><s:Text>x</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`;
    expect(windowsHResultForFault(must(decodeSoapFault(parseXml(lower))))).toBe(0x80180008);
    const wrongCase = `<s:Envelope xmlns:s="${NS.soap12}"><s:Body><s:fault/></s:Body></s:Envelope>`;
    expect(decodeSoapFault(parseXml(wrongCase))).toBeUndefined();
    expect(windowsHResultForUnparsedFault(500)).toBe(0x801901f4);
  });
});
