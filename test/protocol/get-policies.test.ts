import { describe, expect, it } from 'vitest';
import { ReceivedFaultError } from '../../src/protocol/soap/client-errors.js';
import { decodeSoapEnvelope } from '../../src/protocol/soap/envelope.js';
import { encodeSoapFault, SoapFault } from '../../src/protocol/soap/fault.js';
import { ACTIONS, NS, VALUE_TYPES, WSS } from '../../src/protocol/soap/namespaces.js';
import {
  decodeGetPoliciesRequest,
  decodeGetPoliciesResponse,
  encodeGetPoliciesRequest,
  encodeGetPoliciesResponse,
  OID,
} from '../../src/protocol/xcep/get-policies.js';
import { attr, child, type XmlElement } from '../../src/protocol/xml/reader.js';
import { CAPTURES, must, readCapture, readCaptureText } from './support.js';

const names = (el: XmlElement | undefined): string[] => (el?.children ?? []).map((c) => c.local);
const x = (el: XmlElement | undefined, local: string): XmlElement | undefined => (el ? child(el, NS.xcep, local) : undefined);

function collect(el: XmlElement, out: XmlElement[] = []): XmlElement[] {
  out.push(el);
  for (const c of el.children) collect(c, out);
  return out;
}

describe('GetPolicies request', () => {
  it('reads the real OnPremise request', () => {
    expect(decodeGetPoliciesRequest(decodeSoapEnvelope(readCapture(CAPTURES.getPolicies)))).toEqual({
      messageId: 'urn:uuid:72048B64-0F19-448F-8C2E-B4C661860AA0',
      security: { kind: 'username', username: 'demio', password: 'demo' },
    });
  });

  it('is reproduced byte for byte by the client encoder', () => {
    expect(
      encodeGetPoliciesRequest({
        messageId: 'urn:uuid:72048B64-0F19-448F-8C2E-B4C661860AA0',
        to: 'https://windows.fleetdm.ngrok.io/EnrollmentServer/Policy.svc',
        security: { kind: 'username', username: 'demio', password: 'demo' },
      }),
    ).toBe(readCaptureText(CAPTURES.getPolicies));
  });

  it('round-trips a binary token and refuses other bodies', () => {
    const xml = encodeGetPoliciesRequest({
      messageId: 'urn:uuid:1',
      to: 'https://x/Policy.svc',
      security: {
        kind: 'binary',
        valueType: VALUE_TYPES.deviceEnrollmentUserToken,
        encodingType: WSS.base64Binary,
        value: Buffer.from('tok'),
      },
    });
    const req = decodeGetPoliciesRequest(decodeSoapEnvelope(xml));
    expect(req.security?.kind === 'binary' && req.security.value.toString()).toBe('tok');
    const wrong = decodeSoapEnvelope(readCaptureText(CAPTURES.discover));
    expect(() => decodeGetPoliciesRequest(wrong)).toThrow(expect.objectContaining({ subcode: 'MessageFormat' }));
  });
});

