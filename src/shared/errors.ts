/**
 * Errors raised by domain code and storage, independent of any transport. Transports map `code` to what
 * their peer understands (a SOAP fault for devices, problem+json for the API, a one-line cause for the CLI).
 */
export type WinrollErrorCode =
  | 'not_found'
  | 'conflict'
  | 'invalid_input'
  | 'unauthenticated'
  | 'forbidden'
  | 'storage_unavailable'
  | 'internal';

export class WinrollError extends Error {
  readonly code: WinrollErrorCode;
  constructor(code: WinrollErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WinrollError';
    this.code = code;
  }
}

export class NotFoundError extends WinrollError {
  constructor(message: string) {
    super('not_found', message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends WinrollError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'ConflictError';
  }
}

export class InvalidInputError extends WinrollError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'InvalidInputError';
  }
}
