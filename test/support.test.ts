/**
 * Support webchat end to end through a real server: start/resume with a PUBLISHABLE key, visitor and agent chats
 * with origins, internal notes hidden from the visitor, lifecycle (assign, status, reopen), the inbox, acks with
 * delivery states, and a visitor that disconnects, misses agent replies and gets them on resume exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fails, ok, SEND } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { opened, settle, subscribeWs, wsClient } from './helpers/live.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { START } from './helpers/support-ops.js';

const STATUS = `mutation($input: SetConversationStatusInput!) { setConversationStatus(input: $input) {
  __typename ... on SetConversationStatusPayload { conversation { id status } } ... on Error { code message } } }`;
const ASSIGN = `mutation($input: AssignConversationInput!) { assignConversation(input: $input) {
  __typename ... on AssignConversationPayload { conversation { id assignee { id } } } ... on Error { code message } } }`;
const ACK = `mutation($input: AckChatsInput!) { ackChats(input: $input) {
  __typename ... on AckChatsPayload { ackedSeq } ... on Error { code message } } }`;
const NOTE = `mutation($input: SendChatInput!) { sendChat(input: $input) {
  __typename ... on SendChatPayload { chat { id seq internal origin } } ... on Error { code message } } }`;
const HISTORY = `query($id: ID!, $after: String, $last: Int) { thread(id: $id) { lastSeq numChats readState { unreadCount }
  chats(after: $after, last: $last) { edges { cursor node { id seq text origin internal deliveryState author { id displayName } } } } } }`;
const INBOX = `query($status: ConversationStatus, $assigneeId: ID, $unassigned: Boolean, $first: Int, $after: String) {
  conversations(status: $status, assigneeId: $assigneeId, unassigned: $unassigned, first: $first, after: $after) {
    edges { cursor node { id status lastVisitorChatAt assignee { id } visitor { id } } } pageInfo { hasNextPage endCursor } } }`;
const EVENTS = `subscription($threadId: ID!, $after: String) { threadEvents(threadId: $threadId, after: $after) {
  __typename cursor seq ... on ChatAddedEvent { redelivered chat { id seq text internal origin } } } }`;

let s: TestServer;
let t: TestTenant;
let agent: TestUser;

beforeAll(async () => {
  s = await startTestServer();
  t = await makeTenant(s);
  agent = await t.user({ role: 'MOD', name: 'Alice Agent' });
});
afterAll(() => s.close());

const start = (input: Record<string, unknown> = {}) => ok(s, START, input, t.publishableKey);
const send = (threadId: string, text: string, token: string, extra: Record<string, unknown> = {}) =>
  ok(s, NOTE, { threadId, text, ...extra }, token);
const history = async (threadId: string, token: string, vars: Record<string, unknown> = {}) =>
  (await s.gql(HISTORY, { id: threadId, ...vars }, token)).data!.thread;

describe('starting and resuming', () => {
  it('creates a visitor, a support channel on demand (once) and a conversation; resumes with the resume token', async () => {
    const [a, b] = await Promise.all([start({ name: 'Vera', email: 'vera@example.com' }), start()]);
    expect(a).toMatchObject({ resumed: false, visitor: { displayName: 'Vera', kind: 'VISITOR' }, conversation: { status: 'OPEN' } });
    const me = await s.gql(`{ viewer { user { id email } } }`, {}, a.visitorToken);
    expect(me.data!.viewer.user).toEqual({ id: a.visitor.id, email: 'vera@example.com' });
    const seen = await s.gql(`query($id: ID!) { user(id: $id) { email } }`, { id: a.visitor.id }, agent.token);
    expect(seen.data!.user.email).toBe('vera@example.com');
    expect(b.visitor.id).not.toBe(a.visitor.id);
    const channels = await s.deps.prisma.channel.findMany({ where: { appId: t.appId, support: true } });
    expect(channels).toHaveLength(1);
    expect(channels[0]!.visibility).toBe('HIDDEN');

    const again = await start({ resumeToken: a.resumeToken });
    expect(again).toMatchObject({ resumed: true, visitor: { id: a.visitor.id }, conversation: { id: a.conversation.id } });
    expect(again.visitorToken).toBeTruthy();
    const unknown = await start({ resumeToken: 'prt_unknown-token' });
    expect(unknown.resumed).toBe(false);
    expect(unknown.visitor.id).not.toBe(a.visitor.id);

    // A closed conversation is not resumed: the same visitor gets a new one.
    await ok(s, STATUS, { threadId: a.conversation.id, status: 'CLOSED' }, agent.token);
    const afterClose = await start({ resumeToken: a.resumeToken });
    expect(afterClose).toMatchObject({ resumed: false, visitor: { id: a.visitor.id } });
    expect(afterClose.conversation.id).not.toBe(a.conversation.id);
  });

  it('refuses other credentials and bad input, creating nothing', async () => {
    const before = await s.deps.prisma.user.count({ where: { appId: t.appId } });
    expect((await fails(s, START, {}, t.secretKey)).code).toBe('FORBIDDEN');
    expect((await fails(s, START, {}, agent.token)).code).toBe('FORBIDDEN');
    expect((await fails(s, START, {})).code).toBe('UNAUTHENTICATED');
    expect((await fails(s, START, { email: 'not-an-email' }, t.publishableKey)).code).toBe('VALIDATION');
    expect((await fails(s, START, { name: 'a\u0000b' }, t.publishableKey)).code).toBe('VALIDATION');
    expect((await fails(s, START, { channelId: 'chn_01jd0000000000000000000000' }, t.publishableKey)).code).toBe('NOT_FOUND');
    expect(await s.deps.prisma.user.count({ where: { appId: t.appId } })).toBe(before);
  });

  it('lets the visitor set their email and name (validated)', async () => {
    const v = await start();
    const EMAIL = `mutation($input: SetVisitorEmailInput!) { setVisitorEmail(input: $input) { __typename ... on SetVisitorEmailPayload { visitor { email } } ... on Error { code } } }`;
    const NAME = `mutation($input: SetVisitorNameInput!) { setVisitorName(input: $input) { __typename ... on SetVisitorNamePayload { visitor { displayName } } ... on Error { code } } }`;
    expect((await ok(s, EMAIL, { email: ' Me@Example.com ' }, v.visitorToken)).visitor.email).toBe('me@example.com');
    expect((await fails(s, EMAIL, { email: 'nope' }, v.visitorToken)).code).toBe('VALIDATION');
    expect((await ok(s, NAME, { name: 'Max' }, v.visitorToken)).visitor.displayName).toBe('Max');
    expect((await fails(s, NAME, { name: 'Max' }, agent.token)).code).toBe('FORBIDDEN');
  });
});

describe('chats in a conversation', () => {
  it('carries origins, hides internal notes from the visitor everywhere, and polls with after', async () => {
    const v = await start({ name: 'Pat' });
    const threadId = v.conversation.thread.id;
    const c1 = await send(threadId, 'hello, I need help', v.visitorToken);
    expect(c1.chat).toMatchObject({ origin: 'VISITOR', internal: false });
    const note = await send(threadId, 'VIP customer, be nice', agent.token, { internal: true });
    expect(note.chat).toMatchObject({ origin: 'AGENT', internal: true });
    const reply = await send(threadId, 'Hi Pat, how can I help?', agent.token);
    expect(reply.chat.origin).toBe('AGENT');

    const mine = await history(threadId, v.visitorToken);
    expect(mine.chats.edges.map((e: any) => e.node.text)).toEqual(['hello, I need help', 'Hi Pat, how can I help?']);
    expect(mine.chats.edges[1].node.author.displayName).toBe('Alice Agent');
    expect(mine).toMatchObject({ lastSeq: 3, numChats: 2, readState: { unreadCount: 1 } });
    const theirs = await history(threadId, agent.token);
    expect(theirs.chats.edges.map((e: any) => e.node.internal)).toEqual([false, true, false]);

    // No other path shows the note: node(id), replying to it, reacting to it.
    const node = await s.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: note.chat.id }, v.visitorToken);
    expect(node.data!.node).toBeNull();
    expect((await fails(s, SEND, { threadId, text: 'x', replyToId: note.chat.id }, v.visitorToken)).code).toBe('NOT_FOUND');
    const react = `mutation($input: SetReactionInput!) { setReaction(input: $input) { __typename ... on Error { code } } }`;
    expect((await fails(s, react, { chatId: note.chat.id, name: 'x', set: true }, v.visitorToken)).code).toBe('NOT_FOUND');
    // Visitors cannot write notes; notes outside conversations are refused.
    expect((await fails(s, NOTE, { threadId, text: 'sneaky', internal: true }, v.visitorToken)).code).toBe('FORBIDDEN');

    // Polling with the last cursor returns only newer chats.
    const cursor = mine.chats.edges[1].cursor;
    expect((await history(threadId, v.visitorToken, { after: cursor })).chats.edges).toHaveLength(0);
    await send(threadId, 'another note', agent.token, { internal: true });
    await send(threadId, 'thanks!', v.visitorToken);
    const polled = await history(threadId, v.visitorToken, { after: cursor });
    expect(polled.chats.edges.map((e: any) => e.node.text)).toEqual(['thanks!']);
  });

  it('streams no internal note to the visitor and every chat to the agent', async () => {
    const v = await start();
    const threadId = v.conversation.thread.id;
    const vc = wsClient(s.url, v.visitorToken);
    const ac = wsClient(s.url, agent.token);
    const vs = await opened(s, 1, () => subscribeWs(vc, EVENTS, { threadId }));
    const as = await opened(s, 1, () => subscribeWs(ac, EVENTS, { threadId }));
    await send(threadId, 'q', v.visitorToken);
    await send(threadId, 'note', agent.token, { internal: true });
    await send(threadId, 'a', agent.token);
    await as.count(3);
    await vs.count(2);
    await settle(300);
    expect(vs.items.map((i) => i.data!.threadEvents.chat.text)).toEqual(['q', 'a']);
    expect(as.items.map((i) => i.data!.threadEvents.chat.text)).toEqual(['q', 'note', 'a']);
    vs.dispose();
    as.dispose();
    await vc.dispose();
    await ac.dispose();
  });
  it('shows the agent typing to the visitor before the agent’s first chat, and the visitor typing to the agent', async () => {
    const v = await start();
    const threadId = v.conversation.thread.id;
    const TYPING = `subscription($threadId: ID!) { typing(threadId: $threadId) { isTyping user { id displayName } } }`;
    const SET = `mutation($input: SetTypingInput!) { setTyping(input: $input) { __typename ... on Error { code } } }`;
    const vc = wsClient(s.url, v.visitorToken);
    const ac = wsClient(s.url, agent.token);
    const vs = await opened(s, 1, () => subscribeWs(vc, TYPING, { threadId }));
    const as = await opened(s, 1, () => subscribeWs(ac, TYPING, { threadId }));
    await ok(s, SET, { threadId, isTyping: true }, agent.token);
    await ok(s, SET, { threadId, isTyping: true }, v.visitorToken);
    await vs.count(1);
    await as.count(1);
    expect(vs.items[0]!.data!.typing).toEqual({ isTyping: true, user: { id: agent.id, displayName: 'Alice Agent' } });
    expect(as.items[0]!.data!.typing.user.id).toBe(v.visitor.id);
    vs.dispose();
    as.dispose();
    await vc.dispose();
    await ac.dispose();
  });
});

describe('lifecycle and inbox', () => {
  it('assigns, changes status with permissions, reopens on a visitor chat, and lists the inbox newest first', async () => {
    const other = await t.user({ role: 'MEMBER' });
    const v1 = await start({ name: 'One' });
    const v2 = await start({ name: 'Two' });
    const th1 = v1.conversation.thread.id;
    const th2 = v2.conversation.thread.id;
    await send(th1, 'first question', v1.visitorToken);
    await send(th2, 'second question', v2.visitorToken);

    // MEMBERs who are not agents of the support channel see nothing and may change nothing.
    expect((await fails(s, STATUS, { threadId: th1, status: 'PENDING' }, other.token)).code).toBe('NOT_FOUND');
    expect((await fails(s, STATUS, { threadId: th1, status: 'PENDING' }, v1.visitorToken)).code).toBe('FORBIDDEN');
    expect((await fails(s, ASSIGN, { threadId: th1, assigneeId: v2.visitor.id }, agent.token)).code).toBe('NOT_FOUND');
    expect((await fails(s, ASSIGN, { threadId: th1, assigneeId: other.id }, agent.token)).code).toBe('VALIDATION');

    expect((await ok(s, ASSIGN, { threadId: th1, assigneeId: agent.id }, agent.token)).conversation.assignee.id).toBe(agent.id);
    const inbox = async (vars: Record<string, unknown> = {}) =>
      (await s.gql(INBOX, vars, agent.token)).data!.conversations.edges.map((e: any) => e.node.id);
    const all = await inbox();
    expect(all.indexOf(th2)).toBeLessThan(all.indexOf(th1)); // th2 had the newest activity
    expect(await inbox({ assigneeId: agent.id })).toEqual([th1]);
    expect(await inbox({ unassigned: true })).not.toContain(th1);

    expect((await ok(s, STATUS, { threadId: th1, status: 'RESOLVED' }, agent.token)).conversation.status).toBe('RESOLVED');
    expect(await inbox({ status: 'RESOLVED' })).toEqual([th1]);
    await send(th1, 'one more thing', v1.visitorToken);
    const reopened = await s.deps.prisma.conversation.findUniqueOrThrow({ where: { threadId: th1 } });
    expect(reopened.status).toBe('OPEN');
    expect(reopened.lastVisitorChatAt).not.toBeNull();
    expect((await inbox())[0]).toBe(th1); // the visitor's chat moved it to the top
    // PENDING (waiting for the visitor) goes back to OPEN when the visitor answers; CLOSED takes no visitor chats.
    await ok(s, STATUS, { threadId: th2, status: 'PENDING' }, agent.token);
    await send(th2, 'here is my answer', v2.visitorToken);
    expect((await s.deps.prisma.conversation.findUniqueOrThrow({ where: { threadId: th2 } })).status).toBe('OPEN');
    await ok(s, STATUS, { threadId: th2, status: 'CLOSED' }, agent.token);
    const chatsBefore = await s.deps.prisma.chat.count({ where: { threadId: th2 } });
    expect((await fails(s, NOTE, { threadId: th2, text: 'still there?' }, v2.visitorToken)).code).toBe('CONFLICT');
    expect(await s.deps.prisma.chat.count({ where: { threadId: th2 } })).toBe(chatsBefore);
    expect((await s.deps.prisma.conversation.findUniqueOrThrow({ where: { threadId: th2 } })).status).toBe('CLOSED');
    const types = (await s.deps.prisma.event.findMany({ where: { threadId: th1 }, orderBy: { seq: 'asc' } })).map((e) => e.type);
    expect(types).toEqual([
      'thread.created', 'conversation.created', 'chat.added', 'conversation.assigned',
      'conversation.status_changed', 'chat.added', 'conversation.status_changed',
    ]);
    // Visitors, PUBLISHABLE keys and anonymous callers cannot list the inbox.
    for (const cred of [v1.visitorToken, t.publishableKey, undefined]) {
      const res = await s.gql(INBOX, {}, cred);
      expect(res.data?.conversations ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
    }
    expect((await s.gql(INBOX, { first: 1000 }, agent.token)).errors?.[0]?.extensions?.code).toBe('VALIDATION');
    // Paging with first/after walks the same order without repeats; a forged cursor is a ValidationError.
    const paged: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 50; i++) {
      const conn: any = (await s.gql(INBOX, { first: 2, after }, agent.token)).data!.conversations;
      paged.push(...conn.edges.map((e: any) => e.node.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(paged).toEqual(await inbox({ first: 100 }));
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    expect((await s.gql(INBOX, { after: forged }, agent.token)).errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });

  it('tells agents of new conversations, assignments, status changes and visitor chats (conversationEvents)', async () => {
    const ac = wsClient(s.url, agent.token);
    const sub = await opened(s, 1, () =>
      subscribeWs(ac, `subscription { conversationEvents { type conversation { id status } } }`),
    );
    const v = await start();
    const threadId = v.conversation.thread.id;
    await send(threadId, 'hi', v.visitorToken);
    await send(threadId, 'note', agent.token, { internal: true });
    await ok(s, ASSIGN, { threadId, assigneeId: agent.id }, agent.token);
    await ok(s, STATUS, { threadId, status: 'PENDING' }, agent.token);
    await sub.count(4);
    await settle(200);
    const evs = sub.items.map((i) => i.data!.conversationEvents).filter((e) => e.conversation.id === threadId);
    expect(evs.map((e) => e.type)).toEqual(['CREATED', 'VISITOR_CHAT', 'ASSIGNED', 'STATUS_CHANGED']);
    sub.dispose();
    await ac.dispose();
    // Visitors cannot follow the inbox.
    const vc = wsClient(s.url, v.visitorToken);
    const denied = subscribeWs(vc, `subscription { conversationEvents { type } }`);
    await denied.until((c) => c.completed || c.items.length > 0);
    expect(JSON.stringify(denied.items[0]?.errors ?? denied.error)).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
    await vc.dispose();
  });
});

describe('acks, delivery states and redelivery', () => {
  it('acks never move backwards and drive deliveryState SENT -> DELIVERED -> READ', async () => {
    const v = await start();
    const threadId = v.conversation.thread.id;
    await send(threadId, 'hello', v.visitorToken);
    await send(threadId, 'reply 1', agent.token);
    await send(threadId, 'reply 2', agent.token);
    const states = async () => (await history(threadId, agent.token)).chats.edges.map((e: any) => e.node.deliveryState);
    // The visitor's chat is READ already: the agent's reply marked the thread read for the agent (sending reads).
    expect(await states()).toEqual(['READ', 'SENT', 'SENT']);
    expect((await ok(s, ACK, { threadId, upToSeq: 2 }, v.visitorToken)).ackedSeq).toBe(2);
    expect(await states()).toEqual(['READ', 'DELIVERED', 'SENT']);
    expect((await ok(s, ACK, { threadId, upToSeq: 1 }, v.visitorToken)).ackedSeq).toBe(2);
    expect((await fails(s, ACK, { threadId, upToSeq: 99 }, v.visitorToken)).code).toBe('VALIDATION');
    expect((await fails(s, ACK, { threadId, upToSeq: -1 }, v.visitorToken)).code).toBe('VALIDATION');
    const last = (await history(threadId, v.visitorToken)).chats.edges[2].node.id;
    await ok(s, `mutation($input: MarkReadInput!) { markRead(input: $input) { __typename ... on Error { code } } }`, { threadId, chatId: last }, v.visitorToken);
    expect(await states()).toEqual(['READ', 'READ', 'READ']);
    // A trailing internal note is beyond what the visitor can see: acking it is refused (no probe for notes).
    const note = await send(threadId, 'note', agent.token, { internal: true });
    expect((await fails(s, ACK, { threadId, upToSeq: note.chat.seq }, v.visitorToken)).code).toBe('VALIDATION');
    const around = `query($id: ID!, $around: ID) { thread(id: $id) { chats(around: $around, first: 2) { pageInfo { hasNextPage } } } }`;
    const page = await s.gql(around, { id: threadId, around: last }, v.visitorToken);
    expect(page.data!.thread.chats.pageInfo.hasNextPage).toBe(false);
  });

  it('a visitor that disconnects gets the agent replies it missed, and unacked ones again, exactly once on resume', async () => {
    const v = await start();
    const threadId = v.conversation.thread.id;
    await send(threadId, 'hello?', v.visitorToken);
    let client = wsClient(s.url, v.visitorToken);
    let sub = await opened(s, 1, () => subscribeWs(client, EVENTS, { threadId }));
    const r1 = await send(threadId, 'reply 1 (received, not acked)', agent.token);
    await sub.count(1);
    const cursor = sub.items[0]!.data!.threadEvents.cursor as string;
    sub.dispose();
    await client.dispose();

    // Missed while away: two replies and an internal note.
    await send(threadId, 'reply 2', agent.token);
    await send(threadId, 'note while away', agent.token, { internal: true });
    await send(threadId, 'reply 3', agent.token);

    client = wsClient(s.url, v.visitorToken);
    sub = await opened(s, 1, () => subscribeWs(client, EVENTS, { threadId, after: cursor }));
    await sub.count(3);
    await settle(300);
    let got = sub.items.map((i) => i.data!.threadEvents);
    expect(got.map((e) => e.chat.text)).toEqual(['reply 1 (received, not acked)', 'reply 2', 'reply 3']);
    expect(got.map((e) => e.redelivered)).toEqual([true, false, false]);
    expect(got[0].cursor).toBe(cursor); // a redelivered chat does not move the client's position back
    expect(got[0].chat.id).toBe(r1.chat.id);
    const lastCursor = got[2].cursor;
    const lastSeq = got[2].chat.seq;
    sub.dispose();
    await client.dispose();

    // After acking everything, a resume redelivers nothing; new replies still arrive once.
    await ok(s, ACK, { threadId, upToSeq: lastSeq }, v.visitorToken);
    client = wsClient(s.url, v.visitorToken);
    sub = await opened(s, 1, () => subscribeWs(client, EVENTS, { threadId, after: lastCursor }));
    await send(threadId, 'reply 4', agent.token);
    await sub.count(1);
    await settle(300);
    got = sub.items.map((i) => i.data!.threadEvents);
    expect(got.map((e) => e.chat.text)).toEqual(['reply 4']);
    sub.dispose();
    await client.dispose();
  });
});
