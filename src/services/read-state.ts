/**
 * Read state per (thread, user). `lastReadSeq` never moves backwards (GREATEST). Unread count is
 * `thread.lastSeq - lastReadSeq`, floored at 0; sending a chat marks the thread read up to it for its author (as in
 * Slack and Zulip), so one's own chats never count as unread.
 */
import { Prisma } from '../generated/prisma/client.js';
import type { Context } from '../context.js';
import { NotFoundError, UnauthenticatedError } from '../errors.js';
import { findVisibleThread } from './thread.js';
import { isAgentSide, visibleChatWhere } from './visibility.js';

export interface ReadStateView {
  threadId: string;
  lastReadSeq: number;
  unreadCount: number;
  mutedUntil: Date | null;
}

function requireUserId(ctx: Context): string {
  if (ctx.viewer.kind !== 'user') throw new UnauthenticatedError('Read state needs a user token');
  return ctx.viewer.user.id;
}

/** The viewer's read state of a thread (zero state when never read). */
export async function readStateOf(ctx: Context, thread: { id: string; lastSeq: number }): Promise<ReadStateView | null> {
  const v = ctx.viewer;
  if (v.kind !== 'user') return null;
  const rs = await ctx.prisma.readState.findUnique({ where: { threadId_userId: { threadId: thread.id, userId: v.user.id } } });
  const lastReadSeq = rs?.lastReadSeq ?? 0;
  // A visitor's count leaves out internal notes (and so cannot reveal them): count what they can see.
  const unreadCount = isAgentSide(v)
    ? Math.max(0, thread.lastSeq - lastReadSeq)
    : await ctx.prisma.chat.count({ where: { threadId: thread.id, seq: { gt: lastReadSeq }, internal: false, authorId: { not: v.user.id } } });
  return { threadId: thread.id, lastReadSeq, unreadCount, mutedUntil: rs?.mutedUntil ?? null };
}

/**
 * The thread's chat counters as the viewer may see them: a visitor's leave out internal notes (newest visible seq
 * and number of visible chats), so they reveal nothing about notes.
 */
export async function chatCountsFor(ctx: Context, thread: { id: string; lastSeq: number; numChats: number }): Promise<{ lastSeq: number; numChats: number }> {
  if (isAgentSide(ctx.viewer)) return { lastSeq: thread.lastSeq, numChats: thread.numChats };
  const agg = await ctx.prisma.chat.aggregate({ where: { threadId: thread.id, internal: false }, _max: { seq: true }, _count: true });
  return { lastSeq: agg._max.seq ?? 0, numChats: agg._count };
}

/** Marks a thread read up to a chat of it; never moves backwards. */
export async function markRead(ctx: Context, threadId: string, chatId: string): Promise<ReadStateView> {
  const userId = requireUserId(ctx);
  const thread = await findVisibleThread(ctx, threadId);
  const chat = await ctx.prisma.chat.findFirst({ where: { id: chatId, threadId: thread.id, ...visibleChatWhere(ctx.viewer) }, select: { seq: true } });
  if (!chat) throw new NotFoundError('Chat not found in this thread');
  await ctx.prisma.$executeRaw(Prisma.sql`
    INSERT INTO read_state (thread_id, user_id, last_read_seq, updated_at) VALUES (${thread.id}, ${userId}, ${chat.seq}, now())
    ON CONFLICT (thread_id, user_id) DO UPDATE
      SET last_read_seq = GREATEST(read_state.last_read_seq, EXCLUDED.last_read_seq), updated_at = now()`);
  const view = (await readStateOf(ctx, thread)) as ReadStateView;
  // The user's other devices and streams (threadEvents, unreadCountsChanged) learn of it through the user topic.
  ctx.deps.bus.publish('user', userId, { type: 'read', threadId: thread.id, lastReadSeq: view.lastReadSeq });
  return view;
}

/** Mutes a thread until a time (null unmutes). */
export async function muteThread(ctx: Context, threadId: string, until: Date | null): Promise<ReadStateView> {
  const userId = requireUserId(ctx);
  const thread = await findVisibleThread(ctx, threadId);
  await ctx.prisma.readState.upsert({
    where: { threadId_userId: { threadId: thread.id, userId } },
    create: { threadId: thread.id, userId, mutedUntil: until },
    update: { mutedUntil: until, updatedAt: new Date() },
  });
  return (await readStateOf(ctx, thread)) as ReadStateView;
}
