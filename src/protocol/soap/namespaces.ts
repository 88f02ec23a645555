// Namespace URIs and fixed URI values of the enrollment protocols (protocol.md §2-§4, §9).
// Elements are always matched by these URIs, never by the prefixes a peer happens to use.

export const NS = {
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  /** SOAP 1.1; recognised only to refuse it with a clear message. */
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wst: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  ac: 'http://schemas.xmlsoap.org/ws/2006/12/authorization',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  xml: 'http://www.w3.org/XML/1998/namespace',
  /** MS-MDE2 discovery service. */
  discovery: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment',
  /** MS-XCEP enrollment policy. */
  xcep: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy',
  /** MS-WSTEP / MS-MDE2 enrollment extensions (DispositionMessage, RequestID, fault detail). */
  enrollment: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment',
  /** WCF diagnostics header carrying ActivityId. */
  diagnostics: 'http://schemas.microsoft.com/2004/09/ServiceModel/Diagnostics',
} as const;

export const ACTIONS = {
  discover: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/Discover',
  discoverResponse: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/DiscoverResponse',
  getPolicies: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies',
  getPoliciesResponse: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPoliciesResponse',
  requestSecurityToken: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep',
  requestSecurityTokenResponse: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep',
} as const;

/** WS-Addressing anonymous endpoint, the ReplyTo Windows always sends. */
export const WSA_ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';

/** WS-Security encoding and password-type URIs (protocol.md §3.1, §4.3). */
export const WSS = {
  base64Binary: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary',
  passwordText: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText',
} as const;

/** BinarySecurityToken ValueTypes seen on the wire (protocol.md §3.2-§3.4, §4.3, §4.6). */
export const VALUE_TYPES = {
  /** Federated (web auth broker) or programmatic token in the Security header. */
  deviceEnrollmentUserToken: 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentUserToken',
  /** Entra ID access token in the Security header. */
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  x509v3: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3',
  /** Body token of an Issue request. */
  pkcs10: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10',
  /** Body token of a Renew request, as MS-MDE2 spells it. */
  pkcs7: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS7',
  /** The same, as the Microsoft docs spell it; accepted too. */
  pkcs7Docs: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#PKCS7',
  /** The RSTR token carrying the wap-provisioningdoc. */
  provisionDoc: 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc',
} as const;

/** Constant WS-Security UsernameToken id that Windows sends on every run (protocol.md §3.1, §10). */
export const WINDOWS_USERNAME_TOKEN_ID = 'uuid-cc1ccc1f-2fba-4bcf-b063-ffc0cac77917-4';

/** WS-Trust values of the enrollment RST/RSTR (protocol.md §4.3, §4.6). */
export const WSTEP = {
  tokenType: 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken',
  requestTypeIssue: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue',
  /** Renew as protocol.md §4.3 and fleet spell it; accepted. */
  requestTypeRenew: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/Renew',
  /** Renew as MS-MDE2 §3.5.4.1.1.1 and Microsoft's renewal sample spell it (WS-Trust 1.3); accepted and sent. */
  requestTypeRenewWsTrust: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Renew',
  requestTypeRecovery: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Recovery',
} as const;
