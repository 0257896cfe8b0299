/** The per-thread event log: every change to a thread appends a row in the same transaction as the change. */
import { Prisma } from '../generated/prisma/client.js';
import type { Context } from '../context.js';
import { wakeWebhooks } from '../webhooks/worker.js';
import { userIdOf } from './visibility.js';

export type EventType =
  | 'thread.created'
  | 'thread.updated'
  | 'chat.added'
  | 'chat.edited'
  | 'chat.deleted'
  | 'reaction.changed'
  | 'conversation.created'
  | 'conversation.status_changed'
  | 'conversation.assigned';

export interface AppendedEvent {
  threadId: string;
  appId: string;
  seq: number;
  type: EventType;
  /** The event concerns an internal note (chat events only). */
  internal?: boolean;
  /** A chat sent by a support visitor. */
  byVisitor?: boolean;
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
  const rows = await tx.$queryRaw<{ seq: number; app_id: string }[]>(Prisma.sql`
    WITH b AS (UPDATE thread SET last_event_seq = last_event_seq + 1 WHERE id = ${threadId} RETURNING last_event_seq, app_id)
    INSERT INTO event (thread_id, seq, type, payload)
    SELECT ${threadId}, b.last_event_seq, ${type}, ${JSON.stringify(payload)}::jsonb FROM b
    RETURNING seq, (SELECT app_id FROM b)`);
  const row = rows[0];
  if (!row) throw new Error(`appendEvent: thread ${threadId} vanished inside its transaction`);
  return { threadId, appId: row.app_id, seq: Number(row.seq), type };
}

/**
 * Publishes the hints of committed events (never before commit; a failure is logged, not raised): on the thread's
 * topic for its streams and on the app's activity topic for feed and unread streams.
 */
export function publishEvents(ctx: Context, events: AppendedEvent[]): void {
  const actorId = userIdOf(ctx.viewer);
  for (const { threadId, appId, seq, type, internal, byVisitor } of events) {
    ctx.deps.bus.publish('thread', threadId, { threadId, seq, type });
    ctx.deps.bus.publish('activity', appId, { threadId, seq, type, authorId: actorId, ...(internal ? { internal } : {}), ...(byVisitor ? { byVisitor } : {}) });
  }
  if (events.length) wakeWebhooks(ctx.deps);
}

/**
 * Tells the live streams of these users that their access may have changed (left or removed from a channel, role
 * changed, deactivated): each re-checks at once and ends if it lost access.
 */
export function signalAccessChanged(ctx: Context, userIds: string[]): void {
  for (const id of userIds) ctx.deps.bus.publish('user', id, { type: 'access' });
}
