/**
 * Live thread streams: `threadEvents(threadId, after)` (everything, resumable from a cursor) and `chatAdded(threadId)`
 * (new chats only). A stream the server ends (access lost, slow consumer, shutdown) sends one last payload whose
 * error carries `extensions.code`, then completes.
 */
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { Chat, Thread, User } from '../generated/prisma/client.js';
import { unwrap } from '../realtime/realtime.js';
import { threadStream, type ThreadStreamItem } from '../realtime/thread-stream.js';
import { eventCursor } from '../services/event-log.js';
import { readStateOf } from '../services/read-state.js';
import { visibleChatWhere, visibleThreadWhere, visibleUserWhere, visitorIdOf } from '../services/visibility.js';
import { ChatNode } from './chat.js';
import { ConversationRef } from './conversation.js';
import { ReadStateRef, ThreadNode } from './thread.js';
import { UserNode } from './user.js';

type EventItem = Extract<ThreadStreamItem, { kind: 'event' }>;

const EVENT_TYPES: Record<string, string> = {
  'thread.created': 'ThreadCreatedEvent',
  'thread.updated': 'ThreadUpdatedEvent',
  'chat.added': 'ChatAddedEvent',
  'chat.edited': 'ChatEditedEvent',
  'chat.deleted': 'ChatDeletedEvent',
  'reaction.changed': 'ReactionChangedEvent',
  'conversation.created': 'ConversationChangedEvent',
  'conversation.status_changed': 'ConversationChangedEvent',
  'conversation.assigned': 'ConversationChangedEvent',
};

async function loadThread(ctx: Context, id: string): Promise<Thread> {
  return ctx.prisma.thread.findFirstOrThrow({ where: { id, ...visibleThreadWhere(ctx.viewer) } });
}

async function loadChat(ctx: Context, item: EventItem): Promise<Chat> {
  const chatId = String(item.event.payload.chatId);
  return ctx.prisma.chat.findFirstOrThrow({ where: { id: chatId, ...visibleChatWhere(ctx.viewer) } });
}

export const ThreadEventRef = builder.interfaceRef<ThreadStreamItem>('ThreadEvent').implement({
  description: 'Something that happened in a thread. Store `cursor` and pass it as `after` to resume without gaps.',
  resolveType: (item) => (item.kind === 'event' ? (EVENT_TYPES[item.event.type] ?? 'ThreadUpdatedEvent') : item.kind === 'readState' ? 'ReadStateChangedEvent' : 'ResyncRequiredEvent'),
  fields: (t) => ({
    cursor: t.string({ resolve: (item) => eventCursor(item.threadId, (item.kind === 'event' ? item.cursorSeq : undefined) ?? item.seq) }),
    seq: t.int({ description: 'The thread’s event seq (gap-free per thread; not the chat seq).', resolve: (item) => item.seq }),
    thread: t.field({ type: ThreadNode, resolve: (item, _a, ctx) => loadThread(ctx, item.threadId) }),
  }),
});

const chatField = (name: string, description: string) =>
  builder.objectRef<EventItem>(name).implement({
    description,
    interfaces: [ThreadEventRef],
    fields: (t) => ({
      chat: t.field({ type: ChatNode, resolve: (item, _a, ctx) => loadChat(ctx, item) }),
      redelivered: t.boolean({
        description: 'Sent again on resume because it was not acked (ackChats); its cursor is the resume cursor.',
        resolve: (item) => item.redelivered === true,
      }),
    }),
  });

chatField('ChatAddedEvent', 'A chat was sent.');
chatField('ChatEditedEvent', 'A chat’s text was edited.');
chatField('ChatDeletedEvent', 'A chat was deleted (its text is empty now).');

builder.objectRef<EventItem>('ReactionChangedEvent').implement({
  description: 'A user set or removed a reaction on a chat.',
  interfaces: [ThreadEventRef],
  fields: (t) => ({
    chat: t.field({ type: ChatNode, resolve: (item, _a, ctx) => loadChat(ctx, item) }),
    name: t.string({ resolve: (item) => String(item.event.payload.name) }),
    set: t.boolean({ resolve: (item) => item.event.payload.set === true }),
    user: t.field({
      type: UserNode,
      resolve: (item, _a, ctx): Promise<User> =>
        ctx.prisma.user.findFirstOrThrow({ where: { id: String(item.event.payload.userId), ...visibleUserWhere(ctx.viewer) } }),
    }),
  }),
});

