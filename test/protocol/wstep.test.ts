import { describe, expect, it } from 'vitest';
import { ReceivedFaultError } from '../../src/protocol/soap/client-errors.js';
import { decodeSoapEnvelope } from '../../src/protocol/soap/envelope.js';
import { encodeSoapFault, SoapFault } from '../../src/protocol/soap/fault.js';
import { ACTIONS, NS, VALUE_TYPES, WSS, WSTEP } from '../../src/protocol/soap/namespaces.js';
import { ContextItems } from '../../src/protocol/wstep/context-items.js';
import { decodeRequestSecurityToken, encodeRequestSecurityToken } from '../../src/protocol/wstep/request-security-token.js';
import { decodeRequestSecurityTokenResponse, encodeRequestSecurityTokenResponse } from '../../src/protocol/wstep/response.js';
import { attr, child, descendant } from '../../src/protocol/xml/reader.js';
import { CAPTURES, must, readCapture, readCapturePem, readCaptureText } from './support.js';

const decode = (xml: string | Buffer) => decodeRequestSecurityToken(decodeSoapEnvelope(xml));

describe('decodeRequestSecurityToken: real Win10 19043 OnPremise request', () => {
  const rst = decode(readCapture(CAPTURES.rst));

  it('reads the request fields and the PKCS#10', () => {
    expect(rst.messageId).toBe('urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');
    expect(rst.requestType).toBe('Issue');
    expect(rst.tokenType).toBe(WSTEP.tokenType);
    expect(rst.binaryToken.valueType).toBe(VALUE_TYPES.pkcs10);
    expect(rst.binaryToken.format).toBe('PKCS10');
    expect(rst.binaryToken.value.equals(readCapturePem(CAPTURES.rstCsr))).toBe(true);
    expect(rst.security).toEqual({ kind: 'username', username: 'demio', password: 'demo' });
  });

  it('reads every ContextItem as a case-tolerant multimap, in order', () => {
    const ctx = rst.context;
    expect(ctx.get('DeviceID')).toBe('B5B954E81FBCB94EB79BD08BE625F4EE');
    expect(ctx.get('deviceid')).toBe('B5B954E81FBCB94EB79BD08BE625F4EE');
    expect(ctx.get('HWDevID')).toBe('3B3ED6D0EA88CBFCF37D36F90F22FE61172348C0162FC3840D6703149870CE76');
    expect(ctx.get('EnrollmentType')).toBe('Full');
    expect(ctx.get('DeviceName')).toBe('DESKTOP-28FGAI6');
    expect(ctx.get('OSVersion')).toBe('10.0.19043.2364');
    expect(ctx.get('UXInitiated')).toBe('true');
    expect(ctx.get('Missing')).toBeUndefined();
    expect(ctx.getAll('MAC')).toEqual([
      '00-0C-29-51-60-9D',
      '1A-77-20-52-41-53',
      '1A-77-20-52-41-53',
      '00-0C-29-51-60-A7',
      '18-14-20-52-41-53',
      '00-0C-29-51-60-93',
    ]);
    expect(ctx.entries().map(([n]) => n)).toEqual([
      'UXInitiated',
      'HWDevID',
      'Locale',
      'TargetedUserLoggedIn',
      'OSEdition',
      'DeviceName',
      'MAC',
      'MAC',
      'MAC',
      'MAC',
      'MAC',
      'MAC',
      'DeviceID',
      'EnrollmentType',
      'DeviceType',
      'OSVersion',
      'ApplicationVersion',
      'NotInOobe',
    ]);
    expect(ctx.size).toBe(18);
  });

  it('is reproduced byte for byte by the client encoder', () => {
    expect(
      encodeRequestSecurityToken({
        messageId: rst.messageId,
        to: 'https://windows.fleetdm.ngrok.io/EnrollmentServer/Enrollment.svc',
        security: { kind: 'username', username: 'demio', password: 'demo' },
        csrDer: readCapturePem(CAPTURES.rstCsr),
        context: rst.context.entries(),
        requestType: 'Issue',
      }),
    ).toBe(readCaptureText(CAPTURES.rst));
  });
});

