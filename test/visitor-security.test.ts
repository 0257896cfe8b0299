/**
 * What a support visitor's token and an app's PUBLISHABLE key can do, field by field, against a real server.
 *
 * The table below has one row per root Query, Mutation and Subscription field, and a test fails when the schema has a
 * field without a row, so every new field must say how both credentials fare. Each row probes the visitor's own
 * conversation (where allowed), another visitor's conversation of the same app, an agent thread and channel of the
 * same app, and another app's objects. Denied probes run first and must change no row; the allowed probes run
 * afterwards and must work, so the table fails both ways. Every answer either credential gets is scanned for a
 * marker that only data of others carries (texts, names, emails, join secrets, internal notes). Then the internal
 * notes of a conversation are chased down every read path a visitor has.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLObjectType } from 'graphql';
import { schema } from '../src/schema/index.js';
import { newId } from '../src/ids.js';
import { CREATE_CHANNEL, CREATE_THREAD } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { opened, settle, subscribeSse, subscribeWs, wsClient, type Collector } from './helpers/live.js';
import { startTestServer, type GqlResult, type TestServer } from './helpers/server.js';

/** Only data the visitor and the key must never see carries this marker (compared case-insensitively). */
const MARK = 'xleakx';

type Kind = 'query' | 'mutation' | 'subscription';
type Cred = 'visitor' | 'publishableKey';
type Code = 'FORBIDDEN' | 'UNAUTHENTICATED' | 'NOT_FOUND' | 'VALIDATION' | 'CONFLICT';
type Vars = Record<string, unknown>;

interface Ok {
  /** Checks the field's value (the mutation payload, the query value, the first subscription item). */
  check: (value: any, vars: Vars, w: World) => void;
  /** Subscriptions: makes something happen once the stream is open. */
  trigger?: (w: World) => Promise<void>;
}
/**
 * A code: the mutation returns that error type, or the query/subscription fails with that `extensions.code` and no
 * data. NULL: the query answers null. EMPTY: an empty list or connection. NULLS: a list of nulls. Ok: it works.
 */
type Outcome = Code | 'NULL' | 'EMPTY' | 'NULLS' | Ok;

interface Probe {
  label: string;
  /** Variables (for mutations: the input) of one or more requests that must all have the outcome. */
  vars: (w: World) => Vars[];
  outcome: Outcome;
}

interface Row {
  kind: Kind;
  doc: string;
  visitor: Probe[];
  publishableKey: Probe[];
  /** Fields another change may not have added yet (webhooks): the row is skipped while the field is absent. */
  optional?: boolean;
}

/** The ids one probe aims at. */
interface Target {
  appId: string;
  orgId: string;
  apiKeyId: string;
  webhookId: string;
  feedId: string;
  channelId: string;
  threadId: string;
  chatId: string;
  userId: string;
  joinSecret: string;
}
type TargetName = 'own' | 'note' | 'otherVisitor' | 'agent' | 'otherApp' | 'otherAppVisitor';

interface Visitor {
  id: string;
  token: string;
  resumeToken: string;
  threadId: string;
  chatId: string;
}

