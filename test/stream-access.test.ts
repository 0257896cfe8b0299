/**
 * Streams stop when the viewer loses access — removed from the channel, thread deleted, user deactivated, token
 * expired — with a final error payload carrying a code, then completion. Over graphql-ws and SSE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelWithThread, ok, SEND } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { opened, subscribeSse, subscribeWs, wsClient, type Collector } from './helpers/live.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const EVENTS = `subscription($threadId: ID!) { threadEvents(threadId: $threadId) { __typename seq ... on ChatAddedEvent { chat { text } } } }`;
const TYPING = `subscription($threadId: ID!) { typing(threadId: $threadId) { isTyping user { id } } }`;
const UPDATE_USER = `mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on Error { code } } }`;
const REMOVE = `mutation($input: RemoveChannelMembersInput!) { removeChannelMembers(input: $input) { __typename ... on Error { code } } }`;
const UPDATE_THREAD = `mutation($input: UpdateThreadInput!) { updateThread(input: $input) { __typename ... on Error { code } } }`;

let s: TestServer;
let t: TestTenant;
let admin: TestUser;

beforeAll(async () => {
  s = await startTestServer({ ACCESS_RECHECK_SECONDS: '0' });
  t = await makeTenant(s);
  admin = await t.user({ role: 'ADMIN' });
});
afterAll(() => s.close());

/** The stream worked, then ended with an error of `code` as its last payload and completed. */
async function expectEndedWith(sub: Collector, code: string) {
  await sub.done();
  const last = sub.items[sub.items.length - 1];
  expect(last?.errors?.[0]?.extensions?.code, JSON.stringify(sub.items)).toBe(code);
}

type Open = (cred: string, query: string, vars: Record<string, unknown>) => Promise<{ sub: Collector; close: () => Promise<void> }>;
const transports: [string, Open][] = [
  [
    'graphql-ws',
    async (cred, query, vars) => {
      const client = wsClient(s.url, cred);
      const sub = await opened(s, 1, () => subscribeWs(client, query, vars));
      return { sub, close: () => client.dispose() as Promise<void> };
    },
  ],
  [
    'SSE',
    async (cred, query, vars) => {
      const sub = await opened(s, 1, () => subscribeSse(s.url, cred, query, vars));
      return { sub, close: async () => sub.dispose() };
    },
  ],
];

describe.each(transports)('over %s', (_name, open) => {
  it('ends threadEvents when the member is removed from the channel', async () => {
    const member = await t.user();
    const { channelId, threadId } = await channelWithThread(s, admin, [member]);
    const { sub, close } = await open(member.token, EVENTS, { threadId });
    await ok(s, SEND, { threadId, text: 'still here' }, admin.token);
    await sub.count(1);
    await ok(s, REMOVE, { channelId, userIds: [member.id] }, admin.token);
    await expectEndedWith(sub, 'NOT_FOUND');
    expect(sub.items[0]!.data!.threadEvents.chat.text).toBe('still here');
    await close();
  });

  it('ends threadEvents when the thread is deleted', async () => {
    const member = await t.user();
    const { threadId } = await channelWithThread(s, admin, [member]);
    const a = await open(member.token, EVENTS, { threadId });
    await ok(s, UPDATE_THREAD, { id: threadId, deleted: true }, admin.token);
    await expectEndedWith(a.sub, 'NOT_FOUND');
    await a.close();
  });

  it('ends every stream of a user who is deactivated', async () => {
    const member = await t.user();
    const { threadId } = await channelWithThread(s, admin, [member]);
    const a = await open(member.token, EVENTS, { threadId });
    const b = await open(member.token, TYPING, { threadId });
    await ok(s, UPDATE_USER, { id: member.id, deactivated: true }, admin.token);
    await expectEndedWith(a.sub, 'FORBIDDEN');
    await expectEndedWith(b.sub, 'FORBIDDEN');
    await a.close();
    await b.close();
  });

  it('ends the stream when the token expires', async () => {
    const member = await t.user();
    const { threadId } = await channelWithThread(s, admin, [member]);
    const { token } = await s.deps.tokens.issue(member.id, t.appId, 3);
    const { sub, close } = await open(token, EVENTS, { threadId });
    await ok(s, SEND, { threadId, text: 'before expiry' }, admin.token);
    await sub.count(1);
    await expectEndedWith(sub, 'UNAUTHENTICATED');
    await close();
  });
});

it('a removed member’s typing stream ends too, and other members keep theirs', async () => {
  const [gone, stays] = [await t.user(), await t.user()];
  const { channelId, threadId } = await channelWithThread(s, admin, [gone, stays]);
  const clientGone = wsClient(s.url, gone.token);
  const clientStays = wsClient(s.url, stays.token);
  const [subGone, subStays] = await opened(s, 2, () => [subscribeWs(clientGone, TYPING, { threadId }), subscribeWs(clientStays, TYPING, { threadId })]);
  await ok(s, REMOVE, { channelId, userIds: [gone.id] }, admin.token);
  await expectEndedWith(subGone, 'NOT_FOUND');
  await ok(s, `mutation($input: SetTypingInput!) { setTyping(input: $input) { __typename ... on Error { code } } }`, { threadId, isTyping: true }, admin.token);
  await subStays.count(1);
  expect(subStays.completed).toBe(false);
  expect(subStays.items[0]!.data!.typing).toMatchObject({ isTyping: true, user: { id: admin.id } });
  subStays.dispose();
  await clientGone.dispose();
  await clientStays.dispose();
});

it('refuses new operations on a graphql-ws connection whose token has expired', async () => {
  const member = await t.user();
  const { threadId } = await channelWithThread(s, admin, [member]);
  const { token } = await s.deps.tokens.issue(member.id, t.appId, 3);
  const client = wsClient(s.url, token);
  const first = await opened(s, 1, () => subscribeWs(client, EVENTS, { threadId }));
  await expectEndedWith(first, 'UNAUTHENTICATED');
  const again = subscribeWs(client, EVENTS, { threadId });
  await again.done();
  expect(again.error ?? again.items[0]?.errors).toBeTruthy();
  const errors = (Array.isArray(again.error) ? again.error : again.items[0]?.errors) as { extensions?: { code?: string } }[];
  expect(errors[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  await client.dispose();
});