describe('decodeRequestSecurityToken: real programmatic Win10 19045 request', () => {
  const rst = decode(readCapture(CAPTURES.rstProgrammatic));

  it('reads the DeviceEnrollmentUserToken and the 5.0 context items', () => {
    expect(rst.security?.kind).toBe('binary');
    if (rst.security?.kind === 'binary') {
      expect(rst.security.valueType).toBe(VALUE_TYPES.deviceEnrollmentUserToken);
      expect(rst.security.value.toString('utf8')).toBe('helloworld');
    }
    expect(rst.context.get('RequestVersion')).toBe('5.0');
    expect(rst.context.get('UXInitiated')).toBe('false');
    expect(rst.context.get('DeviceID')).toBe('DB257C3A08778F4FB61E2749066C1F27');
    expect(rst.context.get('HWDevID')).toBe('BF2D12A95AE42E47D58465E9A71336CAF33FCCAD3088F140F4D50B371FB2256F');
    expect(rst.context.get('EnrollmentType')).toBe('Full');
    expect(rst.context.getAll('MAC')).toEqual(['00-0C-29-7B-4E-4C', '00-0C-29-7B-4E-56']);
    expect(rst.binaryToken.value.equals(readCapturePem(CAPTURES.rstProgrammaticCsr))).toBe(true);
  });

  it('is reproduced byte for byte by the client encoder', () => {
    expect(
      encodeRequestSecurityToken({
        messageId: rst.messageId,
        to: 'https://mdmwindows.com/EnrollmentServer/Enrollment.svc',
        security: {
          kind: 'binary',
          valueType: VALUE_TYPES.deviceEnrollmentUserToken,
          encodingType: WSS.base64Binary,
          value: Buffer.from('helloworld'),
        },
        csrDer: readCapturePem(CAPTURES.rstProgrammaticCsr),
        context: rst.context.entries(),
        requestType: 'Issue',
      }),
    ).toBe(readCaptureText(CAPTURES.rstProgrammatic));
  });
});

describe('decodeRequestSecurityToken: variants and errors', () => {
  const base = {
    messageId: 'urn:uuid:1',
    to: 'https://x/Enrollment.svc',
    security: { kind: 'username' as const, username: 'u', password: 'p' },
    csrDer: Buffer.from('not really a pkcs7'),
    context: [
      ['deviceid', 'ABC'],
      ['Custom', 'R&D <lab>'],
    ] as Array<[string, string]>,
  };

  it('accepts both PKCS#7 ValueTypes for Renew and Recovery', () => {
    for (const valueType of [VALUE_TYPES.pkcs7, VALUE_TYPES.pkcs7Docs]) {
      const rst = decode(encodeRequestSecurityToken({ ...base, requestType: 'Renew', valueType }));
      expect(rst).toMatchObject({ requestType: 'Renew', binaryToken: { valueType, format: 'PKCS7' } });
      expect(rst.binaryToken.value.toString()).toBe('not really a pkcs7');
    }
    // MS-MDE2 §3.5 and Microsoft's renewal sample use the WS-Trust URI (sent); the enrollment-namespace one is accepted too.
    expect(encodeRequestSecurityToken({ ...base, requestType: 'Renew' })).toContain(
      `<wst:RequestType>${WSTEP.requestTypeRenewWsTrust}</wst:RequestType>`,
    );
    const msUri = encodeRequestSecurityToken({ ...base, requestType: 'Renew' }).replace(
      WSTEP.requestTypeRenewWsTrust,
      WSTEP.requestTypeRenew,
    );
    expect(decode(msUri).requestType).toBe('Renew');
    // A ROBO renewal carries no WS-Security header: the TLS client certificate authenticates.
    const { security: _unused, ...robo } = base;
    const noSecurity = decode(encodeRequestSecurityToken({ ...robo, requestType: 'Renew' }));
    expect(noSecurity.security).toBeUndefined();
    const recovery = decode(encodeRequestSecurityToken({ ...base, requestType: 'Recovery' }));
    expect(recovery).toMatchObject({ requestType: 'Recovery', binaryToken: { valueType: VALUE_TYPES.pkcs7 } });
    expect(recovery.context.get('DeviceID')).toBe('ABC');
    expect(recovery.context.get('custom')).toBe('R&D <lab>');
  });

  it('accepts a wsse-prefixed ValueType and CRLF-wrapped base64 in the body token', () => {
    const wire = readCaptureText(CAPTURES.rst)
      .replace(
        ' ValueType="http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10"',
        ' wsse:ValueType="http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10"',
      )
      .replace(/>(MIIC[^<]+)</, (_m, b64: string) => `>${b64.replace(/(.{64})/g, '$1\r\n')}<`);
    expect(wire).toContain('\r\n');
    expect(decode(wire).binaryToken.value.equals(readCapturePem(CAPTURES.rstCsr))).toBe(true);
  });

  it('answers MessageFormat for a missing or broken token and unknown types', () => {
    const wire = readCaptureText(CAPTURES.rst);
    const bad = [
      wire.replace(
        /<wsse:BinarySecurityToken ValueType="http:\/\/schemas.microsoft.com\/windows\/pki[\s\S]*?<\/wsse:BinarySecurityToken>/,
        '',
      ),
      wire.replace(/>MIIC[^<]+</, '>@@not-base64@@<'),
      wire.replace(/>MIIC[^<]+</, '><'),
      wire.replace('enrollment#PKCS10', 'enrollment#X509'),
      wire.replace('200512/Issue', '200512/Validate'),
      wire.replace(/<wst:TokenType>[^<]*<\/wst:TokenType>/, ''),
      wire.replace('<a:MessageID>urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749</a:MessageID>', ''),
      readCaptureText(CAPTURES.getPolicies),
    ];
    for (const xml of bad) {
      expect(() => decode(xml)).toThrow(expect.objectContaining({ subcode: 'MessageFormat' }));
    }
  });
});

