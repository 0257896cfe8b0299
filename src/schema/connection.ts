/**
 * Cursor pagination for every list: Relay args (first/after, last/before), default 20, max 100; anything outside
 * that, or a cursor that was not made by us, is a ValidationError. Cursors are opaque base64url JSON of a sort key.
 */
import { ValidationError } from '../errors.js';

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

export interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

export type CursorKey = (string | number)[];

export interface PageRequest {
  /** Rows to show. */
  size: number;
  /** true when reading backwards from `before` (or from the end with `last`). */
  backward: boolean;
  after: CursorKey | null;
  before: CursorKey | null;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor and checks it against the expected key shape ('s' string, 'n' integer). */
export function decodeCursor(cursor: string, shape: readonly ('s' | 'n')[], argName: string): CursorKey {
  const bad = () => ValidationError.field([argName], 'Invalid cursor');
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw bad();
  shape.forEach((kind, i) => {
    const v: unknown = parsed[i];
    // Numeric keys are int4 seqs in the database; anything beyond would fail there instead of here.
    if (kind === 'n' ? !Number.isInteger(v) || (v as number) < 0 || (v as number) > 2 ** 31 - 1 : typeof v !== 'string' || v.length > 200) {
      throw bad();
    }
  });
  return parsed as CursorKey;
}

/** Validates Relay args into a page request. */
export function pageRequest(args: PageArgs, shape: readonly ('s' | 'n')[]): PageRequest {
  for (const name of ['first', 'last'] as const) {
    const v = args[name];
    if (v != null && (!Number.isInteger(v) || v < 0 || v > MAX_PAGE)) {
      throw ValidationError.field([name], `Must be between 0 and ${MAX_PAGE}`);
    }
  }
  if (args.first != null && args.last != null) throw ValidationError.field(['last'], 'Use either first or last');
  const backward = args.last != null || (args.before != null && args.first == null && args.after == null);
  return {
    size: (backward ? args.last : args.first) ?? DEFAULT_PAGE,
    backward,
    after: args.after ? decodeCursor(args.after, shape, 'after') : null,
    before: args.before ? decodeCursor(args.before, shape, 'before') : null,
  };
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * Builds a connection from up to `size + 1` rows in reading order (newest-first when backward). The extra row only
 * tells that there is more in the reading direction; the opposite side is assumed to exist when a cursor bounds it.
 */
export function toConnection<T>(req: PageRequest, rows: T[], keyOf: (row: T) => CursorKey): Connection<T> {
  const hasMore = rows.length > req.size;
  const page = rows.slice(0, req.size);
  if (req.backward) page.reverse();
  const edges = page.map((node) => ({ node, cursor: encodeCursor(keyOf(node)) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: req.backward ? req.before != null : hasMore,
      hasPreviousPage: req.backward ? hasMore : req.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

/** A (time, id) keyset cursor key of the newest-first lists, checked: an impossible date is a ValidationError. */
export function timeKey(key: CursorKey, argName: 'after' | 'before'): { at: Date; id: string } {
  const at = new Date(String(key[0]));
  const year = at.getUTCFullYear();
  if (Number.isNaN(at.getTime()) || year < 1970 || year > 9999) throw ValidationError.field([argName], 'Invalid cursor');
  return { at, id: String(key[1]) };
}