interface World {
  a: { appId: string; orgId: string; apiKeyId: string; webhookId: string; joinSecret: string; supportChannelId: string };
  b: { appId: string; orgId: string; apiKeyId: string; webhookId: string; joinSecret: string; supportChannelId: string; publishableKey: string };
  agent: TestUser;
  ghost: TestUser;
  member: TestUser;
  agentFeedId: string;
  agentChannel: { channelId: string; threadId: string; chatId: string };
  /** The visitor whose token is tested, their chat, the agent's reply and a note in their conversation. */
  v: Visitor & { replyId: string; noteId: string };
  w: Visitor;
  bUser: TestUser & { feedId: string };
  bChannel: { channelId: string; threadId: string; chatId: string };
  x: Visitor;
  accountId: string;
  takenEmail: string;
  aPublishableKey: string;
  /** A cursor of the agent thread's event stream. */
  foreignCursor: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Operations

const ERR = '... on Error { code message }';
const cap = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;
/** A mutation document: `name(input: $input)` selecting the error code and, when given, some payload fields. */
const mut = (name: string, payload = '') =>
  `mutation($input: ${cap(name)}Input!) { ${name}(input: $input) { __typename ${ERR} ${payload ? `... on ${cap(name)}Payload { ${payload} }` : ''} } }`;

const START = mut('startConversation', 'visitorToken resumeToken resumed visitor { id } conversation { id thread { id } }');
const SEND = mut('sendChat', 'chat { id seq text internal replyTo { id } }');
const APP_FIELDS = 'name joinSecret apiKeys { edges { node { id } } }';
const NODE_FIELDS = `__typename id ... on App { ${APP_FIELDS} } ... on Thread { subject }
  ... on Chat { text internal } ... on User { displayName email } ... on Channel { name }`;
const THREAD_EVENTS = `subscription($threadId: ID!, $after: String) { threadEvents(threadId: $threadId, after: $after) {
  __typename cursor seq thread { id }
  ... on ChatAddedEvent { redelivered chat { id seq text internal replyTo { id } author { id displayName } } }
  ... on ChatEditedEvent { chat { id text } } ... on ChatDeletedEvent { chat { id } }
  ... on ReactionChangedEvent { name set user { id displayName } chat { id text } } } }`;
const CHAT_ADDED = `subscription($threadId: ID!) { chatAdded(threadId: $threadId) { id seq text internal replyTo { id } } }`;
const TYPING = `subscription($threadId: ID!) { typing(threadId: $threadId) { isTyping user { id displayName } thread { id } } }`;

// ---------------------------------------------------------------------------------------------------------------
// Probe builders

const ok = (check: Ok['check'], trigger?: Ok['trigger']): Ok => ({ check, trigger });
const isOk = (o: Outcome): o is Ok => typeof o === 'object';
const probe = (label: string, vars: (w: World) => Vars | Vars[], outcome: Outcome): Probe => ({
  label,
  vars: (w) => [vars(w)].flat(),
  outcome,
});
const FOREIGN: TargetName[] = ['otherVisitor', 'agent', 'otherApp', 'otherAppVisitor'];
/** The same outcome at the own conversation and every foreign target. */
const everywhere = (o: Outcome): Partial<Record<TargetName, Outcome>> => ({ own: o, ...elsewhere(o) });
/** The same outcome at every foreign target. */
const elsewhere = (o: Outcome): Partial<Record<TargetName, Outcome>> => Object.fromEntries(FOREIGN.map((t) => [t, o]));
/** One probe per target, with variables built from the target's ids. */
function on(outcomes: Partial<Record<TargetName, Outcome>>, vars: (t: Target, w: World) => Vars | Vars[]): Probe[] {
  return (Object.entries(outcomes) as [TargetName, Outcome][]).map(([name, outcome]) =>
    probe(name, (w) => vars(target(w, name), w), outcome),
  );
}
/** Target-independent operations: one probe. */
const once = (outcome: Outcome, vars: Vars = {}): Probe[] => [probe('any', () => vars, outcome)];

function target(w: World, name: TargetName): Target {
  const a = { appId: w.a.appId, orgId: w.a.orgId, apiKeyId: w.a.apiKeyId, webhookId: w.a.webhookId, feedId: w.agentFeedId, joinSecret: w.a.joinSecret };
  const b = { appId: w.b.appId, orgId: w.b.orgId, apiKeyId: w.b.apiKeyId, webhookId: w.b.webhookId, feedId: w.bUser.feedId, joinSecret: w.b.joinSecret };
  switch (name) {
    case 'own':
      return { ...a, channelId: w.a.supportChannelId, threadId: w.v.threadId, chatId: w.v.chatId, userId: w.v.id };
    case 'note':
      return { ...a, channelId: w.a.supportChannelId, threadId: w.v.threadId, chatId: w.v.noteId, userId: w.ghost.id };
    case 'otherVisitor':
      return { ...a, channelId: w.a.supportChannelId, threadId: w.w.threadId, chatId: w.w.chatId, userId: w.w.id };
    case 'agent':
      return { ...a, ...w.agentChannel, userId: w.member.id };
    case 'otherApp':
      return { ...b, ...w.bChannel, userId: w.bUser.id };
    case 'otherAppVisitor':
      return { ...b, channelId: w.b.supportChannelId, threadId: w.x.threadId, chatId: w.x.chatId, userId: w.x.id };
  }
}

/** Every id of a target that is not visible to a visitor of app A (app A itself is, harmlessly). */
const hiddenIds = (t: Target, w: World) =>
  [t.threadId, t.chatId, t.channelId, t.userId, t.orgId, t.apiKeyId, t.webhookId, t.feedId, t.appId].filter((id) => id !== w.a.appId);

const connectionIds = (c: any): string[] => c.edges.map((e: any) => e.node.id);
const forbidden = { visitor: once('FORBIDDEN'), publishableKey: once('FORBIDDEN') };
/** Denied to both credentials at every target. */
const deniedEverywhere = (vars: (t: Target, w: World) => Vars, code: Code = 'FORBIDDEN') => ({
  visitor: on(everywhere(code), vars),
  publishableKey: on(everywhere(code), vars),
});

// ---------------------------------------------------------------------------------------------------------------
// The table: every root field, how a visitor token and a PUBLISHABLE key fare.

const ROWS: Record<string, Row> = {
  // ---- Query ----
  channel: {
    kind: 'query',
    doc: `query($id: ID!) { channel(id: $id) { id name members { edges { node { id } } } } }`,
    ...deniedEverywhereNull((t) => ({ id: t.channelId })),
  },
  channels: {
    kind: 'query',
    doc: `{ channels(first: 100) { edges { node { id name } } } }`,
    visitor: once('EMPTY'),
    publishableKey: once('EMPTY'),
  },
  conversations: {
    kind: 'query',
    doc: `query($status: ConversationStatus) { conversations(first: 100, status: $status) { edges { node { id visitor { id } } } } }`,
    visitor: [...once('FORBIDDEN'), ...once('FORBIDDEN', { status: 'OPEN' })],
    publishableKey: once('FORBIDDEN'),
  },
  feed: {
    kind: 'query',
    doc: `query($id: ID) { feed(id: $id) { id name threads { edges { node { id subject } } } } }`,
    visitor: [...once('FORBIDDEN'), ...on(everywhere('FORBIDDEN'), (t) => ({ id: t.feedId }))],
    publishableKey: [...once('FORBIDDEN'), ...on(everywhere('FORBIDDEN'), (t) => ({ id: t.feedId }))],
  },
  feeds: { kind: 'query', doc: `{ feeds { id name } }`, ...forbidden },
  node: {
    kind: 'query',
    doc: `query($id: ID!) { node(id: $id) { ${NODE_FIELDS} } }`,
    visitor: [
      probe('own thread, chat and visitor', (w) => [w.v.threadId, w.v.chatId, w.v.id].map((id) => ({ id })), ok((n, vars) => expect(n.id).toBe(vars.id))),
      probe('own app (name only: no join secret, no keys)', (w) => ({ id: w.a.appId }), ok(harmlessApp)),
      probe('internal note, support channel, org, key, webhook, agent feed, account', (w) =>
        [w.v.noteId, w.a.supportChannelId, w.a.orgId, w.a.apiKeyId, w.a.webhookId, w.agentFeedId, w.accountId, w.ghost.id].map((id) => ({ id })), 'NULL'),
      ...on(elsewhere('NULL'), (t, w) => hiddenIds(t, w).map((id) => ({ id }))),
    ],
    publishableKey: [
      probe('own app (name only: no join secret, no keys)', (w) => ({ id: w.a.appId }), ok(harmlessApp)),
      ...on({ ...everywhere('NULL'), note: 'NULL' }, (t, w) => hiddenIds(t, w).map((id) => ({ id }))),
    ],
  },
  nodes: {
    kind: 'query',
    doc: `query($ids: [ID!]!) { nodes(ids: $ids) { ${NODE_FIELDS} } }`,
    visitor: [
      probe('own thread, chat, visitor, then hidden ones', (w) => ({ ids: [w.v.threadId, w.v.chatId, w.v.id, w.v.noteId, w.ghost.id, w.a.supportChannelId] }),
        ok((list) => expect(list.map((n: any) => n?.__typename ?? null)).toEqual(['Thread', 'Chat', 'User', null, null, null]))),
      ...on(elsewhere('NULLS'), (t, w) => ({ ids: hiddenIds(t, w) })),
    ],
    publishableKey: on({ ...everywhere('NULLS'), note: 'NULLS' }, (t, w) => ({ ids: hiddenIds(t, w) })),
  },
  presence: {
    kind: 'query',
    doc: `query($ids: [ID!]!) { presence(userIds: $ids) { user { id displayName } status } }`,
    ...deniedEverywhere((t) => ({ ids: [t.userId] })),
  },
  thread: {
    kind: 'query',
    // Everything reachable from the thread, so the marker scan covers nested paths too.
    doc: `query($id: ID!) { thread(id: $id) { id subject lastSeq numChats channels { id name members { edges { node { id } } } }
      author { id displayName } participants { id displayName email }
      conversation { id visitor { id } assignee { id } thread { id } }
      readState { unreadCount lastReadSeq lastReadChat { id text } }
      chats(last: 100) { edges { node { id text internal deliveryState thread { id channels { id } } author { id displayName email }
        replyTo { id text } receipts { user { id displayName } } reactions { name users { id displayName } } } } } } }`,
    visitor: on({ ...elsewhere('NULL'), own: ok((th, _v, w) => {
      expect(th.id).toBe(w.v.threadId);
      expect(th.channels).toEqual([]); // visitors see no channels, not even the support channel
      expect(connectionIds(th.chats)).toEqual([w.v.chatId, w.v.replyId]);
      expect(th).toMatchObject({ lastSeq: 2, numChats: 2, readState: { unreadCount: 1 } });
      expect(th.participants.map((u: any) => u.id)).toEqual([w.v.id, w.agent.id]);
      expect(th.chats.edges.flatMap((e: any) => e.node.receipts)).toEqual([]); // receipts are for agents
    }) }, (t) => ({ id: t.threadId })),
    publishableKey: on(everywhere('NULL'), (t) => ({ id: t.threadId })),
  },
  threads: {
    kind: 'query',
    doc: `query($channelId: ID) { threads(first: 100, channelId: $channelId) { edges { node { id subject } } } }`,
    visitor: [
      probe('all: only the own conversation', () => ({}), ok((c, _v, w) => expect(connectionIds(c)).toEqual([w.v.threadId]))),
      ...on(everywhere('NOT_FOUND'), (t) => ({ channelId: t.channelId })),
    ],
    publishableKey: [...once('EMPTY'), ...on(everywhere('NOT_FOUND'), (t) => ({ channelId: t.channelId }))],
  },
  user: {
    kind: 'query',
    doc: `query($id: ID!) { user(id: $id) { id displayName email kind } }`,
    visitor: [
      ...on({ ...elsewhere('NULL'), note: 'NULL', own: ok((u, _v, w) => {
        expect(u.id).toBe(w.v.id);
        expect(u.email).toEqual(expect.any(String)); // their own email
      }) }, (t) => ({ id: t.userId })),
      probe('the agent who answered (a participant): no email', (w) => ({ id: w.agent.id }),
        ok((u) => expect(u).toMatchObject({ displayName: 'Alice Agent', email: null }))),
    ],
    publishableKey: [...on({ ...everywhere('NULL'), note: 'NULL' }, (t) => ({ id: t.userId })), probe('agent', (w) => ({ id: w.agent.id }), 'NULL')],
  },
  users: {
    kind: 'query',
    doc: `query($search: String) { users(first: 100, search: $search) { edges { node { id displayName } } } }`,
    visitor: [...once('FORBIDDEN'), ...once('FORBIDDEN', { search: 'XLEAKX' })],
    publishableKey: once('FORBIDDEN'),
  },
  viewer: {
    kind: 'query',
    doc: `{ viewer { credential tokenExpiresAt user { id kind } account { id } app { __typename id ${APP_FIELDS} } } }`,
    visitor: once(ok((v, _vars, w) => {
      expect(v).toMatchObject({ credential: 'USER', user: { id: w.v.id, kind: 'VISITOR' }, account: null });
      harmlessApp(v.app, {}, w);
    })),
    publishableKey: once(ok((v, _vars, w) => {
      expect(v).toMatchObject({ credential: 'PUBLISHABLE_KEY', user: null, account: null, tokenExpiresAt: null });
      harmlessApp(v.app, {}, w);
    })),
  },
  webhooks: { kind: 'query', optional: true, doc: `{ webhooks(first: 100) { edges { node { id url } } } }`, ...forbidden },
  webhookDeliveries: {
    kind: 'query',
    optional: true,
    doc: `query($id: ID!) { webhookDeliveries(webhookId: $id, first: 100) { edges { node { id payload } } } }`,
    ...deniedEverywhere((t) => ({ id: t.webhookId })),
  },

  // ---- Mutation ----
  ackChats: {
    kind: 'mutation',
    doc: mut('ackChats', 'ackedSeq thread { id }'),
    visitor: on({ ...elsewhere('NOT_FOUND'), own: ok((p) => expect(p.ackedSeq).toBe(1)) }, (t) => ({ threadId: t.threadId, upToSeq: 1 })),
    publishableKey: on(everywhere('FORBIDDEN'), (t) => ({ threadId: t.threadId, upToSeq: 1 })),
  },
  addChannelMembers: {
    kind: 'mutation',
    doc: mut('addChannelMembers'),
    ...deniedEverywhere((t, w) => ({ channelId: t.channelId, userIds: [w.v.id] })),
  },
  assignConversation: {
    kind: 'mutation',
    doc: mut('assignConversation'),
    ...deniedEverywhere((t, w) => ({ threadId: t.threadId, assigneeId: w.agent.id })),
  },
  createApiKey: { kind: 'mutation', doc: mut('createApiKey', 'secret'), ...deniedEverywhere((t) => ({ appId: t.appId, kind: 'SECRET' })) },
  createApp: { kind: 'mutation', doc: mut('createApp'), ...deniedEverywhere((t) => ({ organizationId: t.orgId, name: 'pwned' })) },
  createChannel: {
    kind: 'mutation',
    doc: mut('createChannel'),
    visitor: [...once('FORBIDDEN', { name: 'pwned' }), ...on(everywhere('FORBIDDEN'), (t) => ({ name: 'dm', direct: true, memberIds: [t.userId] }))],
    publishableKey: [...once('FORBIDDEN', { name: 'pwned', support: true })],
  },
  createFeed: { kind: 'mutation', doc: mut('createFeed'), ...deniedEverywhere((t) => ({ name: 'pwned', channelIds: [t.channelId] })) },
  createOrganization: { kind: 'mutation', doc: mut('createOrganization'), visitor: once('FORBIDDEN', { name: 'pwned' }), publishableKey: once('FORBIDDEN', { name: 'pwned' }) },
  createThread: {
    kind: 'mutation',
    doc: mut('createThread'),
    ...deniedEverywhere((t) => ({ channelIds: [t.channelId], subject: 'pwned', text: 'pwned' })),
  },
  deleteChat: { kind: 'mutation', doc: mut('deleteChat'), ...deniedEverywhere((t) => ({ id: t.chatId })) },
  deleteFeed: { kind: 'mutation', doc: mut('deleteFeed'), ...deniedEverywhere((t) => ({ id: t.feedId })) },
  editChat: { kind: 'mutation', doc: mut('editChat'), ...deniedEverywhere((t) => ({ id: t.chatId, text: 'pwned' })) },
  heartbeat: { kind: 'mutation', doc: mut('heartbeat'), visitor: once('FORBIDDEN', { away: false }), publishableKey: once('FORBIDDEN', { away: false }) },
  issueUserToken: {
    kind: 'mutation',
    doc: mut('issueUserToken', 'token'),
    ...deniedEverywhere((t) => ({ externalId: `pwned-${t.appId}`, role: 'OWNER' })),
  },
  joinApp: {
    kind: 'mutation',
    doc: mut('joinApp', 'token user { id role }'),
    // The app is openJoin: a user token may invite without the secret, but a visitor token is not a user's.
    visitor: [
      ...on(everywhere('FORBIDDEN'), (t) => ({ joinSecret: t.joinSecret, externalId: 'visitor-invite-1' })),
      ...once('FORBIDDEN', { externalId: 'visitor-invite-2' }),
    ],
    publishableKey: [
      ...once('FORBIDDEN', { externalId: 'pk-join-no-secret' }),
      probe('the other app’s join secret', (w) => ({ joinSecret: w.b.joinSecret, externalId: 'pk-join-wrong' }), 'FORBIDDEN'),
      probe('the app’s join secret', (w) => ({ joinSecret: w.a.joinSecret, externalId: 'pk-join-ok' }),
        ok((p) => expect(p).toMatchObject({ token: expect.any(String), user: { role: 'MEMBER' } }))),
    ],
  },
  joinChannel: { kind: 'mutation', doc: mut('joinChannel'), ...deniedEverywhere((t) => ({ channelId: t.channelId })) },
  leaveChannel: { kind: 'mutation', doc: mut('leaveChannel'), ...deniedEverywhere((t) => ({ channelId: t.channelId })) },
  // Account-level and public: the credential is ignored (a wrong password fails as it does without one).
  logIn: {
    kind: 'mutation',
    doc: mut('logIn', 'token'),
    visitor: [probe('wrong password', (w) => ({ email: w.takenEmail, password: 'wrong-password' }), 'UNAUTHENTICATED')],
    publishableKey: [probe('wrong password', (w) => ({ email: w.takenEmail, password: 'wrong-password' }), 'UNAUTHENTICATED')],
  },
  logOut: { kind: 'mutation', doc: mut('logOut'), visitor: once('FORBIDDEN', { allSessions: true }), publishableKey: once('FORBIDDEN', { allSessions: true }) },
  markRead: {
    kind: 'mutation',
    doc: mut('markRead', 'readState { lastReadSeq unreadCount lastReadChat { id text } }'),
    visitor: [
      ...on({ ...elsewhere('NOT_FOUND'), note: 'NOT_FOUND', own: ok((p) => expect(p.readState.lastReadChat.text).toBe('hello from vera')) },
        (t) => ({ threadId: t.threadId, chatId: t.chatId })),
      probe('own thread, another visitor’s chat', (w) => ({ threadId: w.v.threadId, chatId: w.w.chatId }), 'NOT_FOUND'),
    ],
    publishableKey: on(everywhere('FORBIDDEN'), (t) => ({ threadId: t.threadId, chatId: t.chatId })),
  },
  muteThread: { kind: 'mutation', doc: mut('muteThread'), ...deniedEverywhere((t) => ({ threadId: t.threadId, until: '2100-01-01T00:00:00Z' })) },
  removeChannelMembers: {
    kind: 'mutation',
    doc: mut('removeChannelMembers'),
    ...deniedEverywhere((t, w) => ({ channelId: t.channelId, userIds: [w.member.id, w.agent.id] })),
  },
  revokeApiKey: { kind: 'mutation', doc: mut('revokeApiKey'), ...deniedEverywhere((t) => ({ id: t.apiKeyId })) },
  rotateJoinSecret: {
    kind: 'mutation',
    doc: mut('rotateJoinSecret', 'app { joinSecret }'),
    visitor: [...once('FORBIDDEN', {}), ...on(everywhere('FORBIDDEN'), (t) => ({ appId: t.appId }))],
    publishableKey: [...once('FORBIDDEN', {}), ...on(everywhere('FORBIDDEN'), (t) => ({ appId: t.appId }))],
  },
  sendChat: {
    kind: 'mutation',
    doc: SEND,
    visitor: [
      ...on({ ...elsewhere('NOT_FOUND'), own: ok((p) => expect(p.chat).toMatchObject({ text: 'allowed', internal: false })) },
        (t) => ({ threadId: t.threadId, text: 'allowed' })),
      probe('an internal note in the own conversation', (w) => ({ threadId: w.v.threadId, text: 'note?', internal: true }), 'FORBIDDEN'),
      probe('a reply to an internal note', (w) => ({ threadId: w.v.threadId, text: 'reply?', replyToId: w.v.noteId }), 'NOT_FOUND'),
      probe('a reply to another visitor’s chat', (w) => ({ threadId: w.v.threadId, text: 'reply?', replyToId: w.w.chatId }), 'NOT_FOUND'),
    ],
    publishableKey: on(everywhere('FORBIDDEN'), (t) => ({ threadId: t.threadId, text: 'pwned' })),
  },
  setConversationStatus: {
    kind: 'mutation',
    doc: mut('setConversationStatus'),
    ...deniedEverywhere((t) => ({ threadId: t.threadId, status: 'CLOSED' })),
  },
  setReaction: {
    kind: 'mutation',
    doc: mut('setReaction', 'chat { id reactions { name count viewerHasReacted } }'),
    visitor: [
      ...on({ ...elsewhere('NOT_FOUND'), note: 'NOT_FOUND', own: ok((p) => expect(p.chat.reactions).toEqual([{ name: 'thumbs', count: 1, viewerHasReacted: true }])) },
        (t) => ({ chatId: t.chatId, name: 'thumbs', set: true })),
      ...on({ ...elsewhere('NOT_FOUND'), note: 'NOT_FOUND' }, (t) => ({ chatId: t.chatId, name: 'thumbs', set: false })),
    ],
    publishableKey: on(everywhere('FORBIDDEN'), (t) => ({ chatId: t.chatId, name: 'thumbs', set: true })),
  },
  setTyping: {
    kind: 'mutation',
    doc: mut('setTyping', 'isTyping thread { id }'),
    visitor: on({ ...elsewhere('NOT_FOUND'), own: ok((p, _v, w) => expect(p).toEqual({ __typename: 'SetTypingPayload', isTyping: true, thread: { id: w.v.threadId } })) },
      (t) => ({ threadId: t.threadId, isTyping: true })),
    publishableKey: on(everywhere('FORBIDDEN'), (t) => ({ threadId: t.threadId, isTyping: true })),
  },
  setVisitorEmail: {
    kind: 'mutation',
    doc: mut('setVisitorEmail', 'visitor { id email }'),
    visitor: once(ok((p, _v, w) => expect(p.visitor).toEqual({ id: w.v.id, email: 'vera.new@example.com' })), { email: 'vera.new@example.com' }),
    publishableKey: once('FORBIDDEN', { email: 'pwned@example.com' }),
  },
  setVisitorName: {
    kind: 'mutation',
    doc: mut('setVisitorName', 'visitor { id displayName }'),
    visitor: once(ok((p, _v, w) => expect(p.visitor).toEqual({ id: w.v.id, displayName: 'Vera V.' })), { name: 'Vera V.' }),
    publishableKey: once('FORBIDDEN', { name: 'pwned' }),
  },
  // Account-level and public: the credential is ignored (a taken email conflicts as it does without one).
  signUp: {
    kind: 'mutation',
    doc: mut('signUp', 'token'),
    visitor: [probe('a taken email', (w) => ({ email: w.takenEmail, password: 'long-enough-password', name: 'x' }), 'CONFLICT')],
    publishableKey: [probe('a taken email', (w) => ({ email: w.takenEmail, password: 'long-enough-password', name: 'x' }), 'CONFLICT')],
  },
  startConversation: {
    kind: 'mutation',
    doc: START,
    visitor: [...once('FORBIDDEN', {}), probe('with another visitor’s resume token', (w) => ({ resumeToken: w.w.resumeToken }), 'FORBIDDEN')],
    publishableKey: [
      probe('in an agent channel (not SUPPORT)', (w) => ({ channelId: w.agentChannel.channelId }), 'NOT_FOUND'),
      probe('in the other app’s support channel', (w) => ({ channelId: w.b.supportChannelId }), 'NOT_FOUND'),
      probe('afresh', () => ({ name: 'New visitor' }), ok((p, _v, w) => {
        expect(p.resumed).toBe(false);
        expect([w.v.id, w.w.id]).not.toContain(p.visitor.id);
      })),
      probe('with the other app’s resume token: a new visitor, not theirs', (w) => ({ resumeToken: w.x.resumeToken }), ok((p, _v, w) => {
        expect(p.resumed).toBe(false);
        expect(p.visitor.id).not.toBe(w.x.id);
        expect(p.conversation.id).not.toBe(w.x.threadId);
      })),
    ],
  },
  updateApp: { kind: 'mutation', doc: mut('updateApp'), ...deniedEverywhere((t) => ({ id: t.appId, name: 'pwned', openJoin: false })) },
  updateChannel: { kind: 'mutation', doc: mut('updateChannel'), ...deniedEverywhere((t) => ({ id: t.channelId, name: 'pwned' })) },
  updateFeed: { kind: 'mutation', doc: mut('updateFeed'), ...deniedEverywhere((t) => ({ id: t.feedId, name: 'pwned' })) },
  updateOrganization: { kind: 'mutation', doc: mut('updateOrganization'), ...deniedEverywhere((t) => ({ id: t.orgId, name: 'pwned' })) },
  updateThread: { kind: 'mutation', doc: mut('updateThread'), ...deniedEverywhere((t) => ({ id: t.threadId, subject: 'pwned', resolved: true })) },
  // Visitors change their own profile with setVisitorName / setVisitorEmail only.
  updateUser: { kind: 'mutation', doc: mut('updateUser'), ...deniedEverywhere((t) => ({ id: t.userId, displayName: 'pwned', role: 'OWNER' })) },
  createWebhook: {
    kind: 'mutation',
    optional: true,
    doc: mut('createWebhook'),
    ...forbiddenWith({ url: 'https://example.com/hook', events: ['CHAT_CREATED'] }),
  },
  updateWebhook: { kind: 'mutation', optional: true, doc: mut('updateWebhook'), ...deniedEverywhere((t) => ({ id: t.webhookId, enabled: true })) },
  deleteWebhook: { kind: 'mutation', optional: true, doc: mut('deleteWebhook'), ...deniedEverywhere((t) => ({ id: t.webhookId })) },
  replayWebhook: { kind: 'mutation', optional: true, doc: mut('replayWebhook'), ...deniedEverywhere((t) => ({ id: t.webhookId })) },

  // ---- Subscription ----
  chatAdded: {
    kind: 'subscription',
    doc: CHAT_ADDED,
    visitor: on({ ...elsewhere('NOT_FOUND'), own: ok((c) => expect(c).toMatchObject({ text: 'live reply', internal: false }), agentReplies) },
      (t) => ({ threadId: t.threadId })),
    publishableKey: on(everywhere('NOT_FOUND'), (t) => ({ threadId: t.threadId })),
  },
  conversationEvents: { kind: 'subscription', doc: `subscription { conversationEvents { type conversation { id } } }`, ...forbidden },
  feedEvents: {
    kind: 'subscription',
    doc: `subscription($feedId: ID) { feedEvents(feedId: $feedId) { thread { id subject } } }`,
    visitor: [...once('FORBIDDEN'), ...on(everywhere('FORBIDDEN'), (t) => ({ feedId: t.feedId }))],
    publishableKey: [...once('FORBIDDEN'), ...on(everywhere('FORBIDDEN'), (t) => ({ feedId: t.feedId }))],
  },
  presenceChanged: {
    kind: 'subscription',
    doc: `subscription($ids: [ID!]) { presenceChanged(userIds: $ids) { status users { id } } }`,
    visitor: [...once('FORBIDDEN'), ...on(everywhere('FORBIDDEN'), (t) => ({ ids: [t.userId] }))],
    publishableKey: once('FORBIDDEN'),
  },
  threadEvents: {
    kind: 'subscription',
    doc: THREAD_EVENTS,
    visitor: [
      ...on({ ...elsewhere('NOT_FOUND'), own: ok((e) => expect(e).toMatchObject({ __typename: 'ChatAddedEvent', chat: { text: 'live reply' } }), agentReplies) },
        (t) => ({ threadId: t.threadId })),
      probe('own conversation after another thread’s cursor', (w) => ({ threadId: w.v.threadId, after: w.foreignCursor }), 'VALIDATION'),
    ],
    publishableKey: on(everywhere('NOT_FOUND'), (t) => ({ threadId: t.threadId })),
  },
  typing: {
    kind: 'subscription',
    doc: TYPING,
    visitor: on({ ...elsewhere('NOT_FOUND'), own: ok((e, _v, w) => expect(e).toEqual({ isTyping: true, user: { id: w.agent.id, displayName: 'Alice Agent' }, thread: { id: w.v.threadId } }), agentTypes) },
      (t) => ({ threadId: t.threadId })),
    publishableKey: on(everywhere('NOT_FOUND'), (t) => ({ threadId: t.threadId })),
  },
  unreadCountsChanged: { kind: 'subscription', doc: `subscription { unreadCountsChanged { counts { unreadCount thread { id } } } }`, ...forbidden },
};

function deniedEverywhereNull(vars: (t: Target, w: World) => Vars) {
  return { visitor: on(everywhere('NULL'), vars), publishableKey: on(everywhere('NULL'), vars) };
}
function forbiddenWith(vars: Vars) {
  return { visitor: once('FORBIDDEN', vars), publishableKey: once('FORBIDDEN', vars) };
}
/** The app as a visitor or key sees it: its name, but neither the join secret nor the keys. */
function harmlessApp(app: any, _vars: Vars, w: World) {
  expect(app).toMatchObject({ __typename: 'App', id: w.a.appId, joinSecret: null, apiKeys: null });
}
async function agentReplies(w: World) {
  await must(SEND, { threadId: w.v.threadId, text: 'live reply' }, w.agent.token);
}
async function agentTypes(w: World) {
  await must(mut('setTyping'), { threadId: w.v.threadId, isTyping: true }, w.agent.token);
}

// ---------------------------------------------------------------------------------------------------------------
// Running probes

let s: TestServer;
let w: World;
let before: string;

/** A request as the agent side or setup; fails the test when the mutation returned an error type. */
async function must(doc: string, input: Vars, credential: string): Promise<any> {
  const res = await s.gql(doc, { input }, credential);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  const payload = Object.values(res.data ?? {})[0] as Record<string, unknown>;
  expect(payload?.code, JSON.stringify(payload)).toBeUndefined();
  return payload;
}

/** Asserts that nothing the visitor or key received carries data of others. */
function noLeak(what: unknown) {
  expect(JSON.stringify(what).toLowerCase()).not.toContain(MARK);
}

function credentialOf(cred: Cred): string {
  return cred === 'visitor' ? w.v.token : w.aPublishableKey;
}

const rootFieldName = (doc: string) => /\{\s*(\w+)/.exec(doc)?.[1] ?? '';

function expectOutcome(row: Row, field: string, res: GqlResult, outcome: Outcome, vars: Vars, where: string) {
  const ctx = `${where}: ${JSON.stringify({ vars, res })}`;
  const value = res.data?.[field];
  if (isOk(outcome)) {
    expect(res.errors, ctx).toBeUndefined();
    if (row.kind === 'mutation') expect(value?.code, ctx).toBeUndefined();
    outcome.check(value, vars, w);
  } else if (outcome === 'NULL') {
    expect(res.errors, ctx).toBeUndefined();
    expect(value, ctx).toBeNull();
  } else if (outcome === 'EMPTY') {
    expect(res.errors, ctx).toBeUndefined();
    expect(Array.isArray(value) ? value : value.edges, ctx).toEqual([]);
  } else if (outcome === 'NULLS') {
    expect(res.errors, ctx).toBeUndefined();
    expect(value, ctx).toEqual(value.map(() => null));
    expect(value.length, ctx).toBeGreaterThan(0);
  } else if (row.kind === 'mutation') {
    expect(res.errors, ctx).toBeUndefined();
    expect(value?.code, ctx).toBe(outcome);
  } else {
    expect(value ?? null, ctx).toBeNull();
    expect(res.errors?.[0]?.extensions?.code, ctx).toBe(outcome);
  }
}

/** Opens a subscription over one transport; `close` ends it and its connection. */
type Open = (credential: string, doc: string, vars: Vars) => { sub: Collector; close: () => Promise<void> };
const TRANSPORTS: [string, Open][] = [
  ['graphql-ws', (credential, doc, vars) => {
    const client = wsClient(s.url, credential);
    const sub = subscribeWs(client, doc, vars);
    return { sub, close: async () => { sub.dispose(); await client.dispose(); } };
  }],
  ['SSE', (credential, doc, vars) => {
    const sub = subscribeSse(s.url, credential, doc, vars);
    return { sub, close: async () => sub.dispose() };
  }],
];

/** The code a refused subscription ended with (an error payload, or a transport-level error). */
function refusalCode(sub: Collector): string | undefined {
  const first = sub.items[0];
  if (first) {
    expect(first.data ?? null, JSON.stringify(sub.items)).toBeNull();
    return first.errors?.[0]?.extensions?.code;
  }
  const e = sub.error as any;
  return (Array.isArray(e) ? e[0] : e)?.extensions?.code ?? JSON.stringify(e);
}

async function runProbe(row: Row, cred: Cred, p: Probe) {
  const field = rootFieldName(row.doc);
  const credential = credentialOf(cred);
  for (const v of p.vars(w)) {
    if (row.kind !== 'subscription') {
      const vars = row.kind === 'mutation' ? { input: v } : v;
      const res = await s.gql(row.doc, vars, credential);
      noLeak(res);
      expectOutcome(row, field, res, p.outcome, v, `${cred} at ${p.label}`);
      continue;
    }
    for (const [transport, open] of TRANSPORTS) {
      const outcome = p.outcome;
      if (isOk(outcome)) {
        const { sub, close } = await opened(s, 1, () => open(credential, row.doc, v));
        await outcome.trigger?.(w);
        await sub.count(1);
        await settle(100);
        noLeak(sub.items);
        expect(sub.items[0]!.errors, `${cred} at ${p.label} over ${transport}`).toBeUndefined();
        outcome.check(sub.items[0]!.data![field], v, w);
        await close();
      } else {
        const { sub, close } = open(credential, row.doc, v);
        await sub.until((c) => c.completed || c.items.length > 0);
        noLeak(sub.items);
        expect(refusalCode(sub), `${cred} at ${p.label} over ${transport}: ${JSON.stringify(v)}`).toBe(outcome);
        await close();
      }
    }
  }
}

/** Everything the denied probes could have written, in both apps. */
async function snapshot(): Promise<string> {
  const p = s.deps.prisma;
  const rows = {
    chats: await p.chat.findMany({ orderBy: { id: 'asc' } }),
    threads: await p.thread.findMany({ orderBy: { id: 'asc' } }),
    channels: await p.channel.findMany({ orderBy: { id: 'asc' } }),
    channelMembers: await p.channelMember.findMany({ orderBy: [{ channelId: 'asc' }, { userId: 'asc' }] }),
    conversations: await p.conversation.findMany({ orderBy: { threadId: 'asc' } }),
    users: await p.user.findMany({ orderBy: { id: 'asc' } }),
    reactions: await p.reaction.findMany({ orderBy: [{ chatId: 'asc' }, { name: 'asc' }, { userId: 'asc' }] }),
    readStates: await p.readState.findMany({ orderBy: [{ threadId: 'asc' }, { userId: 'asc' }] }),
    feeds: await p.feed.findMany({ orderBy: { id: 'asc' } }),
    webhooks: await p.webhook.findMany({ orderBy: { id: 'asc' } }),
    apiKeys: await p.apiKey.findMany({ orderBy: { id: 'asc' } }),
    apps: await p.app.findMany({ orderBy: { id: 'asc' } }),
    organizations: await p.organization.findMany({ orderBy: { id: 'asc' } }),
    counts: {
      events: await p.event.count(),
      accounts: await p.account.count(),
      sessions: await p.session.count(),
      resumeTokens: await p.resumeToken.count(),
      threadChannels: await p.threadChannel.count(),
      participants: await p.threadParticipant.count(),
    },
  };
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

// ---------------------------------------------------------------------------------------------------------------
// The world: two apps, agents, an agent channel, visitors with conversations and an internal note.

async function startVisitor(publishableKey: string, name: string, text: string): Promise<Visitor> {
  const p = await must(START, { name, email: `${name.split(' ')[0]!.toLowerCase()}@example.com` }, publishableKey);
  const sent = await must(SEND, { threadId: p.conversation.thread.id, text }, p.visitorToken);
  return { id: p.visitor.id, token: p.visitorToken, resumeToken: p.resumeToken, threadId: p.conversation.thread.id, chatId: sent.chat.id };
}

async function agentChannel(t: TestUser, members: TestUser[]) {
  const { channel } = await must(CREATE_CHANNEL, { name: `${MARK} team`, visibility: 'ANYONE' }, t.token);
  if (members.length) await must(mut('addChannelMembers'), { channelId: channel.id, userIds: members.map((m) => m.id) }, t.token);
  const { thread, chat } = await must(CREATE_THREAD, { channelIds: [channel.id], subject: `${MARK} agent thread`, text: `${MARK} agent chat` }, t.token);
  return { channelId: channel.id as string, threadId: thread.id as string, chatId: chat.id as string };
}

async function appIds(t: TestTenant, joinSecret: string, name: string) {
  const p = s.deps.prisma;
  const app = await p.app.update({ where: { id: t.appId }, data: { openJoin: true, joinSecret, name } });
  const key = await p.apiKey.findFirstOrThrow({ where: { appId: t.appId, kind: 'SECRET' } });
  const webhook = await p.webhook.create({
    data: { id: newId('whk'), appId: t.appId, url: 'http://127.0.0.1:9/hook', events: ['chat.created'], secret: `whsec_${MARK}`, enabled: false },
  });
  return { appId: t.appId, orgId: app.organizationId, apiKeyId: key.id, webhookId: webhook.id, joinSecret };
}

const feedIdOf = async (u: TestUser) => ((await s.gql(`{ feeds { id } }`, {}, u.token)).data!.feeds[0].id as string);

beforeAll(async () => {
  s = await startTestServer();
  const ta = await makeTenant(s);
  const tb = await makeTenant(s);
  const p = s.deps.prisma;
  const agent = await ta.user({ role: 'MOD', name: 'Alice Agent' });
  const ghost = await ta.user({ role: 'MOD', name: `Ghost ${MARK}` });
  const member = await ta.user({ name: `Member ${MARK}` });
  // The agent is visible to the visitor (a participant), their email is not.
  await p.user.update({ where: { id: agent.id }, data: { email: `alice-${MARK}@example.com` } });
  const a = await appIds(ta, `${MARK}-join-a`, 'App A');
  const b = await appIds(tb, `${MARK}-join-b`, `${MARK} other app`);
  await p.organization.update({ where: { id: b.orgId }, data: { name: `${MARK} other org` } });

  const agentCh = await agentChannel(agent, [member]);
  const v = await startVisitor(ta.publishableKey, 'Vera', 'hello from vera');
  const reply = await must(SEND, { threadId: v.threadId, text: 'hi Vera, how can I help?' }, agent.token);
  const note = await must(SEND, { threadId: v.threadId, text: `${MARK} note: VIP, be nice`, internal: true }, ghost.token);
  const other = await startVisitor(ta.publishableKey, `Wendy ${MARK}`, `${MARK} wendy's question`);
  await must(SEND, { threadId: other.threadId, text: `${MARK} reply to wendy` }, agent.token);

  const bUser = await tb.user({ role: 'MOD', name: `${MARK} b user` });
  const bCh = await agentChannel(bUser, []);
  const x = await startVisitor(tb.publishableKey, `Xavier ${MARK}`, `${MARK} b visitor chat`);
  const supportOf = async (threadId: string) => (await p.conversation.findUniqueOrThrow({ where: { threadId } })).channelId;

  const takenEmail = 'owner@example.com';
  const signUp = await must(mut('signUp', 'account { id }'), { email: takenEmail, password: 'long-enough-password', name: 'Owner' }, '');
  // A cursor of another thread's event stream (for the resume-with-a-foreign-cursor probe).
  const c = wsClient(s.url, agent.token);
  const sub = await opened(s, 1, () => subscribeWs(c, THREAD_EVENTS, { threadId: agentCh.threadId }));
  await must(SEND, { threadId: agentCh.threadId, text: `${MARK} cursor` }, agent.token);
  await sub.count(1);
  const foreignCursor = sub.items[0]!.data!.threadEvents.cursor as string;
  sub.dispose();
  await c.dispose();

  w = {
    a: { ...a, supportChannelId: await supportOf(v.threadId) },
    b: { ...b, supportChannelId: await supportOf(x.threadId), publishableKey: tb.publishableKey },
    agent,
    ghost,
    member,
    agentFeedId: await feedIdOf(agent),
    agentChannel: agentCh,
    v: { ...v, replyId: reply.chat.id, noteId: note.chat.id },
    w: other,
    bUser: { ...bUser, feedId: await feedIdOf(bUser) },
    bChannel: bCh,
    x,
    accountId: signUp.account.id,
    takenEmail,
    aPublishableKey: ta.publishableKey,
    foreignCursor,
  };
  before = await snapshot();
});
afterAll(async () => {
  await s?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// The tests

const rootTypes: Record<Kind, GraphQLObjectType | null | undefined> = {
  query: schema.getQueryType(),
  mutation: schema.getMutationType(),
  subscription: schema.getSubscriptionType(),
};
const fieldsOf = (kind: Kind) => Object.keys(rootTypes[kind]?.getFields() ?? {});
const present = (name: string, row: Row) => fieldsOf(row.kind).includes(name);
const rowsIn = Object.entries(ROWS).filter(([name, row]) => present(name, row));

describe('the table is complete by construction', () => {
  it('has a row for every root Query, Mutation and Subscription field, and no stale rows', () => {
    for (const kind of ['query', 'mutation', 'subscription'] as const) {
      const missing = fieldsOf(kind).filter((f) => ROWS[f]?.kind !== kind);
      expect(missing, `${kind} fields without a row in ROWS`).toEqual([]);
    }
    const stale = Object.entries(ROWS).filter(([name, row]) => !present(name, row) && !row.optional).map(([n]) => n);
    expect(stale, 'rows for fields the schema does not have').toEqual([]);
  });

  it('every row probes both credentials, and each row’s document selects its own field', () => {
    for (const [name, row] of rowsIn) {
      expect(row.visitor.length, name).toBeGreaterThan(0);
      expect(row.publishableKey.length, name).toBeGreaterThan(0);
      expect(rootFieldName(row.doc), name).toBe(name);
    }
  });

  it('the PUBLISHABLE key may only start conversations, join the app and ask who it is', () => {
    const allowed = rowsIn.filter(([, row]) => row.publishableKey.some((p) => isOk(p.outcome))).map(([n]) => n).sort();
    expect(allowed).toEqual(['joinApp', 'node', 'startConversation', 'viewer']); // node: only the own app, as viewer.app
  });
});

const denied = (probes: Probe[]) => probes.filter((p) => !isOk(p.outcome));
const allowed = (probes: Probe[]) => probes.filter((p) => isOk(p.outcome));

describe.each(['visitor', 'publishableKey'] as const)('denied to a %s', (cred) => {
  const rows = rowsIn.filter(([, row]) => denied(row[cred]).length > 0);
  it.each(rows)('%s', async (_name, row) => {
    for (const p of denied(row[cred])) await runProbe(row, cred, p);
  });
});

it('the denied probes changed nothing', async () => {
  expect(await snapshot()).toBe(before);
});

describe.each(['visitor', 'publishableKey'] as const)('allowed to a %s', (cred) => {
  const rows = rowsIn.filter(([, row]) => allowed(row[cred]).length > 0);
  it.each(rows)('%s', async (_name, row) => {
    for (const p of allowed(row[cred])) await runProbe(row, cred, p);
  });
});

describe('internal notes never reach a visitor', () => {
  const HISTORY = `query($id: ID!, $first: Int, $last: Int, $after: String, $before: String, $around: ID) { thread(id: $id) {
    lastSeq numChats readState { unreadCount lastReadSeq lastReadChat { id } } participants { id displayName }
    conversation { lastVisitorChatAt assignee { id } visitor { id } }
    chats(first: $first, last: $last, after: $after, before: $before, around: $around) {
      edges { cursor node { id seq text internal origin replyTo { id text } reactions { name count users { id displayName } } author { id } } }
      pageInfo { hasNextPage hasPreviousPage } } } }`;
  const REACT = mut('setReaction');
  const EDIT = mut('editChat');
  const DELETE = mut('deleteChat');

  it('not in history, node(s), streams (graphql-ws and SSE, live and replayed), replies, reactions, counts or participants', async () => {
    const start = await must(START, { name: 'Nora' }, w.aPublishableKey);
    const token = start.visitorToken as string;
    const threadId = start.conversation.thread.id as string;
    const { agent, ghost } = w;
    const send = async (text: string, cred: string, extra: Vars = {}) => (await must(SEND, { threadId, text, ...extra }, cred)).chat;

    const v1 = await send('v1: hello', token);
    // The visitor's streams, and an agent's as the control that every event happened.
    const vws = wsClient(s.url, token);
    const aws = wsClient(s.url, agent.token);
    const streams = {
      wsEvents: await opened(s, 1, () => subscribeWs(vws, THREAD_EVENTS, { threadId })),
      sseEvents: await opened(s, 1, () => subscribeSse(s.url, token, THREAD_EVENTS, { threadId })),
      wsChats: await opened(s, 1, () => subscribeWs(vws, CHAT_ADDED, { threadId })),
      sseChats: await opened(s, 1, () => subscribeSse(s.url, token, CHAT_ADDED, { threadId })),
    };
    const agentEvents = await opened(s, 1, () => subscribeWs(aws, THREAD_EVENTS, { threadId }));

    const a1 = await send('a1: hi', agent.token);
    const n1 = await send(`${MARK} n1: refund them`, ghost.token, { internal: true });
    const a2 = await send('a2: about that', agent.token, { replyToId: n1.id });
    await must(REACT, { chatId: n1.id, name: MARK, set: true }, ghost.token);
    await must(REACT, { chatId: n1.id, name: 'agree', set: true }, agent.token);
    await must(REACT, { chatId: a1.id, name: 'wave', set: true }, agent.token);
    await must(EDIT, { id: n1.id, text: `${MARK} n1 edited` }, ghost.token);
    const n2 = await send(`${MARK} n2: to be deleted`, ghost.token, { internal: true });
    await must(DELETE, { id: n2.id }, ghost.token);
    await must(EDIT, { id: a1.id, text: 'a1: hi (edited)' }, agent.token);
    const a3 = await send('a3: anything else?', agent.token);
    // A trailing note after the last chat the visitor can see.
    const n3 = await send(`${MARK} n3: trailing`, ghost.token, { internal: true });
    await must(REACT, { chatId: n3.id, name: 'trail', set: true }, agent.token);

    const noteIds = [n1.id, n2.id, n3.id];
    const hidden = [...noteIds, ghost.id];
    /** Nothing about the notes: no marker, no note id, not the note-only agent. */
    const clean = (what: unknown) => {
      noLeak(what);
      const json = JSON.stringify(what);
      for (const id of hidden) expect(json).not.toContain(id);
    };

    // The control: the agent saw every chat, note, reaction, edit and delete.
    await agentEvents.until((c) => c.items.filter((i) => i.data?.threadEvents.__typename === 'ReactionChangedEvent').length === 4);
    const aboutNotes = agentEvents.items.map((i) => i.data!.threadEvents).filter((e) => noteIds.includes(e.chat?.id));
    // n1: added, 2 reactions, edited; n2: added, deleted; n3: added, 1 reaction.
    expect(aboutNotes.map((e) => e.__typename).sort()).toEqual(
      ['ChatAddedEvent', 'ChatAddedEvent', 'ChatAddedEvent', 'ChatDeletedEvent', 'ChatEditedEvent', 'ReactionChangedEvent', 'ReactionChangedEvent', 'ReactionChangedEvent'],
    );

    for (const sub of [streams.wsEvents, streams.sseEvents]) await sub.until((c) => c.items.some((i) => i.data?.threadEvents.chat?.id === a3.id));
    for (const sub of [streams.wsChats, streams.sseChats]) await sub.until((c) => c.items.some((i) => i.data?.chatAdded.id === a3.id));
    await settle(300); // the trailing note and its reaction would have arrived by now
    for (const [name, sub] of Object.entries(streams)) {
      clean(sub.items);
      expect(sub.items.every((i) => !i.errors), name).toBe(true);
    }
    const summary = (sub: Collector) =>
      sub.items.map((i) => i.data!.threadEvents).map((e) => `${e.__typename}:${e.chat?.id ?? ''}:${e.name ?? ''}`);
    const expected = [`ChatAddedEvent:${a1.id}:`, `ChatAddedEvent:${a2.id}:`, `ReactionChangedEvent:${a1.id}:wave`, `ChatEditedEvent:${a1.id}:`, `ChatAddedEvent:${a3.id}:`];
    expect(summary(streams.wsEvents)).toEqual(expected);
    expect(summary(streams.sseEvents)).toEqual(expected);
    for (const sub of [streams.wsChats, streams.sseChats]) expect(sub.items.map((i) => i.data!.chatAdded.id)).toEqual([a1.id, a2.id, a3.id]);
    // The reply to a note arrives, but what it replies to does not.
    expect(streams.wsEvents.items[1]!.data!.threadEvents.chat.replyTo).toBeNull();
    const resumeFrom = streams.wsEvents.items[0]!.data!.threadEvents.cursor as string;
    for (const sub of Object.values(streams)) sub.dispose();
    agentEvents.dispose();
    await vws.dispose();
    await aws.dispose();

    // Replayed from the event log after a cursor (with redelivery of unacked chats, the visitor default).
    for (const [transport, open] of TRANSPORTS) {
      const { sub, close } = await opened(s, 1, () => open(token, THREAD_EVENTS, { threadId, after: resumeFrom }));
      await sub.until((c) => c.items.filter((i) => i.data?.threadEvents.chat?.id === a3.id).length >= 1);
      await settle(300);
      clean(sub.items);
      const replayed = sub.items.map((i) => i.data!.threadEvents);
      expect(replayed.filter((e) => e.redelivered).map((e) => e.chat.id), transport).toEqual([a1.id]);
      expect(replayed.filter((e) => !e.redelivered).map((e) => `${e.__typename}:${e.chat?.id ?? ''}`), transport).toEqual(
        expected.slice(1).map((x) => x.replace(/:[^:]*$/, '')),
      );
      await close();
    }

    // History: every way of paging, and around a chat; `around` a note is not found.
    const history = async (vars: Vars) => {
      const res = await s.gql(HISTORY, { id: threadId, ...vars }, token);
      clean(res);
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      return res.data!.thread;
    };
    const visible = [v1.id, a1.id, a2.id, a3.id];
    const whole = await history({ first: 100 });
    expect(connectionIds(whole.chats)).toEqual(visible);
    expect(connectionIds((await history({ last: 100 })).chats)).toEqual(visible);
    const cursors = whole.chats.edges.map((e: any) => e.cursor as string);
    expect(connectionIds((await history({ first: 1, after: cursors[1] })).chats)).toEqual([a2.id]); // skips n1
    expect(connectionIds((await history({ last: 1, before: cursors[3] })).chats)).toEqual([a2.id]); // skips n2
    expect(connectionIds((await history({ first: 100, after: cursors[3] })).chats)).toEqual([]); // not n3
    expect(connectionIds((await history({ first: 7, around: a2.id })).chats)).toEqual(visible);
    const aroundNote = await s.gql(HISTORY, { id: threadId, around: n1.id }, token);
    clean(aroundNote);
    expect(aroundNote.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Replies to a note show no reply target; reactions on visible chats only; counts leave the notes out.
    const byId = new Map<string, any>(whole.chats.edges.map((e: any) => [e.node.id, e.node]));
    expect(byId.get(a2.id).replyTo).toBeNull();
    expect(byId.get(a1.id).reactions).toEqual([{ name: 'wave', count: 1, users: [{ id: agent.id, displayName: 'Alice Agent' }] }]);
    expect(whole).toMatchObject({ lastSeq: a3.seq, numChats: 4, readState: { unreadCount: 3, lastReadSeq: v1.seq } });
    expect(whole.participants.map((u: any) => u.id)).toEqual([start.visitor.id, agent.id]);

    // By id: node, nodes, user; and no write can reach a note.
    for (const id of hidden) {
      const res = await s.gql(`query($id: ID!) { node(id: $id) { id } user(id: $id) { id } }`, { id }, token);
      expect(res).toEqual({ data: { node: null, user: null } });
    }
    const nodes = await s.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Chat { replyTo { id } } } }`, { ids: [n1.id, a2.id, n3.id] }, token);
    expect(nodes).toEqual({ data: { nodes: [null, { id: a2.id, replyTo: null }, null] } });
    const markNote = await s.gql(mut('markRead'), { input: { threadId, chatId: n3.id } }, token);
    expect(markNote.data!.markRead.code).toBe('NOT_FOUND');

    // The agent side sees all of it (so the hiding above is not just an empty thread).
    const agentView = await s.gql(HISTORY, { id: threadId, first: 100 }, agent.token);
    expect(connectionIds(agentView.data!.thread.chats)).toEqual([v1.id, a1.id, n1.id, a2.id, n2.id, a3.id, n3.id]);
    expect(agentView.data!.thread.chats.edges[3].node.replyTo.id).toBe(n1.id);
  });
});
