/**
 * List endpoints page with `limit` (1-200, default 50) and an opaque `cursor` taken from the previous
 * page's `nextCursor`. Order is stable (a unique key per resource), so pages neither repeat nor skip
 * items that existed when the first page was read. The cursor is base64url JSON; clients must not build it.
 */
import { z } from 'zod';
import { ApiProblem } from './problem.js';

export const MAX_PAGE = 200;

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50).describe('Items per page (1-200).'),
  cursor: z.string().max(1024).optional().describe('The `nextCursor` of the previous page.'),
});

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The response shape of every list: items and the cursor of the next page (null on the last page). */
export function pageOf<S extends z.ZodType>(item: S) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a cursor holding the given string fields; a cursor that is not one of ours is a 400. */
export function decodeCursor<K extends string>(cursor: string | undefined, keys: readonly K[]): Record<K, string> | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (v && typeof v === 'object' && keys.every((k) => typeof (v as Record<string, unknown>)[k] === 'string'))
      return v as Record<K, string>;
  } catch {
    // fall through
  }
  throw new ApiProblem(400, 'invalid_request', 'query.cursor: not a cursor this API returned', {
    errors: [{ path: 'query.cursor', message: 'invalid cursor' }],
  });
}

/**
 * Pages an in-memory list by a unique string key (for resources whose store returns the whole list;
 * those lists are small: domains, groups, profiles, tokens, admins, users).
 */
export function paginate<T>(all: readonly T[], key: (item: T) => string, q: { limit: number; cursor?: string | undefined }): Page<T> {
  const after = decodeCursor(q.cursor, ['k'])?.k;
  const sorted = [...all].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((i) => key(i) > after);
  const items = rest.slice(0, q.limit);
  const last = items.at(-1);
  return { items, nextCursor: rest.length > q.limit && last !== undefined ? encodeCursor({ k: key(last) }) : null };
}
