/** App users: listing and profile rules. */
import type { Context } from '../context.js';
import type { Prisma, User } from '../generated/prisma/client.js';
import { isAdminPlus } from '../auth/roles.js';
import { newId } from '../ids.js';
import { toConnection, type PageRequest } from '../schema/connection.js';
import { visibleUserWhere } from './visibility.js';

/** Users of the viewer's app ordered by display name, then id. Email matches only for viewers who may see emails. */
export async function listUsers(ctx: Context, req: PageRequest, search: string | null) {
  const v = ctx.viewer;
  const seesEmail = v.kind === 'secretKey' || (v.kind === 'user' && isAdminPlus(v.user.role));
  const where: Prisma.UserWhereInput[] = [visibleUserWhere(v)];
  if (search) {
    const contains = { contains: search, mode: 'insensitive' as const };
    where.push({
      OR: [{ displayName: contains }, { externalId: contains }, ...(seesEmail ? [{ email: contains }] : [])],
    });
  }
  const [fromKey, toKey] = req.backward ? [req.before, req.after] : [req.after, req.before];
  const cmp = req.backward ? 'lt' : 'gt';
  const anti = req.backward ? 'gt' : 'lt';
  if (fromKey) where.push(keyFilter(fromKey, cmp));
  if (toKey) where.push(keyFilter(toKey, anti));
  const dir = req.backward ? 'desc' : 'asc';
  const rows = await ctx.prisma.user.findMany({
    where: { AND: where },
    orderBy: [{ displayName: dir }, { id: dir }],
    take: req.size + 1,
  });
  return toConnection(req, rows, (u: User) => [u.displayName, u.id]);
}

function keyFilter(key: (string | number)[], op: 'gt' | 'lt'): Prisma.UserWhereInput {
  const [name, id] = key as [string, string];
  return { OR: [{ displayName: { [op]: name } }, { displayName: name, id: { [op]: id } }] };
}

/** The three feeds every user starts with (Struct's defaults). */
export const DEFAULT_FEEDS = [
  { kind: 'ALL', name: 'All threads' },
  { kind: 'PARTICIPATING', name: 'Participating' },
  { kind: 'DIRECT', name: 'Direct messages' },
] as const;

/**
 * Everything a new app user gets, inside the transaction that creates the user: membership of every autoJoin
 * channel and the default feeds. Every path that creates users (issueUserToken, joinApp, …) must call it.
 */
export async function onUserCreated(tx: Prisma.TransactionClient, user: Pick<User, 'id' | 'appId'>): Promise<void> {
  const channels = await tx.channel.findMany({ where: { appId: user.appId, autoJoin: true, deletedAt: null }, select: { id: true } });
  if (channels.length) {
    await tx.channelMember.createMany({ data: channels.map((c) => ({ channelId: c.id, userId: user.id })), skipDuplicates: true });
  }
  await tx.feed.createMany({
    data: DEFAULT_FEEDS.map((f) => ({ id: newId('fed'), appId: user.appId, userId: user.id, name: f.name, kind: f.kind })),
  });
}
