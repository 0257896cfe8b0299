/** typing, presence (query, heartbeat, presenceChanged, AWAY by timeout), feedEvents and unreadCountsChanged. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelWithThread, CREATE_THREAD, ok, SEND } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { opened, settle, subscribeWs, wsClient } from './helpers/live.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const SET_TYPING = `mutation($input: SetTypingInput!) { setTyping(input: $input) { __typename ... on Error { code } } }`;
const TYPING = `subscription($threadId: ID!) { typing(threadId: $threadId) { isTyping user { id } thread { id } } }`;
const HEARTBEAT = `mutation($input: HeartbeatInput!) { heartbeat(input: $input) { __typename ... on HeartbeatPayload { status } ... on Error { code } } }`;
const PRESENCE = `query($ids: [ID!]!) { presence(userIds: $ids) { user { id } status lastSeenAt } }`;
const PRESENCE_CHANGED = `subscription($ids: [ID!]) { presenceChanged(userIds: $ids) { status users { id } } }`;
const FEED_EVENTS = `subscription($feedId: ID, $known: [ID!]) { feedEvents(feedId: $feedId, knownThreadIds: $known) {
  __typename thread { id subject } ... on FeedThreadMovedEvent { action } } }`;
const UNREAD = `subscription { unreadCountsChanged { counts { thread { id } unreadCount } } }`;
const MARK_READ = `mutation($input: MarkReadInput!) { markRead(input: $input) { __typename ... on Error { code } } }`;

let s: TestServer;
let t: TestTenant;
let mod: TestUser;

beforeAll(async () => {
  s = await startTestServer({ PRESENCE_AWAY_SECONDS: '2', TYPING_TTL_SECONDS: '1' });
  t = await makeTenant(s);
  mod = await t.user({ role: 'MOD' });
});
afterAll(() => s.close());

describe('typing', () => {
  it('reaches others but not the typist, and ends by itself without renewal', async () => {
    const [a, b] = [await t.user(), await t.user()];
    const { threadId } = await channelWithThread(s, mod, [a, b]);
    const ca = wsClient(s.url, a.token);
    const cb = wsClient(s.url, b.token);
    const [subA, subB] = await opened(s, 2, () => [subscribeWs(ca, TYPING, { threadId }), subscribeWs(cb, TYPING, { threadId })]);
    await ok(s, SET_TYPING, { threadId, isTyping: true }, a.token);
    await subB.count(1);
    expect(subB.items[0]!.data!.typing).toMatchObject({ isTyping: true, user: { id: a.id }, thread: { id: threadId } });
    // No renewal: after TYPING_TTL_SECONDS (1 s here) the indicator ends by itself.
    await subB.count(2, 5000);
    expect(subB.items[1]!.data!.typing).toMatchObject({ isTyping: false, user: { id: a.id } });
    expect(subA.items).toHaveLength(0);
    // An explicit stop is delivered as well.
    await ok(s, SET_TYPING, { threadId, isTyping: true }, b.token);
    await ok(s, SET_TYPING, { threadId, isTyping: false }, b.token);
    await subA.count(2);
    expect(subA.items.map((i) => i.data!.typing.isTyping)).toEqual([true, false]);
    await ca.dispose();
    await cb.dispose();
  });

  it('refuses threads the viewer cannot see', async () => {
    const outsider = await t.user();
    const { threadId } = await channelWithThread(s, mod, []);
    const res = await s.gql(SET_TYPING, { input: { threadId, isTyping: true } }, outsider.token);
    expect(res.data!.setTyping.code).toBe('NOT_FOUND');
    const c = wsClient(s.url, outsider.token);
    const sub = subscribeWs(c, TYPING, { threadId });
    await sub.done();
    expect(sub.items[0]!.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    await c.dispose();
  });
});

describe('presence', () => {
  it('heartbeat makes a user ACTIVE for everyone, then AWAY after the timeout', async () => {
    const [watcher, alice] = [await t.user(), await t.user()];
    const c = wsClient(s.url, watcher.token);
    const sub = await opened(s, 1, () => subscribeWs(c, PRESENCE_CHANGED, { ids: [alice.id] }));
    expect((await s.gql(PRESENCE, { ids: [alice.id] }, watcher.token)).data!.presence[0].status).toBe('AWAY');
    expect((await s.gql(HEARTBEAT, { input: {} }, alice.token)).data!.heartbeat.status).toBe('ACTIVE');
    await sub.count(1);
    expect(sub.items[0]!.data!.presenceChanged).toEqual({ status: 'ACTIVE', users: [{ id: alice.id }] });
    const now = (await s.gql(PRESENCE, { ids: [alice.id] }, watcher.token)).data!.presence[0];
    expect(now.status).toBe('ACTIVE');
    expect(Date.parse(now.lastSeenAt)).toBeGreaterThan(Date.now() - 10_000);
    // A second heartbeat while active is not a change.
    await s.gql(HEARTBEAT, { input: {} }, alice.token);
    await sub.count(2, 8000);
    expect(sub.items[1]!.data!.presenceChanged).toEqual({ status: 'AWAY', users: [{ id: alice.id }] });
    expect(sub.items).toHaveLength(2);
    await c.dispose();
  });

  it('`away: true` marks AWAY at once; a live subscription keeps its user ACTIVE; foreign ids are left out', async () => {
    const [watcher, bob] = [await t.user(), await t.user()];
    const other = await (await makeTenant(s)).user();
    const c = wsClient(s.url, watcher.token);
    const sub = await opened(s, 1, () => subscribeWs(c, PRESENCE_CHANGED, { ids: [bob.id, watcher.id] }));
    await s.gql(HEARTBEAT, { input: {} }, bob.token);
    await s.gql(HEARTBEAT, { input: { away: true } }, bob.token);
    await sub.until((x) => x.items.some((i) => i.data!.presenceChanged.status === 'AWAY' && i.data!.presenceChanged.users[0].id === bob.id));
    // The watcher holds a live subscription: subscribing touched them, so they are ACTIVE without a heartbeat.
    const res = await s.gql(PRESENCE, { ids: [watcher.id, other.id, 'usr_nope'] }, bob.token);
    expect(res.data!.presence).toEqual([{ user: { id: watcher.id }, status: 'ACTIVE', lastSeenAt: expect.any(String) }]);
    await c.dispose();
  });
});

describe('feedEvents', () => {
  it('moves known threads to the top and adds unknown ones with the whole thread', async () => {
    const member = await t.user();
    const { channelId, threadId } = await channelWithThread(s, mod, [member]);
    const hidden = await channelWithThread(s, mod, []);
    const c = wsClient(s.url, member.token);
    const sub = await opened(s, 1, () => subscribeWs(c, FEED_EVENTS, { known: [threadId] }));
    await ok(s, SEND, { threadId, text: 'bump' }, mod.token);
    await ok(s, SEND, { threadId: hidden.threadId, text: 'not for member' }, mod.token);
    const { thread } = await ok(s, CREATE_THREAD, { channelIds: [channelId], subject: 'Fresh', text: 'new!' }, mod.token);
    await ok(s, SEND, { threadId: thread.id, text: 'again' }, mod.token);
    await sub.count(3);
    await settle();
    expect(sub.items.map((i) => i.data!.feedEvents)).toEqual([
      { __typename: 'FeedThreadMovedEvent', action: 'MOVE_TO_TOP', thread: { id: threadId, subject: 'Hello' } },
      { __typename: 'FeedThreadAddedEvent', thread: { id: thread.id, subject: 'Fresh' } },
      { __typename: 'FeedThreadMovedEvent', action: 'MOVE_TO_TOP', thread: { id: thread.id, subject: 'Fresh' } },
    ]);
    await c.dispose();
  });

  it('follows a custom feed’s filter and refuses feeds of others', async () => {
    const member = await t.user();
    const a = await channelWithThread(s, mod, [member]);
    const b = await channelWithThread(s, mod, [member]);
    const created = await ok(s, `mutation($input: CreateFeedInput!) { createFeed(input: $input) { __typename ... on CreateFeedPayload { feed { id } } ... on Error { code } } }`,
      { name: 'Only A', channelIds: [a.channelId] }, member.token);
    const c = wsClient(s.url, member.token);
    const sub = await opened(s, 1, () => subscribeWs(c, FEED_EVENTS, { feedId: created.feed.id, known: [a.threadId, b.threadId] }));
    await ok(s, SEND, { threadId: b.threadId, text: 'b' }, mod.token);
    await ok(s, SEND, { threadId: a.threadId, text: 'a' }, mod.token);
    await sub.count(1);
    await settle();
    expect(sub.items.map((i) => i.data!.feedEvents.thread.id)).toEqual([a.threadId]);
    const stranger = wsClient(s.url, mod.token);
    const denied = subscribeWs(stranger, FEED_EVENTS, { feedId: created.feed.id });
    await denied.done();
    expect(denied.items[0]!.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    await c.dispose();
    await stranger.dispose();
  });
});

describe('unreadCountsChanged', () => {
  it('reports per-thread counts after new chats, own reads and reads on another device', async () => {
    const member = await t.user();
    const { threadId } = await channelWithThread(s, mod, [member]);
    const phone = wsClient(s.url, member.token);
    const sub = await opened(s, 1, () => subscribeWs(phone, UNREAD));
    await ok(s, SEND, { threadId, text: 'one' }, mod.token);
    const two = await ok(s, SEND, { threadId, text: 'two' }, mod.token);
    await sub.count(2);
    // Read on "another device" (plain HTTP with the same user).
    await ok(s, MARK_READ, { threadId, chatId: two.chat.id }, member.token);
    await sub.count(3);
    // The member's own chat keeps the count at 0: no event for an unchanged count.
    await ok(s, SEND, { threadId, text: 'mine' }, member.token);
    await ok(s, SEND, { threadId, text: 'three' }, mod.token);
    await sub.count(4);
    await settle();
    const counts = sub.items.map((i) => i.data!.unreadCountsChanged.counts[0]);
    expect(counts.map((x) => x.thread.id)).toEqual([threadId, threadId, threadId, threadId]);
    // 'first' (chat 1) was never read by the member, so after 'one' and 'two' the count is 2 and 3.
    expect(counts.map((x) => x.unreadCount)).toEqual([2, 3, 0, 1]);
    await phone.dispose();
  });
});
