/** sendChat and history through a real server: seq, idempotency, concurrency, pagination, bad input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEND, channelWithThread, fails, ok } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let s: TestServer;
let tenant: TestTenant;
let mod: TestUser;
let alice: TestUser;

beforeAll(async () => {
  s = await startTestServer();
  tenant = await makeTenant(s);
  mod = await tenant.user({ role: 'MOD' });
  alice = await tenant.user();
});
afterAll(() => s?.close());

const HISTORY = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $around: ID) {
  thread(id: $id) { lastSeq numChats chats(first: $first, after: $after, last: $last, before: $before, around: $around) {
    edges { cursor node { seq text } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`;

describe('sendChat', () => {
  it('numbers chats 1..n per thread, writes one event per chat and marks the author read', async () => {
    const { threadId } = await channelWithThread(s, mod, [alice]);
    const a = await ok(s, SEND, { threadId, text: '  second  ' }, alice.token);
    expect(a.chat).toMatchObject({ seq: 2, text: 'second', author: { id: alice.id } });
    const b = await ok(s, SEND, { threadId, text: 'third' }, mod.token);
    expect(b.chat.seq).toBe(3);
    const events = await s.deps.prisma.event.findMany({ where: { threadId }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'thread.created'],
      [2, 'chat.added'],
      [3, 'chat.added'],
      [4, 'chat.added'],
    ]);
    const rs = await s.gql(`query($id: ID!) { thread(id: $id) { readState { lastReadSeq unreadCount } participants { id } } }`, { id: threadId }, alice.token);
    expect(rs.data?.thread.readState).toEqual({ lastReadSeq: 2, unreadCount: 1 });
    expect(rs.data?.thread.participants.map((p: { id: string }) => p.id)).toEqual([mod.id, alice.id]);
  });

  it('concurrent sends to one thread get seq 1..n with no gap and no duplicate', async () => {
    const { threadId } = await channelWithThread(s, mod, [alice]);
    const n = 40;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => ok(s, SEND, { threadId, text: `c${i}` }, i % 2 ? alice.token : mod.token)),
    );
    const seqs = results.map((r) => r.chat.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 2));
    const thread = await s.deps.prisma.thread.findUniqueOrThrow({ where: { id: threadId } });
    expect(thread.lastSeq).toBe(n + 1);
    expect(await s.deps.prisma.chat.count({ where: { threadId } })).toBe(n + 1);
  });

  it('concurrent retries with one clientId store exactly one chat and all return it', async () => {
    const { threadId } = await channelWithThread(s, mod, [alice]);
    const results = await Promise.all(
      Array.from({ length: 12 }, () => ok(s, SEND, { threadId, text: 'once', clientId: 'retry-1' }, alice.token)),
    );
    expect(new Set(results.map((r) => r.chat.id)).size).toBe(1);
    expect(await s.deps.prisma.chat.count({ where: { threadId, clientId: 'retry-1' } })).toBe(1);
    const thread = await s.deps.prisma.thread.findUniqueOrThrow({ where: { id: threadId } });
    expect(thread.lastSeq).toBe(2);
    expect(await s.deps.prisma.event.count({ where: { threadId } })).toBe(3);
  });

  it('rejects bad input with a typed error and writes nothing', async () => {
    const { threadId } = await channelWithThread(s, mod, [alice]);
    const bad = [
      { text: '' },
      { text: '    ' },
      { text: 'x'.repeat(10_001) },
      { text: 'nul\u0000byte' },
      { text: 'lone \ud800 surrogate' },
      { text: 'ok', clientId: 'has space' },
    ];
    for (const input of bad) {
      const err = await fails(s, SEND, { threadId, ...input }, alice.token);
      expect(err.code, JSON.stringify(input).slice(0, 40)).toBe('VALIDATION');
    }
    expect((await s.deps.prisma.thread.findUniqueOrThrow({ where: { id: threadId } })).lastSeq).toBe(1);
  });

  it('needs a user token, a visible thread and membership', async () => {
    const { threadId } = await channelWithThread(s, mod, []);
    expect((await fails(s, SEND, { threadId, text: 'hi' })).code).toBe('UNAUTHENTICATED');
    expect((await fails(s, SEND, { threadId, text: 'hi' }, tenant.secretKey)).code).toBe('FORBIDDEN');
    expect((await fails(s, SEND, { threadId, text: 'hi' }, alice.token)).code).toBe('NOT_FOUND');
    expect((await fails(s, SEND, { threadId: 'thr_01jdxxxxxxxxxxxxxxxxxxxxxx', text: 'hi' }, alice.token)).code).toBe('NOT_FOUND');
    expect((await fails(s, SEND, { threadId: 'garbage', text: 'hi' }, alice.token)).code).toBe('NOT_FOUND');
    const other = await makeTenant(s);
    const stranger = await other.user({ role: 'OWNER' });
    expect((await fails(s, SEND, { threadId, text: 'hi' }, stranger.token)).code).toBe('NOT_FOUND');
    expect((await s.deps.prisma.thread.findUniqueOrThrow({ where: { id: threadId } })).lastSeq).toBe(1);
  });

  it('ANYONE channels are readable but not writable by non-members', async () => {
    const { threadId } = await channelWithThread(s, mod, [], 'ANYONE');
    const read = await s.gql(`query($id: ID!) { thread(id: $id) { id } }`, { id: threadId }, alice.token);
    expect(read.data?.thread?.id).toBe(threadId);
    expect((await fails(s, SEND, { threadId, text: 'hi' }, alice.token)).code).toBe('FORBIDDEN');
  });
});

describe('history', () => {
  let threadId: string;
  beforeAll(async () => {
    ({ threadId } = await channelWithThread(s, mod, [alice]));
    for (let i = 2; i <= 30; i++) await ok(s, SEND, { threadId, text: `m${i}` }, mod.token);
  });

  const page = async (vars: Record<string, unknown>) => {
    const res = await s.gql(HISTORY, { id: threadId, ...vars }, alice.token);
    expect(res.errors).toBeUndefined();
    const c = res.data?.thread.chats;
    return { seqs: c.edges.map((e: { node: { seq: number } }) => e.node.seq) as number[], info: c.pageInfo };
  };

  it('pages forwards with first/after to the end', async () => {
    const seen: number[] = [];
    let after: string | undefined;
    for (;;) {
      const p = await page({ first: 7, after });
      seen.push(...p.seqs);
      if (!p.info.hasNextPage) break;
      after = p.info.endCursor;
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('pages backwards with last/before from the newest', async () => {
    const newest = await page({ last: 10 });
    expect(newest.seqs).toEqual(Array.from({ length: 10 }, (_, i) => i + 21));
    expect(newest.info).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const older = await page({ last: 10, before: newest.info.startCursor });
    expect(older.seqs).toEqual(Array.from({ length: 10 }, (_, i) => i + 11));
    const oldest = await page({ last: 25, before: older.info.startCursor });
    expect(oldest.seqs).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(oldest.info.hasPreviousPage).toBe(false);
  });

  it('returns the page around a chat', async () => {
    const chat = await s.deps.prisma.chat.findFirstOrThrow({ where: { threadId, seq: 15 } });
    const p = await page({ first: 6, around: chat.id });
    expect(p.seqs).toEqual([12, 13, 14, 15, 16, 17]);
    expect(p.info).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('rejects out-of-range page sizes and forged cursors', async () => {
    for (const vars of [{ first: 100000 }, { first: -1 }, { last: 101 }, { after: 'not-a-cursor' }, { after: Buffer.from('["x"]').toString('base64url') }]) {
      const res = await s.gql(HISTORY, { id: threadId, ...vars }, alice.token);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(vars)).toBe('VALIDATION');
    }
  });
});
