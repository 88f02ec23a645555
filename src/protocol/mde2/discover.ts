// MS-MDE2 §3.1 Discovery service: the Discover request, the DiscoverResponse, and the choice of
// EnrollmentVersion (protocol.md §2.2, §2.3). Server side decodes requests and encodes responses;
// the client side (simulator) does the reverse, shaped like real Windows traffic.

import { encodeRequestHeader, encodeResponseHeader } from '../soap/addressing.js';
import { MalformedResponseError, ReceivedFaultError } from '../soap/client-errors.js';
import type { SoapEnvelope } from '../soap/envelope.js';
import { decodeSoapFault, SoapFault } from '../soap/fault.js';
import { ACTIONS, NS } from '../soap/namespaces.js';
import { child, children, descendant, type XmlElement } from '../xml/reader.js';
import { escapeXml } from '../xml/writer.js';

export interface DiscoverRequest {
  messageId: string;
  emailAddress: string;
  requestVersion: string;
  deviceType: string;
  applicationVersion: string;
  osEdition: string;
  /** As offered, in order: OnPremise, Federated, Certificate (others kept verbatim). */
  authPolicies: string[];
}

const formatError = (message: string): SoapFault => new SoapFault({ subcode: 'MessageFormat', message });

// XSD EmailAddressType pattern `[^@]+@[^\.]+\..+`, plus the `domain\user` form on-premises docs allow.
const EMAIL = /^[^@]+@[^.]+\..+$/;
const DOWN_LEVEL_LOGON = /^[^\\]+\\[^\\]+$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
const DOTTED_VERSION = /^\d+(?:\.\d+){1,3}$/;
const UNSIGNED_INT = /^\d+$/;

function requiredText(parent: XmlElement, local: string): string {
  const el = child(parent, NS.discovery, local);
  const text = el?.text.trim();
  if (text === undefined || text === '') throw formatError(`Discover request is missing ${local}.`);
  return text;
}

export function decodeDiscoverRequest(envelope: SoapEnvelope): DiscoverRequest {
  if (envelope.messageId === undefined) throw formatError('Discover request has no a:MessageID.');
  const discover = envelope.payload;
  if (discover === undefined || discover.uri !== NS.discovery || discover.local !== 'Discover') {
    throw formatError('Expected a Discover request.');
  }
  const request = child(discover, NS.discovery, 'request');
  if (request === undefined) throw formatError('Discover request has no request element.');

  const emailAddress = requiredText(request, 'EmailAddress');
  if (!EMAIL.test(emailAddress) && !DOWN_LEVEL_LOGON.test(emailAddress)) {
    throw formatError('EmailAddress is not a user principal name.');
  }
  const requestVersion = requiredText(request, 'RequestVersion');
  if (!DECIMAL.test(requestVersion)) throw formatError('RequestVersion is not a decimal number.');
  const deviceType = requiredText(request, 'DeviceType');
  const applicationVersion = requiredText(request, 'ApplicationVersion');
  if (!DOTTED_VERSION.test(applicationVersion)) throw formatError('ApplicationVersion is not a dotted version.');
  const osEdition = requiredText(request, 'OSEdition');
  if (!UNSIGNED_INT.test(osEdition)) throw formatError('OSEdition is not an unsigned integer.');

  const policies = child(request, NS.discovery, 'AuthPolicies');
  const authPolicies =
    policies === undefined
      ? []
      : children(policies, NS.discovery, 'AuthPolicy')
          .map((p) => p.text.trim())
          .filter((p) => p !== '');
  if (authPolicies.length === 0) throw formatError('Discover request offers no AuthPolicy.');

  return { messageId: envelope.messageId, emailAddress, requestVersion, deviceType, applicationVersion, osEdition, authPolicies };
}

/** Highest EnrollmentVersion whose features (4.0: Win10 1703+) this server implements. */
export const HIGHEST_ENROLLMENT_VERSION = '4.0';
const LOWEST_SUPPORTED_VERSION = { major: 4, minor: 0 };

