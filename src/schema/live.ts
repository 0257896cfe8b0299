/** Live app-level features: typing, presence (query, heartbeat, presenceChanged), feedEvents, unreadCountsChanged. */
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { Thread, User } from '../generated/prisma/client.js';
import { feedStream, unreadStream, type FeedItem, type UnreadItem } from '../realtime/feed-stream.js';
import { heartbeat, presenceOf, presenceStream, type PresenceItem } from '../realtime/presence-stream.js';
import { unwrap } from '../realtime/realtime.js';
import { setTyping, typingStream, type TypingItem } from '../realtime/typing.js';
import { visibleThreadWhere, visibleUserWhere } from '../services/visibility.js';
import { defineMutation } from './mutation.js';
import { ThreadNode } from './thread.js';
import { UserNode } from './user.js';
import { idList } from './validators.js';

const loadThread = (ctx: Context, id: string): Promise<Thread> =>
  ctx.prisma.thread.findFirstOrThrow({ where: { id, ...visibleThreadWhere(ctx.viewer) } });

const PresenceStatusEnum = builder.enumType('PresenceStatus', {
  description: 'ACTIVE: a heartbeat or a live subscription within PRESENCE_AWAY_SECONDS (default 10 minutes).',
  values: ['ACTIVE', 'AWAY'] as const,
});

// ---- typing ----

const TypingEventRef = builder.objectRef<TypingItem>('TypingEvent').implement({
  description: 'Someone else started or stopped typing. An indicator not renewed within a few seconds stops by itself.',
  fields: (t) => ({
    // The typist can see this thread too (setTyping checks), so they are shown even to a visitor before their first chat.
    user: t.field({ type: UserNode, resolve: (i, _a, ctx) => ctx.prisma.user.findUniqueOrThrow({ where: { id: i.userId } }) }),
    isTyping: t.exposeBoolean('isTyping'),
    thread: t.field({ type: ThreadNode, resolve: (i, _a, ctx) => loadThread(ctx, i.threadId) }),
  }),
});

defineMutation('setTyping', {
  description: 'Says the viewer is (or stopped) typing in a thread. Renew every few seconds while typing.',
  authScopes: { user: true, visitor: true },
  input: (t) => ({ threadId: t.id({ required: true }), isTyping: t.boolean({ required: true }) }),
  resolve: (input, ctx) => setTyping(ctx, input.threadId, input.isTyping),
  payload: (t) => ({
    thread: t.field({ type: ThreadNode, resolve: (p) => p.thread }),
    isTyping: t.boolean({ resolve: (p) => p.isTyping }),
  }),
});

// ---- presence ----

interface PresenceView {
  user: User;
  status: 'ACTIVE' | 'AWAY';
  lastSeenAt: Date | null;
}

