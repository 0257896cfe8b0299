/** Presence for the API: heartbeat, who is active, and the presenceChanged stream of an app. */
import type { Context } from '../context.js';
import { UnauthenticatedError, ValidationError } from '../errors.js';
import { appIdOf, userIdOf, visibleUserWhere } from '../services/visibility.js';
import { liveStream } from './live-stream.js';

export type PresenceStatus = 'ACTIVE' | 'AWAY';

export interface PresenceItem {
  kind: 'presence';
  status: PresenceStatus;
  userIds: string[];
}

/**
 * Marks the viewer ACTIVE (or AWAY at once with `away`). Presence is best-effort: a Redis failure is logged and the
 * call still succeeds.
 */
export async function heartbeat(ctx: Context, away: boolean): Promise<{ status: PresenceStatus; lastSeenAt: Date | null }> {
  const userId = userIdOf(ctx.viewer);
  if (!userId || ctx.viewer.kind !== 'user') throw new UnauthenticatedError('Heartbeats need a user token');
  const { presence } = ctx.deps.realtime;
  try {
    await (away ? presence.leave(ctx.viewer.appId, userId) : presence.touch(ctx.viewer.appId, [userId]));
  } catch (err) {
    ctx.deps.log.warn({ err }, 'heartbeat not stored');
  }
  return away ? { status: 'AWAY', lastSeenAt: null } : { status: 'ACTIVE', lastSeenAt: new Date() };
}

/** Status of the given users of the viewer's app (unknown or foreign ids are left out). */
export async function presenceOf(ctx: Context, userIds: string[]) {
  if (userIds.length > 100) throw ValidationError.field(['userIds'], 'At most 100 ids');
  const users = await ctx.prisma.user.findMany({ where: { id: { in: [...new Set(userIds)] }, ...visibleUserWhere(ctx.viewer) } });
  const seen = await ctx.deps.realtime.presence.lastSeen(appIdOf(ctx.viewer), users.map((u) => u.id));
  return users.map((user) => {
    const lastSeenAt = seen.get(user.id) ?? null;
    return { user, status: (lastSeenAt ? 'ACTIVE' : 'AWAY') as PresenceStatus, lastSeenAt };
  });
}

/** Presence changes in the viewer's app, optionally only for some users. */
export function presenceStream(ctx: Context, userIds: string[] | null) {
  if (userIds && userIds.length > 1000) throw ValidationError.field(['userIds'], 'At most 1000 ids');
  const only = userIds ? new Set(userIds) : null;
  return liveStream<PresenceItem>(ctx, null, (sink) => [
    ctx.deps.bus.subscribe('presence', appIdOf(ctx.viewer), ({ status, userIds: changed }) => {
      const ids = only ? changed.filter((id) => only.has(id)) : changed;
      if (ids.length) sink.push({ kind: 'presence', status, userIds: ids });
    }),
  ]);
}
