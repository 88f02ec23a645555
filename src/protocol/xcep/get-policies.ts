// MS-XCEP §3.1.4.1 GetPolicies as profiled by MS-MDE2 §3.3 (protocol.md §4.1, §4.2).
// Windows evaluates only minimalKeyLength, hashAlgorithmOIDReference (policySchema 3) and
// cryptoProviders, but the response still follows the MS-XCEP sequences exactly and every
// *OIDReference resolves to an entry of oIDs.

import { encodeRequestHeader, encodeResponseHeader } from '../soap/addressing.js';
import { MalformedResponseError, ReceivedFaultError } from '../soap/client-errors.js';
import type { SoapEnvelope } from '../soap/envelope.js';
import { decodeSoapFault, SoapFault } from '../soap/fault.js';
import { ACTIONS, NS } from '../soap/namespaces.js';
import { decodeWsSecurity, encodeWsSecurity, type WsSecurityToken } from '../soap/ws-security.js';
import { attr, child, children, type XmlElement } from '../xml/reader.js';

export interface GetPoliciesRequest {
  messageId: string;
  security: WsSecurityToken | undefined;
}

export function decodeGetPoliciesRequest(envelope: SoapEnvelope): GetPoliciesRequest {
  if (envelope.messageId === undefined)
    throw new SoapFault({ subcode: 'MessageFormat', message: 'GetPolicies request has no a:MessageID.' });
  const payload = envelope.payload;
  if (payload === undefined || payload.uri !== NS.xcep || payload.local !== 'GetPolicies') {
    throw new SoapFault({ subcode: 'MessageFormat', message: 'Expected a GetPolicies request.' });
  }
  // The client element (lastUpdate, preferredLanguage, TPM hints…) carries nothing we act on.
  return { messageId: envelope.messageId, security: decodeWsSecurity(envelope.header) };
}

export const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  rsa: '1.2.840.113549.1.1.1',
} as const;

/** MS-XCEP OID groups used here: 1 hash algorithm, 3 public-key algorithm. */
const OID_GROUP = { hash: 1, publicKey: 3 } as const;
const REF = { hash: 0, publicKey: 1 } as const;

export interface GetPoliciesResponseInput {
  relatesTo: string;
  activityId: string;
  minimalKeyLength: number;
  validitySeconds: number;
  renewalSeconds: number;
}

const positiveInteger = (name: string, n: number): string => {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return String(n);
};

export function encodeGetPoliciesResponse(input: GetPoliciesResponseInput): string {
  const keyLength = positiveInteger('minimalKeyLength', input.minimalKeyLength);
  const validity = positiveInteger('validitySeconds', input.validitySeconds);
  const renewal = positiveInteger('renewalSeconds', input.renewalSeconds);
  const nil = (local: string): string => `<${local} xsi:nil="true"/>`;
  const header = encodeResponseHeader({
    action: ACTIONS.getPoliciesResponse,
    activityId: input.activityId,
    relatesTo: input.relatesTo,
  });
  const attributes =
    `<attributes><commonName>Winroll</commonName><policySchema>3</policySchema>` +
    `<certificateValidity><validityPeriodSeconds>${validity}</validityPeriodSeconds>` +
    `<renewalPeriodSeconds>${renewal}</renewalPeriodSeconds></certificateValidity>` +
    `<permission><enroll>true</enroll><autoEnroll>false</autoEnroll></permission>` +
    `<privateKeyAttributes><minimalKeyLength>${keyLength}</minimalKeyLength>` +
    `${nil('keySpec')}${nil('keyUsageProperty')}${nil('permissions')}` +
    `<algorithmOIDReference>${REF.publicKey}</algorithmOIDReference>` +
    // TPM-backed key first, software key as the fallback Windows uses when there is no TPM.
    `<cryptoProviders><provider>Microsoft Platform Crypto Provider</provider>` +
    `<provider>Microsoft Software Key Storage Provider</provider></cryptoProviders></privateKeyAttributes>` +
    `<revision><majorRevision>101</majorRevision><minorRevision>0</minorRevision></revision>` +
    `${nil('supersededPolicies')}${nil('privateKeyFlags')}${nil('subjectNameFlags')}` +
    `${nil('enrollmentFlags')}${nil('generalFlags')}` +
    `<hashAlgorithmOIDReference>${REF.hash}</hashAlgorithmOIDReference>` +
    `${nil('rARequirements')}${nil('keyArchivalAttributes')}${nil('extensions')}</attributes>`;
  const oid = (value: string, group: number, ref: number, name: string): string =>
    `<oID><value>${value}</value><group>${group}</group><oIDReferenceID>${ref}</oIDReferenceID><defaultName>${name}</defaultName></oID>`;
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}">${header}` +
    `<s:Body xmlns:xsi="${NS.xsi}" xmlns:xsd="${NS.xsd}"><GetPoliciesResponse xmlns="${NS.xcep}"><response>` +
    `<policyID></policyID>${nil('policyFriendlyName')}${nil('nextUpdateHours')}${nil('policiesNotChanged')}` +
    // policyOIDReference points at the hash OID, as Microsoft's sample and the accepted servers do.
    `<policies><policy><policyOIDReference>${REF.hash}</policyOIDReference>${nil('cAs')}${attributes}</policy></policies>` +
    `</response>${nil('cAs')}<oIDs>` +
    oid(OID.sha256, OID_GROUP.hash, REF.hash, 'szOID_NIST_sha256') +
    oid(OID.rsa, OID_GROUP.publicKey, REF.publicKey, 'szOID_RSA_RSA') +
    `</oIDs></GetPoliciesResponse></s:Body></s:Envelope>`
  );
}

