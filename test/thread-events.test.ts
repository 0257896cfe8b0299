/** threadEvents and chatAdded over graphql-ws and SSE: live delivery, resume from a cursor, resync, bad cursors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneEvents } from '../src/services/event-log.js';
import { channelWithThread, ok, SEND } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { opened, settle, subscribeSse, subscribeWs, wsClient } from './helpers/live.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const EVENTS = `subscription($threadId: ID!, $after: String) { threadEvents(threadId: $threadId, after: $after) {
  __typename cursor seq thread { id }
  ... on ChatAddedEvent { chat { id seq text } }
  ... on ChatEditedEvent { chat { id text } }
  ... on ReactionChangedEvent { name set user { id } chat { id } }
  ... on ReadStateChangedEvent { readState { lastReadSeq unreadCount } } } }`;
const CHAT_ADDED = `subscription($threadId: ID!) { chatAdded(threadId: $threadId) { id seq text author { id } } }`;

let s: TestServer;
let t: TestTenant;
let mod: TestUser;
let member: TestUser;
let outsider: TestUser;

beforeAll(async () => {
  s = await startTestServer();
  t = await makeTenant(s);
  mod = await t.user({ role: 'MOD' });
  member = await t.user();
  outsider = await t.user();
});
afterAll(() => s.close());

const send = (threadId: string, text: string, who = mod) => ok(s, SEND, { threadId, text }, who.token);

describe('threadEvents', () => {
  it('delivers every event live over graphql-ws, in order, with cursors', async () => {
    const { threadId } = await channelWithThread(s, mod, [member]);
    const client = wsClient(s.url, member.token);
    const sub = await opened(s, 1, () => subscribeWs(client, EVENTS, { threadId }));
    const a = await send(threadId, 'one');
    await ok(s, `mutation($input: EditChatInput!) { editChat(input: $input) { __typename ... on Error { code } } }`, { id: a.chat.id, text: 'one!' }, mod.token);
    await ok(s, `mutation($input: SetReactionInput!) { setReaction(input: $input) { __typename ... on Error { code } } }`, { chatId: a.chat.id, name: 'tada', set: true }, member.token);
    await sub.count(3);
    const evs = sub.items.map((i) => i.data!.threadEvents);
    expect(evs.map((e) => e.__typename)).toEqual(['ChatAddedEvent', 'ChatEditedEvent', 'ReactionChangedEvent']);
    expect(evs[0].chat).toMatchObject({ seq: 2, text: 'one' });
    expect(evs[1].chat.text).toBe('one!');
    expect(evs[2]).toMatchObject({ name: 'tada', set: true, user: { id: member.id } });
    // Event seqs are consecutive (thread.created = 1, chat 1 = 2, then ours).
    expect(evs.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(new Set(evs.map((e) => e.cursor)).size).toBe(3);
    sub.dispose();
    await client.dispose();
  });

  it('resumes after a cursor while sends continue: no gap, no duplicate, in order', async () => {
    const { threadId } = await channelWithThread(s, mod, [member]);
    for (let i = 0; i < 5; i++) await send(threadId, `before ${i}`);
    const first = wsClient(s.url, member.token);
    const sub1 = await opened(s, 1, () => subscribeWs(first, EVENTS, { threadId, after: null }));
    await send(threadId, 'seen live');
    await sub1.count(1);
    const cursor = sub1.items[0]!.data!.threadEvents.cursor as string;
    sub1.dispose();
    await first.dispose();

    // 30 sends run while the second client resumes from the cursor.
    const sending = (async () => {
      for (let i = 0; i < 30; i++) await send(threadId, `during ${i}`);
    })();
    const second = wsClient(s.url, member.token);
    const sub2 = subscribeWs(second, EVENTS, { threadId, after: cursor });
    await sending;
    await sub2.count(30);
    await settle(300);
    const texts = sub2.items.map((i) => i.data!.threadEvents.chat.text);
    expect(texts).toEqual(Array.from({ length: 30 }, (_, i) => `during ${i}`));
    const seqs = sub2.items.map((i) => i.data!.threadEvents.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    sub2.dispose();
    await second.dispose();
  });

  it('delivers live over SSE (yoga distinct-connections mode)', async () => {
    const { threadId } = await channelWithThread(s, mod, [member]);
    const live = await opened(s, 1, () => subscribeSse(s.url, member.token, EVENTS, { threadId }));
    await send(threadId, 'hello sse');
    await live.count(1);
    expect(live.items[0]!.data!.threadEvents).toMatchObject({ __typename: 'ChatAddedEvent', chat: { text: 'hello sse' } });
    live.dispose();
  });

  it('sends one ResyncRequiredEvent for a cursor older than the retained log, then continues live', async () => {
    const { threadId } = await channelWithThread(s, mod, [member]);
    const sub0 = await opened(s, 1, () => subscribeSse(s.url, member.token, EVENTS, { threadId }));
    await send(threadId, 'a');
    await sub0.count(1);
    const old = sub0.items[0]!.data!.threadEvents.cursor as string;
    sub0.dispose();
    await send(threadId, 'b');
    await s.deps.prisma.event.updateMany({ where: { threadId }, data: { createdAt: new Date(Date.now() - 3600_000) } });
    expect(await pruneEvents(s.deps.prisma, new Date(Date.now() - 60_000))).toBeGreaterThan(0);
    const client = wsClient(s.url, member.token);
    const sub = subscribeWs(client, EVENTS, { threadId, after: old });
    await sub.count(1);
    expect(sub.items[0]!.data!.threadEvents.__typename).toBe('ResyncRequiredEvent');
    await send(threadId, 'c');
    await sub.count(2);
    expect(sub.items[1]!.data!.threadEvents).toMatchObject({ __typename: 'ChatAddedEvent', chat: { text: 'c' } });
    expect(sub.items).toHaveLength(2);
    sub.dispose();
    await client.dispose();
  });

  it('carries the viewer’s own read-state changes', async () => {
    const { threadId } = await channelWithThread(s, mod, [member]);
    const a = await send(threadId, 'read me');
    const client = wsClient(s.url, member.token);
    const sub = await opened(s, 1, () => subscribeWs(client, EVENTS, { threadId }));
    await ok(s, `mutation($input: MarkReadInput!) { markRead(input: $input) { __typename ... on Error { code } } }`, { threadId, chatId: a.chat.id }, member.token);
    await sub.count(1);
    expect(sub.items[0]!.data!.threadEvents).toMatchObject({ __typename: 'ReadStateChangedEvent', readState: { lastReadSeq: 2, unreadCount: 0 } });
    sub.dispose();
    await client.dispose();
  });

  it('rejects forged, foreign and future cursors and invisible threads with typed errors', async () => {
    const { threadId } = await channelWithThread(s, mod, [member]);
    const other = await channelWithThread(s, mod, [member]);
    const client = wsClient(s.url, member.token);
    const sub0 = await opened(s, 1, () => subscribeWs(client, EVENTS, { threadId: other.threadId }));
    await send(other.threadId, 'x');
    await sub0.count(1);
    const foreign = sub0.items[0]!.data!.threadEvents.cursor as string;
    sub0.dispose();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ threadId, after: 'not-a-cursor!' }, member.token, 'VALIDATION'],
      [{ threadId, after: foreign }, member.token, 'VALIDATION'],
      [{ threadId, after: Buffer.from(JSON.stringify(['te', threadId, 99999])).toString('base64url') }, member.token, 'VALIDATION'],
      [{ threadId }, outsider.token, 'NOT_FOUND'],
      [{ threadId: 'thr_nope' }, member.token, 'NOT_FOUND'],
      [{ threadId }, t.publishableKey, 'NOT_FOUND'],
    ];
    for (const [vars, cred, code] of cases) {
      const c = wsClient(s.url, cred);
      const sub = subscribeWs(c, EVENTS, vars);
      await sub.done();
      expect(sub.items[0]?.errors?.[0]?.extensions?.code, JSON.stringify(vars)).toBe(code);
      await c.dispose();
    }
    await client.dispose();
  });
});

describe('chatAdded', () => {
  it('delivers only new chats, in seq order, over graphql-ws and SSE', async () => {
    const { threadId } = await channelWithThread(s, mod, [member]);
    const client = wsClient(s.url, member.token);
    const [ws, sse] = await opened(s, 2, () => [
      subscribeWs(client, CHAT_ADDED, { threadId }),
      subscribeSse(s.url, member.token, CHAT_ADDED, { threadId }),
    ]);
    const a = await send(threadId, 'one');
    await ok(s, `mutation($input: EditChatInput!) { editChat(input: $input) { __typename ... on Error { code } } }`, { id: a.chat.id, text: 'edited' }, mod.token);
    await send(threadId, 'two', member);
    for (const sub of [ws, sse]) {
      await sub.count(2);
      await settle(100);
      expect(sub.items.map((i) => i.data!.chatAdded.text)).toEqual(['one', 'two']);
      expect(sub.items.map((i) => i.data!.chatAdded.seq)).toEqual([2, 3]);
      sub.dispose();
    }
    await client.dispose();
  });
});

describe('GraphiQL', () => {
  it('serves GraphiQL with subscriptions over WS, and over SSE with ?subscriptions=sse', async () => {
    const html = async (q: string) => (await fetch(`${s.url}${q}`, { headers: { accept: 'text/html' } })).text();
    expect(await html('')).toContain('"subscriptionsProtocol":"WS"');
    expect(await html('?subscriptions=sse')).toContain('"subscriptionsProtocol":"GRAPHQL_SSE"');
  });
});
