/** Visibility by every read path, and cross-app isolation of every chat-domain mutation (table-driven). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_CHANNEL, CREATE_THREAD, SEND, channelWithThread, fails, ok } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
let t: TestTenant;
let mod: TestUser;
let member: TestUser;
let outsider: TestUser;
let foreign: TestUser;
const ids: Record<string, string> = {};

/** One thread per channel visibility, created by `mod`, who is the only member besides `member` in `shared`. */
beforeAll(async () => {
  s = await startTestServer();
  t = await makeTenant(s);
  mod = await t.user({ role: 'MOD' });
  member = await t.user();
  outsider = await t.user();
  foreign = await (await makeTenant(s)).user({ role: 'OWNER' });
  for (const visibility of ['MEMBER', 'ANYONE', 'HIDDEN'] as const) {
    const { channel } = await ok(s, CREATE_CHANNEL, { name: visibility.toLowerCase(), visibility }, mod.token);
    const { thread, chat } = await ok(s, CREATE_THREAD, { channelIds: [channel.id], text: `in ${visibility}` }, mod.token);
    await ok(s, `mutation($input: SetReactionInput!) { setReaction(input: $input) { __typename ... on Error { code } } }`, { chatId: chat.id, name: '+1', set: true }, mod.token);
    Object.assign(ids, { [`${visibility}_channel`]: channel.id, [`${visibility}_thread`]: thread.id, [`${visibility}_chat`]: chat.id });
  }
});
afterAll(() => s?.close());

/** Runs a query and fails on any GraphQL error: invisible things must read as null/absent, never as an error. */
async function q(query: string, variables: Record<string, unknown>) {
  const res = await s.gql(query, variables, cred);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data;
}

const readPaths: [string, (v: string) => Promise<unknown>][] = [
  ['thread(id)', async (id) => (await q(`query($id: ID!) { thread(id: $id) { id } }`, { id: ids[`${id}_thread`] }))?.thread],
  ['node(thread)', async (id) => (await q(`query($id: ID!) { node(id: $id) { id } }`, { id: ids[`${id}_thread`] }))?.node],
  ['nodes(chat)', async (id) => (await q(`query($id: ID!) { nodes(ids: [$id]) { id } }`, { id: ids[`${id}_chat`] }))?.nodes[0]],
  ['node(chat).reactions', async (id) => (await q(`query($id: ID!) { node(id: $id) { ... on Chat { reactions { count } } } }`, { id: ids[`${id}_chat`] }))?.node],
  ['threads', async (id) => (await q(`{ threads(first: 100) { edges { node { id } } } }`, {}))?.threads.edges.find((e: any) => e.node.id === ids[`${id}_thread`])],
  ['threads(channelId)', async (id) => (await s.gql(`query($c: ID!) { threads(channelId: $c) { edges { node { id } } } }`, { c: ids[`${id}_channel`] }, cred)).data?.threads?.edges[0]],
];
let cred: string;

describe('thread visibility', () => {
  // [viewer, MEMBER, ANYONE, HIDDEN]: may the viewer read threads of a channel of that visibility?
  const table: [string, () => string, boolean, boolean, boolean][] = [
    ['creator (member)', () => mod.token, true, true, true],
    ['app user, not a member', () => outsider.token, false, true, false],
    ['SECRET key', () => t.secretKey, true, true, true],
    ['PUBLISHABLE key (public, in browsers)', () => t.publishableKey, false, false, false],
    ['user of another app', () => foreign.token, false, false, false],
    ['anonymous', () => '', false, false, false],
  ];
  for (const [who, getCred, ...expected] of table) {
    for (const [path, read] of readPaths) {
      it(`${who} via ${path}`, async () => {
        cred = getCred();
        const seen = await Promise.all((['MEMBER', 'ANYONE', 'HIDDEN'] as const).map(async (v) => Boolean(await read(v))));
        expect(seen).toEqual(expected);
      });
    }
  }

  it('HIDDEN channels are invisible to non-members; MEMBER channels are listed', async () => {
    const res = await s.gql(`{ channels(first: 100) { edges { node { id } } } }`, {}, outsider.token);
    const listed = res.data?.channels.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(listed).toContain(ids.MEMBER_channel);
    expect(listed).toContain(ids.ANYONE_channel);
    expect(listed).not.toContain(ids.HIDDEN_channel);
    const join = await fails(s, `mutation($input: JoinChannelInput!) { joinChannel(input: $input) { __typename ... on Error { code } } }`, { channelId: ids.HIDDEN_channel }, outsider.token);
    expect(join.code).toBe('NOT_FOUND');
  });

  it('hidden threads are visible to their author and MOD+ only; deleted threads to nobody', async () => {
    const { channel } = await ok(s, CREATE_CHANNEL, { name: 'h', visibility: 'ANYONE' }, mod.token);
    const { thread } = await ok(s, CREATE_THREAD, { channelIds: [channel.id], text: 'x' }, mod.token);
    const admin = await t.user({ role: 'ADMIN' });
    const UPDATE = `mutation($input: UpdateThreadInput!) { updateThread(input: $input) { __typename ... on Error { code } } }`;
    expect((await fails(s, UPDATE, { id: thread.id, hidden: true }, mod.token)).code).toBe('FORBIDDEN');
    await ok(s, UPDATE, { id: thread.id, hidden: true }, admin.token);
    const see = async (c: string) => (await s.gql(`query($id: ID!) { thread(id: $id) { id } }`, { id: thread.id }, c)).data?.thread;
    expect(await see(outsider.token)).toBeNull();
    expect(await see(mod.token)).not.toBeNull();
    await ok(s, UPDATE, { id: thread.id, deleted: true }, admin.token);
    expect(await see(admin.token)).toBeNull();
  });
});

