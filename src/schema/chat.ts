/** Chats: the Chat node, reactions, sendChat, editChat, deleteChat, setReaction. */
import { builder } from '../builder.js';
import type { User } from '../generated/prisma/client.js';
import { deleteChat, editChat, setReaction } from '../services/chat.js';
import { sendChat } from '../services/chat-send.js';
import { deliveryStateOf, receiptsOf, type Receipt } from '../services/delivery.js';
import { visibleChatWhere } from '../services/visibility.js';
import { defineMutation } from './mutation.js';
import { UserNode } from './user.js';
import { clientKey, reactionName, safeText } from './validators.js';

interface ReactionGroup {
  name: string;
  users: User[];
  viewerHasReacted: boolean;
}

const ChatOriginEnum = builder.enumType('ChatOrigin', {
  description:
    'Who wrote a chat, by the author’s kind at send time: VISITOR (a support visitor), AGENT (a person of the app), ' +
    'BOT (a BOT user). SYSTEM is reserved for messages Parley writes itself; none are written yet.',
  values: ['VISITOR', 'AGENT', 'BOT', 'SYSTEM'] as const,
});

const DeliveryStateEnum = builder.enumType('DeliveryState', {
  description: 'How far a chat got: SENT (stored), DELIVERED (reached a recipient’s client: ackChats), READ (a recipient read it).',
  values: ['SENT', 'DELIVERED', 'READ'] as const,
});

const ReceiptRef = builder.objectRef<Receipt>('ChatReceipt').implement({
  description: 'One recipient a chat reached.',
  fields: (t) => ({
    user: t.prismaField({ type: 'User', resolve: (query, r, _a, ctx) => ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: r.userId } }) }),
    state: t.field({ type: DeliveryStateEnum, resolve: (r) => r.state }),
  }),
});

const ReactionGroupRef = builder.objectRef<ReactionGroup>('ReactionGroup').implement({
  description: 'Everyone who reacted to a chat with one name, in the order they reacted.',
  fields: (t) => ({
    name: t.exposeString('name'),
    count: t.int({ resolve: (g) => g.users.length }),
    viewerHasReacted: t.exposeBoolean('viewerHasReacted'),
    users: t.field({ type: [UserNode], resolve: (g) => g.users }),
  }),
});

export const ChatNode = builder.prismaNode('Chat', {
  id: { field: 'id' },
  // Unknown and invisible ids resolve to null (no error, no existence oracle).
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [visibleChatWhere(ctx.viewer)] }),
  fields: (t) => ({
    thread: t.relation('thread'),
    seq: t.exposeInt('seq'),
    author: t.relation('author'),
    text: t.exposeString('text', { description: 'Empty once the chat is deleted.' }),
    clientId: t.exposeString('clientId', { nullable: true }),
    replyTo: t.prismaField({
      type: 'Chat',
      nullable: true,
      description: 'The chat this one answers (null when the viewer may not see it, e.g. an internal note for a visitor).',
      resolve: (query, chat, _a, ctx) =>
        chat.replyToId ? ctx.prisma.chat.findFirst({ ...query, where: { id: chat.replyToId, ...visibleChatWhere(ctx.viewer) } }) : null,
    }),
    origin: t.field({ type: ChatOriginEnum, resolve: (c) => c.origin }),
    deliveryState: t.field({
      type: DeliveryStateEnum,
      description: 'The furthest any recipient (anyone but the author) got: for an agent’s reply, the visitor’s state.',
      resolve: (chat, _a, ctx) => deliveryStateOf(ctx, chat),
    }),
    receipts: t.field({
      type: [ReceiptRef],
      description: 'Per recipient, who the chat reached or who read it (up to 100; agents only, empty for visitors).',
      resolve: (chat, _a, ctx) => receiptsOf(ctx, chat),
    }),
    internal: t.exposeBoolean('internal', { description: 'An agent-only note of a support conversation (never shown to visitors).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    editedAt: t.expose('editedAt', { type: 'DateTime', nullable: true }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', nullable: true }),
    reactions: t.field({
      type: [ReactionGroupRef],
      select: { reactions: { orderBy: [{ createdAt: 'asc' }, { userId: 'asc' }], include: { user: true } } },
      resolve: (chat, _a, ctx) => {
        const me = ctx.viewer.kind === 'user' ? ctx.viewer.user.id : null;
        const groups = new Map<string, ReactionGroup>();
        for (const r of chat.reactions) {
          const g = groups.get(r.name) ?? { name: r.name, users: [], viewerHasReacted: false };
          g.users.push(r.user);
          g.viewerHasReacted ||= r.userId === me;
          groups.set(r.name, g);
        }
        return [...groups.values()];
      },
    }),
  }),
});

const chatText = safeText(1, 10_000);

defineMutation('sendChat', {
  description:
    'Sends a chat to a thread the viewer is a member of (through one of its channels; visitors: their own ' +
    'conversation). A retry with the same `clientId` by the same author returns the stored chat and writes nothing.',
  authScopes: { user: true, visitor: true },
  input: (t) => ({
    threadId: t.id({ required: true }),
    text: t.string({ required: true, validate: chatText }),
    clientId: t.string({ validate: clientKey, description: 'Idempotency key chosen by the client (e.g. a UUID).' }),
    replyToId: t.id({ description: 'A chat of the same thread this one answers.' }),
    internal: t.boolean({ description: 'An agent-only note (support conversations; not for visitors).' }),
  }),
  resolve: async (input, ctx) => ({ chat: await sendChat(ctx, input) }),
  payload: (t) => ({ chat: t.field({ type: ChatNode, resolve: (p) => p.chat }) }),
});

defineMutation('editChat', {
  description: 'Edits the text of one’s own chat.',
  authScopes: { user: true },
  input: (t) => ({ id: t.id({ required: true }), text: t.string({ required: true, validate: chatText }) }),
  resolve: async (input, ctx) => ({ chat: await editChat(ctx, input.id, input.text) }),
  payload: (t) => ({ chat: t.field({ type: ChatNode, resolve: (p) => p.chat }) }),
});

defineMutation('deleteChat', {
  description: 'Deletes a chat (author or MOD+): its text becomes empty and it stays in history as a tombstone.',
  authScopes: { user: true, secretKey: true },
  input: (t) => ({ id: t.id({ required: true }) }),
  resolve: async (input, ctx) => ({ chat: await deleteChat(ctx, input.id) }),
  payload: (t) => ({ chat: t.field({ type: ChatNode, resolve: (p) => p.chat }) }),
});

defineMutation('setReaction', {
  description: 'Sets (`set: true`) or removes the viewer’s reaction. Blind write: repeating it is fine.',
  authScopes: { user: true, visitor: true },
  input: (t) => ({
    chatId: t.id({ required: true }),
    name: t.string({ required: true, validate: reactionName }),
    set: t.boolean({ required: true }),
  }),
  resolve: async (input, ctx) => ({ chat: await setReaction(ctx, input.chatId, input.name, input.set) }),
  payload: (t) => ({ chat: t.field({ type: ChatNode, resolve: (p) => p.chat }) }),
});