const UserPresenceRef = builder.objectRef<PresenceView>('UserPresence').implement({
  fields: (t) => ({
    user: t.field({ type: UserNode, resolve: (p) => p.user }),
    status: t.field({ type: PresenceStatusEnum, resolve: (p) => p.status }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime', nullable: true, description: 'Null when AWAY.' }),
  }),
});

const PresenceEventRef = builder.objectRef<PresenceItem>('PresenceEvent').implement({
  description: 'Users that became ACTIVE or AWAY.',
  fields: (t) => ({
    status: t.field({ type: PresenceStatusEnum, resolve: (p) => p.status }),
    users: t.field({
      type: [UserNode],
      resolve: (p, _a, ctx) => ctx.prisma.user.findMany({ where: { id: { in: p.userIds }, ...visibleUserWhere(ctx.viewer) } }),
    }),
  }),
});

builder.queryField('presence', (t) =>
  t.field({
    type: [UserPresenceRef],
    description: 'Presence of up to 100 users of the viewer’s app (ids the viewer cannot see are left out).',
    authScopes: { user: true, secretKey: true },
    args: { userIds: t.arg.idList({ required: true }) },
    resolve: (_r, args, ctx) => presenceOf(ctx, args.userIds),
  }),
);

defineMutation('heartbeat', {
  description:
    'Marks the viewer ACTIVE. Send it every few minutes; a live graphql-ws subscription also counts. ' +
    '`away: true` marks the viewer AWAY at once (e.g. the app went to the background).',
  authScopes: { user: true },
  input: (t) => ({ away: t.boolean({ description: 'Default false.' }) }),
  resolve: (input, ctx) => heartbeat(ctx, input.away === true),
  payload: (t) => ({
    status: t.field({ type: PresenceStatusEnum, resolve: (p) => p.status }),
    lastSeenAt: t.field({ type: 'DateTime', nullable: true, resolve: (p) => p.lastSeenAt }),
  }),
});

// ---- feeds and unread counts ----

const FeedActionEnum = builder.enumType('FeedAction', { values: ['MOVE_TO_TOP'] as const });

const FeedEventRef = builder.interfaceRef<FeedItem>('FeedEvent').implement({
  description: 'A change in the order or membership of the viewer’s feed.',
  resolveType: (i) => (i.action === 'MOVED' ? 'FeedThreadMovedEvent' : 'FeedThreadAddedEvent'),
  fields: (t) => ({ thread: t.field({ type: ThreadNode, resolve: (i, _a, ctx) => loadThread(ctx, i.threadId) }) }),
});

builder.objectRef<FeedItem>('FeedThreadMovedEvent').implement({
  description: 'A thread the client already shows got activity: move it to the top.',
  interfaces: [FeedEventRef],
  fields: (t) => ({ action: t.field({ type: FeedActionEnum, resolve: () => 'MOVE_TO_TOP' as const }) }),
});

builder.objectRef<FeedItem>('FeedThreadAddedEvent').implement({
  description: 'A thread the client does not show yet (new, or not in `knownThreadIds`) entered the feed, at the top.',
  interfaces: [FeedEventRef],
  fields: () => ({}),
});

const UnreadCountRef = builder.objectRef<UnreadItem>('ThreadUnreadCount').implement({
  fields: (t) => ({
    thread: t.field({ type: ThreadNode, resolve: (i, _a, ctx) => loadThread(ctx, i.threadId) }),
    unreadCount: t.exposeInt('unreadCount'),
  }),
});

const UnreadCountsEventRef = builder.objectRef<UnreadItem>('UnreadCountsEvent').implement({
  description: 'The viewer’s unread count changed for these threads (own chats never count as unread).',
  fields: (t) => ({ counts: t.field({ type: [UnreadCountRef], resolve: (i) => [i] }) }),
});

builder.subscriptionFields((t) => ({
  typing: t.field({
    type: TypingEventRef,
    description: 'Typing indicators of others in a thread.',
    authScopes: { authenticated: true },
    args: { threadId: t.arg.id({ required: true }) },
    subscribe: (_r, args, ctx) => typingStream(ctx, args.threadId),
    resolve: (i) => unwrap(i),
  }),
  presenceChanged: t.field({
    type: PresenceEventRef,
    description: 'Users of the viewer’s app (or only `userIds`) becoming ACTIVE or AWAY.',
    authScopes: { user: true, secretKey: true },
    args: { userIds: t.arg.idList({ validate: idList(1000) }) },
    subscribe: (_r, args, ctx) => presenceStream(ctx, args.userIds ?? null),
    resolve: (i) => unwrap(i),
  }),
  feedEvents: t.field({
    type: FeedEventRef,
    description:
      'Activity in the viewer’s feed (default: all threads). Pass the thread ids the client shows as ' +
      '`knownThreadIds`: those move to the top, others arrive as FeedThreadAddedEvent with the whole thread.',
    authScopes: { user: true },
    args: { feedId: t.arg.id(), knownThreadIds: t.arg.idList() },
    subscribe: (_r, args, ctx) => feedStream(ctx, args.feedId ?? null, args.knownThreadIds ?? []),
    resolve: (i) => unwrap(i),
  }),
  unreadCountsChanged: t.field({
    type: UnreadCountsEventRef,
    description: 'The viewer’s unread count per thread, whenever it changes (new chats, reads on any device).',
    authScopes: { user: true },
    subscribe: (_r, _a, ctx) => unreadStream(ctx),
    resolve: (i) => unwrap(i),
  }),
}));