function parseVersion(text: string): { major: number; minor: number } | undefined {
  const m = /^\s*(\d{1,4})(?:\.(\d{1,4}))?\s*$/.exec(text);
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? '0') };
}

const compare = (a: { major: number; minor: number }, b: { major: number; minor: number }): number =>
  a.major - b.major || a.minor - b.minor;

/**
 * The EnrollmentVersion to answer with: never above the client's RequestVersion (MS-MDE2) and never
 * above what we implement. Clients older than 4.0 (pre-1703) or with an unreadable version are refused
 * with ErrorType DeviceNotSupported, which Windows shows as MENROLL_E_DEVICENOTSUPPORTED.
 */
export function negotiateEnrollmentVersion(requestVersion: string): string {
  const requested = parseVersion(requestVersion);
  if (requested === undefined || compare(requested, LOWEST_SUPPORTED_VERSION) < 0) {
    throw new SoapFault({
      subcode: 'MessageFormat',
      errorType: 'DeviceNotSupported',
      message: 'This version of Windows is not supported by this enrollment server.',
      detail: `RequestVersion "${requestVersion.slice(0, 32)}" is below 4.0 or unreadable`,
    });
  }
  const highest = parseVersion(HIGHEST_ENROLLMENT_VERSION) ?? LOWEST_SUPPORTED_VERSION;
  const chosen = compare(requested, highest) < 0 ? requested : highest;
  return `${chosen.major}.${chosen.minor}`;
}

export interface DiscoverResponseInput {
  relatesTo: string;
  activityId: string;
  authPolicy: 'OnPremise' | 'Federated';
  enrollmentVersion: string;
  policyServiceUrl: string;
  enrollmentServiceUrl: string;
  /** Required for Federated, forbidden otherwise (Windows fails OnPremise when it is present). */
  authenticationServiceUrl?: string;
}

export function encodeDiscoverResponse(input: DiscoverResponseInput): string {
  if (!/^\d+\.\d+$/.test(input.enrollmentVersion)) {
    throw new RangeError(`EnrollmentVersion must look like "4.0", got "${input.enrollmentVersion}"`);
  }
  if (input.authPolicy === 'Federated' && input.authenticationServiceUrl === undefined) {
    throw new RangeError('A Federated DiscoverResponse needs an AuthenticationServiceUrl');
  }
  if (input.authPolicy !== 'Federated' && input.authenticationServiceUrl !== undefined) {
    throw new RangeError('AuthenticationServiceUrl may only be sent with AuthPolicy Federated');
  }
  const authUrl =
    input.authenticationServiceUrl === undefined
      ? ''
      : `<AuthenticationServiceUrl>${escapeXml(input.authenticationServiceUrl)}</AuthenticationServiceUrl>`;
  const header = encodeResponseHeader({
    action: ACTIONS.discoverResponse,
    activityId: input.activityId,
    relatesTo: input.relatesTo,
  });
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}">${header}` +
    `<s:Body xmlns:xsi="${NS.xsi}" xmlns:xsd="${NS.xsd}"><DiscoverResponse xmlns="${NS.discovery}"><DiscoverResult>` +
    `<AuthPolicy>${input.authPolicy}</AuthPolicy>` +
    `<EnrollmentVersion>${input.enrollmentVersion}</EnrollmentVersion>` +
    `<EnrollmentPolicyServiceUrl>${escapeXml(input.policyServiceUrl)}</EnrollmentPolicyServiceUrl>` +
    `<EnrollmentServiceUrl>${escapeXml(input.enrollmentServiceUrl)}</EnrollmentServiceUrl>` +
    `${authUrl}</DiscoverResult></DiscoverResponse></s:Body></s:Envelope>`
  );
}

export interface DiscoverRequestInput {
  messageId: string;
  to: string;
  emailAddress: string;
  requestVersion: string;
  applicationVersion: string;
  osEdition: string;
  authPolicies: string[];
  /** Defaults to `CIMClient_Windows` (desktop Windows). */
  deviceType?: string;
}

