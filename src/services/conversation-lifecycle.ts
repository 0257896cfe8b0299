/**
 * Support conversations, agent side: status (OPEN, PENDING, RESOLVED, CLOSED), assignment, reopening on a visitor's
 * chat, and the inbox. Every change is written with its event-log row (conversation.status_changed /
 * conversation.assigned) in one transaction under the thread's row lock, so streams and webhooks see it exactly once.
 */
import type { Context } from '../context.js';
import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../errors.js';
import type { Conversation, ConversationStatus, Prisma } from '../generated/prisma/client.js';
import { isModPlus } from '../auth/roles.js';
import { timeKey, toConnection, type PageRequest } from '../schema/connection.js';
import { appendEvent, publishEvents, type AppendedEvent } from './events.js';
import { postableThreadWhere, visibleThreadWhere, visitorIdOf } from './visibility.js';

type Change = (current: Conversation) => { data: Prisma.ConversationUpdateInput; event: Parameters<typeof appendEvent>[2]; payload: Record<string, string | null> } | null;

/** Applies a change to a conversation under its thread's row lock; writes the event only when something changed. */
async function changeConversation(ctx: Context, threadId: string, change: Change): Promise<Conversation> {
  const events: AppendedEvent[] = [];
  const result = await ctx.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM thread WHERE id = ${threadId} FOR UPDATE`;
    const current = await tx.conversation.findUniqueOrThrow({ where: { threadId } });
    const c = change(current);
    if (!c) return current;
    events.push(await appendEvent(tx, threadId, c.event, { threadId, ...c.payload }));
    return tx.conversation.update({ where: { threadId }, data: c.data });
  });
  publishEvents(ctx, events);
  return result;
}

/** The conversation of a thread the viewer may see (agents only), or NotFound / Forbidden. */
async function findAgentConversation(ctx: Context, threadId: string): Promise<Conversation> {
  const v = ctx.viewer;
  if (v.kind === 'anonymous') throw new UnauthenticatedError();
  if (visitorIdOf(v)) throw new ForbiddenError('Visitors cannot manage conversations');
  const conversation = await ctx.prisma.conversation.findFirst({ where: { threadId, thread: visibleThreadWhere(v) } });
  if (!conversation) throw new NotFoundError('Conversation not found');
  return conversation;
}

const isManager = (ctx: Context) => ctx.viewer.kind === 'secretKey' || (ctx.viewer.kind === 'user' && isModPlus(ctx.viewer.user.role));

/** Sets the status (MOD+, SECRET key, or the assignee). Setting the current status changes nothing. */
export async function setConversationStatus(ctx: Context, threadId: string, status: ConversationStatus): Promise<Conversation> {
  const found = await findAgentConversation(ctx, threadId);
  const v = ctx.viewer;
  const isAssignee = v.kind === 'user' && found.assigneeId === v.user.id;
  if (!isManager(ctx) && !isAssignee) throw new ForbiddenError('Only moderators or the assignee may change the status');
  return changeConversation(ctx, threadId, (current) =>
    current.status === status
      ? null
      : { data: { status }, event: 'conversation.status_changed', payload: { status, previousStatus: current.status } },
  );
}

/**
 * Assigns the conversation to an agent (null unassigns). MOD+ and SECRET keys assign anyone; any other agent may only
 * take an unassigned conversation for themselves. The assignee must be an active non-visitor user who can post in it.
 */
export async function assignConversation(ctx: Context, threadId: string, assigneeId: string | null): Promise<Conversation> {
  const found = await findAgentConversation(ctx, threadId);
  const v = ctx.viewer;
  const selfClaim = v.kind === 'user' && assigneeId === v.user.id && found.assigneeId === null;
  if (!isManager(ctx) && !selfClaim) throw new ForbiddenError('Only moderators may assign conversations (agents may take unassigned ones)');
  if (assigneeId !== null) {
    const assignee = await ctx.prisma.user.findFirst({ where: { id: assigneeId, appId: found.appId, deactivatedAt: null, kind: { not: 'VISITOR' } } });
    if (!assignee) throw new NotFoundError('User not found');
    const viewerOfAssignee = { kind: 'user' as const, appId: assignee.appId, user: assignee, tokenExpiresAt: new Date(0) };
    const canPost = await ctx.prisma.thread.count({ where: { id: threadId, ...postableThreadWhere(viewerOfAssignee) } });
    if (!canPost) throw ValidationError.field(['assigneeId'], 'The assignee is not an agent of this conversation’s channel');
  }
  return changeConversation(ctx, threadId, (current) =>
    current.assigneeId === assigneeId
      ? null
      : {
          data: assigneeId ? { assignee: { connect: { id: assigneeId } } } : { assignee: { disconnect: true } },
          event: 'conversation.assigned',
          payload: { assigneeId, previousAssigneeId: current.assigneeId },
        },
  );
}

/**
 * A visitor's chat puts a RESOLVED conversation (reopened) or a PENDING one (the visitor answered) back to OPEN.
 * Called after the chat is stored, in its own transaction: between the two, streams may see the chat before the
 * status change. CLOSED conversations take no visitor chats (sendChat refuses them).
 */
export async function reopenConversation(ctx: Context, threadId: string): Promise<void> {
  await changeConversation(ctx, threadId, (current) =>
    current.status === 'RESOLVED' || current.status === 'PENDING'
      ? { data: { status: 'OPEN' }, event: 'conversation.status_changed', payload: { status: 'OPEN', previousStatus: current.status } }
      : null,
  );
}

export interface InboxFilter {
  status?: ConversationStatus | null;
  assigneeId?: string | null;
  unassigned?: boolean | null;
}

/** The agent inbox: conversations the viewer may see, newest activity first (keyset on activityAt, threadId). */
export async function listConversations(ctx: Context, req: PageRequest, filter: InboxFilter) {
  const v = ctx.viewer;
  if (v.kind === 'anonymous') throw new UnauthenticatedError();
  if (visitorIdOf(v) || v.kind === 'publishableKey' || v.kind === 'account') throw new ForbiddenError('Only agents may list conversations');
  if (filter.unassigned && filter.assigneeId) throw ValidationError.field(['unassigned'], 'Use either assigneeId or unassigned');
  const where: Prisma.ConversationWhereInput[] = [{ thread: visibleThreadWhere(v) }];
  if (filter.status) where.push({ status: filter.status });
  if (filter.assigneeId) where.push({ assigneeId: filter.assigneeId });
  if (filter.unassigned) where.push({ assigneeId: null });
  if (req.after) where.push(keyFilter(req.after, 'lt'));
  if (req.before) where.push(keyFilter(req.before, 'gt'));
  const dir = req.backward ? 'asc' : 'desc';
  const rows = await ctx.prisma.conversation.findMany({
    where: { AND: where },
    orderBy: [{ activityAt: dir }, { threadId: dir }],
    take: req.size + 1,
  });
  return toConnection(req, rows, (c) => [c.activityAt.toISOString(), c.threadId]);
}

function keyFilter(key: (string | number)[], op: 'lt' | 'gt'): Prisma.ConversationWhereInput {
  const { at, id } = timeKey(key, op === 'lt' ? 'after' : 'before');
  return { OR: [{ activityAt: { [op]: at } }, { activityAt: at, threadId: { [op]: id } }] };
}
