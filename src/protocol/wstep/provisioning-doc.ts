// The wap-provisioningdoc returned in the RSTR (protocol.md §4.7; MS-MDE2 CertificateStore, w7
// APPLICATION and DMClient CSP tables). Windows is strict here: w7 names are case-sensitive upper
// case, PrivateKeyContainer must be present, and DMClient/Provider/<id> must equal PROVIDER-ID.

import { decodeBase64Binary, encodeBase64Binary } from '../soap/base64.js';
import { MalformedResponseError } from '../soap/client-errors.js';
import { attr, parseXml, type XmlElement } from '../xml/reader.js';
import { escapeXml } from '../xml/writer.js';

export interface ProvisionedCertificate {
  /** Uppercase hex SHA-1 of `der`; computed by the caller. */
  thumbprint: string;
  der: Uint8Array;
}

/** DMClient Poll schedule (minutes / counts); see protocol.md §4.7 and §7.1. */
export interface PollSchedule {
  numberOfFirstRetries: number;
  intervalForFirstSetOfRetries: number;
  numberOfSecondRetries: number;
  intervalForSecondSetOfRetries: number;
  numberOfRemainingScheduledRetries: number;
  intervalForRemainingScheduledRetries: number;
  pollOnLogin: boolean;
  allUsersPollOnFirstLogin: boolean;
}

export interface ProvisioningDocInput {
  /** Goes to Root/System: the CA the client certificate chains to. */
  rootCertificate: ProvisionedCertificate;
  /** Optional issuing intermediate, placed in CA/System. */
  intermediateCertificate?: ProvisionedCertificate;
  clientCertificate: ProvisionedCertificate;
  /** `User` for EnrollmentType Full, `System` for Device. */
  certStore: 'User' | 'System';
  /** CN of the client certificate, for SSLCLIENTCERTSEARCHCRITERIA. */
  clientCertSubjectCommonName: string;
  /** Only when the server implements renewal (protocol.md §8.3): emits My/WSTEP/Renew. */
  renewal?: { roboSupport: boolean; renewPeriodDays: number; retryIntervalDays: number; serverUrl?: string };
  /** w7 PROVIDER-ID, which is also the DMClient/Provider node name. */
  providerId: string;
  /** w7 NAME: the server name shown to the user. */
  name: string;
  /** w7 ADDR: the OMA-DM management URL. */
  managementUrl: string;
  /** w7 retry tuning; defaults 6 / 30000 ms / 120000 ms. */
  connRetryFreq?: number;
  initialBackoffTimeMs?: number;
  maxBackoffTimeMs?: number;
  /**
   * OMA-DM digest material for the CLIENT and APPSRV APPAUTH blocks (nonces in base64). With TLS
   * client authentication the server does not use them, but Windows expects both blocks.
   */
  clientNonce: string;
  serverNonce: string;
  /** Default `unused`. */
  clientSecret?: string;
  /** Default `unused`. */
  serverName?: string;
  /** Default `unused`. */
  serverSecret?: string;
  /** DMClient/Provider/<id>/EntDeviceName, UPN and EntDMID. */
  entDeviceName: string;
  upn: string;
  entDmId: string;
  poll: PollSchedule;
}

const THUMBPRINT = /^[0-9A-F]{40}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const parm = (name: string, value?: string, datatype?: 'string' | 'integer' | 'boolean'): string =>
  `<parm name="${escapeXml(name)}"${value === undefined ? '' : ` value="${escapeXml(value)}"`}` +
  `${datatype === undefined ? '' : ` datatype="${datatype}"`} />`;

const characteristic = (type: string, content: string): string =>
  content === '' ? `<characteristic type="${escapeXml(type)}" />` : `<characteristic type="${escapeXml(type)}">${content}</characteristic>`;

const int = (name: string, n: number): string => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
  return String(n);
};

function certificate(cert: ProvisionedCertificate, what: string): string {
  if (!THUMBPRINT.test(cert.thumbprint)) {
    throw new RangeError(`${what} thumbprint must be 40 uppercase hex digits (SHA-1 of the DER)`);
  }
  return characteristic(cert.thumbprint, parm('EncodedCertificate', encodeBase64Binary(cert.der)));
}

