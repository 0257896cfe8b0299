/**
 * Reading the per-thread event log for streams: ranges after a seq, stream cursors, and retention.
 * A stream cursor names a thread and an event seq; it is opaque to clients and checked against the thread.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import { ValidationError } from '../errors.js';
import { decodeCursor, encodeCursor } from '../schema/connection.js';
import type { EventType } from './events.js';

export interface LoggedEvent {
  threadId: string;
  seq: number;
  type: EventType;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/** Events are read in pages of this size, so one slow catch-up never loads a whole thread's history at once. */
export const EVENT_PAGE = 200;

/** Up to `limit` events of a thread with seq > after, in seq order. */
export async function eventsAfter(prisma: PrismaClient, threadId: string, after: number, limit = EVENT_PAGE): Promise<LoggedEvent[]> {
  const rows = await prisma.event.findMany({
    where: { threadId, seq: { gt: after } },
    orderBy: { seq: 'asc' },
    take: limit,
    select: { threadId: true, seq: true, type: true, payload: true, createdAt: true },
  });
  return rows.map((r) => ({ ...r, type: r.type as EventType, payload: (r.payload ?? {}) as Record<string, unknown> }));
}

/** The cursor a client stores to resume a thread stream after event `seq`. */
export function eventCursor(threadId: string, seq: number): string {
  return encodeCursor(['te', threadId, seq]);
}

/** The event seq a cursor of this thread stands for; a forged cursor or one of another thread is a ValidationError. */
export function parseEventCursor(cursor: string, threadId: string): number {
  const [tag, thread, seq] = decodeCursor(cursor, ['s', 's', 'n'], 'after');
  if (tag !== 'te' || thread !== threadId) throw ValidationError.field(['after'], 'This cursor belongs to another stream');
  return seq as number;
}

/**
 * Deletes events older than the retention window, in batches so that one run never holds long locks. Streams that
 * resume from a cursor older than what is left get a ResyncRequiredEvent.
 */
export async function pruneEvents(prisma: PrismaClient, olderThan: Date, batch = 5_000): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await prisma.$executeRaw`
      DELETE FROM event WHERE id IN (SELECT id FROM event WHERE created_at < ${olderThan} ORDER BY id LIMIT ${batch})`;
    total += n;
    if (n < batch) return total;
  }
}