describe('review findings', () => {
  it('node/nodes with malformed or non-node ids give null, not an error', async () => {
    cred = member.token;
    const data = await q(`query($a: ID!, $b: ID!, $c: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } c: nodes(ids: [$a, $c]) { id } }`, {
      a: 'x',
      b: 'ses_01jdxxxxxxxxxxxxxxxxxxxxxx',
      c: ids.ANYONE_thread,
    });
    expect(data).toEqual({ a: null, b: null, c: [null, { id: ids.ANYONE_thread }] });
    const many = await s.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Array.from({ length: 101 }, () => 'x') }, cred);
    expect(many.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });

  it('threads(channelId) does not reveal which threads sit in a MEMBER channel the viewer is not in', async () => {
    const { thread } = await ok(s, CREATE_THREAD, { channelIds: [ids.ANYONE_channel, ids.MEMBER_channel], text: 'both' }, mod.token);
    cred = outsider.token;
    const inMember = await q(`query($c: ID!) { threads(channelId: $c) { edges { node { id } } } }`, { c: ids.MEMBER_channel });
    expect(inMember?.threads.edges).toEqual([]);
    const all = await q(`{ threads(first: 100) { edges { node { id channels { id } } } } }`, {});
    const seen = all?.threads.edges.find((e: any) => e.node.id === thread.id);
    expect(seen?.node.channels).toEqual([{ id: ids.ANYONE_channel }]);
  });

  it('a clientId reused for another thread is a ConflictError and reveals nothing', async () => {
    const a = await channelWithThread(s, mod, [member]);
    const b = await channelWithThread(s, mod, [member]);
    await ok(s, SEND, { threadId: a.threadId, text: 'one', clientId: 'reuse-1' }, member.token);
    expect((await fails(s, SEND, { threadId: b.threadId, text: 'two', clientId: 'reuse-1' }, member.token)).code).toBe('CONFLICT');
    expect((await fails(s, CREATE_THREAD, { channelIds: [b.channelId], text: 'x', clientId: 'reuse-1' }, member.token)).code).toBe('CONFLICT');
    expect(await s.deps.prisma.chat.count({ where: { clientId: 'reuse-1' } })).toBe(1);
  });

  it('cursors beyond the int4 range are validation errors', async () => {
    cred = member.token;
    for (const key of [2 ** 31, 9007199254740991, -1]) {
      const res = await s.gql(`query($id: ID!, $a: String) { thread(id: $id) { chats(after: $a) { edges { cursor } } } }`,
        { id: ids.ANYONE_thread, a: Buffer.from(JSON.stringify([key])).toString('base64url') }, cred);
      expect(res.errors?.[0]?.extensions?.code, String(key)).toBe('VALIDATION');
    }
  });

  it('concurrent edit and deletes leave one tombstone, one delete event, and no revived text', async () => {
    const { threadId } = await channelWithThread(s, mod, [member]);
    const sent = await ok(s, SEND, { threadId, text: 'race me' }, member.token);
    const EDIT = `mutation($input: EditChatInput!) { editChat(input: $input) { __typename ... on Error { code } } }`;
    const DELETE = `mutation($input: DeleteChatInput!) { deleteChat(input: $input) { __typename ... on Error { code } } }`;
    await Promise.all([
      s.gql(EDIT, { input: { id: sent.chat.id, text: 'edited' } }, member.token),
      s.gql(DELETE, { input: { id: sent.chat.id } }, mod.token),
      s.gql(DELETE, { input: { id: sent.chat.id } }, member.token),
      s.gql(EDIT, { input: { id: sent.chat.id, text: 'edited again' } }, member.token),
    ]);
    const row = await s.deps.prisma.chat.findUniqueOrThrow({ where: { id: sent.chat.id } });
    expect(row.deletedAt).not.toBeNull();
    expect(row.text).toBe('');
    expect(await s.deps.prisma.event.count({ where: { threadId, type: 'chat.deleted' } })).toBe(1);
  });
});

