/**
 * Support conversations, visitor side: startConversation (with a PUBLISHABLE key) creates or resumes a VISITOR user
 * and their conversation, a thread in a SUPPORT channel; the visitor edits their own name and email.
 */
import type { Context } from '../context.js';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors.js';
import type { Channel, Conversation, Prisma, Thread, User } from '../generated/prisma/client.js';
import { credentialHash, randomCredential } from '../auth/secrets.js';
import { newId } from '../ids.js';
import { appendEvent, publishEvents, type AppendedEvent } from './events.js';

/** Prefix of visitor resume tokens (opaque, 256 bits, stored hashed). */
export const RESUME_TOKEN_PREFIX = 'prt_';
/** Name of the support channel created on demand for an app that has none. */
const DEFAULT_SUPPORT_CHANNEL = 'Support';

export interface StartConversationInput {
  resumeToken?: string | null;
  name?: string | null;
  email?: string | null;
  channelId?: string | null;
}

export interface StartedConversation {
  conversation: Conversation;
  visitor: User;
  visitorToken: string;
  visitorTokenExpiresAt: Date;
  resumeToken: string;
  resumed: boolean;
}

/**
 * Starts or resumes a visitor's conversation. A known resumeToken (of this app, active visitor) returns the same
 * visitor and their newest conversation that is not CLOSED (`resumed: true`); if all are closed, a new conversation
 * for the same visitor. An unknown token is treated as none: a new visitor. Name and email, when given, update the
 * visitor. A fresh visitorToken is issued every time.
 */
export async function startConversation(ctx: Context, input: StartConversationInput): Promise<StartedConversation> {
  const v = ctx.viewer;
  if (v.kind !== 'publishableKey') throw new ForbiddenError('Start conversations with the app’s PUBLISHABLE key');
  const appId = v.appId;
  const channel = await supportChannel(ctx, appId, input.channelId ?? null);
  let visitor = input.resumeToken ? await visitorOf(ctx, appId, input.resumeToken) : null;
  let resumeToken = input.resumeToken ?? '';
  let conversation: Conversation | null = null;
  if (visitor) {
    conversation = await ctx.prisma.conversation.findFirst({
      where: { visitorId: visitor.id, status: { not: 'CLOSED' }, thread: { deletedAt: null }, ...(input.channelId ? { channelId: channel.id } : {}) },
      orderBy: { createdAt: 'desc' },
    });
    if (input.name != null || input.email != null) visitor = await updateVisitor(ctx, visitor, input);
  } else {
    resumeToken = randomCredential(RESUME_TOKEN_PREFIX);
    visitor = await ctx.prisma.user.create({
      data: {
        id: newId('usr'),
        appId,
        externalId: `visitor:${newId('usr').slice(4)}`,
        displayName: input.name ?? 'Visitor',
        email: input.email ?? null,
        kind: 'VISITOR',
        resumeTokens: { create: { tokenHash: credentialHash(resumeToken) } },
      },
    });
  }
  const resumed = conversation !== null;
  conversation ??= await createConversation(ctx, channel, visitor);
  const { token, expiresAt } = await ctx.deps.tokens.issue(visitor.id, appId);
  return { conversation, visitor, visitorToken: token, visitorTokenExpiresAt: expiresAt, resumeToken, resumed };
}

/** The active VISITOR user behind a resume token of this app, or null (unknown, other app, deactivated). */
async function visitorOf(ctx: Context, appId: string, resumeToken: string): Promise<User | null> {
  if (!resumeToken.startsWith(RESUME_TOKEN_PREFIX)) return null;
  const row = await ctx.prisma.resumeToken.findUnique({ where: { tokenHash: credentialHash(resumeToken) }, include: { user: true } });
  const user = row?.user;
  return user && user.appId === appId && user.kind === 'VISITOR' && !user.deactivatedAt ? user : null;
}

/**
 * The SUPPORT channel to start in: the given one (NotFound unless it is a live SUPPORT channel of the app), else the
 * app's oldest, created on demand. An advisory lock per app makes concurrent first visitors create only one.
 */
async function supportChannel(ctx: Context, appId: string, channelId: string | null): Promise<Channel> {
  const live = { appId, support: true, deletedAt: null } satisfies Prisma.ChannelWhereInput;
  if (channelId) {
    const channel = await ctx.prisma.channel.findFirst({ where: { id: channelId, ...live } });
    if (!channel) throw new NotFoundError('Support channel not found');
    return channel;
  }
  const existing = await ctx.prisma.channel.findFirst({ where: live, orderBy: { id: 'asc' } });
  if (existing) return existing;
  return ctx.prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`support:${appId}`}))`;
    const raced = await tx.channel.findFirst({ where: live, orderBy: { id: 'asc' } });
    return (
      raced ??
      tx.channel.create({
        data: { id: newId('chn'), appId, name: DEFAULT_SUPPORT_CHANNEL, visibility: 'HIDDEN', support: true, description: 'Visitor conversations' },
      })
    );
  });
}

/** A new conversation thread (no chats yet) with its thread.created and conversation.created events. */
async function createConversation(ctx: Context, channel: Channel, visitor: User): Promise<Conversation> {
  const events: AppendedEvent[] = [];
  const conversation = await ctx.prisma.$transaction(async (tx) => {
    const now = new Date();
    const thread = await tx.thread.create({
      data: {
        id: newId('thr'),
        appId: channel.appId,
        authorId: visitor.id,
        subject: `Conversation with ${visitor.displayName}`.slice(0, 300),
        createdAt: now,
        lastActivityAt: now,
        channels: { create: { channelId: channel.id } },
        conversation: { create: { appId: channel.appId, channelId: channel.id, visitorId: visitor.id, activityAt: now, createdAt: now } },
      },
      include: { conversation: true },
    });
    events.push(await appendEvent(tx, thread.id, 'thread.created', { threadId: thread.id }));
    events.push(await appendEvent(tx, thread.id, 'conversation.created', { threadId: thread.id, visitorId: visitor.id, status: 'OPEN' }));
    return thread.conversation as Conversation;
  });
  publishEvents(ctx, events);
  return conversation;
}

/** Updates the visitor's own name and email (visitor tokens only). */
export async function updateVisitor(ctx: Context, visitor: User, input: { name?: string | null; email?: string | null }): Promise<User> {
  const data = {
    ...(input.name != null ? { displayName: input.name } : {}),
    ...(input.email !== undefined ? { email: input.email } : {}),
  };
  if (Object.keys(data).length === 0) return visitor;
  const user = await ctx.prisma.user.update({ where: { id: visitor.id }, data });
  ctx.deps.userCache.delete(user.id);
  return user;
}

/** The calling visitor's user row (UnauthenticatedError for anything else). */
export function requireVisitor(ctx: Context): User {
  const v = ctx.viewer;
  if (v.kind !== 'user' || v.user.kind !== 'VISITOR') throw new UnauthenticatedError('This needs a visitor token');
  return v.user;
}

/** The conversation of a thread, when it is one. */
export function conversationOf(ctx: Context, thread: Pick<Thread, 'id'>): Promise<Conversation | null> {
  return ctx.prisma.conversation.findUnique({ where: { threadId: thread.id } });
}
