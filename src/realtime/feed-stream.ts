/**
 * App-wide streams of one user, driven by the app's activity topic: feedEvents (a feed's threads move to the top or
 * enter it) and unreadCountsChanged (per-thread unread counts after new chats and reads on any device). Each
 * activity hint is checked against the viewer's visibility and the feed's filter in the database.
 */
import type { Context } from '../context.js';
import type { Feed } from '../generated/prisma/client.js';
import { UnauthenticatedError, ValidationError } from '../errors.js';
import { defaultFeed, feedThreadWhere, findOwnFeed } from '../services/feed.js';
import { visibleThreadWhere } from '../services/visibility.js';
import { liveStream } from './live-stream.js';

export interface FeedItem {
  kind: 'feed';
  action: 'MOVED' | 'ADDED';
  threadId: string;
}

export interface UnreadItem {
  kind: 'unread';
  threadId: string;
  unreadCount: number;
}

/** Most thread ids a client may say it already shows (and the most this stream remembers). */
const MAX_KNOWN = 5_000;

function requireUser(ctx: Context) {
  if (ctx.viewer.kind !== 'user') throw new UnauthenticatedError('This stream needs a user token');
  return ctx.viewer;
}

/**
 * Activity in the threads of a feed (default: ALL). Threads the client already shows (`knownThreadIds`) move to the
 * top; others are announced as added, with the whole thread — and remembered as shown from then on.
 */
export async function feedStream(ctx: Context, feedId: string | null, knownThreadIds: string[]) {
  const viewer = requireUser(ctx);
  if (knownThreadIds.length > MAX_KNOWN) throw ValidationError.field(['knownThreadIds'], `At most ${MAX_KNOWN} ids`);
  const feed: Feed = feedId ? await findOwnFeed(ctx, feedId) : await defaultFeed(ctx, 'ALL');
  const known = new Set(knownThreadIds);
  return liveStream<FeedItem>(ctx, null, (sink) => [
    ctx.deps.bus.subscribe('activity', viewer.appId, (hint) => {
      if (hint.type !== 'chat.added') return;
      sink.enqueue(async () => {
        const inFeed = await ctx.prisma.thread.findFirst({
          where: { id: hint.threadId, AND: [visibleThreadWhere(ctx.viewer), feedThreadWhere(ctx, feed)] },
          select: { id: true },
        });
        if (!inFeed) return;
        sink.push({ kind: 'feed', action: known.has(hint.threadId) ? 'MOVED' : 'ADDED', threadId: hint.threadId });
        if (known.size < MAX_KNOWN) known.add(hint.threadId);
      });
    }),
  ]);
}

/** The viewer's unread count of a thread whenever it changes (new chats, own reads on any device). */
export function unreadStream(ctx: Context) {
  const viewer = requireUser(ctx);
  const last = new Map<string, number>();
  return liveStream<UnreadItem>(ctx, null, (sink) => {
    const recount = (threadId: string) =>
      sink.enqueue(async () => {
        const thread = await ctx.prisma.thread.findFirst({ where: { id: threadId, ...visibleThreadWhere(ctx.viewer) }, select: { lastSeq: true } });
        if (!thread) return;
        const rs = await ctx.prisma.readState.findUnique({ where: { threadId_userId: { threadId, userId: viewer.user.id } }, select: { lastReadSeq: true } });
        const unreadCount = Math.max(0, thread.lastSeq - (rs?.lastReadSeq ?? 0));
        if (last.get(threadId) === unreadCount) return;
        if (last.size >= MAX_KNOWN) last.clear();
        last.set(threadId, unreadCount);
        sink.push({ kind: 'unread', threadId, unreadCount });
      });
    return [
      ctx.deps.bus.subscribe('activity', viewer.appId, (hint) => {
        if (hint.type === 'chat.added') recount(hint.threadId);
      }),
      ctx.deps.bus.subscribe('user', viewer.user.id, (hint) => {
        if (hint.type === 'read') recount(hint.threadId);
      }),
    ];
  });
}
