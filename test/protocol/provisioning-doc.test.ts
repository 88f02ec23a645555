import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeProvisioningDoc,
  encodeProvisioningDoc,
  encodeRenewalProvisioningDoc,
  type ProvisioningDocInput,
} from '../../src/protocol/wstep/provisioning-doc.js';
import { parseXml, type XmlElement } from '../../src/protocol/xml/reader.js';
import { CAPTURES, must, readCapture } from './support.js';

const sha1 = (der: Uint8Array): string => createHash('sha1').update(der).digest('hex').toUpperCase();

const accepted = decodeProvisioningDoc(readCapture(CAPTURES.provisioningDoc));
const rootCert = must(accepted.rootCerts[0]);
const clientCert = must(accepted.myCerts[0]);

const input: ProvisioningDocInput = {
  rootCertificate: { thumbprint: rootCert.thumbprint, der: rootCert.der },
  clientCertificate: { thumbprint: clientCert.thumbprint, der: clientCert.der },
  certStore: 'User',
  clientCertSubjectCommonName: 'B5B954E81FBCB94EB79BD08BE625F4EE',
  providerId: 'Winroll',
  name: 'R&D <lab> MDM',
  managementUrl: 'https://mdm.example.com/ManagementServer/MDM.svc',
  clientNonce: 'Y2xpZW50bm9uY2U=',
  serverNonce: 'c2VydmVybm9uY2U=',
  entDeviceName: 'DESKTOP-28FGAI6',
  upn: 'demo@example.com',
  entDmId: 'B5B954E81FBCB94EB79BD08BE625F4EE',
  poll: {
    numberOfFirstRetries: 8,
    intervalForFirstSetOfRetries: 15,
    numberOfSecondRetries: 5,
    intervalForSecondSetOfRetries: 3,
    numberOfRemainingScheduledRetries: 0,
    intervalForRemainingScheduledRetries: 1560,
    pollOnLogin: true,
    allUsersPollOnFirstLogin: true,
  },
};

/**
 * Every characteristic path and parm name in a document, with certificate thumbprints and the
 * provider id normalised so two documents for different devices/servers can be compared.
 */
function skeleton(xml: string | Buffer): Set<string> {
  const out = new Set<string>();
  const walk = (el: XmlElement, path: string[]): void => {
    for (const c of el.children) {
      const type = c.attrs.find((a) => a.local === 'type')?.value ?? '';
      if (c.local === 'characteristic') {
        const inProvider = path.at(-1) === 'Provider' && path.at(-2) === 'DMClient';
        const name = /^[0-9A-F]{40}$/.test(type) ? '<THUMB>' : inProvider ? '<PROVIDER>' : type;
        const p = [...path, name];
        out.add(p.join('/'));
        walk(c, p);
      } else if (c.local === 'parm') {
        out.add(`${path.join('/')}@${c.attrs.find((a) => a.local === 'name')?.value}`);
      }
    }
  };
  walk(parseXml(xml), []);
  return out;
}

describe('decodeProvisioningDoc on the documents real Windows installed', () => {
  for (const capture of [CAPTURES.provisioningDoc, CAPTURES.provisioningDocMarcos]) {
    it(`reads ${capture}`, () => {
      const view = decodeProvisioningDoc(readCapture(capture));
      expect(view.rootCerts).toHaveLength(1);
      expect(view.myCerts).toHaveLength(1);
      for (const c of [...view.rootCerts, ...view.myCerts]) expect(c.thumbprint).toBe(sha1(c.der));
      expect(view.myCerts[0]).toMatchObject({ store: 'User', hasPrivateKeyContainer: true });
      expect(view.w7.APPID?.value).toBe('w7');
      expect(view.dmClient?.providerId).toBe(view.w7['PROVIDER-ID']?.value);
      expect(view.poll.NumberOfFirstRetries).toEqual({ value: '8', datatype: 'integer' });
      expect(view.appAuth.map((a) => a.AAUTHLEVEL?.value)).toEqual(['CLIENT', 'APPSRV']);
    });
  }
});

