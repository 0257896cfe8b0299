/**
 * Support webchat across server processes: the outbox guarantee without the single-instance limitation. A visitor
 * connected to instance A misses agent replies sent through either instance, resumes on instance B and gets every
 * unacked and missed reply exactly once; agents on B hear of visitor chats sent through A.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { settle, subscribeWs, wsClient } from './helpers/live.js';
import { clusterDatabase, haveServices, startProcess, type ServerProcess } from './helpers/processes.js';
import type { TestServer } from './helpers/server.js';
import { START } from './helpers/support-ops.js';

const SEND = `mutation($input: SendChatInput!) { sendChat(input: $input) {
  __typename ... on SendChatPayload { chat { id seq } } ... on Error { code message } } }`;
const EVENTS = `subscription($threadId: ID!, $after: String) { threadEvents(threadId: $threadId, after: $after) {
  __typename cursor ... on ChatAddedEvent { redelivered chat { text } } } }`;

describe.skipIf(!haveServices)('support across instances', () => {
  let cluster: Awaited<ReturnType<typeof clusterDatabase>>;
  let a: ServerProcess;
  let b: ServerProcess;
  let A: TestServer;
  let B: TestServer;
  let t: TestTenant;
  let agent: TestUser;

  beforeAll(async () => {
    cluster = await clusterDatabase();
    const env = { DATABASE_URL: cluster.url, REDIS_URL: process.env.TEST_REDIS_URL || process.env.REDIS_URL || '' };
    [a, b] = await Promise.all([startProcess(env), startProcess(env)]);
    A = cluster.at(a.url);
    B = cluster.at(b.url);
    t = await makeTenant(A);
    agent = await t.user({ role: 'MOD' });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await cluster?.close();
  });

  it('redelivers and replays on another instance exactly once, and tells agents there of visitor chats', async () => {
    const inboxClient = wsClient(b.url, agent.token);
    const inbox = subscribeWs(inboxClient, `subscription { conversationEvents { type conversation { id } } }`);
    // graphql-ws has no "subscribed" acknowledgement: start probe conversations until one is announced on B.
    for (let i = 0; i < 50 && inbox.items.length === 0; i++) {
      await ok(A, START, { name: `probe ${i}` }, t.publishableKey);
      await settle(100);
    }
    const v = await ok(A, START, { name: 'Roamer' }, t.publishableKey);
    const threadId = v.conversation.thread.id as string;

    let client = wsClient(a.url, v.visitorToken);
    let sub = subscribeWs(client, EVENTS, { threadId });
    await ok(A, SEND, { threadId, text: 'hello from A' }, v.visitorToken);
    // Replies until the stream on A is live and one arrives (the first ones may precede the subscription); once one
    // arrived the stream is live, so the last one sent arrives too.
    const texts = () => sub.items.map((it) => it.data!.threadEvents.chat?.text as string);
    let k = -1;
    for (let i = 0; i < 50 && !texts().some((x) => x?.startsWith('reply 1.')); i++) {
      await ok(B, SEND, { threadId, text: `reply 1.${i}` }, agent.token);
      k = i;
      await settle(100);
    }
    await sub.until(() => texts().includes(`reply 1.${k}`), 15_000, 'the last reply on A');
    const first = sub.items.map((it) => it.data!.threadEvents).find((e) => e.chat?.text === `reply 1.${k}`)!;
    // Every reply up to the last one received is unacked, so the resume redelivers them all (even those never streamed).
    const replies1 = Array.from({ length: k + 1 }, (_, i) => `reply 1.${i}`);
    sub.dispose();
    await client.dispose();

    await ok(B, SEND, { threadId, text: 'reply 2' }, agent.token);
    await ok(A, SEND, { threadId, text: 'note', internal: true }, agent.token);
    await ok(A, SEND, { threadId, text: 'reply 3' }, agent.token);

    client = wsClient(b.url, v.visitorToken);
    sub = subscribeWs(client, EVENTS, { threadId, after: first.cursor });
    await sub.count(k + 3, 15_000);
    await ok(A, SEND, { threadId, text: 'reply 4 (live, via A)' }, agent.token);
    await sub.count(k + 4, 15_000);
    await settle(500);
    const got = sub.items.map((i) => i.data!.threadEvents);
    expect(got.map((e) => e.chat.text)).toEqual([...replies1, 'reply 2', 'reply 3', 'reply 4 (live, via A)']);
    expect(got.map((e) => e.redelivered)).toEqual([...replies1.map(() => true), false, false, false]);
    expect(new Set(got.slice(0, k + 1).map((e) => e.cursor))).toEqual(new Set([first.cursor]));
    sub.dispose();
    await client.dispose();

    // The inbox on B was live before this conversation started: it heard of it and of its one visitor chat, once.
    await inbox.until((c) => c.items.some((i) => i.data?.conversationEvents.type === 'VISITOR_CHAT'), 15_000, 'VISITOR_CHAT on B');
    await settle(300);
    const mine = inbox.items.map((i) => i.data!.conversationEvents).filter((e) => e.conversation.id === threadId);
    expect(mine.map((e) => e.type)).toEqual(['CREATED', 'VISITOR_CHAT']);
    inbox.dispose();
    await inboxClient.dispose();
  }, 60_000);
});
