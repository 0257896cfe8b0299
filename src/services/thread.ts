/** Threads: create (with the first chat), update, list newest-activity first. */
import type { Context } from '../context.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, sqlState } from '../errors.js';
import type { Chat, Prisma, Thread } from '../generated/prisma/client.js';
import { newId } from '../ids.js';
import { isAdminPlus, isModPlus } from '../auth/roles.js';
import { timeKey, toConnection, type PageRequest } from '../schema/connection.js';
import { appendEvent, publishEvents, type AppendedEvent } from './events.js';
import { visibleThreadWhere } from './visibility.js';

export interface CreateThreadInput {
  channelIds: string[];
  subject?: string | null;
  text: string;
  clientId?: string | null;
}

/**
 * Creates a thread in one or more channels the author is a member of, with its first chat (seq 1). A retry with the
 * same clientId returns the stored thread and chat.
 */
export async function createThread(ctx: Context, input: CreateThreadInput): Promise<{ thread: Thread; chat: Chat }> {
  const v = ctx.viewer;
  if (v.kind !== 'user') throw new UnauthenticatedError('Creating threads needs a user token');
  const channelIds = [...new Set(input.channelIds)];
  if (input.clientId) {
    const stored = await storedThread(ctx, v.user.id, input.clientId);
    if (stored) return stored;
  }
  const events: AppendedEvent[] = [];
  try {
    const result = await ctx.prisma.$transaction(async (tx) => {
      const channels = await tx.channel.findMany({
        where: { id: { in: channelIds }, appId: v.appId, deletedAt: null },
        select: { id: true, direct: true, visibility: true, members: { where: { userId: v.user.id }, select: { userId: true } } },
      });
      const visible = channels.filter((c) => c.visibility !== 'HIDDEN' || c.members.length > 0);
      if (visible.length !== channelIds.length) throw new NotFoundError('Channel not found');
      if (visible.some((c) => c.members.length === 0)) throw new ForbiddenError('Join every channel of the thread first');
      const now = new Date();
      const thread = await tx.thread.create({
        data: {
          id: newId('thr'),
          appId: v.appId,
          authorId: v.user.id,
          subject: input.subject ?? null,
          createdAt: now,
          lastActivityAt: now,
          numChats: 1,
          lastSeq: 1,
          isDirect: visible.every((c) => c.direct),
          channels: { createMany: { data: channelIds.map((channelId) => ({ channelId })) } },
          participants: { createMany: { data: [{ userId: v.user.id }] } },
          readStates: { createMany: { data: [{ userId: v.user.id, lastReadSeq: 1 }] } },
        },
      });
      const chat = await tx.chat.create({
        data: { id: newId('cht'), appId: v.appId, threadId: thread.id, seq: 1, authorId: v.user.id, text: input.text, clientId: input.clientId ?? null, createdAt: now },
      });
      events.push(await appendEvent(tx, thread.id, 'thread.created', { threadId: thread.id }));
      events.push(await appendEvent(tx, thread.id, 'chat.added', { chatId: chat.id, seq: 1 }));
      return { thread: { ...thread, lastEventSeq: events.length }, chat };
    });
    publishEvents(ctx, events);
    return result;
  } catch (err) {
    if (input.clientId && sqlState(err) === '23505') {
      const stored = await storedThread(ctx, v.user.id, input.clientId);
      if (stored) return stored;
    }
    throw err;
  }
}

/**
 * The stored result of an earlier createThread with this clientId. A clientId already used for something else (a
 * later chat, or a thread the author can no longer see) is a ConflictError, never a way to read that thread.
 */
async function storedThread(ctx: Context, authorId: string, clientId: string) {
  const chat = await ctx.prisma.chat.findUnique({ where: { authorId_clientId: { authorId, clientId } } });
  if (!chat) return null;
  const thread = await ctx.prisma.thread.findFirst({ where: { id: chat.threadId, ...visibleThreadWhere(ctx.viewer) } });
  if (chat.seq !== 1 || !thread) throw new ConflictError('This clientId was already used for another chat');
  return { thread, chat };
}

/** A thread the viewer may see, or NotFoundError. */
export async function findVisibleThread(ctx: Context, id: string): Promise<Thread> {
  const thread = await ctx.prisma.thread.findFirst({ where: { id, ...visibleThreadWhere(ctx.viewer) } });
  if (!thread) throw new NotFoundError('Thread not found');
  return thread;
}

export interface UpdateThreadInput {
  id: string;
  subject?: string | null;
  tags?: string[] | null;
  resolved?: boolean | null;
  hidden?: boolean | null;
  deleted?: boolean | null;
}

/** hidden/deleted: ADMIN+ (or SECRET key); subject, tags, resolved: the author or MOD+. */
export async function updateThread(ctx: Context, input: UpdateThreadInput): Promise<Thread> {
  const v = ctx.viewer;
  const thread = await findVisibleThread(ctx, input.id);
  const key = v.kind === 'secretKey';
  const role = v.kind === 'user' ? v.user.role : null;
  const isAuthor = v.kind === 'user' && v.user.id === thread.authorId;
  if ((input.hidden != null || input.deleted != null) && !(key || (role && isAdminPlus(role)))) {
    throw new ForbiddenError('Only admins may hide or delete threads');
  }
  if ((input.subject !== undefined || input.tags != null || input.resolved != null) && !(key || isAuthor || (role && isModPlus(role)))) {
    throw new ForbiddenError('Only the author or a moderator may edit this thread');
  }
  const data: Prisma.ThreadUpdateInput = {
    ...(input.subject !== undefined ? { subject: input.subject } : {}),
    ...(input.tags != null ? { tags: [...new Set(input.tags)] } : {}),
    ...(input.resolved != null ? { resolved: input.resolved } : {}),
    ...(input.hidden != null ? { hidden: input.hidden } : {}),
    ...(input.deleted != null ? { deletedAt: input.deleted ? new Date() : null } : {}),
  };
  if (Object.keys(data).length === 0) return thread;
  let event: AppendedEvent | undefined;
  const updated = await ctx.prisma.$transaction(async (tx) => {
    event = await appendEvent(tx, thread.id, 'thread.updated', { threadId: thread.id });
    return tx.thread.update({ where: { id: thread.id }, data });
  });
  if (event) publishEvents(ctx, [event]);
  return updated;
}

/** Threads the viewer may see, newest activity first; optionally only those in one channel. */
export async function listThreads(ctx: Context, req: PageRequest, filter: Prisma.ThreadWhereInput = {}) {
  const where: Prisma.ThreadWhereInput[] = [visibleThreadWhere(ctx.viewer), filter];
  // Keyset on (lastActivityAt desc, id desc): "after" means older.
  const older = (k: (string | number)[]) => activityFilter(k, 'lt');
  const newer = (k: (string | number)[]) => activityFilter(k, 'gt');
  if (req.after) where.push(older(req.after));
  if (req.before) where.push(newer(req.before));
  const dir = req.backward ? 'asc' : 'desc';
  const rows = await ctx.prisma.thread.findMany({
    where: { AND: where },
    orderBy: [{ lastActivityAt: dir }, { id: dir }],
    take: req.size + 1,
  });
  return toConnection(req, rows, (t) => [t.lastActivityAt.toISOString(), t.id]);
}

function activityFilter(key: (string | number)[], op: 'lt' | 'gt'): Prisma.ThreadWhereInput {
  const { at, id } = timeKey(key, op === 'lt' ? 'after' : 'before');
  return { OR: [{ lastActivityAt: { [op]: at } }, { lastActivityAt: at, id: { [op]: id } }] };
}
