/**
 * Keeping a live stream's access honest after it started: a stream ends (with an error the client sees) when its
 * viewer loses access — removed from the channel, thread hidden or deleted, user deactivated, key revoked, token
 * expired. Changes that concern one user are signalled on the user's bus topic; anything else (a channel deleted or
 * made HIDDEN, a role change) is caught by a periodic re-check.
 */
import type { Context, Viewer } from '../context.js';
import { AppError, ForbiddenError, UnauthenticatedError } from '../errors.js';

/**
 * The viewer as it is now in the database (bypassing caches), or an error when the credential itself no longer
 * works: token expired, user deactivated or gone, API key revoked.
 */
export async function freshViewer(ctx: Context): Promise<Viewer | AppError> {
  const v = ctx.viewer;
  if (v.kind === 'user') {
    if (v.tokenExpiresAt.getTime() <= Date.now()) return new UnauthenticatedError('The token has expired');
    const user = await ctx.prisma.user.findUnique({ where: { id: v.user.id } });
    if (!user || user.deactivatedAt) return new ForbiddenError('This user is deactivated');
    return { ...v, user };
  }
  if (v.kind === 'secretKey' || v.kind === 'publishableKey') {
    const key = await ctx.prisma.apiKey.findUnique({ where: { id: v.keyId }, select: { revokedAt: true } });
    if (!key || key.revokedAt) return new UnauthenticatedError('The API key was revoked');
  }
  return v;
}

export interface AccessWatch {
  /** Re-checks now (e.g. after an event that may have changed access). Resolves to the error when access is lost. */
  recheck(): Promise<AppError | null>;
  stop(): void;
}

/**
 * Watches a stream's access: re-checks on the viewer's user-topic signals and every `ACCESS_RECHECK_SECONDS`, and
 * ends it when the token expires. `check` returns the error to end with, or null while access holds.
 */
export function watchAccess(
  ctx: Context,
  check: (viewer: Viewer) => Promise<AppError | null>,
  onLost: (error: AppError) => void,
): AccessWatch {
  let stopped = false;
  const recheck = async (): Promise<AppError | null> => {
    if (stopped) return null;
    let error: AppError | null;
    try {
      const viewer = await freshViewer(ctx);
      error = viewer instanceof AppError ? viewer : await check(viewer);
    } catch (err) {
      // A failed check (database briefly unreachable) is not a lost access; the next check decides.
      ctx.deps.log.warn({ err }, 'access re-check failed');
      return null;
    }
    if (error && !stopped) onLost(error);
    return error;
  };
  const timers: NodeJS.Timeout[] = [];
  const every = ctx.deps.env.ACCESS_RECHECK_SECONDS * 1000;
  if (every > 0) timers.push(setInterval(() => void recheck(), every));
  const v = ctx.viewer;
  if (v.kind === 'user') {
    // setTimeout holds at most 2^31-1 ms; tokens live at most 30 days, the interval re-check covers the rest.
    const left = Math.min(v.tokenExpiresAt.getTime() - Date.now(), 2 ** 31 - 1);
    timers.push(setTimeout(() => void recheck(), Math.max(0, left) + 50));
  }
  for (const t of timers) t.unref();
  const unsubscribe =
    v.kind === 'user'
      ? ctx.deps.bus.subscribe('user', v.user.id, (hint) => {
          if (hint.type === 'access') void recheck();
        })
      : () => {};
  return {
    recheck,
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      unsubscribe();
    },
  };
}