describe('cross-app ids change nothing', () => {
  const mutations: [string, string, () => Record<string, unknown>][] = [
    ['updateChannel', 'UpdateChannelInput', () => ({ id: ids.MEMBER_channel, name: 'pwned' })],
    ['joinChannel', 'JoinChannelInput', () => ({ channelId: ids.ANYONE_channel })],
    ['leaveChannel', 'LeaveChannelInput', () => ({ channelId: ids.MEMBER_channel })],
    ['addChannelMembers', 'AddChannelMembersInput', () => ({ channelId: ids.MEMBER_channel, userIds: [foreign.id] })],
    ['createThread', 'CreateThreadInput', () => ({ channelIds: [ids.ANYONE_channel], text: 'x' })],
    ['updateThread', 'UpdateThreadInput', () => ({ id: ids.ANYONE_thread, resolved: true })],
    ['sendChat', 'SendChatInput', () => ({ threadId: ids.ANYONE_thread, text: 'x' })],
    ['editChat', 'EditChatInput', () => ({ id: ids.ANYONE_chat, text: 'x' })],
    ['deleteChat', 'DeleteChatInput', () => ({ id: ids.ANYONE_chat })],
    ['setReaction', 'SetReactionInput', () => ({ chatId: ids.ANYONE_chat, name: 'x', set: true })],
    ['markRead', 'MarkReadInput', () => ({ threadId: ids.ANYONE_thread, chatId: ids.ANYONE_chat })],
    ['muteThread', 'MuteThreadInput', () => ({ threadId: ids.ANYONE_thread, until: null })],
  ];
  const snapshot = async () => {
    const p = s.deps.prisma;
    return Promise.all([
      p.event.count(), p.chat.count(), p.thread.count(), p.channelMember.count(), p.reaction.count(), p.readState.count(),
      p.channel.findMany({ orderBy: { id: 'asc' } }), p.chat.findMany({ orderBy: { id: 'asc' } }),
    ]);
  };
  for (const [name, inputType, input] of mutations) {
    for (const who of ['foreign user', 'foreign key'] as const) {
      it(`${name} by a ${who}`, async () => {
        const other = who === 'foreign key' ? (await makeTenant(s)).secretKey : foreign.token;
        const before = await snapshot();
        const q = `mutation($input: ${inputType}!) { ${name}(input: $input) { __typename ... on Error { code } } }`;
        const err = await fails(s, q, input(), other);
        expect(['NOT_FOUND', 'UNAUTHENTICATED', 'FORBIDDEN']).toContain(err.code);
        if (who === 'foreign user') expect(err.code).toBe('NOT_FOUND');
        const after = await snapshot();
        expect(after.slice(0, 6)).toEqual(before.slice(0, 6));
        expect(after[6]).toEqual(before[6]);
        expect(after[7]).toEqual(before[7]);
      });
    }
  }
});

