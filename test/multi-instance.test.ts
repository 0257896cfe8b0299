/**
 * Several server processes on one PostgreSQL and one Redis: events caused on one instance reach subscribers on the
 * others; one Redis subscription per live topic per process, released when the last local subscriber leaves; a
 * client resumes on another instance from its cursor after a graceful shutdown; Redis killed or its pub/sub clients
 * dropped mid-stream loses nothing. STREAM_POLL_MS=0 so that only Redis hints (and reconnect catch-up) deliver.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelWithThread, ok, SEND } from './helpers/chat-ops.js';
import { makeTenant, type TestUser } from './helpers/fixtures.js';
import { Collector, subscribeSse, subscribeWs, wsClient } from './helpers/live.js';
import { clusterDatabase, haveServices, privateRedis, startProcess, type ServerProcess } from './helpers/processes.js';
import type { TestServer } from './helpers/server.js';

const EVENTS = `subscription($threadId: ID!, $after: String) { threadEvents(threadId: $threadId, after: $after) {
  __typename cursor seq ... on ChatAddedEvent { chat { seq text } } } }`;
const CHAT_ADDED = `subscription($threadId: ID!) { chatAdded(threadId: $threadId) { seq text } }`;

const sharedRedis = process.env.TEST_REDIS_URL || process.env.REDIS_URL || '';
const texts = (c: Collector, prefix: string) =>
  c.items.map((i) => (i.data?.threadEvents?.chat ?? i.data?.chatAdded)?.text as string | undefined).filter((x): x is string => !!x?.startsWith(prefix));

/** Sends warm-up chats until every collector got one: their subscriptions are live on their instances. */
async function warmUp(s: TestServer, threadId: string, who: TestUser, subs: Collector[]) {
  for (let i = 0; i < 40; i++) {
    await ok(s, SEND, { threadId, text: `warm-up ${i}` }, who.token);
    const deadline = Date.now() + 300;
    while (Date.now() < deadline && !subs.every((c) => c.items.length > 0)) await new Promise((r) => setTimeout(r, 20));
    if (subs.every((c) => c.items.length > 0)) return;
  }
  throw new Error('subscriptions did not become live');
}

/** Repeats `action` every 300 ms until `sub` received something (for streams a warm-up chat does not reach). */
async function retryUntil(sub: Collector, action: () => Promise<unknown>) {
  for (let i = 0; i < 40 && sub.items.length === 0; i++) {
    await action();
    await sub.until((x) => x.items.length > 0, 300).catch(() => undefined);
  }
  await sub.count(1);
}

async function numsub(redisUrl: string, channel: string): Promise<number> {
  const r = new Redis(redisUrl);
  try {
    const reply = (await r.pubsub('NUMSUB', channel)) as [string, number];
    return Number(reply[1]);
  } finally {
    r.disconnect();
  }
}

