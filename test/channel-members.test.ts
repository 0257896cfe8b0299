/** removeChannelMembers, setTyping and heartbeat: permissions, cross-app ids and bad input change nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelWithThread, fails, ok } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const REMOVE = `mutation($input: RemoveChannelMembersInput!) { removeChannelMembers(input: $input) {
  __typename ... on RemoveChannelMembersPayload { channel { id } } ... on Error { code message } } }`;
const SET_TYPING = `mutation($input: SetTypingInput!) { setTyping(input: $input) { __typename ... on Error { code message } } }`;
const HEARTBEAT = `mutation($input: HeartbeatInput!) { heartbeat(input: $input) { __typename ... on Error { code message } } }`;

let s: TestServer;
let t: TestTenant;
let other: TestTenant;
let mod: TestUser;
let member: TestUser;
let foreignMod: TestUser;
let channelId: string;
let threadId: string;

const members = async () =>
  (await s.deps.prisma.channelMember.findMany({ where: { channelId }, orderBy: { userId: 'asc' } })).map((m) => m.userId);

beforeAll(async () => {
  s = await startTestServer();
  t = await makeTenant(s);
  other = await makeTenant(s);
  mod = await t.user({ role: 'MOD' });
  member = await t.user();
  foreignMod = await other.user({ role: 'MOD' });
  ({ channelId, threadId } = await channelWithThread(s, mod, [member]));
});
afterAll(() => s.close());

describe('removeChannelMembers', () => {
  it.each([
    ['a MEMBER', () => member.token, () => ({ channelId, userIds: [mod.id] }), 'FORBIDDEN'],
    ['a MOD of another app', () => foreignMod.token, () => ({ channelId, userIds: [member.id] }), 'NOT_FOUND'],
    ['the SECRET key of another app', () => other.secretKey, () => ({ channelId, userIds: [member.id] }), 'NOT_FOUND'],
    ['a PUBLISHABLE key', () => t.publishableKey, () => ({ channelId, userIds: [member.id] }), 'FORBIDDEN'],
    ['no credential', () => undefined, () => ({ channelId, userIds: [member.id] }), 'UNAUTHENTICATED'],
    ['an empty id list', () => mod.token, () => ({ channelId, userIds: [] }), 'VALIDATION'],
    ['a channel id with a NUL byte', () => mod.token, () => ({ channelId: 'chn_\u0000', userIds: [member.id] }), 'VALIDATION'],
  ])('refuses %s and changes nothing', async (_name, cred, input, code) => {
    const before = await members();
    const res = await fails(s, REMOVE, input(), cred());
    expect(res.code).toBe(code);
    expect(await members()).toEqual(before);
  });

  it('a MOD removes members (idempotently); another app’s user ids are simply not members', async () => {
    const extra = await t.user();
    await ok(s, `mutation($input: AddChannelMembersInput!) { addChannelMembers(input: $input) { __typename ... on Error { code } } }`, { channelId, userIds: [extra.id] }, mod.token);
    expect(await members()).toContain(extra.id);
    const foreignMembership = await s.deps.prisma.channelMember.count({ where: { userId: foreignMod.id } });
    await ok(s, REMOVE, { channelId, userIds: [extra.id, foreignMod.id] }, mod.token);
    await ok(s, REMOVE, { channelId, userIds: [extra.id] }, t.secretKey);
    expect(await members()).not.toContain(extra.id);
    expect(await members()).toContain(member.id);
    expect(await s.deps.prisma.channelMember.count({ where: { userId: foreignMod.id } })).toBe(foreignMembership);
  });
});

describe('setTyping and heartbeat', () => {
  it('setTyping refuses other apps, keys and bad ids with typed errors', async () => {
    expect((await fails(s, SET_TYPING, { threadId, isTyping: true }, foreignMod.token)).code).toBe('NOT_FOUND');
    expect((await fails(s, SET_TYPING, { threadId, isTyping: true }, t.secretKey)).code).toBe('FORBIDDEN');
    expect((await fails(s, SET_TYPING, { threadId: 'thr_nope', isTyping: true }, member.token)).code).toBe('NOT_FOUND');
    expect((await fails(s, SET_TYPING, { threadId, isTyping: true })).code).toBe('UNAUTHENTICATED');
  });

  it('heartbeat needs a user token', async () => {
    expect((await fails(s, HEARTBEAT, {}, t.secretKey)).code).toBe('FORBIDDEN');
    expect((await fails(s, HEARTBEAT, {}, t.publishableKey)).code).toBe('FORBIDDEN');
    expect((await fails(s, HEARTBEAT, {})).code).toBe('UNAUTHENTICATED');
    const res = await s.gql(`query($ids: [ID!]!) { presence(userIds: $ids) { user { id } } }`, { ids: [member.id] }, foreignMod.token);
    expect(res.data!.presence).toEqual([]);
  });
});
