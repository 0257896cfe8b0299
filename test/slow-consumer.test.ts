/**
 * A subscriber that does not read cannot grow server memory: its stream buffers at most STREAM_BUFFER events, then
 * ends with SLOW_CONSUMER, while other subscribers of the same thread get everything. (graphql-ws awaits every socket
 * write, so a client that stops reading stops pulling from its stream; here the stream is opened in process and
 * simply not read, which is the same state without filling kernel socket buffers first.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Context } from '../src/context.js';
import { BoundedQueue } from '../src/realtime/queue.js';
import { threadStream } from '../src/realtime/thread-stream.js';
import { channelWithThread, ok, SEND } from './helpers/chat-ops.js';
import { makeTenant } from './helpers/fixtures.js';
import { opened, subscribeWs, wsClient } from './helpers/live.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ STREAM_BUFFER: '5' });
});
afterAll(() => s.close());

it('ends a stream that is not read after STREAM_BUFFER events; a reading subscriber gets all of them', async () => {
  const t = await makeTenant(s);
  const mod = await t.user({ role: 'MOD' });
  const member = await t.user();
  const { threadId } = await channelWithThread(s, mod, [member]);
  const user = await s.deps.prisma.user.findUniqueOrThrow({ where: { id: member.id } });
  const ctx: Context = {
    viewer: { kind: 'user', appId: t.appId, user, tokenExpiresAt: new Date(Date.now() + 3600_000) },
    prisma: s.deps.prisma,
    deps: s.deps,
    requestId: 'slow',
  };
  const stalled = await opened(s, 1, () => threadStream(ctx, threadId, { after: null, readState: false }));
  const client = wsClient(s.url, member.token);
  const reader = await opened(s, 1, () => subscribeWs(client, `subscription($threadId: ID!) { chatAdded(threadId: $threadId) { text } }`, { threadId }));
  const open = s.deps.realtime.openStreams();

  for (let i = 0; i < 20; i++) await ok(s, SEND, { threadId, text: `m${i}` }, mod.token);
  await reader.count(20);
  expect(reader.items.map((i) => i.data!.chatAdded.text)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));

  // The stalled stream was released (no longer registered) and holds its 5 events plus the reason it ended.
  expect(s.deps.realtime.openStreams()).toBe(open - 1);
  const got: { kind: string; error?: { code: string } }[] = [];
  for await (const item of stalled) got.push(item as (typeof got)[number]);
  expect(got.length).toBe(1);
  expect(got[0]).toMatchObject({ kind: 'end', error: { code: 'SLOW_CONSUMER' } });
  await client.dispose();
});

it('BoundedQueue hands items over in order, ends with one overflow item, and cleans up once', async () => {
  let cleaned = 0;
  const q = new BoundedQueue<number>(3, () => -1, () => cleaned++);
  q.push(1);
  q.push(2);
  expect(await q.next()).toEqual({ value: 1, done: false });
  q.push(3);
  q.push(4);
  q.push(5); // 2,3,4 buffered: the fourth overflows
  expect(q.closed).toBe(true);
  const rest: number[] = [];
  for await (const v of q) rest.push(v);
  expect(rest).toEqual([-1]);
  expect(cleaned).toBe(1);
  q.end(99);
  expect(cleaned).toBe(1);
});

it('a resume with many more missed events than STREAM_BUFFER is paced by the reader and delivers all of them', async () => {
  const t = await makeTenant(s);
  const mod = await t.user({ role: 'MOD' });
  const member = await t.user();
  const { threadId } = await channelWithThread(s, mod, [member]);
  for (let i = 0; i < 30; i++) await ok(s, SEND, { threadId, text: `old ${i}` }, mod.token);
  const cursor = Buffer.from(JSON.stringify(['te', threadId, 0])).toString('base64url');
  const client = wsClient(s.url, member.token);
  const sub = subscribeWs(client, `subscription($threadId: ID!, $after: String) { threadEvents(threadId: $threadId, after: $after) {
    seq ... on ChatAddedEvent { chat { text } } } }`, { threadId, after: cursor });
  await sub.count(32);
  expect(sub.items.every((i) => !i.errors)).toBe(true);
  expect(sub.items.map((i) => i.data!.threadEvents.seq)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
  expect(sub.items.slice(2).map((i) => i.data!.threadEvents.chat.text)).toEqual(Array.from({ length: 30 }, (_, i) => `old ${i}`));
  await client.dispose();
});