describe('rules in the chat domain', () => {
  it('reactions are blind writes grouped by name; markRead never moves backwards', async () => {
    const { channel } = await ok(s, CREATE_CHANNEL, { name: 'r', visibility: 'ANYONE' }, mod.token);
    const { thread, chat } = await ok(s, CREATE_THREAD, { channelIds: [channel.id], text: 'react to me' }, mod.token);
    const REACT = `mutation($input: SetReactionInput!) { setReaction(input: $input) {
      ... on SetReactionPayload { chat { reactions { name count viewerHasReacted users { id } } } } ... on Error { code } } }`;
    // Non-members may read an ANYONE channel but not react in it.
    expect((await fails(s, REACT, { chatId: chat.id, name: '+1', set: true }, member.token)).code).toBe('FORBIDDEN');
    const JOIN = `mutation($input: JoinChannelInput!) { joinChannel(input: $input) { __typename ... on Error { code } } }`;
    await ok(s, JOIN, { channelId: channel.id }, member.token);
    await ok(s, JOIN, { channelId: channel.id }, outsider.token);
    await ok(s, REACT, { chatId: chat.id, name: '+1', set: true }, member.token);
    await ok(s, REACT, { chatId: chat.id, name: '+1', set: true }, member.token);
    await ok(s, REACT, { chatId: chat.id, name: 'tada', set: false }, member.token);
    const r = await ok(s, REACT, { chatId: chat.id, name: '+1', set: true }, outsider.token);
    expect(r.chat.reactions).toEqual([{ name: '+1', count: 2, viewerHasReacted: true, users: [{ id: member.id }, { id: outsider.id }] }]);
    expect(await s.deps.prisma.event.count({ where: { threadId: thread.id, type: 'reaction.changed' } })).toBe(2);

    const second = await ok(s, SEND, { threadId: thread.id, text: 'two' }, mod.token);
    await ok(s, SEND, { threadId: thread.id, text: 'three' }, mod.token);
    const MARK = `mutation($input: MarkReadInput!) { markRead(input: $input) {
      ... on MarkReadPayload { readState { lastReadSeq unreadCount lastReadChat { id } } } ... on Error { code } } }`;
    expect((await ok(s, MARK, { threadId: thread.id, chatId: second.chat.id }, member.token)).readState).toEqual({ lastReadSeq: 2, unreadCount: 1, lastReadChat: { id: second.chat.id } });
    expect((await ok(s, MARK, { threadId: thread.id, chatId: chat.id }, member.token)).readState.lastReadSeq).toBe(2);
  });

  it('edit: author only; delete: author or MOD+, leaving a tombstone in order', async () => {
    const { channel } = await ok(s, CREATE_CHANNEL, { name: 'e' }, mod.token);
    await ok(s, `mutation($input: AddChannelMembersInput!) { addChannelMembers(input: $input) { __typename ... on Error { code } } }`, { channelId: channel.id, userIds: [member.id, outsider.id] }, mod.token);
    const members: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 5; pages++) {
      const res = await s.gql(`query($id: ID!, $after: String) { channel(id: $id) { members(first: 2, after: $after) {
        edges { node { id } } pageInfo { hasNextPage endCursor } } } }`, { id: channel.id, after }, member.token);
      const conn = res.data?.channel.members;
      members.push(...conn.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(members).toEqual([mod.id, member.id, outsider.id].sort());
    const { thread } = await ok(s, CREATE_THREAD, { channelIds: [channel.id], text: 'by mod' }, mod.token);
    const mine = await ok(s, SEND, { threadId: thread.id, text: 'by member' }, member.token);
    const EDIT = `mutation($input: EditChatInput!) { editChat(input: $input) { ... on EditChatPayload { chat { text editedAt } } ... on Error { code } } }`;
    const DELETE = `mutation($input: DeleteChatInput!) { deleteChat(input: $input) { ... on DeleteChatPayload { chat { text deletedAt seq } } ... on Error { code } } }`;
    expect((await fails(s, EDIT, { id: mine.chat.id, text: 'hijack' }, outsider.token)).code).toBe('FORBIDDEN');
    expect((await fails(s, EDIT, { id: mine.chat.id, text: 'hijack' }, mod.token)).code).toBe('FORBIDDEN');
    expect((await ok(s, EDIT, { id: mine.chat.id, text: 'edited' }, member.token)).chat.text).toBe('edited');
    expect((await fails(s, DELETE, { id: mine.chat.id }, outsider.token)).code).toBe('FORBIDDEN');
    const del = await ok(s, DELETE, { id: mine.chat.id }, mod.token);
    expect(del.chat).toMatchObject({ text: '', seq: 2 });
    expect(del.chat.deletedAt).toBeTruthy();
    const types = (await s.deps.prisma.event.findMany({ where: { threadId: thread.id }, orderBy: { seq: 'asc' } })).map((e) => e.type);
    expect(types).toEqual(['thread.created', 'chat.added', 'chat.added', 'chat.edited', 'chat.deleted']);
  });

  it('channels: MOD+ manage; delete only when no live threads', async () => {
    const UPDATE = `mutation($input: UpdateChannelInput!) { updateChannel(input: $input) { ... on UpdateChannelPayload { channel { name } } ... on Error { code } } }`;
    expect((await fails(s, CREATE_CHANNEL, { name: 'nope' }, member.token)).code).toBe('FORBIDDEN');
    expect((await fails(s, UPDATE, { id: ids.MEMBER_channel, name: 'nope' }, member.token)).code).toBe('FORBIDDEN');
    expect((await fails(s, UPDATE, { id: ids.MEMBER_channel, deleted: true }, mod.token)).code).toBe('CONFLICT');
    const { channel } = await ok(s, CREATE_CHANNEL, { name: 'empty' }, t.secretKey);
    await ok(s, UPDATE, { id: channel.id, deleted: true }, mod.token);
    expect((await s.deps.prisma.channel.findUniqueOrThrow({ where: { id: channel.id } })).deletedAt).not.toBeNull();
  });
});
