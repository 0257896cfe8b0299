/** Feeds: the Feed node, feeds, feed(id), createFeed, updateFeed, deleteFeed. */
import { z } from 'zod';
import { builder } from '../builder.js';
import { createFeed, defaultFeed, deleteFeed, feedThreads, listFeeds, ownFeed, updateFeed } from '../services/feed.js';
import { userIdOf, visibleChannelWhere, visibleUserWhere } from '../services/visibility.js';
import { pageRequest } from './connection.js';
import { defineMutation } from './mutation.js';
import { ThreadNode } from './thread.js';
import { safeText } from './validators.js';

export const FeedKindEnum = builder.enumType('FeedKind', {
  values: {
    ALL: { description: 'Every thread the user may see.' },
    PARTICIPATING: { description: 'Threads the user started or wrote in.' },
    DIRECT: { description: 'Direct-message threads.' },
    CUSTOM: { description: 'A user-defined filter over channels, participants and DMs.' },
  } as const,
});

/** Filter lists may be empty (meaning "any"), unlike `idList`. */
const filterIds = z.array(z.string().max(64)).max(50, 'At most 50 ids');
const feedName = safeText(1, 100);

export const FeedNode = builder.prismaNode('Feed', {
  description:
    'A saved thread filter of one user, visible only to that user. CUSTOM feeds AND their lists together (an empty ' +
    'list matches everything); within a list any value matches. Always limited to threads the viewer may see.',
  id: { field: 'id' },
  // Without it `node(id)` loads with findUniqueOrThrow, and an invisible feed becomes a masked 500 instead of null.
  nullable: true,
  // Owner only: another user's or app's feed id loads as null, like an id that does not exist.
  findUnique: (id, ctx) => ({ id, userId: userIdOf(ctx.viewer) ?? '__none__' }),
  fields: (t) => ({
    name: t.exposeString('name'),
    kind: t.expose('kind', { type: FeedKindEnum }),
    dmOnly: t.exposeBoolean('dmOnly', { description: 'Only direct-message threads.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    channels: t.prismaField({
      type: ['Channel'],
      description: 'The filter’s channels that the viewer can still see (threads match when in any of them).',
      resolve: (query, feed, _a, ctx) =>
        ctx.prisma.channel.findMany({ ...query, where: { id: { in: feed.channelIds }, ...visibleChannelWhere(ctx.viewer) } }),
    }),
    users: t.prismaField({
      type: ['User'],
      description: 'The filter’s users (threads match when any of them takes part).',
      resolve: (query, feed, _a, ctx) =>
        ctx.prisma.user.findMany({ ...query, where: { id: { in: feed.userIds }, ...visibleUserWhere(ctx.viewer) } }),
    }),
    threads: t.connection({
      type: ThreadNode,
      description: 'Threads of this feed the viewer may see, newest activity first.',
      resolve: (feed, args, ctx) => feedThreads(ctx, feed, pageRequest(args, ['s', 's'])),
    }),
  }),
});

builder.queryFields((t) => ({
  feeds: t.field({
    type: [FeedNode],
    description: 'The viewer’s feeds: the defaults ALL, PARTICIPATING, DIRECT first, then custom feeds by creation.',
    authScopes: { user: true },
    resolve: (_r, _a, ctx) => listFeeds(ctx),
  }),
  feed: t.field({
    type: FeedNode,
    nullable: true,
    description:
      'One of the viewer’s feeds; without `id` the ALL feed (every visible thread). Its threads are in ' +
      '`feed { threads(first, after) }`, newest activity first. Someone else’s feed is null.',
    authScopes: { user: true },
    args: { id: t.arg.id({ required: false }) },
    resolve: (_r, { id }, ctx) => (id ? ownFeed(ctx, id) : defaultFeed(ctx, 'ALL')),
  }),
}));

defineMutation('createFeed', {
  description: 'Creates a custom feed. channelIds: channels the viewer can see; userIds: users of the app (≤ 50 each).',
  authScopes: { user: true },
  input: (t) => ({
    name: t.string({ required: true, validate: feedName }),
    channelIds: t.idList({ validate: filterIds }),
    userIds: t.idList({ validate: filterIds }),
    dmOnly: t.boolean(),
  }),
  resolve: async (input, ctx) => ({ feed: await createFeed(ctx, input) }),
  payload: (t) => ({ feed: t.field({ type: FeedNode, resolve: (p) => p.feed }) }),
});

defineMutation('updateFeed', {
  description: 'Updates a custom feed: a given list replaces the old one, omitted fields stay. Default feeds: ForbiddenError.',
  authScopes: { user: true },
  input: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ validate: feedName }),
    channelIds: t.idList({ validate: filterIds }),
    userIds: t.idList({ validate: filterIds }),
    dmOnly: t.boolean(),
  }),
  resolve: async (input, ctx) => ({ feed: await updateFeed(ctx, input) }),
  payload: (t) => ({ feed: t.field({ type: FeedNode, resolve: (p) => p.feed }) }),
});

defineMutation('deleteFeed', {
  description: 'Deletes a custom feed. Default feeds: ForbiddenError.',
  authScopes: { user: true },
  input: (t) => ({ id: t.id({ required: true }) }),
  resolve: async (input, ctx) => ({ feedId: await deleteFeed(ctx, input.id) }),
  payload: (t) => ({ feedId: t.id({ resolve: (p) => p.feedId }) }),
});
