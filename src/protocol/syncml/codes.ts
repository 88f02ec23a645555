// OMA-DM status and alert codes as Windows uses them (protocol.md §6.7 status table, §6.10 alert table,
// §6.4 client alert types, §8.1 unenrollment alert).

/** Namespace URIs of SyncML as sent on the wire; decoders compare them case-insensitively. */
export const SYNCML_NS = {
  v12: 'SYNCML:SYNCML1.2',
  v11: 'SYNCML:SYNCML1.1',
  /** Meta information elements (Format, Type, Size, NextNonce, MaxMsgSize...). */
  metinf: 'syncml:metinf',
} as const;

export const VER_DTD = '1.2';
export const VER_PROTO = 'DM/1.2';

/** Status/Data values (protocol.md §6.7). */
export const STATUS = {
  ok: 200,
  /** Accepted for asynchronous processing; a later Alert 1226 or poll tells the outcome. */
  acceptedForProcessing: 202,
  /** SyncHdr: credentials accepted, do not resend them in this session. */
  authenticationAccepted: 212,
  /** A chunk of a large object was buffered; send the next one. */
  chunkedItemAccepted: 213,
  operationCancelled: 214,
  /** Not executed, typically because the user cancelled. */
  notExecuted: 215,
  atomicRollbackOk: 216,
  /** Malformed command, or a command without CmdID. */
  badRequest: 400,
  invalidCredentials: 401,
  forbidden: 403,
  notFound: 404,
  commandNotAllowed: 405,
  optionalFeatureNotSupported: 406,
  /** SyncHdr: credentials missing; carries a Chal. */
  missingCredentials: 407,
  unsupportedMediaTypeOrFormat: 415,
  alreadyExists: 418,
  permissionDenied: 425,
  commandFailed: 500,
  atomicFailed: 507,
  atomicRollbackFailed: 516,
} as const;

export type StatusCode = (typeof STATUS)[keyof typeof STATUS];

/** Alert/Data values (protocol.md §6.10). */
export const ALERT = {
  /** C→S: session started because the server pushed a notification. */
  serverInitiatedSession: 1200,
  /** C→S: session started by the client (schedule, user sync, first session after enrollment). */
  clientInitiatedSession: 1201,
  /** Both: send the next message of the package. */
  nextMessage: 1222,
  /** Both: abort the session. */
  sessionAbort: 1223,
  /** C→S: client event, typed by Item/Meta/Type (LoginStatus, AADUserToken, requestpending). */
  clientEvent: 1224,
  /** Both: the end of a chunked item never arrived. */
  endOfDataNotReceived: 1225,
  /** C→S: generic alert (unenrollment request, asynchronous CSP results). */
  generic: 1226,
} as const;

export type AlertCode = (typeof ALERT)[keyof typeof ALERT];

/** Item/Meta/Type values of the client alerts the server acts on (protocol.md §6.4, §8.1). */
export const ALERT_TYPE = {
  /** Alert 1224; Data `user`, `others` or `none`. */
  loginStatus: 'com.microsoft/MDM/LoginStatus',
  /** Alert 1224; Data is the Entra ID user token. */
  aadUserToken: 'com.microsoft/MDM/AADUserToken',
  /** Alert 1226, Format int, Data 1: the user pressed Disconnect. */
  unenrollmentUserRequest: 'com.microsoft:mdm.unenrollment.userrequest',
  /** Alert 1224 keep-alive while the client is busy. */
  requestPending: 'Reversed-Domain-Name:com.microsoft.mdm.requestpending',
} as const;

/** The SyncHdr Chal type of OMA-DM MD5 digest authentication (protocol.md §6.2). */
export const AUTH_MD5 = 'syncml:auth-md5';

/** True for 2xx status codes (the command was accepted). */
export function isSuccessStatus(code: number): boolean {
  return code >= 200 && code < 300;
}
