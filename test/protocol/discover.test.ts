import { describe, expect, it } from 'vitest';
import {
  decodeDiscoverRequest,
  decodeDiscoverResponse,
  encodeDiscoverRequest,
  encodeDiscoverResponse,
  negotiateEnrollmentVersion,
} from '../../src/protocol/mde2/discover.js';
import { MalformedResponseError, ReceivedFaultError } from '../../src/protocol/soap/client-errors.js';
import { decodeSoapEnvelope } from '../../src/protocol/soap/envelope.js';
import { encodeSoapFault, SoapFault } from '../../src/protocol/soap/fault.js';
import { ACTIONS, NS } from '../../src/protocol/soap/namespaces.js';
import { child, parseXml } from '../../src/protocol/xml/reader.js';
import { CAPTURES, must, readCapture, readCaptureText } from './support.js';

const decode = (xml: string | Buffer) => decodeDiscoverRequest(decodeSoapEnvelope(xml));

const requestXml = (fields: string): string =>
  `<s:Envelope xmlns:a="${NS.wsa}" xmlns:s="${NS.soap12}"><s:Header><a:MessageID>urn:uuid:1</a:MessageID></s:Header>` +
  `<s:Body><Discover xmlns="${NS.discovery}"><request>${fields}</request></Discover></s:Body></s:Envelope>`;

const FIELDS = {
  email: '<EmailAddress>demo@example.com</EmailAddress>',
  version: '<RequestVersion>4.0</RequestVersion>',
  device: '<DeviceType>CIMClient_Windows</DeviceType>',
  app: '<ApplicationVersion>10.0.19043.2364</ApplicationVersion>',
  edition: '<OSEdition>72</OSEdition>',
  policies: '<AuthPolicies><AuthPolicy>OnPremise</AuthPolicy></AuthPolicies>',
};
const allFields = (over: Partial<typeof FIELDS> = {}): string => Object.values({ ...FIELDS, ...over }).join('');

const faultFrom = (fn: () => unknown): SoapFault => {
  try {
    fn();
  } catch (err) {
    if (err instanceof SoapFault) return err;
    throw err;
  }
  throw new Error('expected a SoapFault');
};

describe('decodeDiscoverRequest', () => {
  it('reads the real Win10 19043 Settings request', () => {
    expect(decode(readCapture(CAPTURES.discover))).toEqual({
      messageId: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
      emailAddress: 'demo@fleetdm.ngrok.io',
      requestVersion: '4.0',
      deviceType: 'CIMClient_Windows',
      applicationVersion: '10.0.19043.2364',
      osEdition: '72',
      authPolicies: ['OnPremise', 'Federated'],
    });
  });

  it('reads the real programmatic (RegisterDeviceWithManagement) request', () => {
    expect(decode(readCapture(CAPTURES.discoverProgrammatic))).toEqual({
      messageId: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
      emailAddress: 'demo@mdmwindows.com',
      requestVersion: '5.0',
      deviceType: 'CIMClient_Windows',
      applicationVersion: '6.2.9200.2965',
      osEdition: '48',
      authPolicies: ['OnPremise', 'Federated'],
    });
  });

  it('accepts domain\\user and pretty-printed XML', () => {
    const xml = requestXml(allFields({ email: '<EmailAddress>\n  CONTOSO\\alice\n</EmailAddress>' })).replaceAll('><', '>\n  <');
    expect(decode(xml).emailAddress).toBe('CONTOSO\\alice');
  });

  it('answers MessageFormat for missing or invalid pieces', () => {
    const bad = [
      requestXml(allFields({ email: '' })),
      requestXml(allFields({ email: '<EmailAddress>not-an-address</EmailAddress>' })),
      requestXml(allFields({ email: '<EmailAddress>user@localhost</EmailAddress>' })),
      requestXml(allFields({ version: '' })),
      requestXml(allFields({ version: '<RequestVersion>four</RequestVersion>' })),
      requestXml(allFields({ device: '' })),
      requestXml(allFields({ app: '<ApplicationVersion>latest</ApplicationVersion>' })),
      requestXml(allFields({ edition: '<OSEdition>0x48</OSEdition>' })),
      requestXml(allFields({ policies: '<AuthPolicies/>' })),
      requestXml(allFields({ policies: '' })),
      requestXml(allFields()).replace('<a:MessageID>urn:uuid:1</a:MessageID>', ''),
      requestXml(allFields()).replaceAll(NS.discovery, 'urn:wrong'),
    ];
    for (const xml of bad) expect(faultFrom(() => decode(xml)).subcode).toBe('MessageFormat');
  });
});

describe('negotiateEnrollmentVersion', () => {
  it('answers 4.0, never above the request', () => {
    for (const v of ['4.0', '4', '4.5', '5.0', '6.0', '7.0', '9.0', '10.0']) expect(negotiateEnrollmentVersion(v)).toBe('4.0');
  });

  it('refuses old or unreadable versions with DeviceNotSupported', () => {
    for (const v of ['3.0', '1.0', '', 'x', '4.0.1', '-4']) {
      const fault = faultFrom(() => negotiateEnrollmentVersion(v));
      expect(fault).toMatchObject({ subcode: 'MessageFormat', errorType: 'DeviceNotSupported' });
    }
  });
});