/** Client side: a GetPolicies request as Windows sends it (compact, same namespace set as the capture). */
export function encodeGetPoliciesRequest(input: { messageId: string; to: string; security: WsSecurityToken }): string {
  const header = encodeRequestHeader({
    action: ACTIONS.getPolicies,
    messageId: input.messageId,
    to: input.to,
    extraXml: encodeWsSecurity(input.security),
  });
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}" xmlns:u="${NS.wsu}" xmlns:wsse="${NS.wsse}" ` +
    `xmlns:wst="${NS.wst}" xmlns:ac="${NS.ac}">${header}` +
    `<s:Body xmlns:xsi="${NS.xsi}" xmlns:xsd="${NS.xsd}"><GetPolicies xmlns="${NS.xcep}">` +
    `<client><lastUpdate xsi:nil="true"/><preferredLanguage xsi:nil="true"/></client>` +
    `<requestFilter xsi:nil="true"/></GetPolicies></s:Body></s:Envelope>`
  );
}

export interface GetPoliciesResponse {
  relatesTo: string | undefined;
  minimalKeyLength: number;
  /** Resolved from hashAlgorithmOIDReference; undefined when nil or missing (Windows then uses SHA-1). */
  hashAlgorithmOid: string | undefined;
  /** Resolved from algorithmOIDReference, when present. */
  publicKeyAlgorithmOid: string | undefined;
  validitySeconds: number | undefined;
  renewalSeconds: number | undefined;
  cryptoProviders: string[];
}

const isNil = (el: XmlElement): boolean => {
  const v = attr(el, 'nil', NS.xsi)?.trim();
  return v === 'true' || v === '1';
};

const xcepText = (parent: XmlElement | undefined, local: string): string | undefined => {
  const el = parent === undefined ? undefined : child(parent, NS.xcep, local);
  if (el === undefined || isNil(el)) return undefined;
  const t = el.text.trim();
  return t === '' ? undefined : t;
};

const xcepInt = (parent: XmlElement | undefined, local: string): number | undefined => {
  const t = xcepText(parent, local);
  if (t === undefined) return undefined;
  if (!/^-?\d+$/.test(t)) throw new MalformedResponseError(`${local} is not an integer.`);
  return Number(t);
};

/**
 * Client side: reads the first policy. Like Windows, a nil or missing policy is not an error:
 * minimalKeyLength falls back to 2048 and the hash is left undefined (SHA-1 default).
 */
export function decodeGetPoliciesResponse(envelope: SoapEnvelope): GetPoliciesResponse {
  const fault = decodeSoapFault(envelope.root);
  if (fault !== undefined) throw new ReceivedFaultError(fault);
  const payload = envelope.payload;
  if (payload === undefined || payload.uri !== NS.xcep || payload.local !== 'GetPoliciesResponse') {
    throw new MalformedResponseError('No GetPoliciesResponse in the body.');
  }
  const oids = new Map<number, string>();
  const oidsEl = child(payload, NS.xcep, 'oIDs');
  for (const o of oidsEl === undefined || isNil(oidsEl) ? [] : children(oidsEl, NS.xcep, 'oID')) {
    const ref = xcepInt(o, 'oIDReferenceID');
    const value = xcepText(o, 'value');
    if (ref !== undefined && value !== undefined) oids.set(ref, value);
  }
  const resolve = (ref: number | undefined, what: string): string | undefined => {
    if (ref === undefined) return undefined;
    const value = oids.get(ref);
    if (value === undefined) throw new MalformedResponseError(`${what} ${ref} does not match any oIDReferenceID.`);
    return value;
  };

  const response = child(payload, NS.xcep, 'response');
  const policies = response === undefined ? undefined : child(response, NS.xcep, 'policies');
  const policy = policies === undefined ? undefined : child(policies, NS.xcep, 'policy');
  const attributes = policy === undefined ? undefined : child(policy, NS.xcep, 'attributes');
  const keyAttrs = attributes === undefined ? undefined : child(attributes, NS.xcep, 'privateKeyAttributes');
  const validity = attributes === undefined ? undefined : child(attributes, NS.xcep, 'certificateValidity');
  const providers = keyAttrs === undefined ? undefined : child(keyAttrs, NS.xcep, 'cryptoProviders');
  const hashRef = xcepInt(attributes, 'hashAlgorithmOIDReference');
  return {
    relatesTo: envelope.relatesTo,
    minimalKeyLength: xcepInt(keyAttrs, 'minimalKeyLength') ?? 2048,
    hashAlgorithmOid: resolve(hashRef, 'hashAlgorithmOIDReference'),
    publicKeyAlgorithmOid: resolve(xcepInt(keyAttrs, 'algorithmOIDReference'), 'algorithmOIDReference'),
    validitySeconds: xcepInt(validity, 'validityPeriodSeconds'),
    renewalSeconds: xcepInt(validity, 'renewalPeriodSeconds'),
    cryptoProviders:
      providers === undefined || isNil(providers)
        ? []
        : children(providers, NS.xcep, 'provider')
            .map((p) => p.text.trim())
            .filter((p) => p !== ''),
  };
}
