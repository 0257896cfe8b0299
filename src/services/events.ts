/** The per-thread event log: every change to a thread appends a row in the same transaction as the change. */
import { Prisma } from '../generated/prisma/client.js';
import type { Context } from '../context.js';
import { publishHint } from '../pubsub.js';

export type EventType = 'thread.created' | 'thread.updated' | 'chat.added' | 'chat.edited' | 'chat.deleted' | 'reaction.changed';

export interface AppendedEvent {
  threadId: string;
  seq: number;
  type: EventType;
}

/**
 * Bumps the thread's event counter (taking its row lock, so events of one thread are numbered in commit order) and
 * inserts the event row, in one statement. Call inside the transaction that makes the change.
 */
export async function appendEvent(
  tx: Prisma.TransactionClient,
  threadId: string,
  type: EventType,
  payload: Record<string, string | number | boolean | null>,
): Promise<AppendedEvent> {
  const rows = await tx.$queryRaw<{ seq: number }[]>(Prisma.sql`
    WITH b AS (UPDATE thread SET last_event_seq = last_event_seq + 1 WHERE id = ${threadId} RETURNING last_event_seq)
    INSERT INTO event (thread_id, seq, type, payload)
    SELECT ${threadId}, b.last_event_seq, ${type}, ${JSON.stringify(payload)}::jsonb FROM b
    RETURNING seq`);
  const seq = rows[0]?.seq;
  if (seq === undefined) throw new Error(`appendEvent: thread ${threadId} vanished inside its transaction`);
  return { threadId, seq: Number(seq), type };
}

/** Publishes the hints of committed events (never before commit; a failure is logged, not raised). */
export function publishEvents(ctx: Context, events: AppendedEvent[]): void {
  for (const e of events) publishHint(ctx.deps.pubsub, ctx.deps.log, e);
}