describe('encodeDiscoverRequest (client side)', () => {
  it('reproduces the real Windows requests byte for byte', () => {
    expect(
      encodeDiscoverRequest({
        messageId: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
        to: 'https://EnterpriseEnrollment.fleetdm.ngrok.io:443/EnrollmentServer/Discovery.svc',
        emailAddress: 'demo@fleetdm.ngrok.io',
        requestVersion: '4.0',
        applicationVersion: '10.0.19043.2364',
        osEdition: '72',
        authPolicies: ['OnPremise', 'Federated'],
      }),
    ).toBe(readCaptureText(CAPTURES.discover));
    expect(
      encodeDiscoverRequest({
        messageId: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
        to: 'https://mdmwindows.com:443/EnrollmentServer/Discovery.svc',
        emailAddress: 'demo@mdmwindows.com',
        requestVersion: '5.0',
        applicationVersion: '6.2.9200.2965',
        osEdition: '48',
        authPolicies: ['OnPremise', 'Federated'],
      }),
    ).toBe(readCaptureText(CAPTURES.discoverProgrammatic));
  });
});

describe('encodeDiscoverResponse', () => {
  const base = {
    relatesTo: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
    activityId: '8c6060c4-3d78-4d73-ae17-e8bce88426ee',
    enrollmentVersion: '4.0',
    policyServiceUrl: 'https://mdm.example.com/EnrollmentServer/Policy.svc?a=1&b=2',
    enrollmentServiceUrl: 'https://mdm.example.com/EnrollmentServer/Enrollment.svc',
  };

  it('writes an OnPremise response without AuthenticationServiceUrl', () => {
    const xml = encodeDiscoverResponse({ ...base, authPolicy: 'OnPremise' });
    const env = decodeSoapEnvelope(xml);
    expect(env.action).toBe(ACTIONS.discoverResponse);
    expect(env.relatesTo).toBe(base.relatesTo);
    const header = must(env.header);
    const activity = child(header, NS.diagnostics, 'ActivityId');
    expect(activity?.text).toBe(base.activityId);
    const result = must(child(must(env.payload), NS.discovery, 'DiscoverResult'));
    expect(env.payload).toMatchObject({ uri: NS.discovery, local: 'DiscoverResponse' });
    expect(result.children.map((c) => [c.uri, c.local])).toEqual(
      ['AuthPolicy', 'EnrollmentVersion', 'EnrollmentPolicyServiceUrl', 'EnrollmentServiceUrl'].map((l) => [NS.discovery, l]),
    );
    expect(decodeDiscoverResponse(env)).toEqual({
      relatesTo: base.relatesTo,
      authPolicy: 'OnPremise',
      enrollmentVersion: '4.0',
      policyServiceUrl: base.policyServiceUrl,
      enrollmentServiceUrl: base.enrollmentServiceUrl,
      authenticationServiceUrl: undefined,
    });
    expect(xml).toContain('Policy.svc?a=1&amp;b=2');
  });

  it('writes AuthenticationServiceUrl for Federated only', () => {
    const authenticationServiceUrl = 'https://mdm.example.com/auth';
    const env = decodeSoapEnvelope(encodeDiscoverResponse({ ...base, authPolicy: 'Federated', authenticationServiceUrl }));
    expect(decodeDiscoverResponse(env).authenticationServiceUrl).toBe(authenticationServiceUrl);
    expect(() => encodeDiscoverResponse({ ...base, authPolicy: 'OnPremise', authenticationServiceUrl })).toThrow(RangeError);
    expect(() => encodeDiscoverResponse({ ...base, authPolicy: 'Federated' })).toThrow(RangeError);
    expect(() => encodeDiscoverResponse({ ...base, authPolicy: 'OnPremise', enrollmentVersion: '4' })).toThrow(RangeError);
  });

  it('is byte-stable', () => {
    expect(encodeDiscoverResponse({ ...base, authPolicy: 'OnPremise' })).toBe(encodeDiscoverResponse({ ...base, authPolicy: 'OnPremise' }));
  });
});

describe('decodeDiscoverResponse (client side)', () => {
  it('reads the response a real client accepted (pretty-printed)', () => {
    expect(decodeDiscoverResponse(decodeSoapEnvelope(readCapture(CAPTURES.discoverResponse)))).toEqual({
      relatesTo: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
      authPolicy: 'OnPremise',
      enrollmentVersion: '4.0',
      policyServiceUrl: 'https://windows.fleetdm.ngrok.io/EnrollmentServer/Policy.svc',
      enrollmentServiceUrl: 'https://windows.fleetdm.ngrok.io/EnrollmentServer/Enrollment.svc',
      authenticationServiceUrl: undefined,
    });
  });

  it('throws ReceivedFaultError for a fault and MalformedResponseError for what Windows would refuse', () => {
    const fault = encodeSoapFault({ fault: new SoapFault({ subcode: 'Authorization', message: 'no' }), traceId: 't' });
    expect(() => decodeDiscoverResponse(decodeSoapEnvelope(fault))).toThrow(ReceivedFaultError);
    const withAuthUrl = encodeDiscoverResponse({
      ...{ relatesTo: 'r', activityId: 'a', enrollmentVersion: '4.0', policyServiceUrl: 'https://p', enrollmentServiceUrl: 'https://e' },
      authPolicy: 'Federated',
      authenticationServiceUrl: 'https://auth',
    }).replace('<AuthPolicy>Federated</AuthPolicy>', '<AuthPolicy>OnPremise</AuthPolicy>');
    expect(() => decodeDiscoverResponse(decodeSoapEnvelope(withAuthUrl))).toThrow(MalformedResponseError);
    expect(parseXml(withAuthUrl).local).toBe('Envelope');
  });
});
