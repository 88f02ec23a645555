// SOAP 1.2 faults of the enrollment services (protocol.md §9.1, §9.2; MS-MDE2 §2.2.10).
// Windows reads faults with case-sensitive XPath, so the element names and the s:/a: value
// prefixes below are exact. Server side: SoapFault + encodeSoapFault. Client side: decodeSoapFault.

import { descendant, type XmlElement } from '../xml/reader.js';
import { escapeXml } from '../xml/writer.js';
import { encodeResponseHeader } from './addressing.js';
import { NS } from './namespaces.js';

/** Subcodes Windows maps to MENROLL_E_DEVICE_* errors (protocol.md §9.2). */
export type SoapFaultSubcode =
  | 'MessageFormat'
  | 'Authentication'
  | 'Authorization'
  | 'CertificateRequest'
  | 'EnrollmentServer'
  | 'InternalServiceFault'
  | 'InvalidSecurity';

/** Detail ErrorType values; when present Windows prefers them over the subcode. */
export type SoapFaultErrorType =
  | 'DeviceCapReached'
  | 'DeviceNotSupported'
  | 'NotSupported'
  | 'NotEligibleToRenew'
  | 'InMaintenance'
  | 'UserLicense'
  | 'InvalidEnrollmentData';

export type SoapFaultCodeValue = 'Receiver' | 'Sender';

export interface SoapFaultInit {
  subcode: SoapFaultSubcode;
  /** English s:Reason text (also Detail/Message), shown to the user by Windows. */
  message: string;
  errorType?: SoapFaultErrorType;
  /** Defaults to Receiver: Windows ignores Code/Value and Microsoft's and Intune's faults carry s:Receiver. */
  codeValue?: SoapFaultCodeValue;
  /** Internal diagnostic for logs; never sent to the device. */
  detail?: string;
  cause?: unknown;
}

/** A fault the server means to send. */
export class SoapFault extends Error {
  readonly subcode: SoapFaultSubcode;
  readonly errorType: SoapFaultErrorType | undefined;
  readonly codeValue: SoapFaultCodeValue;
  readonly detail: string | undefined;

  constructor(init: SoapFaultInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'SoapFault';
    this.subcode = init.subcode;
    this.errorType = init.errorType;
    this.codeValue = init.codeValue ?? 'Receiver';
    this.detail = init.detail;
  }
}

// These two are WS-Addressing / WCF fault names, written with the a: prefix (protocol.md §9.2).
const ADDRESSING_SUBCODES: ReadonlySet<SoapFaultSubcode> = new Set(['InternalServiceFault', 'InvalidSecurity']);

export interface EncodeSoapFaultInput {
  fault: SoapFault;
  /** a:Action to send; omitted when not given (Intune's faults carry no Action). */
  action?: string;
  /** MessageID of the request, when it could be read. */
  relatesTo?: string;
  /** Correlates the device's LastSoapErrorTraceId with server logs; sent as ActivityId and TraceId. */
  traceId: string;
}

export function encodeSoapFault(input: EncodeSoapFaultInput): string {
  const { fault, traceId } = input;
  const subcodePrefix = ADDRESSING_SUBCODES.has(fault.subcode) ? 'a' : 's';
  const message = escapeXml(fault.message);
  const errorType = fault.errorType === undefined ? '' : `<ErrorType>${escapeXml(fault.errorType)}</ErrorType>`;
  const header = encodeResponseHeader({
    ...(input.action === undefined ? {} : { action: input.action }),
    activityId: traceId,
    ...(input.relatesTo === undefined ? {} : { relatesTo: input.relatesTo }),
  });
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}">${header}<s:Body><s:Fault>` +
    `<s:Code><s:Value>s:${fault.codeValue}</s:Value><s:Subcode><s:Value>${subcodePrefix}:${fault.subcode}</s:Value></s:Subcode></s:Code>` +
    `<s:Reason><s:Text xml:lang="en-US">${message}</s:Text></s:Reason>` +
    `<s:Detail><DeviceEnrollmentServiceError xmlns="${NS.enrollment}">${errorType}` +
    `<Message>${message}</Message><TraceId>${escapeXml(traceId)}</TraceId></DeviceEnrollmentServiceError></s:Detail>` +
    `</s:Fault></s:Body></s:Envelope>`
  );
}

/** A fault as a client reads it: raw strings, since a server may send values outside our unions. */
export interface ReceivedFault {
  /** s:Code/s:Value text, e.g. `s:Receiver`. */
  codeValue: string;
  /** s:Subcode/s:Value text as sent, prefix included, e.g. `s:Authentication`. */
  subcode: string | undefined;
  errorType: string | undefined;
  reason: string;
  message: string | undefined;
  traceId: string | undefined;
}

const nonEmpty = (el: XmlElement | undefined): string | undefined => {
  const t = el?.text.trim();
  return t === undefined || t === '' ? undefined : t;
};

/**
 * Finds and reads an s:Fault anywhere in the document, the way the Windows enrollment client does
 * (`//s:Fault`, then descendant lookups; protocol.md §9.1). Returns undefined when there is none.
 */
export function decodeSoapFault(root: XmlElement): ReceivedFault | undefined {
  const fault = root.uri === NS.soap12 && root.local === 'Fault' ? root : descendant(root, NS.soap12, 'Fault');
  if (fault === undefined) return undefined;
  const code = descendant(fault, NS.soap12, 'Code');
  const subcode = code === undefined ? undefined : descendant(code, NS.soap12, 'Subcode');
  const codeValue = code?.children.find((c) => c.uri === NS.soap12 && c.local === 'Value');
  const reason = descendant(fault, NS.soap12, 'Reason');
  const detail = descendant(fault, NS.soap12, 'Detail');
  const serviceError = detail === undefined ? undefined : descendant(detail, NS.enrollment, 'DeviceEnrollmentServiceError');
  return {
    codeValue: nonEmpty(codeValue) ?? '',
    subcode: subcode === undefined ? undefined : nonEmpty(descendant(subcode, NS.soap12, 'Value')),
    errorType: serviceError === undefined ? undefined : nonEmpty(descendant(serviceError, NS.enrollment, 'ErrorType')),
    reason: (reason === undefined ? undefined : nonEmpty(descendant(reason, NS.soap12, 'Text'))) ?? '',
    message: serviceError === undefined ? undefined : nonEmpty(descendant(serviceError, NS.enrollment, 'Message')),
    traceId: serviceError === undefined ? undefined : nonEmpty(descendant(serviceError, NS.enrollment, 'TraceId')),
  };
}
