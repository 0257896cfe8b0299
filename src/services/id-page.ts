/** Keyset pagination by id (ids are time-ordered, so this is creation order) for the small owner-side lists. */
import { toConnection, type Connection, type PageRequest } from '../schema/connection.js';

/** The Prisma `where.id`, `orderBy` and `take` of one page of an id-ordered list. Cursor shape: `['s']`. */
export function idPageArgs(req: PageRequest): {
  id: { gt?: string; lt?: string };
  orderBy: { id: 'asc' | 'desc' };
  take: number;
} {
  const [from, to] = req.backward ? [req.before, req.after] : [req.after, req.before];
  const id: { gt?: string; lt?: string } = {};
  if (from) id[req.backward ? 'lt' : 'gt'] = String(from[0]);
  if (to) id[req.backward ? 'gt' : 'lt'] = String(to[0]);
  return { id, orderBy: { id: req.backward ? 'desc' : 'asc' }, take: req.size + 1 };
}

/** Runs `fetch` with the page arguments and builds the connection. */
export async function pageById<T extends { id: string }>(
  req: PageRequest,
  fetch: (page: ReturnType<typeof idPageArgs>) => Promise<T[]>,
): Promise<Connection<T>> {
  const rows = await fetch(idPageArgs(req));
  return toConnection(req, rows, (row) => [row.id]);
}
