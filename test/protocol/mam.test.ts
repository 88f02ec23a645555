/**
 * The MAM variation of MS-MDE2 (Microsoft, "Implement server-side support for mobile application
 * management on Windows"): the registration request carries no certificate request, and the provisioning
 * document holds only the w7 APPLICATION (no certificates, no APPAUTH, no DMClient Poll).
 */
import { describe, expect, it } from 'vitest';
import { decodeSoapEnvelope } from '../../src/protocol/soap/envelope.js';
import { VALUE_TYPES, WSS } from '../../src/protocol/soap/namespaces.js';
import {
  decodeMamProvisioningDoc,
  decodeMamRegistrationRequest,
  encodeMamProvisioningDoc,
  encodeMamRegistrationRequest,
} from '../../src/protocol/wstep/mam.js';
import { decodeProvisioningDoc } from '../../src/protocol/wstep/provisioning-doc.js';
import { parseXml } from '../../src/protocol/xml/reader.js';

describe('MAM provisioning document', () => {
  const xml = encodeMamProvisioningDoc({
    providerId: 'Winroll',
    name: 'R&D <lab>',
    managementUrl: 'https://mdm.example.com/ManagementServer/MAM.svc',
  });

  it('holds exactly the w7 APPLICATION parms of the documented MAM example, values escaped', () => {
    const doc = parseXml(xml);
    expect(doc.local).toBe('wap-provisioningdoc');
    expect(doc.children.map((c) => `${c.local}:${c.attrs.find((a) => a.local === 'type')?.value ?? ''}`)).toEqual([
      'characteristic:APPLICATION',
    ]);
    expect(decodeMamProvisioningDoc(xml)).toEqual({
      APPID: 'w7',
      'PROVIDER-ID': 'Winroll',
      NAME: 'R&D <lab>',
      ADDR: 'https://mdm.example.com/ManagementServer/MAM.svc',
      DEFAULTENCODING: 'application/vnd.syncml.dm+xml',
    });
    expect(xml).toContain('value="R&amp;D &lt;lab&gt;"');
  });

  it('carries no certificate, no APPAUTH and no Poll schedule (Windows then syncs every 24 hours)', () => {
    const view = decodeProvisioningDoc(xml);
    expect(view.rootCerts).toEqual([]);
    expect(view.myCerts).toEqual([]);
    expect(view.appAuth).toEqual([]);
    expect(view.dmClient).toBeUndefined();
    expect(view.w7.APPID?.value).toBe('w7');
    expect(xml).not.toMatch(/CertificateStore|APPAUTH|Poll|SSLCLIENTCERTSEARCHCRITERIA/);
  });

  it('refuses a policy-sync address that is not https', () => {
    expect(() => encodeMamProvisioningDoc({ providerId: 'Winroll', name: 'x', managementUrl: 'http://localhost:88' })).toThrow(/https/);
  });

  it('the client side refuses a document with certificates (that is an MDM enrollment)', () => {
    const mdmLike =
      '<wap-provisioningdoc version="1.1"><characteristic type="CertificateStore"/><characteristic type="APPLICATION"><parm name="APPID" value="w7"/></characteristic></wap-provisioningdoc>';
    expect(() => decodeMamProvisioningDoc(mdmLike)).toThrow(/certificates/);
  });
});

describe('MAM registration request', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJhQGIuYyJ9.c2ln';
  const rst = encodeMamRegistrationRequest({
    messageId: 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749',
    to: 'https://mdm.example.com/EnrollmentServer/MAM/Enrollment.svc',
    security: { kind: 'binary', valueType: VALUE_TYPES.jwt, encodingType: WSS.base64Binary, value: Buffer.from(jwt) },
    context: [
      ['DeviceID', 'B5B954E81FBCB94EB79BD08BE625F4EE'],
      ['EnrollmentType', 'Full'],
    ],
  });

  it('round-trips: the Entra token in the header, the context items, no certificate request', () => {
    const req = decodeMamRegistrationRequest(decodeSoapEnvelope(Buffer.from(rst)));
    expect(req.messageId).toBe('urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');
    expect(req.context.get('deviceid')).toBe('B5B954E81FBCB94EB79BD08BE625F4EE');
    expect(req.security).toMatchObject({ kind: 'binary', valueType: VALUE_TYPES.jwt });
    expect(req.security?.kind === 'binary' && req.security.value.toString()).toBe(jwt);
    expect(rst).not.toContain('PKCS10');
  });

  it('accepts (and ignores) a body BinarySecurityToken, refuses Renew', () => {
    const withCsr = rst.replace(
      '<ac:AdditionalContext',
      '<wsse:BinarySecurityToken ValueType="x">AAAA</wsse:BinarySecurityToken><ac:AdditionalContext',
    );
    expect(decodeMamRegistrationRequest(decodeSoapEnvelope(Buffer.from(withCsr))).context.size).toBe(2);
    const renew = rst.replace('/Issue<', '/Renew<');
    expect(renew).not.toBe(rst);
    expect(() => decodeMamRegistrationRequest(decodeSoapEnvelope(Buffer.from(renew)))).toThrow(/RequestType Issue only/);
  });
});
