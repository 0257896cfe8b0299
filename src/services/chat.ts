/** Chats after they are sent: history, edit, delete (tombstone), reactions. */
import type { Context } from '../context.js';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors.js';
import type { Chat, Prisma } from '../generated/prisma/client.js';
import { isModPlus } from '../auth/roles.js';
import { toConnection, type Connection, type PageRequest } from '../schema/connection.js';
import { appendEvent, publishEvents, type AppendedEvent } from './events.js';
import { postableThreadWhere, visibleChatWhere } from './visibility.js';

/** A chat the viewer may see, or NotFoundError. */
export async function findVisibleChat(ctx: Context, id: string): Promise<Chat> {
  const chat = await ctx.prisma.chat.findFirst({ where: { id, ...visibleChatWhere(ctx.viewer) } });
  if (!chat) throw new NotFoundError('Chat not found');
  return chat;
}

/**
 * Runs a change to a chat in a transaction with its event row, then publishes the hint. The thread row is locked
 * first and the chat re-read under that lock, so concurrent edits, deletes and reactions see each other's result
 * (an edit cannot revive a tombstone, a second delete writes no second event).
 */
async function changeChat<T>(
  ctx: Context,
  chat: Chat,
  change: (tx: Prisma.TransactionClient, fresh: Chat, addEvent: (e: AppendedEvent) => void) => Promise<T>,
): Promise<T> {
  const events: AppendedEvent[] = [];
  const result = await ctx.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM thread WHERE id = ${chat.threadId} FOR UPDATE`;
    const fresh = await tx.chat.findUniqueOrThrow({ where: { id: chat.id } });
    return change(tx, fresh, (e) => events.push(e));
  });
  publishEvents(ctx, events);
  return result;
}

/** Edits the text of one's own chat (deleted chats cannot be edited). */
export async function editChat(ctx: Context, id: string, text: string): Promise<Chat> {
  const chat = await findVisibleChat(ctx, id);
  const v = ctx.viewer;
  if (v.kind !== 'user' || v.user.id !== chat.authorId) throw new ForbiddenError('Only the author may edit a chat');
  return changeChat(ctx, chat, async (tx, fresh, add) => {
    if (fresh.deletedAt) throw new NotFoundError('Chat not found');
    add(await appendEvent(tx, chat.threadId, 'chat.edited', { chatId: chat.id, seq: chat.seq, internal: chat.internal }));
    return tx.chat.update({ where: { id: chat.id }, data: { text, editedAt: new Date() } });
  });
}

/** Tombstones a chat (author or MOD+): the text becomes empty, the row and its seq stay so history keeps its order. */
export async function deleteChat(ctx: Context, id: string): Promise<Chat> {
  const chat = await findVisibleChat(ctx, id);
  const v = ctx.viewer;
  const allowed = v.kind === 'secretKey' || (v.kind === 'user' && (v.user.id === chat.authorId || isModPlus(v.user.role)));
  if (!allowed) throw new ForbiddenError('Only the author or a moderator may delete a chat');
  return changeChat(ctx, chat, async (tx, fresh, add) => {
    if (fresh.deletedAt) return fresh;
    add(await appendEvent(tx, chat.threadId, 'chat.deleted', { chatId: chat.id, seq: chat.seq, internal: chat.internal }));
    await tx.reaction.deleteMany({ where: { chatId: chat.id } });
    return tx.chat.update({ where: { id: chat.id }, data: { text: '', deletedAt: new Date() } });
  });
}

/**
 * Sets or removes the viewer's reaction: a blind write (setting twice or removing a missing reaction is fine). An
 * event is written only when something changed. Like posting, reacting needs membership of one of the thread's
 * channels (ANYONE channels are read-only for non-members).
 */
export async function setReaction(ctx: Context, chatId: string, name: string, set: boolean): Promise<Chat> {
  const v = ctx.viewer;
  if (v.kind !== 'user') throw new UnauthenticatedError('Reacting needs a user token');
  const chat = await findVisibleChat(ctx, chatId);
  const member = await ctx.prisma.thread.count({ where: { id: chat.threadId, ...postableThreadWhere(ctx.viewer) } });
  if (!member) throw new ForbiddenError('Join a channel of this thread to react');
  await changeChat(ctx, chat, async (tx, fresh, add) => {
    if (fresh.deletedAt) throw new NotFoundError('Chat not found');
    const changed = set
      ? (await tx.reaction.createMany({ data: [{ chatId, name, userId: v.user.id }], skipDuplicates: true })).count
      : (await tx.reaction.deleteMany({ where: { chatId, name, userId: v.user.id } })).count;
    if (changed > 0) {
      add(await appendEvent(tx, chat.threadId, 'reaction.changed', { chatId, seq: chat.seq, name, userId: v.user.id, set, internal: chat.internal }));
    }
  });
  return chat;
}

/**
 * History of a thread by seq: first/after and last/before pages, or `around` a chat (the page centred on it).
 * Seqs are gap-free, so hasPreviousPage / hasNextPage come from the thread's bounds.
 */
export async function listChats(
  ctx: Context,
  thread: { id: string; lastSeq: number },
  req: PageRequest,
  around: string | null,
  query: { include?: Prisma.ChatInclude; select?: Prisma.ChatSelect } = {},
): Promise<Connection<Chat>> {
  const base = { threadId: thread.id, ...visibleChatWhere(ctx.viewer) };
  const keyOf = (c: Chat) => [c.seq];
  if (around) {
    const centre = await ctx.prisma.chat.findFirst({ where: { id: around, ...base }, select: { seq: true } });
    if (!centre) throw new NotFoundError('Chat not found');
    const from = Math.max(1, centre.seq - Math.floor(req.size / 2));
    const rows = (await ctx.prisma.chat.findMany({
      ...query,
      where: { ...base, seq: { gte: from, lt: from + req.size } },
      orderBy: { seq: 'asc' },
    })) as Chat[];
    const conn = toConnection({ ...req, backward: false, size: rows.length }, rows, keyOf);
    conn.pageInfo.hasPreviousPage = from > 1;
    conn.pageInfo.hasNextPage = from + req.size - 1 < thread.lastSeq;
    return conn;
  }
  const after = req.after ? Number(req.after[0]) : 0;
  const before = req.before ? Number(req.before[0]) : thread.lastSeq + 1;
  const rows = (await ctx.prisma.chat.findMany({
    ...query,
    where: { ...base, seq: { gt: after, lt: before } },
    orderBy: { seq: req.backward ? 'desc' : 'asc' },
    take: req.size + 1,
  })) as Chat[];
  const conn = toConnection(req, rows, keyOf);
  // Gap-free seqs: anything before `after` or from `before` on exists exactly when the bound is inside the thread.
  conn.pageInfo.hasPreviousPage = req.backward ? conn.pageInfo.hasPreviousPage : after > 0 && after <= thread.lastSeq;
  conn.pageInfo.hasNextPage = req.backward ? before <= thread.lastSeq : conn.pageInfo.hasNextPage;
  return conn;
}
