import { ConflictError, NotFoundError, WinrollError } from '../../shared/errors.js';

interface DriverError {
  code?: unknown;
  message?: unknown;
  constraint?: unknown;
}

function fields(err: unknown): DriverError {
  return typeof err === 'object' && err !== null ? (err as DriverError) : {};
}

/** True for a unique or primary-key violation from either driver (pg SQLSTATE 23505, SQLite constraint codes). */
export function isUniqueViolation(err: unknown): boolean {
  const { code } = fields(err);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** True for a foreign-key violation from either driver (pg SQLSTATE 23503, SQLite SQLITE_CONSTRAINT_FOREIGNKEY). */
export function isForeignKeyViolation(err: unknown): boolean {
  const { code } = fields(err);
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** Which constraint a unique violation hit, when the driver says (pg: name; SQLite: `table.column` list). */
export function violatedConstraint(err: unknown): string {
  const { constraint, message } = fields(err);
  if (typeof constraint === 'string') return constraint;
  if (typeof message === 'string') {
    const m = /constraint failed: (.*)$/i.exec(message);
    if (m?.[1]) return m[1];
  }
  return '';
}

const NODE_NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  'ENOENT', // unix socket missing
  'EACCES',
]);

/** True when the error means the database cannot be reached or used right now (not a bad query). */
export function isUnavailable(err: unknown): boolean {
  const { code, message } = fields(err);
  if (typeof code === 'string') {
    if (NODE_NET_CODES.has(code)) return true;
    // PostgreSQL SQLSTATE: 08 connection exception, 28 auth, 3D000 no such database, 53300 too many
    // connections, 57P01..57P03 shutdown / starting up.
    if (/^(08|28)[0-9A-Z]{3}$/.test(code) || ['3D000', '53300', '57P01', '57P02', '57P03'].includes(code)) {
      return true;
    }
    if (/^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|CORRUPT|NOTADB|PERM|AUTH)/.test(code)) return true;
  }
  if (typeof message === 'string') {
    return /connection terminated|timeout exceeded when trying to connect|not queryable|cannot use a pool after calling end|database connection is not open|cannot open database/i.test(
      message,
    );
  }
  return false;
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length > 0) {
      out = out.split(s).join('***');
      const enc = encodeURIComponent(s);
      if (enc !== s) out = out.split(enc).join('***');
    }
  }
  return out;
}

/** A `storage_unavailable` error whose message names the driver's reason but none of the given secrets. */
export function storageUnavailable(context: string, err: unknown, secrets: readonly string[] = []): WinrollError {
  const { message, code } = fields(err);
  const reason = typeof message === 'string' && message !== '' ? message : typeof code === 'string' ? code : String(err);
  // The cause is deliberately not attached: driver errors can carry connection parameters.
  return new WinrollError('storage_unavailable', scrub(`${context}: ${reason}`, secrets));
}

/**
 * Re-raises driver failures as domain errors: unique violations → ConflictError, foreign-key violations
 * (a referenced row is missing) → NotFoundError when `missing` is given, outages → storage_unavailable.
 */
export function mapDriverError(
  err: unknown,
  opts: { conflict?: string; missing?: string; where: string; secrets?: readonly string[] },
): never {
  if (err instanceof WinrollError) throw err;
  if (opts.conflict !== undefined && isUniqueViolation(err)) throw new ConflictError(opts.conflict);
  if (opts.missing !== undefined && isForeignKeyViolation(err)) throw new NotFoundError(opts.missing);
  if (isUnavailable(err)) throw storageUnavailable(`storage unavailable (${opts.where})`, err, opts.secrets);
  throw err;
}
