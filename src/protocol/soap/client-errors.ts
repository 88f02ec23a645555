// Errors raised by the client-side decoders used by the Windows-client simulator (protocol.md §9.1):
// a fault the server sent back, or a response that is not what the protocol requires.

import type { ReceivedFault } from './fault.js';

export class ReceivedFaultError extends Error {
  readonly fault: ReceivedFault;
  constructor(fault: ReceivedFault) {
    super(`server returned a SOAP fault: ${fault.errorType ?? fault.subcode ?? fault.codeValue}: ${fault.reason}`);
    this.name = 'ReceivedFaultError';
    this.fault = fault;
  }
}

export class MalformedResponseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedResponseError';
  }
}