describe('ContextItems', () => {
  it('keeps unknown names and original casing', () => {
    const ctx = new ContextItems([
      ['MAC', 'a'],
      ['mac', 'b'],
      ['ZeroTouchProvisioning', 'x'],
    ]);
    expect(ctx.getAll('Mac')).toEqual(['a', 'b']);
    expect(ctx.has('zerotouchprovisioning')).toBe(true);
    expect([...ctx]).toEqual([
      ['MAC', 'a'],
      ['mac', 'b'],
      ['ZeroTouchProvisioning', 'x'],
    ]);
  });
});

describe('RequestSecurityTokenResponse', () => {
  const doc =
    '<?xml version="1.0" encoding="UTF-8"?><wap-provisioningdoc version="1.1"><parm name="NAME" value="Ünïcode R&amp;D" /></wap-provisioningdoc>';
  const input = {
    relatesTo: 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749',
    activityId: 'd3f6a0f0-1111-4222-8333-444455556666',
    provisioningDocXml: doc,
    created: new Date(Date.UTC(2024, 0, 1, 0, 0, 0)),
    expires: new Date(Date.UTC(2024, 0, 1, 0, 5, 0)),
  };
  const xml = encodeRequestSecurityTokenResponse(input);
  const env = decodeSoapEnvelope(xml);

  it('carries the RSTRC action, RelatesTo and a wsu Timestamp', () => {
    expect(env.action).toBe(ACTIONS.requestSecurityTokenResponse);
    expect(env.relatesTo).toBe(input.relatesTo);
    const security = must(child(must(env.header), NS.wsse, 'Security'));
    expect(attr(security, 'mustUnderstand', NS.soap12)).toBe('1');
    const timestamp = must(child(security, NS.wsu, 'Timestamp'));
    expect(child(timestamp, NS.wsu, 'Created')?.text).toBe('2024-01-01T00:00:00.000Z');
    expect(child(timestamp, NS.wsu, 'Expires')?.text).toBe('2024-01-01T00:05:00.000Z');
  });

  it('has the WS-Trust structure Windows looks for', () => {
    const collection = must(env.payload);
    expect(collection).toMatchObject({ uri: NS.wst, local: 'RequestSecurityTokenResponseCollection' });
    const response = must(child(collection, NS.wst, 'RequestSecurityTokenResponse'));
    expect(response.children.map((c) => [c.uri, c.local])).toEqual([
      [NS.wst, 'TokenType'],
      [NS.enrollment, 'DispositionMessage'],
      [NS.wst, 'RequestedSecurityToken'],
      [NS.enrollment, 'RequestID'],
    ]);
    expect(child(response, NS.wst, 'TokenType')?.text).toBe(WSTEP.tokenType);
    expect(child(response, NS.enrollment, 'RequestID')?.text).toBe('0');
    const token = must(descendant(response, NS.wsse, 'BinarySecurityToken'));
    expect(attr(token, 'ValueType')).toBe(
      'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc',
    );
    expect(attr(token, 'EncodingType')).toBe(WSS.base64Binary);
    expect(Buffer.from(token.text, 'base64').toString('utf8')).toBe(doc);
  });

  it('decodes back to the provisioning document on the client side', () => {
    expect(decodeRequestSecurityTokenResponse(env)).toBe(doc);
    const fault = encodeSoapFault({ fault: new SoapFault({ subcode: 'CertificateRequest', message: 'no' }), traceId: 't' });
    expect(() => decodeRequestSecurityTokenResponse(decodeSoapEnvelope(fault))).toThrow(ReceivedFaultError);
  });
});
