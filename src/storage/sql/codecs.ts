import { InvalidInputError } from '../../shared/errors.js';

/**
 * Column codecs shared by every dialect: timestamps are ISO-8601 UTC text with milliseconds
 * (`2024-05-01T12:00:00.000Z`, which sorts and compares as text), booleans are 0/1 integers, JSON is text.
 */
export function timeToDb(d: Date): string {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new InvalidInputError('invalid timestamp');
  return d.toISOString();
}

export function timeFromDb(s: string): Date {
  return new Date(s);
}

export function timeFromDbOrNull(s: string | null): Date | null {
  return s === null ? null : new Date(s);
}

export function boolToDb(b: boolean): number {
  return b ? 1 : 0;
}

export function boolFromDb(v: number | bigint | boolean | string): boolean {
  return v === true || Number(v) !== 0;
}

export function jsonToDb(v: unknown): string {
  return JSON.stringify(v);
}

export function stringArrayFromDb(s: string): string[] {
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** int4/int8 may come back as number (SQLite) or string/bigint (pg without a parser); normalise. */
export function intFromDb(v: number | bigint | string | null): number | null {
  return v === null ? null : Number(v);
}