export function encodeProvisioningDoc(input: ProvisioningDocInput): string {
  for (const [what, nonce] of [
    ['clientNonce', input.clientNonce],
    ['serverNonce', input.serverNonce],
  ] as const) {
    if (!BASE64.test(nonce)) throw new RangeError(`${what} must be base64`);
  }
  const root = characteristic('Root', characteristic('System', certificate(input.rootCertificate, 'root')));
  const ca =
    input.intermediateCertificate === undefined
      ? ''
      : characteristic('CA', characteristic('System', certificate(input.intermediateCertificate, 'intermediate')));
  const renew =
    input.renewal === undefined
      ? ''
      : characteristic(
          'WSTEP',
          characteristic(
            'Renew',
            parm('ROBOSupport', String(input.renewal.roboSupport), 'boolean') +
              parm('RenewPeriod', int('renewPeriodDays', input.renewal.renewPeriodDays), 'integer') +
              parm('RetryInterval', int('retryIntervalDays', input.renewal.retryIntervalDays), 'integer') +
              (input.renewal.serverUrl === undefined ? '' : parm('ServerURL', input.renewal.serverUrl, 'string')),
          ),
        );
  const my = characteristic(
    'My',
    characteristic(input.certStore, certificate(input.clientCertificate, 'client') + characteristic('PrivateKeyContainer', '')) + renew,
  );

  // Query-string encoded criteria, e.g. Subject=CN%3D<cn>&Stores=My%5CUser.
  const searchCriteria =
    `Subject=${encodeURIComponent(`CN=${input.clientCertSubjectCommonName}`)}` + `&Stores=${encodeURIComponent(`My\\${input.certStore}`)}`;
  const application = characteristic(
    'APPLICATION',
    parm('APPID', 'w7') +
      parm('PROVIDER-ID', input.providerId) +
      parm('NAME', input.name) +
      parm('ADDR', input.managementUrl) +
      parm('ROLE', '4294967295') +
      parm('BACKCOMPATRETRYDISABLED') +
      parm('CONNRETRYFREQ', int('connRetryFreq', input.connRetryFreq ?? 6)) +
      parm('INITIALBACKOFFTIME', int('initialBackoffTimeMs', input.initialBackoffTimeMs ?? 30000)) +
      parm('MAXBACKOFFTIME', int('maxBackoffTimeMs', input.maxBackoffTimeMs ?? 120000)) +
      parm('DEFAULTENCODING', 'application/vnd.syncml.dm+xml') +
      parm('SSLCLIENTCERTSEARCHCRITERIA', searchCriteria) +
      characteristic(
        'APPAUTH',
        parm('AAUTHLEVEL', 'CLIENT') +
          parm('AAUTHTYPE', 'DIGEST') +
          parm('AAUTHSECRET', input.clientSecret ?? 'unused') +
          parm('AAUTHDATA', input.clientNonce),
      ) +
      characteristic(
        'APPAUTH',
        parm('AAUTHLEVEL', 'APPSRV') +
          parm('AAUTHTYPE', 'DIGEST') +
          parm('AAUTHNAME', input.serverName ?? 'unused') +
          parm('AAUTHSECRET', input.serverSecret ?? 'unused') +
          parm('AAUTHDATA', input.serverNonce),
      ),
  );

  const p = input.poll;
  const poll = characteristic(
    'Poll',
    parm('NumberOfFirstRetries', int('numberOfFirstRetries', p.numberOfFirstRetries), 'integer') +
      parm('IntervalForFirstSetOfRetries', int('intervalForFirstSetOfRetries', p.intervalForFirstSetOfRetries), 'integer') +
      parm('NumberOfSecondRetries', int('numberOfSecondRetries', p.numberOfSecondRetries), 'integer') +
      parm('IntervalForSecondSetOfRetries', int('intervalForSecondSetOfRetries', p.intervalForSecondSetOfRetries), 'integer') +
      parm('NumberOfRemainingScheduledRetries', int('numberOfRemainingScheduledRetries', p.numberOfRemainingScheduledRetries), 'integer') +
      parm(
        'IntervalForRemainingScheduledRetries',
        int('intervalForRemainingScheduledRetries', p.intervalForRemainingScheduledRetries),
        'integer',
      ) +
      parm('PollOnLogin', String(p.pollOnLogin), 'boolean') +
      parm('AllUsersPollOnFirstLogin', String(p.allUsersPollOnFirstLogin), 'boolean'),
  );
  const dmClient = characteristic(
    'DMClient',
    characteristic(
      'Provider',
      characteristic(
        input.providerId,
        parm('EntDeviceName', input.entDeviceName, 'string') +
          parm('UPN', input.upn, 'string') +
          parm('EntDMID', input.entDmId, 'string') +
          poll,
      ),
    ),
  );

  return (
    `<?xml version="1.0" encoding="UTF-8"?><wap-provisioningdoc version="1.1">` +
    `${characteristic('CertificateStore', root + ca + my)}${application}${dmClient}</wap-provisioningdoc>`
  );
}

export interface RenewalProvisioningDocInput {
  /** The renewed client certificate. */
  clientCertificate: ProvisionedCertificate;
  /** The store the enrollment put the certificate in: `User` for Full, `System` for Device. */
  certStore: 'User' | 'System';
}

