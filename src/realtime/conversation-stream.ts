/**
 * conversationEvents: the agent inbox, live. Driven by the app's activity topic: a conversation was created, changed
 * status (including a visitor's chat reopening it), was assigned, or got a visitor chat (move it to the top). Each
 * hint is checked against the viewer's visibility in the database, so agents only hear of conversations they see.
 */
import type { Context } from '../context.js';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import { visibleThreadWhere, visitorIdOf } from '../services/visibility.js';
import { liveStream } from './live-stream.js';

export type ConversationEventType = 'CREATED' | 'STATUS_CHANGED' | 'ASSIGNED' | 'VISITOR_CHAT';

export interface ConversationItem {
  kind: 'conversation';
  type: ConversationEventType;
  threadId: string;
}

const TYPES: Record<string, ConversationEventType> = {
  'conversation.created': 'CREATED',
  'conversation.status_changed': 'STATUS_CHANGED',
  'conversation.assigned': 'ASSIGNED',
};

/** Opens the stream for an agent (a non-visitor user or a SECRET key). */
export function conversationStream(ctx: Context) {
  const v = ctx.viewer;
  if (v.kind !== 'user' && v.kind !== 'secretKey') throw new UnauthenticatedError('This stream needs a user token');
  if (visitorIdOf(v)) throw new ForbiddenError('Visitors cannot follow the inbox');
  return liveStream<ConversationItem>(ctx, null, (sink) => [
    ctx.deps.bus.subscribe('activity', v.appId, (hint) => {
      const type = hint.type === 'chat.added' && hint.byVisitor ? 'VISITOR_CHAT' : TYPES[hint.type];
      if (!type) return;
      sink.enqueue(async () => {
        const seen = await ctx.prisma.conversation.findFirst({
          where: { threadId: hint.threadId, thread: visibleThreadWhere(ctx.viewer) },
          select: { threadId: true },
        });
        if (seen) sink.push({ kind: 'conversation', type, threadId: hint.threadId });
      });
    }),
  ]);
}
