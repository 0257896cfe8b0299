/** Feeds through a real server: default feeds, custom filter semantics, visibility, order, paging, mutations, isolation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_CHANNEL, CREATE_THREAD, SEND, fails, ok } from './helpers/chat-ops.js';
import { makeTenant, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FEED = `id name kind dmOnly channels { id } users { id }`;
const CREATE_FEED = `mutation($input: CreateFeedInput!) { createFeed(input: $input) { __typename
  ... on CreateFeedPayload { feed { ${FEED} } } ... on Error { code message } } }`;
const UPDATE_FEED = `mutation($input: UpdateFeedInput!) { updateFeed(input: $input) { __typename
  ... on UpdateFeedPayload { feed { ${FEED} } } ... on Error { code message } } }`;
const DELETE_FEED = `mutation($input: DeleteFeedInput!) { deleteFeed(input: $input) { __typename
  ... on DeleteFeedPayload { feedId } ... on Error { code message } } }`;
const ADD_MEMBERS = `mutation($input: AddChannelMembersInput!) { addChannelMembers(input: $input) { __typename } }`;
const FEEDS = `{ feeds { ${FEED} } }`;
const FEED_THREADS = `query($id: ID, $first: Int, $after: String) { feed(id: $id) { id kind
  threads(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`;

let s: TestServer;
afterAll(() => s?.close());
beforeAll(async () => {
  s = await startTestServer();
});

/** Thread ids of a feed (`id` omitted: the ALL feed) as the user sees them, newest activity first. */
async function feedIds(user: TestUser, id?: string, first = 100): Promise<string[]> {
  const res = await s.gql(FEED_THREADS, { id, first }, user.token);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data?.feed.threads.edges.map((e: { node: { id: string } }) => e.node.id);
}

async function feedsOf(user: TestUser): Promise<{ id: string; name: string; kind: string }[]> {
  const res = await s.gql(FEEDS, {}, user.token);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data?.feeds;
}

/** A tenant with a MOD (creator of every non-direct channel) and three members. */
async function people() {
  const tenant = await makeTenant(s);
  const [mod, alice, bob, carol] = [await tenant.user({ role: 'MOD' }), await tenant.user(), await tenant.user(), await tenant.user()];
  const channel = async (name: string, members: TestUser[], visibility = 'MEMBER') => {
    const { channel } = await ok(s, CREATE_CHANNEL, { name, visibility }, mod.token);
    if (members.length) await ok(s, ADD_MEMBERS, { channelId: channel.id, userIds: members.map((m) => m.id) }, mod.token);
    return channel.id as string;
  };
  const dm = async (by: TestUser, other: TestUser) =>
    (await ok(s, CREATE_CHANNEL, { name: 'dm', direct: true, memberIds: [other.id] }, by.token)).channel.id as string;
  const thread = async (by: TestUser, channelIds: string[], subject = 'thread') =>
    (await ok(s, CREATE_THREAD, { channelIds, subject, text: subject }, by.token)).thread.id as string;
  return { tenant, mod, alice, bob, carol, channel, dm, thread };
}