/**
 * The provisioning document answering a renewal (protocol.md §8.3; MS-MDE2 §3.5): only the new
 * `CertificateStore/My/<store>` certificate. No Root, no APPLICATION, no DMClient: the device keeps the
 * management account and the renewal schedule it was given at enrollment.
 */
export function encodeRenewalProvisioningDoc(input: RenewalProvisioningDocInput): string {
  const my = characteristic(
    'My',
    characteristic(input.certStore, certificate(input.clientCertificate, 'client') + characteristic('PrivateKeyContainer', '')),
  );
  return `<?xml version="1.0" encoding="UTF-8"?><wap-provisioningdoc version="1.1">${characteristic('CertificateStore', my)}</wap-provisioningdoc>`;
}

// ---- Decoding (simulator and tests) ----

export interface ProvisioningParm {
  value: string | undefined;
  datatype: string | undefined;
}

export interface ProvisioningDocView {
  rootCerts: Array<{ thumbprint: string; der: Buffer }>;
  caCerts: Array<{ thumbprint: string; der: Buffer }>;
  myCerts: Array<{ store: string; thumbprint: string; der: Buffer; hasPrivateKeyContainer: boolean }>;
  /** CertificateStore/My/WSTEP/Renew parms, when present. */
  renewal: Record<string, ProvisioningParm> | undefined;
  /** Parms of the APPLICATION characteristic whose APPID is w7 (nested APPAUTH excluded). */
  w7: Record<string, ProvisioningParm>;
  /** Each APPAUTH block of the w7 application. */
  appAuth: Array<Record<string, ProvisioningParm>>;
  dmClient: { providerId: string; params: Record<string, ProvisioningParm> } | undefined;
  poll: Record<string, ProvisioningParm>;
}

const isChar = (el: XmlElement): boolean => el.uri === '' && el.local === 'characteristic';
const typeOf = (el: XmlElement): string => attr(el, 'type') ?? '';
const chars = (el: XmlElement | undefined, type?: string): XmlElement[] =>
  el === undefined ? [] : el.children.filter((c) => isChar(c) && (type === undefined || typeOf(c) === type));
const charOf = (el: XmlElement | undefined, type: string): XmlElement | undefined => chars(el, type)[0];

function parms(el: XmlElement | undefined): Record<string, ProvisioningParm> {
  const out: Record<string, ProvisioningParm> = {};
  for (const c of el?.children ?? []) {
    if (c.uri !== '' || c.local !== 'parm') continue;
    const name = attr(c, 'name');
    if (name !== undefined) out[name] = { value: attr(c, 'value'), datatype: attr(c, 'datatype') };
  }
  return out;
}

function certs(store: XmlElement | undefined): Array<{ thumbprint: string; der: Buffer }> {
  return chars(store)
    .filter((c) => typeOf(c) !== 'PrivateKeyContainer')
    .map((c) => {
      const encoded = parms(c).EncodedCertificate?.value;
      const der = encoded === undefined ? undefined : decodeBase64Binary(encoded);
      if (der === undefined) throw new MalformedResponseError(`certificate ${typeOf(c)} has no valid EncodedCertificate`);
      return { thumbprint: typeOf(c), der };
    });
}

/** Structured view of a wap-provisioningdoc; throws XmlError or MalformedResponseError. */
export function decodeProvisioningDoc(xml: string | Buffer): ProvisioningDocView {
  const doc = parseXml(xml);
  if (doc.uri !== '' || doc.local !== 'wap-provisioningdoc') {
    throw new MalformedResponseError('The root element is not wap-provisioningdoc.');
  }
  const certStore = charOf(doc, 'CertificateStore');
  const rootCerts = chars(charOf(certStore, 'Root')).flatMap((store) => certs(store));
  const caCerts = chars(charOf(certStore, 'CA')).flatMap((store) => certs(store));
  const myEl = charOf(certStore, 'My');
  const myCerts = chars(myEl)
    .filter((store) => typeOf(store) !== 'WSTEP')
    .flatMap((store) =>
      certs(store).map((c) => ({
        store: typeOf(store),
        ...c,
        hasPrivateKeyContainer: charOf(store, 'PrivateKeyContainer') !== undefined,
      })),
    );
  const renewEl = charOf(charOf(myEl, 'WSTEP'), 'Renew');

  const w7El = chars(doc, 'APPLICATION').find((a) => parms(a).APPID?.value === 'w7');
  const providerEl = chars(charOf(charOf(doc, 'DMClient'), 'Provider'))[0];

  return {
    rootCerts,
    caCerts,
    myCerts,
    renewal: renewEl === undefined ? undefined : parms(renewEl),
    w7: parms(w7El),
    appAuth: chars(w7El, 'APPAUTH').map((a) => parms(a)),
    dmClient: providerEl === undefined ? undefined : { providerId: typeOf(providerEl), params: parms(providerEl) },
    poll: parms(charOf(providerEl, 'Poll')),
  };
}
