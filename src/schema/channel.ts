/** Channels: the Channel node, channel(id), channels, and the channel mutations. */
import { builder } from '../builder.js';
import {
  addChannelMembers,
  createChannel,
  joinChannel,
  leaveChannel,
  removeChannelMembers,
  listChannelMembers,
  listChannels,
  updateChannel,
} from '../services/channel.js';
import { visibleChannelWhere } from '../services/visibility.js';
import { pageRequest } from './connection.js';
import { defineMutation } from './mutation.js';
import { UserNode } from './user.js';
import { idList, safeText } from './validators.js';

export const VisibilityEnum = builder.enumType('Visibility', {
  values: {
    MEMBER: { description: 'Members see threads; others see only that the channel exists.' },
    ANYONE: { description: 'Any user of the app may read its threads; only members post.' },
    HIDDEN: { description: 'Invisible to non-members.' },
  } as const,
});

export const ChannelNode = builder.prismaNode('Channel', {
  id: { field: 'id' },
  // Unknown and invisible ids resolve to null (no error, no existence oracle).
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [visibleChannelWhere(ctx.viewer)] }),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    visibility: t.expose('visibility', { type: VisibilityEnum }),
    autoJoin: t.exposeBoolean('autoJoin'),
    direct: t.exposeBoolean('direct'),
    support: t.exposeBoolean('support'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    viewerIsMember: t.boolean({
      resolve: async (c, _a, ctx) =>
        ctx.viewer.kind === 'user' &&
        (await ctx.prisma.channelMember.count({ where: { channelId: c.id, userId: ctx.viewer.user.id } })) > 0,
    }),
    members: t.connection({
      type: UserNode,
      description: 'Members of the channel, by user id.',
      resolve: (c, args, ctx) => listChannelMembers(ctx, c.id, pageRequest(args, ['s'])),
    }),
  }),
});

builder.queryFields((t) => ({
  channel: t.prismaField({
    type: 'Channel',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _r, { id }, ctx) =>
      ctx.prisma.channel.findFirst({ ...query, where: { id, ...visibleChannelWhere(ctx.viewer) } }),
  }),
  channels: t.connection({
    type: ChannelNode,
    description: 'Channels of the app the viewer may see (HIDDEN ones only to members), oldest first.',
    resolve: (_r, args, ctx) => listChannels(ctx, pageRequest(args, ['s'])),
  }),
}));

const channelFields = {
  name: safeText(1, 100),
  description: safeText(0, 2000),
};

defineMutation('createChannel', {
  description: 'Creates a channel (MOD+ or SECRET key; direct channels: any user). The creating user joins it.',
  authScopes: { user: true, secretKey: true },
  input: (t) => ({
    name: t.string({ required: true, validate: channelFields.name }),
    description: t.string({ validate: channelFields.description }),
    visibility: t.field({ type: VisibilityEnum }),
    autoJoin: t.boolean(),
    direct: t.boolean({ description: 'A direct-message channel: always HIDDEN, starts with `memberIds`.' }),
    support: t.boolean({ description: 'A support inbox for visitor conversations: always HIDDEN; members and MOD+ users are its agents.' }),
    memberIds: t.idList({ validate: idList(100) }),
  }),
  resolve: async (input, ctx) => ({ channel: await createChannel(ctx, input) }),
  payload: (t) => ({ channel: t.field({ type: ChannelNode, resolve: (p) => p.channel }) }),
});

defineMutation('updateChannel', {
  description: 'Updates a channel (MOD+). `deleted: true` only when it has no live threads (else ConflictError).',
  authScopes: { user: true, secretKey: true },
  input: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ validate: channelFields.name }),
    description: t.string({ validate: channelFields.description }),
    visibility: t.field({ type: VisibilityEnum }),
    autoJoin: t.boolean(),
    deleted: t.boolean(),
  }),
  resolve: async (input, ctx) => ({ channel: await updateChannel(ctx, input) }),
  payload: (t) => ({ channel: t.field({ type: ChannelNode, resolve: (p) => p.channel }) }),
});

defineMutation('joinChannel', {
  description: 'Joins a MEMBER or ANYONE channel. HIDDEN channels are joined only by being added.',
  authScopes: { user: true },
  input: (t) => ({ channelId: t.id({ required: true }) }),
  resolve: async (input, ctx) => ({ channel: await joinChannel(ctx, input.channelId) }),
  payload: (t) => ({ channel: t.field({ type: ChannelNode, resolve: (p) => p.channel }) }),
});

defineMutation('leaveChannel', {
  description: 'Leaves a channel.',
  authScopes: { user: true },
  input: (t) => ({ channelId: t.id({ required: true }) }),
  resolve: async (input, ctx) => ({ channel: await leaveChannel(ctx, input.channelId) }),
  payload: (t) => ({ channel: t.field({ type: ChannelNode, resolve: (p) => p.channel }) }),
});

defineMutation('addChannelMembers', {
  description: 'Adds users to a channel (MOD+ or SECRET key; members of a direct channel may add people).',
  authScopes: { user: true, secretKey: true },
  input: (t) => ({ channelId: t.id({ required: true }), userIds: t.idList({ required: true, validate: idList(100) }) }),
  resolve: async (input, ctx) => ({ channel: await addChannelMembers(ctx, input.channelId, input.userIds) }),
  payload: (t) => ({ channel: t.field({ type: ChannelNode, resolve: (p) => p.channel }) }),
});

defineMutation('removeChannelMembers', {
  description: 'Removes users from a channel (MOD+ or SECRET key). Their live streams of threads they can no longer see end.',
  authScopes: { user: true, secretKey: true },
  input: (t) => ({ channelId: t.id({ required: true }), userIds: t.idList({ required: true, validate: idList(100) }) }),
  resolve: async (input, ctx) => ({ channel: await removeChannelMembers(ctx, input.channelId, input.userIds) }),
  payload: (t) => ({ channel: t.field({ type: ChannelNode, resolve: (p) => p.channel }) }),
});
