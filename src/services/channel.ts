/** Channels: create, update, delete, membership. */
import { signalAccessChanged } from './events.js';
import type { Context } from '../context.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors.js';
import type { Channel, Visibility } from '../generated/prisma/client.js';
import { newId } from '../ids.js';
import { isModPlus } from '../auth/roles.js';
import { appIdOf, visibleChannelWhere } from './visibility.js';
import { toConnection, type PageRequest } from '../schema/connection.js';
import { idPageArgs, pageById } from './id-page.js';

export interface ChannelFields {
  name?: string | null;
  description?: string | null;
  visibility?: Visibility | null;
  autoJoin?: boolean | null;
}

/** MOD+ users and SECRET keys manage channels. */
function assertManager(ctx: Context): void {
  const v = ctx.viewer;
  if (v.kind === 'secretKey' || (v.kind === 'user' && isModPlus(v.user.role))) return;
  if (v.kind === 'anonymous') throw new UnauthenticatedError();
  throw new ForbiddenError('Only moderators and above may manage channels');
}

/** A channel the viewer may see, or NotFoundError. */
export async function findVisibleChannel(ctx: Context, id: string): Promise<Channel> {
  const channel = await ctx.prisma.channel.findFirst({ where: { id, ...visibleChannelWhere(ctx.viewer) } });
  if (!channel) throw new NotFoundError('Channel not found');
  return channel;
}

/**
 * Creates a channel; the creating user joins it. Direct channels (DMs) may be created by any user: they are always
 * HIDDEN and start with the creator plus `memberIds`. Other channels need MOD+ or a SECRET key. Support channels
 * (visitor conversations) are always HIDDEN: their members and every MOD+ user are its agents.
 */
export async function createChannel(
  ctx: Context,
  input: ChannelFields & { name: string; direct?: boolean | null; support?: boolean | null; memberIds?: string[] | null },
): Promise<Channel> {
  const v = ctx.viewer;
  if (!input.direct) assertManager(ctx);
  else if (v.kind !== 'user' && v.kind !== 'secretKey') throw new UnauthenticatedError();
  const appId = appIdOf(v);
  const memberIds = new Set(input.memberIds ?? []);
  if (v.kind === 'user') memberIds.add(v.user.id);
  return ctx.prisma.$transaction(async (tx) => {
    const found = await tx.user.count({ where: { id: { in: [...memberIds] }, appId, deactivatedAt: null } });
    if (found !== memberIds.size) throw new NotFoundError('User not found');
    const channel = await tx.channel.create({
      data: {
        id: newId('chn'),
        appId,
        name: input.name,
        description: input.description ?? null,
        visibility: input.direct || input.support ? 'HIDDEN' : (input.visibility ?? 'MEMBER'),
        autoJoin: input.direct || input.support ? false : (input.autoJoin ?? false),
        direct: input.direct ?? false,
        support: input.support ?? false,
      },
    });
    await tx.channelMember.createMany({ data: [...memberIds].map((userId) => ({ channelId: channel.id, userId })) });
    return channel;
  });
}

/** Updates a channel (MOD+). `deleted: true` only when no live thread is in it. */
export async function updateChannel(ctx: Context, input: ChannelFields & { id: string; deleted?: boolean | null }): Promise<Channel> {
  assertManager(ctx);
  const channel = await findVisibleChannel(ctx, input.id);
  return ctx.prisma.$transaction(async (tx) => {
    if (input.deleted) {
      const live = await tx.threadChannel.count({ where: { channelId: channel.id, thread: { deletedAt: null } } });
      if (live > 0) throw new ConflictError(`The channel still has ${live} live thread(s); move or delete them first`);
    }
    return tx.channel.update({
      where: { id: channel.id },
      data: {
        ...(input.name != null ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.visibility != null && !channel.direct ? { visibility: input.visibility } : {}),
        ...(input.autoJoin != null && !channel.direct ? { autoJoin: input.autoJoin } : {}),
        ...(input.deleted != null ? { deletedAt: input.deleted ? new Date() : null } : {}),
      },
    });
  });
}

function requireUser(ctx: Context) {
  const v = ctx.viewer;
  if (v.kind !== 'user') throw new UnauthenticatedError('This needs a user token');
  return v.user;
}

/** Joins a MEMBER or ANYONE channel (HIDDEN channels are invisible to non-members, so NotFound). Idempotent. */
export async function joinChannel(ctx: Context, id: string): Promise<Channel> {
  const user = requireUser(ctx);
  const channel = await findVisibleChannel(ctx, id);
  await ctx.prisma.channelMember.createMany({ data: [{ channelId: channel.id, userId: user.id }], skipDuplicates: true });
  return channel;
}

/** Leaves a channel. Idempotent. */
export async function leaveChannel(ctx: Context, id: string): Promise<Channel> {
  const user = requireUser(ctx);
  const channel = await findVisibleChannel(ctx, id);
  await ctx.prisma.channelMember.deleteMany({ where: { channelId: channel.id, userId: user.id } });
  signalAccessChanged(ctx, [user.id]);
  return channel;
}

/**
 * Removes users from a channel (MOD+ or SECRET key). Idempotent; their live streams of threads they can no longer
 * see end at once.
 */
export async function removeChannelMembers(ctx: Context, id: string, userIds: string[]): Promise<Channel> {
  assertManager(ctx);
  const channel = await findVisibleChannel(ctx, id);
  const unique = [...new Set(userIds)];
  await ctx.prisma.channelMember.deleteMany({ where: { channelId: channel.id, userId: { in: unique } } });
  signalAccessChanged(ctx, unique);
  return channel;
}

/** Adds users of the same app to a channel (MOD+ or SECRET key; members of a direct channel may add people). */
export async function addChannelMembers(ctx: Context, id: string, userIds: string[]): Promise<Channel> {
  const channel = await findVisibleChannel(ctx, id);
  const v = ctx.viewer;
  const isMember = v.kind === 'user' && (await ctx.prisma.channelMember.count({ where: { channelId: id, userId: v.user.id } })) > 0;
  if (!(channel.direct && isMember)) assertManager(ctx);
  const unique = [...new Set(userIds)];
  const found = await ctx.prisma.user.count({ where: { id: { in: unique }, appId: channel.appId, deactivatedAt: null } });
  if (found !== unique.length) throw new NotFoundError('User not found');
  await ctx.prisma.channelMember.createMany({ data: unique.map((userId) => ({ channelId: id, userId })), skipDuplicates: true });
  return channel;
}

/** Channels the viewer may see, paged by id (creation order). */
export function listChannels(ctx: Context, req: PageRequest) {
  return pageById(req, (page) =>
    ctx.prisma.channel.findMany({ where: { ...visibleChannelWhere(ctx.viewer), id: page.id }, orderBy: page.orderBy, take: page.take }),
  );
}

/** Members of a visible channel, paged by user id (ids are time-ordered: oldest users first). */
export async function listChannelMembers(ctx: Context, channelId: string, req: PageRequest) {
  const page = idPageArgs(req);
  const rows = await ctx.prisma.channelMember.findMany({
    where: { channelId, channel: visibleChannelWhere(ctx.viewer), userId: page.id },
    orderBy: { userId: page.orderBy.id },
    include: { user: true },
    take: page.take,
  });
  const conn = toConnection(req, rows, (m) => [m.userId]);
  return { ...conn, edges: conn.edges.map((e) => ({ cursor: e.cursor, node: e.node.user })) };
}
