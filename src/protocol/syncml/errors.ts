// OMA-DM SyncML 1.2 (protocol.md §6, §9.3): the one error type for a SyncML message that cannot be read
// or must not be written. The management endpoint never answers it with a SOAP fault; the caller decides
// between a SyncHdr Status 400 and an HTTP error.

export class SyncMlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SyncMlError';
  }
}