async function until(check: () => Promise<boolean> | boolean, ms = 10_000, what = 'condition') {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!haveServices)('several instances on one PostgreSQL and Redis', { timeout: 120_000 }, () => {
  let db: Awaited<ReturnType<typeof clusterDatabase>>;
  const procs: ServerProcess[] = [];
  const boot = async (env: Record<string, string> = {}) => {
    const p = await startProcess({ DATABASE_URL: db.url, REDIS_URL: sharedRedis, STREAM_POLL_MS: '0', ...env });
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    db = await clusterDatabase();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await db.close();
  });

  it('fans every kind of event out from A to subscribers on B and C; one Redis subscription per topic per process', async () => {
    const [a, b, c] = await Promise.all([boot(), boot(), boot()]);
    const A = db.at(a.url);
    const t = await makeTenant(A);
    const mod = await t.user({ role: 'MOD' });
    const [m1, m2] = [await t.user(), await t.user()];
    const { threadId } = await channelWithThread(A, mod, [m1, m2]);

    const onB = wsClient(b.url, m1.token);
    const onC = wsClient(c.url, m2.token);
    const b1 = subscribeWs(onB, EVENTS, { threadId });
    const b2 = subscribeWs(onB, EVENTS, { threadId });
    const b3 = subscribeWs(onB, CHAT_ADDED, { threadId });
    const c1 = subscribeSse(c.url, m2.token, EVENTS, { threadId });
    const typing = subscribeWs(onC, `subscription($threadId: ID!) { typing(threadId: $threadId) { isTyping user { id } } }`, { threadId });
    const presence = subscribeWs(onC, `subscription($ids: [ID!]) { presenceChanged(userIds: $ids) { status users { id } } }`, { ids: [mod.id] });
    const feed = subscribeWs(onC, `subscription($known: [ID!]) { feedEvents(knownThreadIds: $known) { __typename thread { id } } }`, { known: [threadId] });
    const unread = subscribeWs(onC, `subscription { unreadCountsChanged { counts { unreadCount } } }`);
    await warmUp(A, threadId, mod, [b1, b2, b3, c1, feed, unread]);

    // One Redis subscription per live thread topic per process: B holds three streams of the thread, C one.
    expect(await numsub(sharedRedis, `parley:thread:${threadId}`)).toBe(2);
    expect(await numsub(sharedRedis, `parley:activity:${t.appId}`)).toBe(1);

    for (let i = 0; i < 20; i++) await ok(A, SEND, { threadId, text: `msg ${i}` }, mod.token);
    // Typing and presence are not in the event log: repeat until their (separately subscribed) streams are live.
    await retryUntil(typing, () => ok(A, `mutation($input: SetTypingInput!) { setTyping(input: $input) { __typename } }`, { threadId, isTyping: true }, mod.token));
    await retryUntil(presence, async () => {
      await ok(A, `mutation($input: HeartbeatInput!) { heartbeat(input: $input) { __typename } }`, { away: true }, mod.token);
      await ok(A, `mutation($input: HeartbeatInput!) { heartbeat(input: $input) { __typename } }`, {}, mod.token);
    });

    const expected = Array.from({ length: 20 }, (_, i) => `msg ${i}`);
    for (const sub of [b1, b2, b3, c1]) {
      await sub.until((x) => texts(x, 'msg ').length >= 20);
      expect(texts(sub, 'msg ')).toEqual(expected);
    }
    await typing.count(1);
    expect(typing.items[0]!.data!.typing).toEqual({ isTyping: true, user: { id: mod.id } });
    expect(presence.items.map((i) => i.data!.presenceChanged)).toContainEqual({ status: 'ACTIVE', users: [{ id: mod.id }] });
    await feed.until((x) => x.items.length >= 21);
    expect(new Set(feed.items.map((i) => i.data!.feedEvents.__typename))).toEqual(new Set(['FeedThreadMovedEvent']));
    await unread.until((x) => x.items.some((i) => i.data!.unreadCountsChanged.counts[0].unreadCount >= 20));

    // The last local subscriber leaving releases the Redis subscription (no leak).
    for (const sub of [b1, b2, b3, c1, typing, presence, feed, unread]) sub.dispose();
    await onB.dispose();
    await onC.dispose();
    await until(async () => (await numsub(sharedRedis, `parley:thread:${threadId}`)) === 0, 10_000, 'thread topic released');
    await until(async () => (await numsub(sharedRedis, `parley:activity:${t.appId}`)) === 0, 10_000, 'activity topic released');
    expect(await numsub(sharedRedis, `parley:typing:${threadId}`)).toBe(0);
  });

  it('closes sockets with 1001 on SIGTERM, exits 0, and the client resumes on another instance from its cursor', async () => {
    const [a, b, c] = await Promise.all([boot(), boot(), boot()]);
    const A = db.at(a.url);
    const t = await makeTenant(A);
    const mod = await t.user({ role: 'MOD' });
    const member = await t.user();
    const { threadId } = await channelWithThread(A, mod, [member]);

    let closeCode = 0;
    const onB = wsClient(b.url, member.token, { on: { closed: (e) => (closeCode = (e as { code: number }).code) } });
    const sub = subscribeWs(onB, EVENTS, { threadId });
    const sse = subscribeSse(b.url, member.token, EVENTS, { threadId });
    await warmUp(A, threadId, mod, [sub, sse]);
    await ok(A, SEND, { threadId, text: 'seen 0' }, mod.token);
    await sub.until((x) => texts(x, 'seen').length === 1);
    const cursor = sub.items[sub.items.length - 1]!.data!.threadEvents.cursor as string;

    const exit = b.stop('SIGTERM');
    const sending = (async () => {
      for (let i = 0; i < 15; i++) await ok(A, SEND, { threadId, text: `during ${i}` }, mod.token);
    })();
    expect(await exit).toBe(0);
    await sub.done();
    expect(closeCode).toBe(1001);
    await sse.done();
    expect(sse.items[sse.items.length - 1]!.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');

    const onC = wsClient(c.url, member.token);
    const resumed = subscribeWs(onC, EVENTS, { threadId, after: cursor });
    await sending;
    await resumed.until((x) => texts(x, 'during').length >= 15);
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(resumed, 'during')).toEqual(Array.from({ length: 15 }, (_, i) => `during ${i}`));
    const seqs = resumed.items.map((i) => i.data!.threadEvents.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    await onC.dispose();
  });

  it('loses nothing when Redis is killed and restarted mid-stream, or its pub/sub clients are dropped', async () => {
    const redis = await privateRedis();
    try {
      const [a, b] = await Promise.all([boot({ REDIS_URL: redis.url }), boot({ REDIS_URL: redis.url })]);
      const A = db.at(a.url);
      const t = await makeTenant(A);
      const mod = await t.user({ role: 'MOD' });
      const [m1, m2] = [await t.user(), await t.user()];
      const { threadId } = await channelWithThread(A, mod, [m1, m2]);
      const onA = wsClient(a.url, m1.token);
      const onB = wsClient(b.url, m2.token);
      const local = subscribeWs(onA, EVENTS, { threadId });
      const remote = subscribeWs(onB, EVENTS, { threadId });
      await warmUp(A, threadId, mod, [local, remote]);

      await redis.kill();
      // Mutations commit while Redis is down; A's own subscriber keeps getting them.
      for (let i = 0; i < 10; i++) await ok(A, SEND, { threadId, text: `down ${i}` }, mod.token);
      await local.until((x) => texts(x, 'down').length === 10);
      await redis.restart();
      // B catches up from the event log when its subscriber connection is back.
      await remote.until((x) => texts(x, 'down').length >= 10, 20_000);
      // A's publisher reconnects on its own schedule: send until B hears one live, then all must have arrived once.
      let n = 0;
      while (texts(remote, 'after').length === 0 && n < 60) {
        await ok(A, SEND, { threadId, text: `after ${n++}` }, mod.token);
        await remote.until((x) => texts(x, 'after').length > 0, 300).catch(() => undefined);
      }
      await remote.until((x) => texts(x, 'after').length >= n, 20_000);

      // Dropping every pub/sub connection (as a Redis failover would) loses nothing either.
      const admin = new Redis(redis.url);
      await admin.client('KILL', 'TYPE', 'pubsub');
      admin.disconnect();
      for (let i = 0; i < 5; i++) await ok(A, SEND, { threadId, text: `killed ${i}` }, mod.token);
      await remote.until((x) => texts(x, 'killed').length >= 5, 20_000);

      for (const sub of [local, remote]) {
        await new Promise((r) => setTimeout(r, 200));
        expect(texts(sub, 'down')).toEqual(Array.from({ length: 10 }, (_, i) => `down ${i}`));
        expect(texts(sub, 'after')).toEqual(Array.from({ length: n }, (_, i) => `after ${i}`));
        expect(texts(sub, 'killed')).toEqual(Array.from({ length: 5 }, (_, i) => `killed ${i}`));
        const seqs = sub.items.map((i) => i.data!.threadEvents.seq as number);
        expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      }
      await onA.dispose();
      await onB.dispose();
    } finally {
      await redis.stop();
    }
  });
});
