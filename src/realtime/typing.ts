/**
 * Typing indicators: ephemeral, never stored. setTyping publishes on the thread's typing topic; each subscriber ends
 * a typist's indicator by itself when it is not renewed within TYPING_TTL_SECONDS, so a client that vanishes never
 * leaves "is typing…" behind. The typist does not receive their own events.
 */
import type { Context } from '../context.js';
import { UnauthenticatedError } from '../errors.js';
import { findVisibleThread } from '../services/thread.js';
import { userIdOf } from '../services/visibility.js';
import { liveStream } from './live-stream.js';
import { threadAccess } from './thread-stream.js';

export interface TypingItem {
  kind: 'typing';
  threadId: string;
  userId: string;
  isTyping: boolean;
}

/** Announces that the viewer started (renews) or stopped typing in a thread they can see. */
export async function setTyping(ctx: Context, threadId: string, isTyping: boolean) {
  const userId = userIdOf(ctx.viewer);
  if (!userId) throw new UnauthenticatedError('Typing needs a user token');
  const thread = await findVisibleThread(ctx, threadId);
  ctx.deps.bus.publish('typing', thread.id, { threadId: thread.id, userId, isTyping });
  return { thread, isTyping };
}

export async function typingStream(ctx: Context, threadId: string) {
  const thread = await findVisibleThread(ctx, threadId);
  const me = userIdOf(ctx.viewer);
  const ttlMs = ctx.deps.env.TYPING_TTL_SECONDS * 1000;
  return liveStream<TypingItem>(ctx, (viewer) => threadAccess(ctx, viewer, thread.id), (sink) => {
    const expiries = new Map<string, NodeJS.Timeout>();
    const unsubscribe = ctx.deps.bus.subscribe('typing', thread.id, ({ userId, isTyping }) => {
      if (userId === me) return;
      clearTimeout(expiries.get(userId));
      expiries.delete(userId);
      sink.push({ kind: 'typing', threadId: thread.id, userId, isTyping });
      if (!isTyping) return;
      const expiry = setTimeout(() => {
        expiries.delete(userId);
        sink.push({ kind: 'typing', threadId: thread.id, userId, isTyping: false });
      }, ttlMs);
      expiry.unref();
      expiries.set(userId, expiry);
    });
    return [unsubscribe, () => expiries.forEach((t) => clearTimeout(t))];
  });
}
