/** Threads: the Thread node, thread(id), threads, createThread, updateThread, markRead, muteThread. */
import { queryFromInfo } from '@pothos/plugin-prisma';
import { builder } from '../builder.js';
import type { Chat } from '../generated/prisma/client.js';
import { listChats } from '../services/chat.js';
import { findVisibleChannel } from '../services/channel.js';
import { chatCountsFor, markRead, muteThread, readStateOf, type ReadStateView } from '../services/read-state.js';
import { ackChats } from '../services/delivery.js';
import { createThread, findVisibleThread, listThreads, updateThread } from '../services/thread.js';
import { z } from 'zod';
import { readableChannelWhere, visibleThreadWhere } from '../services/visibility.js';
import { pageRequest } from './connection.js';
import { ChatNode } from './chat.js';
import { defineMutation } from './mutation.js';
import { UserNode } from './user.js';
import { clientKey, idList, safeText, tagList } from './validators.js';
import { ChannelNode } from './channel.js';

export const ReadStateRef = builder.objectRef<ReadStateView>('ReadState').implement({
  description: 'The viewer’s read state of a thread. Own chats never count as unread (sending marks read).',
  fields: (t) => ({
    lastReadSeq: t.exposeInt('lastReadSeq'),
    unreadCount: t.exposeInt('unreadCount'),
    mutedUntil: t.expose('mutedUntil', { type: 'DateTime', nullable: true }),
    lastReadChat: t.prismaField({
      type: 'Chat',
      nullable: true,
      resolve: (query, rs, _a, ctx) =>
        rs.lastReadSeq > 0
          ? ctx.prisma.chat.findUnique({ ...query, where: { threadId_seq: { threadId: rs.threadId, seq: rs.lastReadSeq } } })
          : null,
    }),
  }),
});

export const ThreadNode = builder.prismaNode('Thread', {
  id: { field: 'id' },
  // Unknown and invisible ids resolve to null (no error, no existence oracle).
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [visibleThreadWhere(ctx.viewer)] }),
  fields: (t) => ({
    subject: t.exposeString('subject', { nullable: true }),
    author: t.relation('author'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastActivityAt: t.expose('lastActivityAt', { type: 'DateTime' }),
    numChats: t.int({ resolve: async (th, _a, ctx) => (await chatCountsFor(ctx, th)).numChats }),
    lastSeq: t.int({
      description: 'Seq of the newest chat (chats are numbered 1, 2, 3… without gaps; visitors skip internal notes).',
      resolve: async (th, _a, ctx) => (await chatCountsFor(ctx, th)).lastSeq,
    }),
    hidden: t.exposeBoolean('hidden'),
    deleted: t.boolean({ resolve: (th) => th.deletedAt !== null }),
    resolved: t.exposeBoolean('resolved'),
    tags: t.exposeStringList('tags'),
    isDirect: t.exposeBoolean('isDirect'),
    channels: t.field({
      type: [ChannelNode],
      description: 'The channels of the thread that the viewer may see.',
      resolve: async (th, _a, ctx) =>
        (
          await ctx.prisma.threadChannel.findMany({
            where: { threadId: th.id, channel: readableChannelWhere(ctx.viewer) },
            include: { channel: true },
          })
        ).map((c) => c.channel),
    }),
    participants: t.field({
      type: [UserNode],
      description: 'Distinct authors of the thread’s chats, in order of their first chat.',
      select: (_args, _ctx, nested) => ({ participants: { orderBy: { createdAt: 'asc' }, select: { user: nested(true) } } }),
      resolve: (th) => th.participants.map((p) => p.user),
    }),
    chats: t.connection({
      type: ChatNode,
      description:
        'History by seq ascending. `first`/`after` page forwards, `last`/`before` backwards (`last: 50` is the newest ' +
        '50), `around` returns the page centred on a chat.',
      args: { around: t.arg.id({ required: false }) },
      // Page bounds come from the newest chat the viewer can see (a visitor's skip trailing internal notes).
      resolve: async (th, args, ctx, info) =>
        listChats(
          ctx,
          { id: th.id, lastSeq: (await chatCountsFor(ctx, th)).lastSeq },
          pageRequest(args, ['n']),
          args.around ?? null,
          queryFromInfo({ context: ctx, info, path: ['edges', 'node'] }),
        ),
    }),
    readState: t.field({
      type: ReadStateRef,
      nullable: true,
      description: 'The viewer’s read state (user tokens only).',
      resolve: (th, _a, ctx) => readStateOf(ctx, th),
    }),
  }),
});

