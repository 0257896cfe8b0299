/**
 * Feeds: saved thread filters owned by one app user. Every user has three default feeds (ALL, PARTICIPATING,
 * DIRECT) and any number of CUSTOM ones (Struct's rule: values within a list are OR-ed, the lists are AND-ed).
 *
 * Default feeds are materialised rows. `onUserCreated` writes them with the user; users created another way (direct
 * writes, older rows) get them lazily the first time their feeds are read. The lazy rows have ids derived from
 * (user, kind), so concurrent first reads insert the same primary keys and `skipDuplicates` keeps exactly one each —
 * the feed table has no unique (user, kind) index to lean on.
 */
import { createHash } from 'node:crypto';
import type { Context } from '../context.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors.js';
import type { Feed, FeedKind, Prisma, User } from '../generated/prisma/client.js';
import { newId } from '../ids.js';
import type { PageRequest } from '../schema/connection.js';
import { listThreads } from './thread.js';
import { DEFAULT_FEEDS } from './user.js';
import { readableChannelWhere, visibleChannelWhere, visibleUserWhere } from './visibility.js';

/** Custom feeds per user; the `feeds` list is unpaged, so it must stay small. */
export const MAX_CUSTOM_FEEDS = 100;

const KIND_ORDER: Record<FeedKind, number> = { ALL: 0, PARTICIPATING: 1, DIRECT: 2, CUSTOM: 3 };
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function requireUser(ctx: Context): User {
  const v = ctx.viewer;
  if (v.kind !== 'user') throw new UnauthenticatedError('Feeds need a user token');
  return v.user;
}

/**
 * The id of a lazily created default feed: the user's ULID time part (so it still sorts by creation) plus 16
 * characters of a hash of (user, kind), in the same `fed_` + 26 character shape as every other id.
 */
function defaultFeedId(userId: string, kind: FeedKind): string {
  const digest = createHash('sha256').update(`${userId}:${kind}`).digest();
  const tail = Array.from(digest.subarray(0, 16), (b) => CROCKFORD[b % 32]).join('');
  return `fed_${userId.slice(4, 14)}${tail}`;
}

/** Inserts the default feeds the user lacks. Idempotent and safe under concurrent callers (see module comment). */
async function ensureDefaultFeeds(ctx: Context, user: User, existing: Pick<Feed, 'kind'>[]): Promise<boolean> {
  const have = new Set(existing.map((f) => f.kind));
  const missing = DEFAULT_FEEDS.filter((d) => !have.has(d.kind));
  if (missing.length === 0) return false;
  await ctx.prisma.feed.createMany({
    data: missing.map((d) => ({ id: defaultFeedId(user.id, d.kind), appId: user.appId, userId: user.id, name: d.name, kind: d.kind })),
    skipDuplicates: true,
  });
  return true;
}