describe('encodeProvisioningDoc', () => {
  const xml = encodeProvisioningDoc(input);
  const view = decodeProvisioningDoc(xml);

  it('contains everything the accepted document had (bar the undocumented ServerList)', () => {
    const ours = skeleton(xml);
    const theirs = [...skeleton(readCapture(CAPTURES.provisioningDoc))].filter((p) => !p.endsWith('@ServerList'));
    for (const path of theirs) expect(ours, path).toContain(path);
  });

  it('places the certificates with their thumbprints and a PrivateKeyContainer', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><wap-provisioningdoc version="1.1">')).toBe(true);
    expect(view.rootCerts).toEqual([{ thumbprint: rootCert.thumbprint, der: rootCert.der }]);
    expect(view.myCerts).toEqual([{ store: 'User', thumbprint: clientCert.thumbprint, der: clientCert.der, hasPrivateKeyContainer: true }]);
    expect(view.caCerts).toEqual([]);
    expect(view.renewal).toBeUndefined();
  });

  it('writes the w7 APPLICATION with upper-case names and escaped values', () => {
    expect(Object.keys(view.w7)).toEqual([
      'APPID',
      'PROVIDER-ID',
      'NAME',
      'ADDR',
      'ROLE',
      'BACKCOMPATRETRYDISABLED',
      'CONNRETRYFREQ',
      'INITIALBACKOFFTIME',
      'MAXBACKOFFTIME',
      'DEFAULTENCODING',
      'SSLCLIENTCERTSEARCHCRITERIA',
    ]);
    expect(view.w7.NAME?.value).toBe('R&D <lab> MDM');
    expect(view.w7.ROLE?.value).toBe('4294967295');
    expect(view.w7.BACKCOMPATRETRYDISABLED).toEqual({ value: undefined, datatype: undefined });
    expect(view.w7.DEFAULTENCODING?.value).toBe('application/vnd.syncml.dm+xml');
    expect(view.w7.SSLCLIENTCERTSEARCHCRITERIA?.value).toBe('Subject=CN%3DB5B954E81FBCB94EB79BD08BE625F4EE&Stores=My%5CUser');
    expect(xml).toContain('value="Subject=CN%3DB5B954E81FBCB94EB79BD08BE625F4EE&amp;Stores=My%5CUser"');
    expect(view.appAuth).toEqual([
      {
        AAUTHLEVEL: { value: 'CLIENT', datatype: undefined },
        AAUTHTYPE: { value: 'DIGEST', datatype: undefined },
        AAUTHSECRET: { value: 'unused', datatype: undefined },
        AAUTHDATA: { value: 'Y2xpZW50bm9uY2U=', datatype: undefined },
      },
      {
        AAUTHLEVEL: { value: 'APPSRV', datatype: undefined },
        AAUTHTYPE: { value: 'DIGEST', datatype: undefined },
        AAUTHNAME: { value: 'unused', datatype: undefined },
        AAUTHSECRET: { value: 'unused', datatype: undefined },
        AAUTHDATA: { value: 'c2VydmVybm9uY2U=', datatype: undefined },
      },
    ]);
  });

  it('writes DMClient under PROVIDER-ID with explicit datatypes', () => {
    expect(view.dmClient).toEqual({
      providerId: 'Winroll',
      params: {
        EntDeviceName: { value: 'DESKTOP-28FGAI6', datatype: 'string' },
        UPN: { value: 'demo@example.com', datatype: 'string' },
        EntDMID: { value: 'B5B954E81FBCB94EB79BD08BE625F4EE', datatype: 'string' },
      },
    });
    expect(view.poll).toEqual({
      NumberOfFirstRetries: { value: '8', datatype: 'integer' },
      IntervalForFirstSetOfRetries: { value: '15', datatype: 'integer' },
      NumberOfSecondRetries: { value: '5', datatype: 'integer' },
      IntervalForSecondSetOfRetries: { value: '3', datatype: 'integer' },
      NumberOfRemainingScheduledRetries: { value: '0', datatype: 'integer' },
      IntervalForRemainingScheduledRetries: { value: '1560', datatype: 'integer' },
      PollOnLogin: { value: 'true', datatype: 'boolean' },
      AllUsersPollOnFirstLogin: { value: 'true', datatype: 'boolean' },
    });
  });

  it('uses My/System for device enrollment and adds renewal and intermediate blocks only when asked', () => {
    const device = decodeProvisioningDoc(
      encodeProvisioningDoc({
        ...input,
        certStore: 'System',
        intermediateCertificate: { thumbprint: rootCert.thumbprint, der: rootCert.der },
        renewal: { roboSupport: true, renewPeriodDays: 60, retryIntervalDays: 4, serverUrl: 'https://mdm.example.com/renew' },
      }),
    );
    expect(device.myCerts[0]?.store).toBe('System');
    expect(device.w7.SSLCLIENTCERTSEARCHCRITERIA?.value).toMatch(/&Stores=My%5CSystem$/);
    expect(device.caCerts).toHaveLength(1);
    expect(device.renewal).toEqual({
      ROBOSupport: { value: 'true', datatype: 'boolean' },
      RenewPeriod: { value: '60', datatype: 'integer' },
      RetryInterval: { value: '4', datatype: 'integer' },
      ServerURL: { value: 'https://mdm.example.com/renew', datatype: 'string' },
    });
  });

  it('rejects bad thumbprints, nonces and numbers', () => {
    const lower = { ...input, clientCertificate: { ...input.clientCertificate, thumbprint: clientCert.thumbprint.toLowerCase() } };
    expect(() => encodeProvisioningDoc(lower)).toThrow(RangeError);
    expect(() => encodeProvisioningDoc({ ...input, clientNonce: 'not base64!' })).toThrow(RangeError);
    expect(() => encodeProvisioningDoc({ ...input, poll: { ...input.poll, numberOfFirstRetries: -1 } })).toThrow(RangeError);
  });

  it('is byte-stable', () => {
    expect(encodeProvisioningDoc(input)).toBe(xml);
  });
});