for (const [name, description] of [
  ['ThreadCreatedEvent', 'The thread was created (the first event of every thread).'],
  ['ThreadUpdatedEvent', 'The thread’s subject, tags, resolved or hidden state changed.'],
] as const) {
  builder.objectRef<EventItem>(name).implement({ description, interfaces: [ThreadEventRef], fields: () => ({}) });
}

builder.objectRef<EventItem>('ConversationChangedEvent').implement({
  description: 'The support conversation of this thread was created, changed status or was (un)assigned.',
  interfaces: [ThreadEventRef],
  fields: (t) => ({
    conversation: t.field({
      type: ConversationRef,
      resolve: (item, _a, ctx) => ctx.prisma.conversation.findUniqueOrThrow({ where: { threadId: item.threadId } }),
    }),
  }),
});

builder.objectRef<Extract<ThreadStreamItem, { kind: 'readState' }>>('ReadStateChangedEvent').implement({
  description: 'The viewer’s own read state of the thread changed (here or on another device). `seq` and `cursor` are those of the last event delivered before it.',
  interfaces: [ThreadEventRef],
  fields: (t) => ({
    readState: t.field({
      type: ReadStateRef,
      resolve: async (item, _a, ctx) => {
        const thread = await loadThread(ctx, item.threadId);
        const rs = await readStateOf(ctx, thread);
        if (!rs) throw new Error('read state needs a user viewer');
        return rs;
      },
    }),
  }),
});

builder.objectRef<Extract<ThreadStreamItem, { kind: 'resync' }>>('ResyncRequiredEvent').implement({
  description:
    'The cursor is older than the retained event log: reload the thread (e.g. `chats(last: 50)`), then keep this ' +
    'stream, which continues live from `cursor`.',
  interfaces: [ThreadEventRef],
  fields: () => ({}),
});

builder.subscriptionFields((t) => ({
  threadEvents: t.field({
    type: ThreadEventRef,
    description:
      'Everything that happens in a thread, in event order. With `after` (a cursor from an earlier event), first ' +
      'every event after it from the event log, then live, with no gap and no duplicate. With `redeliver` (default: ' +
      'true for visitors, false for other users), such a resume first sends the chats of others up to the cursor that ' +
      'the viewer has not acked (ackChats) or read, once each, marked `redelivered`.',
    authScopes: { authenticated: true },
    args: { threadId: t.arg.id({ required: true }), after: t.arg.string(), redeliver: t.arg.boolean() },
    subscribe: (_r, args, ctx) =>
      threadStream(ctx, args.threadId, { after: args.after ?? null, readState: true, redeliver: args.redeliver ?? visitorIdOf(ctx.viewer) !== null }),
    resolve: (item) => unwrap(item),
  }),
  chatAdded: t.field({
    type: ChatNode,
    description: 'Every new chat of a thread, in seq order, from now on (use threadEvents with `after` to resume).',
    authScopes: { authenticated: true },
    args: { threadId: t.arg.id({ required: true }) },
    subscribe: async (_r, args, ctx) => filterChatsAdded(await threadStream(ctx, args.threadId, { after: null, readState: false, redeliver: false })),
    resolve: (item, _a, ctx) => loadChat(ctx, unwrap(item) as EventItem),
  }),
}));

/**
 * Only the chat.added items of a thread stream. Not an async generator: a generator cannot be returned while it
 * awaits the next item, so a client leaving a quiet thread would never release the stream.
 */
function filterChatsAdded<T extends { kind: string }>(stream: AsyncIterable<T>): AsyncIterableIterator<T> {
  const it = stream[Symbol.asyncIterator]();
  const wanted = (item: T) => item.kind === 'end' || (item.kind === 'event' && (item as unknown as EventItem).event.type === 'chat.added');
  const self: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        const r = await it.next();
        if (r.done || wanted(r.value)) return r;
      }
    },
    return: async () => (await it.return?.()) ?? { value: undefined, done: true },
    [Symbol.asyncIterator]: () => self,
  };
  return self;
}
