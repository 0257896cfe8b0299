/**
 * Delivery acknowledgements (the chip outbox, on the event log): a client acks that every chat up to a seq reached
 * it; reading implies delivery. The author side sees SENT / DELIVERED / READ per chat, and a stream resumed with
 * `after` first redelivers the chats of others the user has not acked, which the replay after the cursor would skip.
 */
import { Prisma } from '../generated/prisma/client.js';
import type { Context } from '../context.js';
import { UnauthenticatedError, ValidationError } from '../errors.js';
import type { LoggedEvent } from './event-log.js';
import type { EventType } from './events.js';
import { chatCountsFor } from './read-state.js';
import { findVisibleThread } from './thread.js';
import { isAgentSide } from './visibility.js';

export type DeliveryState = 'SENT' | 'DELIVERED' | 'READ';

/** Records that everything up to `upToSeq` reached the viewer; never moves backwards. Returns the stored ack. */
export async function ackChats(ctx: Context, threadId: string, upToSeq: number): Promise<{ threadId: string; ackedSeq: number }> {
  const v = ctx.viewer;
  if (v.kind !== 'user') throw new UnauthenticatedError('Acks need a user or visitor token');
  const thread = await findVisibleThread(ctx, threadId);
  // Checked against what the viewer can see, so a visitor's ack cannot probe for trailing internal notes.
  if (upToSeq > (await chatCountsFor(ctx, thread)).lastSeq) throw ValidationError.field(['upToSeq'], 'upToSeq is beyond the newest chat of the thread');
  const rows = await ctx.prisma.$queryRaw<{ acked_seq: number }[]>(Prisma.sql`
    INSERT INTO read_state (thread_id, user_id, acked_seq, updated_at) VALUES (${thread.id}, ${v.user.id}, ${upToSeq}, now())
    ON CONFLICT (thread_id, user_id) DO UPDATE
      SET acked_seq = GREATEST(read_state.acked_seq, EXCLUDED.acked_seq), updated_at = now()
    RETURNING acked_seq`);
  return { threadId: thread.id, ackedSeq: Number(rows[0]?.acked_seq ?? upToSeq) };
}

/** The seq up to which chats reached this user (acked or read). */
export async function deliveredUpTo(ctx: Context, threadId: string, userId: string): Promise<number> {
  const rs = await ctx.prisma.readState.findUnique({ where: { threadId_userId: { threadId, userId } }, select: { ackedSeq: true, lastReadSeq: true } });
  return Math.max(rs?.ackedSeq ?? 0, rs?.lastReadSeq ?? 0);
}

interface Reach {
  read: number;
  delivered: number;
}

const reachCache = new WeakMap<Context, Map<string, Promise<Reach>>>();

/** How far the chats of `authorId` reached everyone else in the thread, once per request per (thread, author). */
function reachOf(ctx: Context, threadId: string, authorId: string): Promise<Reach> {
  let perCtx = reachCache.get(ctx);
  if (!perCtx) reachCache.set(ctx, (perCtx = new Map()));
  const key = `${threadId}:${authorId}`;
  let hit = perCtx.get(key);
  if (!hit) {
    hit = ctx.prisma.$queryRaw<{ read: number | null; delivered: number | null }[]>(Prisma.sql`
      SELECT max(last_read_seq) AS read, max(GREATEST(acked_seq, last_read_seq)) AS delivered
      FROM read_state WHERE thread_id = ${threadId} AND user_id <> ${authorId}`).then(([r]) => ({ read: Number(r?.read ?? 0), delivered: Number(r?.delivered ?? 0) }));
    perCtx.set(key, hit);
  }
  return hit;
}

/** READ when someone other than the author read the chat, DELIVERED when it reached someone's client, else SENT. */
export async function deliveryStateOf(ctx: Context, chat: { threadId: string; authorId: string; seq: number }): Promise<DeliveryState> {
  const reach = await reachOf(ctx, chat.threadId, chat.authorId);
  return reach.read >= chat.seq ? 'READ' : reach.delivered >= chat.seq ? 'DELIVERED' : 'SENT';
}

export interface Receipt {
  userId: string;
  state: Exclude<DeliveryState, 'SENT'>;
}

/** Per recipient (agents only; empty for visitors): who the chat reached and who read it, up to 100. */
export async function receiptsOf(ctx: Context, chat: { threadId: string; authorId: string; seq: number }): Promise<Receipt[]> {
  if (!isAgentSide(ctx.viewer)) return [];
  const rows = await ctx.prisma.readState.findMany({
    where: { threadId: chat.threadId, userId: { not: chat.authorId }, OR: [{ ackedSeq: { gte: chat.seq } }, { lastReadSeq: { gte: chat.seq } }] },
    orderBy: { userId: 'asc' },
    take: 100,
    select: { userId: true, lastReadSeq: true },
  });
  return rows.map((r) => ({ userId: r.userId, state: r.lastReadSeq >= chat.seq ? 'READ' : 'DELIVERED' }));
}

/**
 * chat.added events of chats by others that the user has not acked (or read), with event seq in (from, upTo], in
 * order, at most `limit`. Deleted chats and, for visitors, internal notes are left out.
 */
export async function unackedChatEvents(
  ctx: Context,
  threadId: string,
  acked: number,
  from: number,
  upTo: number,
  limit: number,
): Promise<LoggedEvent[]> {
  const v = ctx.viewer;
  if (v.kind !== 'user') return [];
  const agent = isAgentSide(v);
  const rows = await ctx.prisma.$queryRaw<{ seq: number; type: string; payload: Record<string, unknown>; created_at: Date }[]>(Prisma.sql`
    SELECT e.seq, e.type, e.payload, e.created_at FROM event e
    JOIN chat c ON c.id = e.payload->>'chatId' AND c.thread_id = e.thread_id
    WHERE e.thread_id = ${threadId} AND e.type = 'chat.added' AND e.seq > ${from} AND e.seq <= ${upTo}
      AND c.author_id <> ${v.user.id} AND c.deleted_at IS NULL AND c.seq > ${acked} AND (${agent} OR NOT c.internal)
    ORDER BY e.seq LIMIT ${limit}`);
  return rows.map((r) => ({ threadId, seq: Number(r.seq), type: r.type as EventType, payload: r.payload, createdAt: r.created_at }));
}