/** The viewer's feeds: ALL, PARTICIPATING, DIRECT first, then custom feeds in creation order. */
export async function listFeeds(ctx: Context): Promise<Feed[]> {
  const user = requireUser(ctx);
  const read = () =>
    ctx.prisma.feed.findMany({ where: { userId: user.id, appId: user.appId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  let feeds = await read();
  if (await ensureDefaultFeeds(ctx, user, feeds)) feeds = await read();
  // Array#sort is stable, so custom feeds keep their creation order.
  return feeds.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
}

/** One of the viewer's default feeds (created on first use), e.g. the ALL feed for `feed` without an id. */
export async function defaultFeed(ctx: Context, kind: Exclude<FeedKind, 'CUSTOM'>): Promise<Feed> {
  const user = requireUser(ctx);
  const find = () => ctx.prisma.feed.findFirst({ where: { userId: user.id, appId: user.appId, kind }, orderBy: { createdAt: 'asc' } });
  const found = await find();
  if (found) return found;
  await ensureDefaultFeeds(ctx, user, await ctx.prisma.feed.findMany({ where: { userId: user.id }, select: { kind: true } }));
  const created = await find();
  if (!created) throw new NotFoundError('Feed not found');
  return created;
}

/** The viewer's own feed by id, or null for anyone else's (other users, other apps) and unknown ids. */
export async function ownFeed(ctx: Context, id: string): Promise<Feed | null> {
  const user = requireUser(ctx);
  return ctx.prisma.feed.findFirst({ where: { id, userId: user.id, appId: user.appId } });
}

/** {@link ownFeed}, or NotFoundError. */
export async function findOwnFeed(ctx: Context, id: string): Promise<Feed> {
  const feed = await ownFeed(ctx, id);
  if (!feed) throw new NotFoundError('Feed not found');
  return feed;
}

/** The filter of a feed, to be AND-ed with thread visibility by `listThreads`. */
export function feedThreadWhere(ctx: Context, feed: Feed): Prisma.ThreadWhereInput {
  const byUsers = (ids: string[]): Prisma.ThreadWhereInput => ({
    // Authors are participants from their first chat; the author check also covers threads written before that rule.
    OR: [{ participants: { some: { userId: { in: ids } } } }, { authorId: { in: ids } }],
  });
  switch (feed.kind) {
    case 'ALL':
      return {};
    case 'PARTICIPATING':
      return byUsers([feed.userId]);
    case 'DIRECT':
      return { isDirect: true };
    case 'CUSTOM': {
      const and: Prisma.ThreadWhereInput[] = [];
      if (feed.channelIds.length) {
        // Only readable channels count: otherwise a feed would reveal that a visible thread is also in a channel the
        // viewer cannot read.
        and.push({ channels: { some: { channelId: { in: feed.channelIds }, channel: readableChannelWhere(ctx.viewer) } } });
      }
      if (feed.userIds.length) and.push(byUsers(feed.userIds));
      if (feed.dmOnly) and.push({ isDirect: true });
      return { AND: and };
    }
  }
}

/** Threads of a feed the viewer may see, newest activity first (keyset paged like `threads`). */
export async function feedThreads(ctx: Context, feed: Feed, req: PageRequest) {
  return listThreads(ctx, req, feedThreadWhere(ctx, feed));
}

export interface FeedFilters {
  channelIds?: string[] | null;
  userIds?: string[] | null;
  dmOnly?: boolean | null;
}

/** Checks the given filter lists (deduplicated): channels the viewer can see, users of the viewer's app. */
async function checkFilters(ctx: Context, input: FeedFilters): Promise<{ channelIds?: string[]; userIds?: string[] }> {
  const out: { channelIds?: string[]; userIds?: string[] } = {};
  if (input.channelIds != null) {
    const ids = [...new Set(input.channelIds)];
    const found = ids.length ? await ctx.prisma.channel.count({ where: { id: { in: ids }, ...visibleChannelWhere(ctx.viewer) } }) : 0;
    if (found !== ids.length) throw new NotFoundError('Channel not found');
    out.channelIds = ids;
  }
  if (input.userIds != null) {
    const ids = [...new Set(input.userIds)];
    const found = ids.length ? await ctx.prisma.user.count({ where: { id: { in: ids }, ...visibleUserWhere(ctx.viewer) } }) : 0;
    if (found !== ids.length) throw new NotFoundError('User not found');
    out.userIds = ids;
  }
  return out;
}

/** Creates a custom feed for the viewer. Unknown or invisible channels/users → NotFoundError, nothing written. */
export async function createFeed(ctx: Context, input: FeedFilters & { name: string }): Promise<Feed> {
  const user = requireUser(ctx);
  const lists = await checkFilters(ctx, input);
  const count = await ctx.prisma.feed.count({ where: { userId: user.id, kind: 'CUSTOM' } });
  if (count >= MAX_CUSTOM_FEEDS) throw new ConflictError(`At most ${MAX_CUSTOM_FEEDS} custom feeds per user`);
  return ctx.prisma.feed.create({
    data: {
      id: newId('fed'),
      appId: user.appId,
      userId: user.id,
      name: input.name,
      kind: 'CUSTOM',
      channelIds: lists.channelIds ?? [],
      userIds: lists.userIds ?? [],
      dmOnly: input.dmOnly ?? false,
    },
  });
}

/** Default feeds are fixed: updating or deleting them is ForbiddenError. */
async function findOwnCustomFeed(ctx: Context, id: string): Promise<Feed> {
  const feed = await findOwnFeed(ctx, id);
  if (feed.kind !== 'CUSTOM') throw new ForbiddenError('Default feeds cannot be changed');
  return feed;
}

/** Replaces the given parts of a custom feed (a given list replaces the old one; omitted or null keeps it). */
export async function updateFeed(ctx: Context, input: FeedFilters & { id: string; name?: string | null }): Promise<Feed> {
  const user = requireUser(ctx);
  const feed = await findOwnCustomFeed(ctx, input.id);
  const lists = await checkFilters(ctx, input);
  const data: Prisma.FeedUpdateManyMutationInput = {
    ...(input.name != null ? { name: input.name } : {}),
    ...lists,
    ...(input.dmOnly != null ? { dmOnly: input.dmOnly } : {}),
  };
  // Conditional on owner and kind so a concurrent delete yields NotFoundError rather than an unmapped Prisma error.
  const [updated] = await ctx.prisma.feed.updateManyAndReturn({ where: { id: feed.id, userId: user.id, kind: 'CUSTOM' }, data });
  if (!updated) throw new NotFoundError('Feed not found');
  return updated;
}

/** Deletes one of the viewer's custom feeds; returns its id. */
export async function deleteFeed(ctx: Context, id: string): Promise<string> {
  const user = requireUser(ctx);
  const feed = await findOwnCustomFeed(ctx, id);
  const { count } = await ctx.prisma.feed.deleteMany({ where: { id: feed.id, userId: user.id, kind: 'CUSTOM' } });
  if (count === 0) throw new NotFoundError('Feed not found');
  return feed.id;
}
