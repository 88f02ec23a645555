// How the Windows enrollment client turns a received fault into an HRESULT (protocol.md §9.1, §9.2):
// the ErrorType (or, without one, the Subcode) is searched case-sensitively for these substrings,
// first match wins. Used by the client simulator to report what a real device would show.

import type { ReceivedFault } from './fault.js';

const TABLE: ReadonlyArray<readonly [readonly string[], number]> = [
  [['MessageFormat'], 0x80180001],
  [['Authentication', 'FailedAuthentication'], 0x80180002],
  [['Authorization'], 0x80180003],
  [['CertificateRequest', 'CertificateAuthority'], 0x80180004],
  [['EnrollmentServer'], 0x80180005],
  [['InternalServiceFault', 'InternalServerFault'], 0x80180006],
  [['InvalidSecurity'], 0x80180007],
  [['DeviceCapReached'], 0x80180013],
  [['DeviceNotSupported'], 0x80180014],
  [['NotSupported'], 0x80180015],
  [['InMaintenance'], 0x80180017],
  [['UserLicense'], 0x80180018],
  [['InvalidEnrollmentData'], 0x80180019],
  [['CustomServerError'], 0x80180032],
];

export const MENROLL_E_DEVICE_UNKNOWN_ERROR = 0x80180008;

export function windowsHResultForFault(fault: ReceivedFault): number {
  const key = fault.errorType ?? fault.subcode ?? '';
  if (key.includes('NotEligibleToRenew') || fault.reason.includes('NotEligibleToRenew')) return 0x80180016;
  for (const [needles, hresult] of TABLE) {
    if (needles.some((n) => key.includes(n))) return hresult;
  }
  return MENROLL_E_DEVICE_UNKNOWN_ERROR;
}

/** When no `s:Fault` (exact case) can be found, Windows reports 0x80190000 | HTTP status. */
export function windowsHResultForUnparsedFault(httpStatus: number): number {
  return (0x80190000 | (httpStatus & 0xffff)) >>> 0;
}