describe('encodeGetPoliciesResponse', () => {
  const input = {
    relatesTo: 'urn:uuid:72048B64-0F19-448F-8C2E-B4C661860AA0',
    activityId: 'b5f1a0a4-0000-4000-8000-000000000001',
    minimalKeyLength: 2048,
    validitySeconds: 31536000,
    renewalSeconds: 15552000,
  };
  const env = decodeSoapEnvelope(encodeGetPoliciesResponse(input));
  const payload = must(env.payload);

  it('has the right action, RelatesTo and namespace', () => {
    expect(env.action).toBe(ACTIONS.getPoliciesResponse);
    expect(env.relatesTo).toBe(input.relatesTo);
    expect(payload).toMatchObject({ uri: NS.xcep, local: 'GetPoliciesResponse' });
  });

  it('follows the MS-XCEP sequences', () => {
    expect(names(payload)).toEqual(['response', 'cAs', 'oIDs']);
    const response = x(payload, 'response');
    expect(names(response)).toEqual(['policyID', 'policyFriendlyName', 'nextUpdateHours', 'policiesNotChanged', 'policies']);
    const policy = x(x(response, 'policies'), 'policy');
    expect(names(policy)).toEqual(['policyOIDReference', 'cAs', 'attributes']);
    const attributes = x(policy, 'attributes');
    expect(names(attributes)).toEqual([
      'commonName',
      'policySchema',
      'certificateValidity',
      'permission',
      'privateKeyAttributes',
      'revision',
      'supersededPolicies',
      'privateKeyFlags',
      'subjectNameFlags',
      'enrollmentFlags',
      'generalFlags',
      'hashAlgorithmOIDReference',
      'rARequirements',
      'keyArchivalAttributes',
      'extensions',
    ]);
    expect(x(attributes, 'policySchema')?.text).toBe('3');
    expect(names(x(attributes, 'certificateValidity'))).toEqual(['validityPeriodSeconds', 'renewalPeriodSeconds']);
    expect(names(x(attributes, 'permission'))).toEqual(['enroll', 'autoEnroll']);
    expect(names(x(attributes, 'revision'))).toEqual(['majorRevision', 'minorRevision']);
    expect(names(x(attributes, 'privateKeyAttributes'))).toEqual([
      'minimalKeyLength',
      'keySpec',
      'keyUsageProperty',
      'permissions',
      'algorithmOIDReference',
      'cryptoProviders',
    ]);
    for (const o of x(payload, 'oIDs')?.children ?? []) expect(names(o)).toEqual(['value', 'group', 'oIDReferenceID', 'defaultName']);
    // Every element is in the XCEP namespace; nil elements use xsi:nil.
    for (const el of collect(payload)) expect(el.uri).toBe(NS.xcep);
    expect(attr(must(x(response, 'policyFriendlyName')), 'nil', NS.xsi)).toBe('true');
  });

  it('resolves every *OIDReference, with SHA-256 in group 1', () => {
    const oids = new Map(
      (x(payload, 'oIDs')?.children ?? []).map((o) => [
        x(o, 'oIDReferenceID')?.text,
        { value: x(o, 'value')?.text, group: x(o, 'group')?.text },
      ]),
    );
    const refs = collect(payload).filter((el) => el.local.endsWith('OIDReference'));
    expect(refs.map((r) => r.local).sort()).toEqual(['algorithmOIDReference', 'hashAlgorithmOIDReference', 'policyOIDReference']);
    for (const ref of refs) expect(oids.has(ref.text)).toBe(true);
    const hashRef = must(refs.find((r) => r.local === 'hashAlgorithmOIDReference')).text;
    expect(oids.get(hashRef)).toEqual({ value: OID.sha256, group: '1' });
    const keyRef = must(refs.find((r) => r.local === 'algorithmOIDReference')).text;
    expect(oids.get(keyRef)).toEqual({ value: OID.rsa, group: '3' });
  });

  it('decodes back on the client side', () => {
    expect(decodeGetPoliciesResponse(env)).toEqual({
      relatesTo: input.relatesTo,
      minimalKeyLength: 2048,
      hashAlgorithmOid: OID.sha256,
      publicKeyAlgorithmOid: OID.rsa,
      validitySeconds: 31536000,
      renewalSeconds: 15552000,
      cryptoProviders: ['Microsoft Platform Crypto Provider', 'Microsoft Software Key Storage Provider'],
    });
  });

  it('refuses nonsensical numbers', () => {
    expect(() => encodeGetPoliciesResponse({ ...input, minimalKeyLength: 0 })).toThrow(RangeError);
    expect(() => encodeGetPoliciesResponse({ ...input, validitySeconds: 1.5 })).toThrow(RangeError);
  });
});

describe('decodeGetPoliciesResponse leniency', () => {
  it('falls back like Windows on an all-nil policy response', () => {
    const xml =
      `<s:Envelope xmlns:s="${NS.soap12}"><s:Body xmlns:xsi="${NS.xsi}"><GetPoliciesResponse xmlns="${NS.xcep}">` +
      `<response xsi:nil="true"/><cAs xsi:nil="true"/><oIDs xsi:nil="true"/></GetPoliciesResponse></s:Body></s:Envelope>`;
    expect(decodeGetPoliciesResponse(decodeSoapEnvelope(xml))).toMatchObject({ minimalKeyLength: 2048, hashAlgorithmOid: undefined });
  });

  it('surfaces faults', () => {
    const xml = encodeSoapFault({ fault: new SoapFault({ subcode: 'Authentication', message: 'bad password' }), traceId: 't' });
    expect(() => decodeGetPoliciesResponse(decodeSoapEnvelope(xml))).toThrow(ReceivedFaultError);
  });
});
