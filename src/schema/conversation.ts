/**
 * Support webchat: the Conversation type (a thread in a SUPPORT channel with one visitor), startConversation
 * (PUBLISHABLE key), the visitor's own profile, the agent inbox, assignment, status and conversationEvents.
 */
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { Conversation } from '../generated/prisma/client.js';
import { conversationStream, type ConversationItem } from '../realtime/conversation-stream.js';
import { unwrap } from '../realtime/realtime.js';
import { startConversation, updateVisitor, requireVisitor, conversationOf } from '../services/conversation.js';
import { assignConversation, listConversations, setConversationStatus } from '../services/conversation-lifecycle.js';
import { visibleThreadWhere } from '../services/visibility.js';
import { pageRequest } from './connection.js';
import { defineMutation } from './mutation.js';
import { ThreadNode } from './thread.js';
import { UserNode } from './user.js';
import { emailAddress, safeText } from './validators.js';

export const ConversationStatusEnum = builder.enumType('ConversationStatus', {
  description:
    'OPEN: waiting for the team. PENDING: waiting for the visitor (their next chat makes it OPEN). RESOLVED: done ' +
    '(a visitor chat reopens it). CLOSED: archived for good (visitors cannot write to it; startConversation starts anew).',
  values: ['OPEN', 'PENDING', 'RESOLVED', 'CLOSED'] as const,
});

const loadConversation = async (ctx: Context, threadId: string): Promise<Conversation> =>
  ctx.prisma.conversation.findFirstOrThrow({ where: { threadId, thread: visibleThreadWhere(ctx.viewer) } });