describe('default and custom feeds over one world', () => {
  let w: Awaited<ReturnType<typeof people>>;
  const ch: Record<string, string> = {};
  const th: Record<string, string> = {};
  /** Every thread, newest activity first (see the set-up below). */
  const ORDER = ['t2', 't3', 'dm2', 'dm', 'hidden', 'secret', 't5', 't4', 't1'];
  const expected = (...names: string[]) => ORDER.filter((n) => names.includes(n)).map((n) => th[n]);
  const custom = async (user: TestUser, input: Record<string, unknown>) =>
    (await ok(s, CREATE_FEED, { name: 'custom', ...input }, user.token)).feed.id as string;

  beforeAll(async () => {
    w = await people();
    const { mod, alice, bob, carol } = w;
    ch.a = await w.channel('a', [alice, bob, carol]);
    ch.b = await w.channel('b', [alice, bob, carol]);
    ch.secret = await w.channel('secret', [bob]);
    ch.hidden = await w.channel('hidden', [bob], 'HIDDEN');
    ch.dm = await w.dm(alice, bob);
    ch.dm2 = await w.dm(bob, carol);
    th.t1 = await w.thread(alice, [ch.a]);
    th.t2 = await w.thread(bob, [ch.a]);
    th.t3 = await w.thread(bob, [ch.b]);
    th.t4 = await w.thread(carol, [ch.b]);
    th.t5 = await w.thread(mod, [ch.a, ch.b]);
    th.secret = await w.thread(bob, [ch.secret]);
    th.hidden = await w.thread(bob, [ch.hidden]);
    th.dm = await w.thread(bob, [ch.dm]);
    th.dm2 = await w.thread(carol, [ch.dm2]);
    await ok(s, SEND, { threadId: th.t3, text: 'carol takes part' }, carol.token);
    await ok(s, SEND, { threadId: th.t2, text: 'alice takes part' }, alice.token);
  });

  it('every user has the three default feeds first, created once even under concurrent first reads', async () => {
    const { alice, tenant } = w;
    const reads = await Promise.all(Array.from({ length: 6 }, () => feedsOf(alice)));
    const kinds = reads[0]!.map((f) => [f.kind, f.name]);
    expect(kinds).toEqual([['ALL', 'All threads'], ['PARTICIPATING', 'Participating'], ['DIRECT', 'Direct messages']]);
    for (const r of reads) expect(r.map((f) => f.id)).toEqual(reads[0]!.map((f) => f.id));
    expect(await s.deps.prisma.feed.count({ where: { userId: alice.id } })).toBe(3);
    // A user made through the API already has them (onUserCreated); reading must not add more.
    const issued = await s.gql(`mutation { issueUserToken(input: { externalId: "via-api" }) {
      ... on IssueUserTokenPayload { token user { id } } } }`, {}, tenant.secretKey);
    const viaApi = { id: issued.data?.issueUserToken.user.id, token: issued.data?.issueUserToken.token };
    expect((await feedsOf(viaApi)).map((f) => f.kind)).toEqual(['ALL', 'PARTICIPATING', 'DIRECT']);
    expect(await s.deps.prisma.feed.count({ where: { userId: viaApi.id } })).toBe(3);
  });

  it('ALL, PARTICIPATING and DIRECT list the right threads, newest activity first', async () => {
    const { alice, bob } = w;
    const [all, part, direct] = (await feedsOf(alice)).map((f) => f.id);
    expect(await feedIds(alice)).toEqual(expected('t1', 't2', 't3', 't4', 't5', 'dm'));
    expect(await feedIds(alice, all)).toEqual(expected('t1', 't2', 't3', 't4', 't5', 'dm'));
    expect(await feedIds(alice, part)).toEqual(expected('t1', 't2'));
    expect(await feedIds(alice, direct)).toEqual(expected('dm'));
    const [, bobPart, bobDirect] = (await feedsOf(bob)).map((f) => f.id);
    expect(await feedIds(bob)).toEqual(expected(...ORDER));
    expect(await feedIds(bob, bobPart)).toEqual(expected('t2', 't3', 'secret', 'hidden', 'dm'));
    expect(await feedIds(bob, bobDirect)).toEqual(expected('dm', 'dm2'));
  });

  it('custom feeds: OR within a list, AND across lists, dmOnly; never beyond what the viewer may see', async () => {
    const { mod, alice, bob, carol } = w;
    const table: [Record<string, unknown>, string[]][] = [
      [{}, ['t1', 't2', 't3', 't4', 't5', 'dm']],
      [{ channelIds: [ch.a] }, ['t1', 't2', 't5']],
      [{ channelIds: [ch.a, ch.b] }, ['t1', 't2', 't3', 't4', 't5']],
      [{ userIds: [carol.id] }, ['t3', 't4']],
      [{ userIds: [carol.id, alice.id] }, ['t1', 't2', 't3', 't4']],
      [{ userIds: [bob.id] }, ['t2', 't3', 'dm']],
      [{ channelIds: [ch.b], userIds: [bob.id] }, ['t3']],
      [{ channelIds: [ch.a], userIds: [bob.id, mod.id] }, ['t2', 't5']],
      [{ dmOnly: true }, ['dm']],
      [{ dmOnly: true, userIds: [carol.id] }, []],
      [{ dmOnly: true, channelIds: [ch.a] }, []],
      // A MEMBER channel alice is not in: she may name it, but its threads stay invisible.
      [{ channelIds: [ch.secret] }, []],
      [{ channelIds: [ch.a, ch.secret], userIds: [bob.id] }, ['t2']],
    ];
    for (const [input, names] of table) {
      expect(await feedIds(alice, await custom(alice, input)), JSON.stringify(input)).toEqual(expected(...names));
    }
  });

  it('a feed naming a HIDDEN channel, another app’s channel or user is NotFoundError and writes nothing', async () => {
    const { alice } = w;
    const before = await s.deps.prisma.feed.count({ where: { userId: alice.id } });
    const other = await people();
    const otherChannel = await other.channel('x', []);
    for (const input of [{ channelIds: [ch.hidden] }, { channelIds: [ch.a, otherChannel] }, { userIds: [other.alice.id] }, { channelIds: ['garbage'] }]) {
      expect((await fails(s, CREATE_FEED, { name: 'bad', ...input }, alice.token)).code).toBe('NOT_FOUND');
    }
    expect(await s.deps.prisma.feed.count({ where: { userId: alice.id } })).toBe(before);
  });

  it('exposes the filters, showing only channels the viewer can still see', async () => {
    const { alice, bob } = w;
    const { feed } = await ok(s, CREATE_FEED, { name: '  Mine  ', channelIds: [ch.a, ch.a, ch.b], userIds: [bob.id], dmOnly: true }, alice.token);
    expect(feed).toMatchObject({ name: 'Mine', kind: 'CUSTOM', dmOnly: true, users: [{ id: bob.id }] });
    expect(feed.channels.map((c: { id: string }) => c.id).sort()).toEqual([ch.a, ch.b].sort());
    const row = await s.deps.prisma.feed.findUniqueOrThrow({ where: { id: feed.id } });
    expect(row).toMatchObject({ appId: w.tenant.appId, userId: alice.id, channelIds: [ch.a, ch.b], userIds: [bob.id] });
    expect((await feedsOf(alice)).at(-1)?.id).toBe(feed.id);
  });
});