describe('encodeRenewalProvisioningDoc', () => {
  it('carries only the renewed certificate in My/<store> (no Root, APPLICATION, DMClient or schedule)', () => {
    for (const certStore of ['User', 'System'] as const) {
      const xml = encodeRenewalProvisioningDoc({
        clientCertificate: { thumbprint: clientCert.thumbprint, der: clientCert.der },
        certStore,
      });
      const doc = parseXml(xml);
      expect(doc.children.map((c) => c.local)).toEqual(['characteristic']);
      expect(must(doc.children[0]).children.map((c) => c.attrs.find((a) => a.local === 'type')?.value)).toEqual(['My']);
      const view = decodeProvisioningDoc(xml);
      expect(view.myCerts).toEqual([
        { store: certStore, thumbprint: clientCert.thumbprint, der: clientCert.der, hasPrivateKeyContainer: true },
      ]);
      expect(sha1(must(view.myCerts[0]).der)).toBe(clientCert.thumbprint);
      expect(view.rootCerts).toEqual([]);
      expect(view.caCerts).toEqual([]);
      expect(view.w7).toEqual({});
      expect(view.dmClient).toBeUndefined();
      expect(view.renewal).toBeUndefined();
    }
  });

  it('rejects a thumbprint that is not uppercase SHA-1 hex', () => {
    expect(() =>
      encodeRenewalProvisioningDoc({
        clientCertificate: { thumbprint: clientCert.thumbprint.toLowerCase(), der: clientCert.der },
        certStore: 'User',
      }),
    ).toThrow(RangeError);
  });
});