/** Client side: a Discover request as Windows sends it (compact, no XML declaration). */
export function encodeDiscoverRequest(input: DiscoverRequestInput): string {
  const header = encodeRequestHeader({ action: ACTIONS.discover, messageId: input.messageId, to: input.to });
  const policies = input.authPolicies.map((p) => `<AuthPolicy>${escapeXml(p)}</AuthPolicy>`).join('');
  return (
    `<s:Envelope xmlns:a="${NS.wsa}" xmlns:s="${NS.soap12}">${header}<s:Body>` +
    `<Discover xmlns="${NS.discovery}"><request xmlns:i="${NS.xsi}">` +
    `<EmailAddress>${escapeXml(input.emailAddress)}</EmailAddress>` +
    `<RequestVersion>${escapeXml(input.requestVersion)}</RequestVersion>` +
    `<DeviceType>${escapeXml(input.deviceType ?? 'CIMClient_Windows')}</DeviceType>` +
    `<ApplicationVersion>${escapeXml(input.applicationVersion)}</ApplicationVersion>` +
    `<OSEdition>${escapeXml(input.osEdition)}</OSEdition>` +
    `<AuthPolicies>${policies}</AuthPolicies></request></Discover></s:Body></s:Envelope>`
  );
}

export interface DiscoverResponse {
  relatesTo: string | undefined;
  /** As sent; Windows compares it case-insensitively. */
  authPolicy: string;
  enrollmentVersion: string | undefined;
  policyServiceUrl: string | undefined;
  enrollmentServiceUrl: string;
  authenticationServiceUrl: string | undefined;
}

/** Client side: reads a DiscoverResponse with the descendant lookups Windows uses (protocol.md §2.3). */
export function decodeDiscoverResponse(envelope: SoapEnvelope): DiscoverResponse {
  const fault = decodeSoapFault(envelope.root);
  if (fault !== undefined) throw new ReceivedFaultError(fault);
  const response = descendant(envelope.body, NS.discovery, 'DiscoverResponse');
  if (response === undefined) throw new MalformedResponseError('No DiscoverResponse in the body.');
  const text = (local: string): string | undefined => {
    const t = descendant(response, NS.discovery, local)?.text.trim();
    return t === undefined || t === '' ? undefined : t;
  };
  const authPolicy = text('AuthPolicy');
  if (authPolicy === undefined) throw new MalformedResponseError('DiscoverResponse has no AuthPolicy.');
  const enrollmentServiceUrl = text('EnrollmentServiceUrl');
  if (enrollmentServiceUrl === undefined) throw new MalformedResponseError('DiscoverResponse has no EnrollmentServiceUrl.');
  const enrollmentVersion = text('EnrollmentVersion');
  if (enrollmentVersion !== undefined && !/^\d+\.\d+$/.test(enrollmentVersion)) {
    throw new MalformedResponseError(`EnrollmentVersion "${enrollmentVersion}" is not major.minor.`);
  }
  // Windows' own checks: a known policy (any case), and AuthenticationServiceUrl only with Federated.
  const policy = authPolicy.toLowerCase();
  if (policy !== 'onpremise' && policy !== 'federated' && policy !== 'certificate') {
    throw new MalformedResponseError(`AuthPolicy "${authPolicy}" is not one Windows knows.`);
  }
  const authenticationServiceUrl = text('AuthenticationServiceUrl');
  if (policy === 'federated' && authenticationServiceUrl === undefined) {
    throw new MalformedResponseError('A Federated DiscoverResponse has no AuthenticationServiceUrl.');
  }
  if (policy !== 'federated' && authenticationServiceUrl !== undefined) {
    throw new MalformedResponseError('AuthenticationServiceUrl was sent with a non-Federated AuthPolicy.');
  }
  return {
    relatesTo: envelope.relatesTo,
    authPolicy,
    enrollmentVersion,
    policyServiceUrl: text('EnrollmentPolicyServiceUrl'),
    enrollmentServiceUrl,
    authenticationServiceUrl,
  };
}