describe('order, paging, update, delete, isolation', () => {
  let w: Awaited<ReturnType<typeof people>>;
  let ch1: string;
  let ch2: string;
  const threads: string[] = [];
  beforeAll(async () => {
    w = await people();
    ch1 = await w.channel('one', [w.alice, w.bob]);
    ch2 = await w.channel('two', [w.alice, w.bob]);
    for (let i = 0; i < 5; i++) threads.push(await w.thread(w.bob, [i % 2 ? ch2 : ch1], `t${i}`));
  });

  it('sending a chat moves a thread to the top', async () => {
    expect(await feedIds(w.alice)).toEqual([...threads].reverse());
    await ok(s, SEND, { threadId: threads[0], text: 'bump' }, w.alice.token);
    expect(await feedIds(w.alice)).toEqual([threads[0], ...threads.slice(1).reverse()]);
  });

  it('pages with first/after without gaps or repeats; bad paging is a VALIDATION error', async () => {
    const all = await feedIds(w.alice);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const res = await s.gql(FEED_THREADS, { first: 2, after }, w.alice.token);
      const c = res.data?.feed.threads;
      seen.push(...c.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
    for (const vars of [{ first: 100000 }, { first: -1 }, { after: 'not-a-cursor' }]) {
      const res = await s.gql(FEED_THREADS, vars, w.alice.token);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(vars)).toBe('VALIDATION');
    }
  });

  it('updateFeed replaces the lists given and keeps the rest; deleteFeed removes it', async () => {
    const { feed } = await ok(s, CREATE_FEED, { name: 'f', channelIds: [ch1], userIds: [w.bob.id] }, w.alice.token);
    const odd = threads.filter((_, i) => i % 2 === 1);
    const up = await ok(s, UPDATE_FEED, { id: feed.id, channelIds: [ch2] }, w.alice.token);
    expect(up.feed).toMatchObject({ name: 'f', channels: [{ id: ch2 }], users: [{ id: w.bob.id }], dmOnly: false });
    expect(new Set(await feedIds(w.alice, feed.id))).toEqual(new Set(odd));
    await ok(s, UPDATE_FEED, { id: feed.id, name: 'renamed', userIds: [w.alice.id] }, w.alice.token);
    expect(await feedIds(w.alice, feed.id)).toEqual([]);
    await ok(s, UPDATE_FEED, { id: feed.id, channelIds: [], userIds: [] }, w.alice.token);
    expect(await feedIds(w.alice, feed.id)).toEqual(await feedIds(w.alice));
    const row = await s.deps.prisma.feed.findUniqueOrThrow({ where: { id: feed.id } });
    expect(row).toMatchObject({ name: 'renamed', channelIds: [], userIds: [], dmOnly: false });
    expect((await ok(s, DELETE_FEED, { id: feed.id }, w.alice.token)).feedId).toBe(feed.id);
    expect(await s.deps.prisma.feed.count({ where: { id: feed.id } })).toBe(0);
    expect((await fails(s, DELETE_FEED, { id: feed.id }, w.alice.token)).code).toBe('NOT_FOUND');
  });

  it('default feeds cannot be updated or deleted', async () => {
    for (const f of await feedsOf(w.alice)) {
      expect((await fails(s, UPDATE_FEED, { id: f.id, name: 'x' }, w.alice.token)).code).toBe('FORBIDDEN');
      expect((await fails(s, DELETE_FEED, { id: f.id }, w.alice.token)).code).toBe('FORBIDDEN');
    }
    expect(await s.deps.prisma.feed.findMany({ where: { userId: w.alice.id }, select: { name: true } })).toHaveLength(3);
  });

  it('another user’s or app’s feed is invisible and cannot be changed', async () => {
    const { feed } = await ok(s, CREATE_FEED, { name: 'private', channelIds: [ch1] }, w.alice.token);
    const other = await people();
    const [allOfAlice] = await feedsOf(w.alice);
    for (const stranger of [w.bob, other.alice]) {
      for (const id of [feed.id, allOfAlice!.id]) {
        const read = await s.gql(`query($id: ID!) { feed(id: $id) { id } node(id: $id) { id } }`, { id }, stranger.token);
        expect(read.errors).toBeUndefined();
        expect(read.data).toEqual({ feed: null, node: null });
      }
      expect((await fails(s, UPDATE_FEED, { id: feed.id, name: 'mine now', channelIds: [] }, stranger.token)).code).toBe('NOT_FOUND');
      expect((await fails(s, DELETE_FEED, { id: feed.id }, stranger.token)).code).toBe('NOT_FOUND');
      expect((await feedsOf(stranger)).map((f) => f.id)).not.toContain(feed.id);
    }
    expect(await feedIds(other.alice)).toEqual([]);
    const row = await s.deps.prisma.feed.findUniqueOrThrow({ where: { id: feed.id } });
    expect(row).toMatchObject({ name: 'private', channelIds: [ch1] });
    const own = await s.gql(`query($id: ID!) { node(id: $id) { id ... on Feed { name } } }`, { id: feed.id }, w.alice.token);
    expect(own.data?.node).toEqual({ id: feed.id, name: 'private' });
  });

  it('needs a user token', async () => {
    expect((await fails(s, CREATE_FEED, { name: 'x' })).code).toBe('UNAUTHENTICATED');
    expect((await fails(s, CREATE_FEED, { name: 'x' }, w.tenant.secretKey)).code).toBe('FORBIDDEN');
    const res = await s.gql(FEEDS, {}, w.tenant.secretKey);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('rejects bad input with ValidationError and writes nothing', async () => {
    const before = await s.deps.prisma.feed.count({ where: { userId: w.alice.id } });
    const many = Array.from({ length: 51 }, () => ch1);
    for (const input of [{ name: '' }, { name: '   ' }, { name: 'nul\u0000' }, { name: 'x'.repeat(101) }, { name: 'ok', channelIds: many }, { name: 'ok', userIds: many }]) {
      expect((await fails(s, CREATE_FEED, input, w.alice.token)).code, JSON.stringify(input).slice(0, 40)).toBe('VALIDATION');
    }
    const { feed } = await ok(s, CREATE_FEED, { name: 'good' }, w.alice.token);
    expect((await fails(s, UPDATE_FEED, { id: feed.id, name: 'nul\u0000' }, w.alice.token)).code).toBe('VALIDATION');
    expect(await s.deps.prisma.feed.count({ where: { userId: w.alice.id } })).toBe(before + 1);
    expect((await s.deps.prisma.feed.findUniqueOrThrow({ where: { id: feed.id } })).name).toBe('good');
  });
});