builder.queryFields((t) => ({
  thread: t.prismaField({
    type: 'Thread',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _r, { id }, ctx) => ctx.prisma.thread.findFirst({ ...query, where: { id, ...visibleThreadWhere(ctx.viewer) } }),
  }),
  threads: t.connection({
    type: ThreadNode,
    description: 'Threads the viewer may see, newest activity first; `channelId` limits them to one channel.',
    args: { channelId: t.arg.id({ required: false }) },
    resolve: async (_r, args, ctx) => {
      const req = pageRequest(args, ['s', 's']);
      if (args.channelId) await findVisibleChannel(ctx, args.channelId);
      // Only through a channel the viewer may read: listing a MEMBER channel must not reveal its threads.
      const channelId = args.channelId;
      return listThreads(ctx, req, channelId ? { channels: { some: { channelId, channel: readableChannelWhere(ctx.viewer) } } } : {});
    },
  }),
}));

defineMutation('createThread', {
  description: 'Creates a thread in channels the viewer is a member of, with its first chat. Idempotent by clientId.',
  authScopes: { user: true },
  input: (t) => ({
    channelIds: t.idList({ required: true, validate: idList(10) }),
    subject: t.string({ validate: safeText(1, 300) }),
    text: t.string({ required: true, validate: safeText(1, 10_000) }),
    clientId: t.string({ validate: clientKey }),
  }),
  resolve: (input, ctx) => createThread(ctx, input),
  payload: (t) => ({
    thread: t.field({ type: ThreadNode, resolve: (p) => p.thread }),
    chat: t.field({ type: ChatNode, resolve: (p): Chat => p.chat }),
  }),
});

defineMutation('updateThread', {
  description: 'hidden/deleted: ADMIN+; subject, tags, resolved: the author or MOD+.',
  authScopes: { user: true, secretKey: true },
  input: (t) => ({
    id: t.id({ required: true }),
    subject: t.string({ validate: safeText(1, 300) }),
    tags: t.stringList({ validate: tagList }),
    resolved: t.boolean(),
    hidden: t.boolean(),
    deleted: t.boolean(),
  }),
  resolve: async (input, ctx) => ({ thread: await updateThread(ctx, input) }),
  payload: (t) => ({ thread: t.field({ type: ThreadNode, resolve: (p) => p.thread }) }),
});

defineMutation('markRead', {
  description: 'Marks the thread read up to a chat. Never moves backwards.',
  authScopes: { user: true, visitor: true },
  input: (t) => ({ threadId: t.id({ required: true }), chatId: t.id({ required: true }) }),
  resolve: async (input, ctx) => ({ readState: await markRead(ctx, input.threadId, input.chatId) }),
  payload: (t) => ({ readState: t.field({ type: ReadStateRef, resolve: (p) => p.readState }) }),
});

defineMutation('ackChats', {
  description:
    'Acknowledges that every chat of the thread up to `upToSeq` reached this client (delivery receipts; never moves ' +
    'backwards). A resumed threadEvents stream redelivers the chats of others above it.',
  authScopes: { user: true, visitor: true },
  input: (t) => ({ threadId: t.id({ required: true }), upToSeq: t.int({ required: true, validate: z.number().int().min(0) }) }),
  resolve: (input, ctx) => ackChats(ctx, input.threadId, input.upToSeq),
  payload: (t) => ({
    thread: t.field({ type: ThreadNode, resolve: (p, _a, ctx) => findVisibleThread(ctx, p.threadId) }),
    ackedSeq: t.int({ resolve: (p) => p.ackedSeq }),
  }),
});

defineMutation('muteThread', {
  description: 'Mutes the thread for the viewer until a time; `until: null` unmutes.',
  authScopes: { user: true },
  input: (t) => ({ threadId: t.id({ required: true }), until: t.field({ type: 'DateTime' }) }),
  resolve: async (input, ctx) => ({ readState: await muteThread(ctx, input.threadId, input.until ?? null) }),
  payload: (t) => ({ readState: t.field({ type: ReadStateRef, resolve: (p) => p.readState }) }),
});