export const ConversationRef = builder.objectRef<Conversation>('Conversation').implement({
  description: 'A support conversation: the thread (history, reactions, read state, streams) plus its lifecycle.',
  fields: (t) => ({
    id: t.id({ description: 'The id of the conversation’s thread.', resolve: (c) => c.threadId }),
    thread: t.prismaField({
      type: 'Thread',
      resolve: (query, c, _a, ctx) => ctx.prisma.thread.findUniqueOrThrow({ ...query, where: { id: c.threadId } }),
    }),
    status: t.field({ type: ConversationStatusEnum, resolve: (c) => c.status }),
    visitor: t.prismaField({ type: 'User', resolve: (query, c, _a, ctx) => ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: c.visitorId } }) }),
    assignee: t.prismaField({
      type: 'User',
      nullable: true,
      resolve: (query, c, _a, ctx) => (c.assigneeId ? ctx.prisma.user.findUnique({ ...query, where: { id: c.assigneeId } }) : null),
    }),
    lastVisitorChatAt: t.expose('lastVisitorChatAt', { type: 'DateTime', nullable: true }),
    lastActivityAt: t.expose('activityAt', { type: 'DateTime', description: 'Newest chat (the inbox order).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.objectField(ThreadNode, 'conversation', (t) =>
  t.field({
    type: ConversationRef,
    nullable: true,
    description: 'The support conversation this thread is, if it is one.',
    resolve: (thread, _a, ctx) => conversationOf(ctx, thread),
  }),
);

defineMutation('startConversation', {
  description:
    'Starts (or with `resumeToken` resumes) a support conversation, with the app’s PUBLISHABLE key. Returns the ' +
    'visitor’s bearer token (`visitorToken`) and the long-lived `resumeToken` to keep in the browser.',
  authScopes: { publishableKey: true },
  input: (t) => ({
    resumeToken: t.string({ validate: safeText(1, 200), description: 'From an earlier startConversation; unknown ones start afresh.' }),
    name: t.string({ validate: safeText(1, 100) }),
    email: t.string({ validate: emailAddress() }),
    channelId: t.id({ description: 'A SUPPORT channel; default: the app’s support channel (created on demand).' }),
  }),
  resolve: (input, ctx) => startConversation(ctx, input),
  payload: (t) => ({
    conversation: t.field({ type: ConversationRef, resolve: (p) => p.conversation }),
    visitor: t.field({ type: UserNode, resolve: (p) => p.visitor }),
    visitorToken: t.string({ resolve: (p) => p.visitorToken }),
    visitorTokenExpiresAt: t.field({ type: 'DateTime', resolve: (p) => p.visitorTokenExpiresAt }),
    resumeToken: t.string({ resolve: (p) => p.resumeToken }),
    resumed: t.boolean({ resolve: (p) => p.resumed }),
  }),
});

defineMutation('setVisitorEmail', {
  description: 'The visitor sets (or with null clears) their own email.',
  authScopes: { visitor: true },
  input: (t) => ({ email: t.string({ validate: emailAddress() }) }),
  resolve: async (input, ctx) => ({ visitor: await updateVisitor(ctx, requireVisitor(ctx), { email: input.email ?? null }) }),
  payload: (t) => ({ visitor: t.field({ type: UserNode, resolve: (p) => p.visitor }) }),
});

defineMutation('setVisitorName', {
  description: 'The visitor sets their own display name.',
  authScopes: { visitor: true },
  input: (t) => ({ name: t.string({ required: true, validate: safeText(1, 100) }) }),
  resolve: async (input, ctx) => ({ visitor: await updateVisitor(ctx, requireVisitor(ctx), { name: input.name }) }),
  payload: (t) => ({ visitor: t.field({ type: UserNode, resolve: (p) => p.visitor }) }),
});

defineMutation('assignConversation', {
  description: 'Assigns a conversation to an agent, or unassigns it with `assigneeId: null` (MOD+ or SECRET key; agents may take unassigned ones).',
  authScopes: { user: true, secretKey: true },
  input: (t) => ({ threadId: t.id({ required: true }), assigneeId: t.id() }),
  resolve: async (input, ctx) => ({ conversation: await assignConversation(ctx, input.threadId, input.assigneeId ?? null) }),
  payload: (t) => ({ conversation: t.field({ type: ConversationRef, resolve: (p) => p.conversation }) }),
});

defineMutation('setConversationStatus', {
  description: 'Changes the status (MOD+, SECRET key or the assignee).',
  authScopes: { user: true, secretKey: true },
  input: (t) => ({ threadId: t.id({ required: true }), status: t.field({ type: ConversationStatusEnum, required: true }) }),
  resolve: async (input, ctx) => ({ conversation: await setConversationStatus(ctx, input.threadId, input.status) }),
  payload: (t) => ({ conversation: t.field({ type: ConversationRef, resolve: (p) => p.conversation }) }),
});

builder.queryField('conversations', (t) =>
  t.connection({
    type: ConversationRef,
    description: 'The agent inbox: conversations the viewer may see, newest activity first.',
    authScopes: { user: true, secretKey: true },
    args: {
      status: t.arg({ type: ConversationStatusEnum }),
      assigneeId: t.arg.id(),
      unassigned: t.arg.boolean({ description: 'Only conversations nobody is assigned to.' }),
    },
    resolve: (_r, args, ctx) => listConversations(ctx, pageRequest(args, ['s', 's']), args),
  }),
);

const ConversationEventTypeEnum = builder.enumType('ConversationEventType', {
  values: ['CREATED', 'STATUS_CHANGED', 'ASSIGNED', 'VISITOR_CHAT'] as const,
  description: 'VISITOR_CHAT: the visitor wrote; the conversation moves to the top of the inbox.',
});

const ConversationEventRef = builder.objectRef<ConversationItem>('ConversationEvent').implement({
  description: 'A conversation of the inbox changed (a status change to OPEN from RESOLVED by a visitor chat is a reopening).',
  fields: (t) => ({
    type: t.field({ type: ConversationEventTypeEnum, resolve: (i) => i.type }),
    conversation: t.field({ type: ConversationRef, resolve: (i, _a, ctx) => loadConversation(ctx, i.threadId) }),
  }),
});

builder.subscriptionField('conversationEvents', (t) =>
  t.field({
    type: ConversationEventRef,
    description: 'Live inbox for agents: conversations created, reopened, assigned, changing status, or with new visitor chats.',
    authScopes: { user: true, secretKey: true },
    subscribe: (_r, _a, ctx) => conversationStream(ctx),
    resolve: (i) => unwrap(i),
  }),
);
