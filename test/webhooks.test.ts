/**
 * Webhooks end to end: a real server on PostgreSQL (or PGlite) delivering to local HTTP receivers. CRUD and
 * permissions, URL and secret validation, every event type signed and delivered once, subscriptions filter, concurrent
 * sends, retries with backoff, dead endpoints isolated, replay, disable/delete, and two processes sharing the work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, fails, SEND } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { clusterDatabase, gqlAt, haveServices, startProcess, type ServerProcess } from './helpers/processes.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { startReceiver, type ReceivedWebhook, type WebhookReceiver } from './helpers/webhook-receiver.js';
import { backoffMs, MAX_BACKOFF_MS } from '../src/webhooks/backoff.js';
import { isValidWebhookSecret, newWebhookSecret } from '../src/webhooks/secret.js';

const ALL_EVENTS = [
  'CHAT_CREATED',
  'CHAT_UPDATED',
  'CHAT_DELETED',
  'REACTION_CHANGED',
  'CONVERSATION_CREATED',
  'CONVERSATION_STATUS_CHANGED',
  'CONVERSATION_ASSIGNED',
];

const MAX_ATTEMPTS = 4;
/**
 * Fast retries and polling. The attempt timeout stays generous: on a loaded CI machine an answer from the in-process
 * receiver can take a while, and a timed-out attempt that did arrive is (rightly) sent again — which would break the
 * exact counts below. The dead-endpoint test runs its own server with a short timeout.
 */
const WEBHOOK_ENV = {
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_TIMEOUT_MS: '10000',
  WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
};
/** Upper bound of every wait for deliveries (they normally take milliseconds). */
const WAIT = 30_000;

const WEBHOOK_FIELDS = 'id url events enabled createdAt';
const ERR = '... on ValidationError { code message issues { path message } } ... on Error { code message }';
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
  __typename ... on CreateWebhookPayload { secret webhook { ${WEBHOOK_FIELDS} } } ${ERR} } }`;
const UPDATE = `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) {
  __typename ... on UpdateWebhookPayload { webhook { ${WEBHOOK_FIELDS} } } ${ERR} } }`;
const DELETE = `mutation($input: DeleteWebhookInput!) { deleteWebhook(input: $input) {
  __typename ... on DeleteWebhookPayload { webhookId } ${ERR} } }`;
const REPLAY = `mutation($input: ReplayWebhookInput!) { replayWebhook(input: $input) {
  __typename ... on ReplayWebhookPayload { queued } ${ERR} } }`;
const LIST = `query($first: Int, $after: String) { webhooks(first: $first, after: $after) {
  edges { cursor node { ${WEBHOOK_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const NODE = `query($id: ID!) { node(id: $id) { __typename ... on Webhook { ${WEBHOOK_FIELDS} } } }`;
const DELIVERIES = `query($webhookId: ID!, $status: WebhookDeliveryStatus, $first: Int, $after: String, $last: Int) {
  webhookDeliveries(webhookId: $webhookId, status: $status, first: $first, after: $after, last: $last) {
    edges { cursor node { id type eventId status attempts responseCode lastError createdAt lastAttemptAt nextAttemptAt payload } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
const START = `mutation($input: StartConversationInput!) { startConversation(input: $input) {
  __typename ... on StartConversationPayload { conversation { id thread { id } } visitor { id } visitorToken resumeToken } ... on Error { code message } } }`;
const EDIT = `mutation($input: EditChatInput!) { editChat(input: $input) { __typename ... on EditChatPayload { chat { id text } } ... on Error { code message } } }`;
const DELETE_CHAT = `mutation($input: DeleteChatInput!) { deleteChat(input: $input) { __typename ... on DeleteChatPayload { chat { id } } ... on Error { code message } } }`;
const REACT = `mutation($input: SetReactionInput!) { setReaction(input: $input) { __typename ... on SetReactionPayload { chat { id } } ... on Error { code message } } }`;
const STATUS = `mutation($input: SetConversationStatusInput!) { setConversationStatus(input: $input) {
  __typename ... on SetConversationStatusPayload { conversation { id status } } ... on Error { code message } } }`;
const ASSIGN = `mutation($input: AssignConversationInput!) { assignConversation(input: $input) {
  __typename ... on AssignConversationPayload { conversation { id } } ... on Error { code message } } }`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ofType = (rs: ReceivedWebhook[], type: string) => rs.filter((r) => r.json.type === type);
const ids = (rs: ReceivedWebhook[]) => rs.map((r) => String(r.headers['webhook-id']));

async function until(check: () => Promise<boolean> | boolean, ms = WAIT, what = 'condition') {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

let s: TestServer;
const receivers: WebhookReceiver[] = [];

/** Runs `fn` with `s` pointing at a separate server started with `env` (closed afterwards). */
async function withServer(env: Record<string, string>, fn: () => Promise<void>) {
  const main = s;
  s = await startTestServer(env);
  try {
    await fn();
  } finally {
    await s.close();
    s = main;
  }
}

async function receiver(): Promise<WebhookReceiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  s = await startTestServer(WEBHOOK_ENV);
});

afterAll(async () => {
  await s?.close();
  await Promise.all(receivers.map((r) => r.close()));
});

interface Hook {
  id: string;
  secret: string;
}

async function createHook(t: { secretKey: string }, url: string, events = ALL_EVENTS, cred = t.secretKey): Promise<Hook> {
  const p = await ok(s, CREATE, { url, events }, cred);
  return { id: p.webhook.id, secret: p.secret };
}

/** A support conversation (started with the PUBLISHABLE key) and a MOD agent. */
async function conversation(t: TestTenant, agent?: TestUser) {
  const started = await ok(s, START, { name: 'Vera Visitor' }, t.publishableKey);
  return {
    threadId: started.conversation.thread.id as string,
    visitorId: started.visitor.id as string,
    visitorToken: started.visitorToken as string,
    agent: agent ?? (await t.user({ role: 'MOD' })),
  };
}

async function deliveries(webhookId: string, cred: string, extra: Record<string, unknown> = {}) {
  const res = await s.gql(DELIVERIES, { webhookId, first: 100, ...extra }, cred);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.webhookDeliveries as { edges: { cursor: string; node: Record<string, any> }[]; pageInfo: Record<string, any> } | null;
}

async function countRows(appId: string) {
  const [webhooks, delivered] = await Promise.all([
    s.deps.prisma.webhook.findMany({ where: { appId }, orderBy: { id: 'asc' } }),
    s.deps.prisma.webhookDelivery.count({ where: { webhook: { appId } } }),
  ]);
  return { webhooks, delivered };
}

describe('webhook rules', () => {
  it('backs off ×5 per failed attempt from the base, with at most 10% jitter, capped at one hour', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 1000, () => 0))).toEqual([1000, 5000, 25_000, 125_000]);
    expect(backoffMs(2, 1000, () => 0.5)).toBe(5250);
    expect(backoffMs(7, 1000, () => 0)).toBe(MAX_BACKOFF_MS);
    expect(backoffMs(50, 1000, () => 0.999)).toBe(MAX_BACKOFF_MS);
  });

  it('generates and accepts Standard Webhooks secrets: whsec_ + base64 of 24..64 bytes', () => {
    const fresh = newWebhookSecret();
    expect(isValidWebhookSecret(fresh)).toBe(true);
    expect(fresh).not.toBe(newWebhookSecret());
    expect(isValidWebhookSecret(`whsec_${Buffer.alloc(64, 1).toString('base64')}`)).toBe(true);
    for (const bad of ['', 'whsec_', `whsec_${Buffer.alloc(23).toString('base64')}`, `whsec_${Buffer.alloc(65).toString('base64')}`, `whsec_${Buffer.alloc(24).toString('base64url')}x`, `whsec_${Buffer.alloc(24).toString('base64')} `]) {
      expect(isValidWebhookSecret(bad), bad).toBe(false);
    }
  });
});

describe('webhook management', { timeout: 90_000 }, () => {
  it('ADMIN users and the SECRET key create, list, read, update and delete webhooks; the secret is shown only on create', async () => {
    const t = await makeTenant(s);
    const admin = await t.user({ role: 'ADMIN' });
    const r = await receiver();

    const generated = await ok(s, CREATE, { url: r.url, events: ['CHAT_CREATED', 'CHAT_CREATED', 'REACTION_CHANGED'] }, admin.token);
    expect(generated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(generated.secret.slice(6), 'base64')).toHaveLength(24);
    expect(generated.webhook).toMatchObject({ url: r.url, events: ['CHAT_CREATED', 'REACTION_CHANGED'], enabled: true });
    expect(generated.webhook.id).toMatch(/^whk_[0-9a-z]{26}$/);

    const own = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const given = await ok(s, CREATE, { url: `${r.url}?b=1`, events: ['CONVERSATION_CREATED'], secret: own }, t.secretKey);
    expect(given.secret).toBe(own);

    // Listed oldest first, paged; readable through node(id); no field exposes the secret.
    const page1 = (await s.gql(LIST, { first: 1 }, t.secretKey)).data!.webhooks;
    expect(page1.edges.map((e: any) => e.node.id)).toEqual([generated.webhook.id]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await s.gql(LIST, { first: 5, after: page1.pageInfo.endCursor }, admin.token)).data!.webhooks;
    expect(page2.edges.map((e: any) => e.node.id)).toEqual([given.webhook.id]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const node = await s.gql(NODE, { id: given.webhook.id }, admin.token);
    expect(node.data!.node).toMatchObject({ __typename: 'Webhook', id: given.webhook.id, events: ['CONVERSATION_CREATED'] });
    expect(JSON.stringify([page1, page2, node])).not.toContain('whsec_');

    const updated = await ok(s, UPDATE, { id: given.webhook.id, url: 'https://example.com/hook', events: ['CHAT_DELETED'], enabled: false }, admin.token);
    expect(updated.webhook).toMatchObject({ id: given.webhook.id, url: 'https://example.com/hook', events: ['CHAT_DELETED'], enabled: false });
    const partly = await ok(s, UPDATE, { id: given.webhook.id, enabled: true }, t.secretKey);
    expect(partly.webhook).toMatchObject({ url: 'https://example.com/hook', events: ['CHAT_DELETED'], enabled: true });
    const stored = await s.deps.prisma.webhook.findUniqueOrThrow({ where: { id: given.webhook.id } });
    expect(stored.secret).toBe(own);
    expect(stored.events).toEqual(['chat.deleted']);

    expect((await ok(s, DELETE, { id: given.webhook.id }, admin.token)).webhookId).toBe(given.webhook.id);
    expect((await countRows(t.appId)).webhooks.map((w) => w.id)).toEqual([generated.webhook.id]);
    expect((await s.gql(NODE, { id: given.webhook.id }, admin.token)).data!.node).toBeNull();
    expect((await fails(s, DELETE, { id: given.webhook.id }, admin.token)).code).toBe('NOT_FOUND');
  });

  it('MEMBER and MOD users, visitors, PUBLISHABLE keys, anonymous callers and other apps are refused and change nothing', async () => {
    const t = await makeTenant(s);
    const other = await makeTenant(s);
    const r = await receiver();
    const hook = await createHook(t, r.url);
    const member = await t.user({ role: 'MEMBER' });
    const mod = await t.user({ role: 'MOD' });
    const bot = await t.user({ role: 'MEMBER', kind: 'BOT' });
    const { visitorToken } = await conversation(t, mod);
    const otherAdmin = await other.user({ role: 'ADMIN' });
    await r.until((rs) => rs.length >= 1, WAIT, 'conversation.created'); // the one delivery, before the snapshot
    const before = await countRows(t.appId);

    const refused: [string, string | undefined, string][] = [
      ['MEMBER', member.token, 'FORBIDDEN'],
      ['MOD', mod.token, 'FORBIDDEN'],
      ['MEMBER bot', bot.token, 'FORBIDDEN'],
      ['visitor', visitorToken, 'FORBIDDEN'],
      ['PUBLISHABLE key', t.publishableKey, 'FORBIDDEN'],
      ['anonymous', undefined, 'UNAUTHENTICATED'],
    ];
    for (const [who, cred, code] of refused) {
      expect((await fails(s, CREATE, { url: r.url, events: ['CHAT_CREATED'] }, cred)).code, who).toBe(code);
      expect((await fails(s, UPDATE, { id: hook.id, enabled: false }, cred)).code, who).toBe(code);
      expect((await fails(s, DELETE, { id: hook.id }, cred)).code, who).toBe(code);
      expect((await fails(s, REPLAY, { id: hook.id }, cred)).code, who).toBe(code);
      const list = await s.gql(LIST, {}, cred);
      expect(list.errors?.[0]?.extensions?.code, who).toBe(code);
      const listed = await s.gql(DELIVERIES, { webhookId: hook.id }, cred);
      expect(listed.errors?.[0]?.extensions?.code, who).toBe(code);
      expect((await s.gql(NODE, { id: hook.id }, cred)).data?.node ?? null, who).toBeNull();
    }

    // Another app's managers: its webhook is NotFound in mutations and null in queries, like one that does not exist.
    for (const cred of [other.secretKey, otherAdmin.token]) {
      expect((await fails(s, UPDATE, { id: hook.id, enabled: false }, cred)).code).toBe('NOT_FOUND');
      expect((await fails(s, DELETE, { id: hook.id }, cred)).code).toBe('NOT_FOUND');
      expect((await fails(s, REPLAY, { id: hook.id }, cred)).code).toBe('NOT_FOUND');
      expect((await s.gql(NODE, { id: hook.id }, cred)).data!.node).toBeNull();
      expect((await s.gql(DELIVERIES, { webhookId: hook.id }, cred)).data!.webhookDeliveries).toBeNull();
      expect((await s.gql(LIST, {}, cred)).data!.webhooks.edges).toEqual([]);
    }

    const after = await countRows(t.appId);
    expect(after).toEqual(before);
    expect(after.webhooks).toHaveLength(1);
  });

  it('rejects bad URLs, secrets, event lists and ids with typed errors, changing nothing', async () => {
    const t = await makeTenant(s);
    const r = await receiver();
    const hook = await createHook(t, r.url, ['CHAT_CREATED']);
    const before = await countRows(t.appId);

    const badUrls = ['ftp://example.com/hook', 'javascript:alert(1)', 'not a url', `http://example.com/${'a'.repeat(3000)}`, '/relative/path', 'http://exa\u0000mple.com/'];
    for (const url of badUrls) {
      const e = await fails(s, CREATE, { url, events: ['CHAT_CREATED'] }, t.secretKey);
      expect(e.code, url.slice(0, 40)).toBe('VALIDATION');
      expect((e as any).issues.map((i: any) => i.path.join('.'))).toContain('input.url');
      expect((await fails(s, UPDATE, { id: hook.id, url }, t.secretKey)).code, url.slice(0, 40)).toBe('VALIDATION');
    }
    const badSecrets = ['secret', 'whsec_', 'whsec_not*base64!', `whsec_${Buffer.alloc(8).toString('base64')}`, Buffer.alloc(32).toString('base64')];
    for (const secret of badSecrets) {
      expect((await fails(s, CREATE, { url: r.url, events: ['CHAT_CREATED'], secret }, t.secretKey)).code, secret).toBe('VALIDATION');
    }
    expect((await fails(s, CREATE, { url: r.url, events: [] }, t.secretKey)).code).toBe('VALIDATION');
    expect((await fails(s, UPDATE, { id: hook.id, events: [] }, t.secretKey)).code).toBe('VALIDATION');
    const enumError = await s.gql(CREATE, { input: { url: r.url, events: ['THREAD_CREATED'] } }, t.secretKey);
    expect(enumError.errors?.length).toBeGreaterThan(0);

    for (const id of ['nope', 'whk_00000000000000000000000000', 'usr_01jd0000000000000000000000', `${hook.id}x`]) {
      expect((await fails(s, UPDATE, { id, enabled: false }, t.secretKey)).code, id).toBe('NOT_FOUND');
      expect((await fails(s, DELETE, { id }, t.secretKey)).code, id).toBe('NOT_FOUND');
      expect((await fails(s, REPLAY, { id }, t.secretKey)).code, id).toBe('NOT_FOUND');
    }
    for (const first of [-1, 101]) {
      expect((await s.gql(DELIVERIES, { webhookId: hook.id, first }, t.secretKey)).errors?.[0]?.extensions?.code).toBe('VALIDATION');
    }
    expect(await countRows(t.appId)).toEqual(before);
    const stored = await s.deps.prisma.webhook.findUniqueOrThrow({ where: { id: hook.id } });
    expect(stored).toMatchObject({ url: r.url, events: ['chat.created'], enabled: true });
  });
});

describe('webhook delivery', { timeout: 90_000 }, () => {
  it('delivers every event type exactly once, signed, with the right type and data', async () => {
    const t = await makeTenant(s);
    const r = await receiver();
    const hook = await createHook(t, r.url);
    const c = await conversation(t);
    const agent2 = await t.user({ role: 'MOD', name: 'Second Agent' });

    const visitorChat = (await ok(s, SEND, { threadId: c.threadId, text: 'Hello, I need help', clientId: 'v-1' }, c.visitorToken)).chat;
    const note = (await ok(s, SEND, { threadId: c.threadId, text: 'VIP customer', internal: true }, c.agent.token)).chat;
    const reply = (await ok(s, SEND, { threadId: c.threadId, text: 'Hi! Looking into it' }, c.agent.token)).chat;
    await ok(s, EDIT, { id: reply.id, text: 'Hi! Looking into it now' }, c.agent.token);
    await ok(s, REACT, { chatId: visitorChat.id, name: 'eyes', set: true }, c.agent.token);
    await ok(s, ASSIGN, { threadId: c.threadId, assigneeId: agent2.id }, c.agent.token);
    await ok(s, STATUS, { threadId: c.threadId, status: 'PENDING' }, c.agent.token);
    await ok(s, DELETE_CHAT, { id: note.id }, c.agent.token);

    const expected: Record<string, number> = {
      'conversation.created': 1,
      'chat.created': 3,
      'chat.updated': 1,
      'reaction.changed': 1,
      'conversation.assigned': 1,
      'conversation.status_changed': 1,
      'chat.deleted': 1,
    };
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    await r.until((rs) => rs.length >= total, WAIT, `${total} deliveries`);
    // Nothing more arrives (no duplicates, no thread.created): the fan-out has read past all of them already.
    await sleep(300);
    expect(r.requests).toHaveLength(total);
    for (const [type, n] of Object.entries(expected)) expect(ofType(r.requests, type), type).toHaveLength(n);
    expect(new Set(ids(r.requests)).size).toBe(total);

    for (const req of r.requests) {
      expect(req.headers['content-type']).toBe('application/json');
      expect(String(req.headers['webhook-id'])).toMatch(/^msg_\d+$/);
      expect(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(String(req.headers['webhook-signature'])).toMatch(/^v1,/);
      expect(r.verify(req, hook.secret)).toEqual(req.json);
      expect(() => r.verify(req, `whsec_${Buffer.alloc(24, 1).toString('base64')}`)).toThrow();
      expect(() => r.verify({ ...req, body: req.body.replace('"', ' "') }, hook.secret)).toThrow();
      expect(req.json.data).toMatchObject({ appId: t.appId, threadId: c.threadId });
      expect(new Date(req.json.timestamp).toISOString()).toBe(req.json.timestamp);
    }

    const created = ofType(r.requests, 'chat.created').map((x) => x.json.data);
    const fromVisitor = created.find((d) => d.chat.id === visitorChat.id)!;
    expect(fromVisitor.chat).toMatchObject({
      id: visitorChat.id,
      seq: visitorChat.seq,
      text: 'Hello, I need help',
      authorId: c.visitorId,
      author: { id: c.visitorId, displayName: 'Vera Visitor', kind: 'VISITOR' },
      origin: 'VISITOR',
      internal: false,
      clientId: 'v-1',
      replyToId: null,
      editedAt: null,
      deletedAt: null,
    });
    expect(fromVisitor.conversation).toMatchObject({ threadId: c.threadId, visitorId: c.visitorId });
    // Internal notes are delivered, marked, so bots can skip them (its deletion followed, so the row says deleted).
    const noteEvent = created.find((d) => d.chat.id === note.id)!;
    expect(noteEvent.chat).toMatchObject({ internal: true, origin: 'AGENT', authorId: c.agent.id });
    expect(created.find((d) => d.chat.id === reply.id)!.chat.origin).toBe('AGENT');

    expect(ofType(r.requests, 'chat.updated')[0]!.json.data.chat).toMatchObject({ id: reply.id, text: 'Hi! Looking into it now' });
    expect(ofType(r.requests, 'chat.updated')[0]!.json.data.chat.editedAt).toEqual(expect.any(String));
    expect(ofType(r.requests, 'chat.deleted')[0]!.json.data.chat).toMatchObject({ id: note.id, internal: true, deletedAt: expect.any(String) });
    expect(ofType(r.requests, 'reaction.changed')[0]!.json.data.reaction).toEqual({ chatId: visitorChat.id, name: 'eyes', userId: c.agent.id, set: true });
    expect(ofType(r.requests, 'conversation.created')[0]!.json.data.conversation).toMatchObject({ threadId: c.threadId, visitorId: c.visitorId });
    expect(ofType(r.requests, 'conversation.assigned')[0]!.json.data).toMatchObject({ assigneeId: agent2.id, previousAssigneeId: null });
    expect(ofType(r.requests, 'conversation.status_changed')[0]!.json.data).toMatchObject({
      status: 'PENDING',
      previousStatus: 'OPEN',
      conversation: { threadId: c.threadId, status: 'PENDING', assigneeId: agent2.id },
    });

    // The record matches what was sent: one SUCCEEDED delivery per message, payload byte for byte.
    const conn = (await deliveries(hook.id, t.secretKey))!;
    expect(conn.edges).toHaveLength(total);
    const byId = new Map(r.requests.map((x) => [String(x.headers['webhook-id']), x]));
    for (const { node } of conn.edges) {
      expect(node).toMatchObject({ status: 'SUCCEEDED', attempts: 1, responseCode: 200, lastError: null, nextAttemptAt: null });
      expect(byId.get(node.id)?.body).toBe(node.payload);
      expect(node.type.toLowerCase().replace('_', '.')).toBe(byId.get(node.id)!.json.type);
    }
    // Oldest first: event ids ascend.
    const eventIds = conn.edges.map((e) => BigInt(e.node.eventId));
    expect([...eventIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(eventIds);
  });

  it('sends only the event types a webhook subscribes to', async () => {
    const t = await makeTenant(s);
    const everything = await receiver();
    const onlyStatus = await receiver();
    await createHook(t, everything.url);
    await createHook(t, onlyStatus.url, ['CONVERSATION_STATUS_CHANGED']);
    const c = await conversation(t);
    await ok(s, SEND, { threadId: c.threadId, text: 'hi' }, c.visitorToken);
    await ok(s, STATUS, { threadId: c.threadId, status: 'RESOLVED' }, c.agent.token);
    await ok(s, SEND, { threadId: c.threadId, text: 'one more thing' }, c.visitorToken); // reopens: status_changed again

    // conversation.created, chat.created ×2, status_changed ×2 (resolved, reopened).
    await everything.until((rs) => rs.length >= 5, WAIT, 'all events');
    await onlyStatus.until((rs) => rs.length >= 2, WAIT, 'status events');
    await sleep(300);
    expect(everything.requests).toHaveLength(5);
    expect(onlyStatus.requests.map((x) => x.json.type)).toEqual(['conversation.status_changed', 'conversation.status_changed']);
    expect(onlyStatus.requests.map((x) => x.json.data.status).sort()).toEqual(['OPEN', 'RESOLVED']);
  });

  it('30 concurrent sendChats give exactly 30 chat.created deliveries with distinct webhook-ids', async () => {
    const t = await makeTenant(s);
    const r = await receiver();
    const hook = await createHook(t, r.url, ['CHAT_CREATED']);
    const c = await conversation(t);
    const writers = [c.agent, await t.user({ role: 'MOD' }), await t.user({ role: 'ADMIN' })];
    const sent = await Promise.all(
      Array.from({ length: 30 }, (_, i) => ok(s, SEND, { threadId: c.threadId, text: `burst ${i}` }, writers[i % 3]!.token)),
    );
    await r.until((rs) => rs.length >= 30, WAIT, '30 deliveries');
    await sleep(300);
    expect(r.requests).toHaveLength(30);
    expect(new Set(ids(r.requests)).size).toBe(30);
    expect(new Set(r.requests.map((x) => x.json.data.chat.id))).toEqual(new Set(sent.map((p) => p.chat.id)));
    expect(r.requests.map((x) => x.json.data.chat.text).sort()).toEqual(sent.map((p) => p.chat.text).sort());
    const stored = await s.deps.prisma.webhookDelivery.groupBy({ by: ['status'], where: { webhookId: hook.id }, _count: true });
    expect(stored).toEqual([{ status: 'SUCCEEDED', _count: 30 }]);
  });

  it('retries a failing endpoint with backoff: 500 twice, then 200 → delivered on attempt 3', async () => {
    const t = await makeTenant(s);
    const r = await receiver();
    const hook = await createHook(t, r.url, ['CHAT_CREATED']);
    const c = await conversation(t);
    r.failNext(2, 500);
    await ok(s, SEND, { threadId: c.threadId, text: 'please retry' }, c.visitorToken);
    await r.until((rs) => rs.length >= 3, WAIT, 'three attempts');
    await until(async () => (await deliveries(hook.id, t.secretKey))!.edges[0]?.node.status === 'SUCCEEDED', WAIT, 'SUCCEEDED');
    await sleep(200);

    expect(r.requests.map((x) => x.answered)).toEqual([500, 500, 200]);
    // The same message each time (webhook-id and body); the timestamp and signature are per attempt, and verify.
    expect(new Set(ids(r.requests)).size).toBe(1);
    expect(new Set(r.requests.map((x) => x.body)).size).toBe(1);
    for (const req of r.requests) expect(r.verify(req, hook.secret)).toEqual(req.json);
    // Backoff: each retry waited at least the base delay (50 ms), the second about 5× as long as the first.
    const gaps = [r.requests[1]!.at - r.requests[0]!.at, r.requests[2]!.at - r.requests[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(240);

    const [edge] = (await deliveries(hook.id, t.secretKey))!.edges;
    expect(edge!.node).toMatchObject({ id: r.requests[0]!.headers['webhook-id'], status: 'SUCCEEDED', attempts: 3, responseCode: 200, lastError: null });
    expect(edge!.node.lastAttemptAt).toEqual(expect.any(String));
  });

  it('a dead endpoint (hanging or refusing) never fails a send, ends FAILED after max attempts, and a healthy webhook keeps receiving', async () => {
    // A server of its own with a short attempt timeout, so the hanging endpoint fails fast.
    await withServer({ ...WEBHOOK_ENV, WEBHOOK_TIMEOUT_MS: '1000' }, async () => {
      const t = await makeTenant(s);
      const healthy = await receiver();
      const hanging = await receiver();
      hanging.hang();
      const refusing = await startReceiver();
      const refusedUrl = refusing.url;
      await refusing.close(); // nothing listens there any more: connection refused
      const good = await createHook(t, healthy.url, ['CHAT_CREATED']);
      const slow = await createHook(t, hanging.url, ['CHAT_CREATED']);
      const dead = await createHook(t, refusedUrl, ['CHAT_CREATED']);
      const c = await conversation(t);

      const n = 6;
      for (let i = 0; i < n; i++) {
        const res = await s.gql(SEND, { input: { threadId: c.threadId, text: `while down ${i}` } }, c.visitorToken);
        expect(res.data?.sendChat.__typename, JSON.stringify(res)).toBe('SendChatPayload');
      }
      await healthy.until((rs) => new Set(ids(rs)).size >= n, WAIT, 'healthy deliveries');

      const rowsOf = (id: string) => s.deps.prisma.webhookDelivery.findMany({ where: { webhookId: id } });
      const settled = async (id: string, status: string) => {
        const rows = await rowsOf(id);
        return rows.length === n && rows.every((d) => d.status === status);
      };
      await until(() => settled(dead.id, 'FAILED'), WAIT, 'refused deliveries FAILED');
      await until(() => settled(slow.id, 'FAILED'), WAIT, 'hanging deliveries FAILED');
      await until(() => settled(good.id, 'SUCCEEDED'), WAIT, 'healthy deliveries SUCCEEDED');

      const refused = (await deliveries(dead.id, t.secretKey, { status: 'FAILED' }))!.edges.map((e) => e.node);
      expect(refused).toHaveLength(n);
      for (const d of refused) {
        expect(d).toMatchObject({ status: 'FAILED', attempts: MAX_ATTEMPTS, responseCode: null, nextAttemptAt: null });
        expect(d.lastError).toMatch(/ECONNREFUSED|fetch failed/);
      }
      const timedOut = (await deliveries(slow.id, t.secretKey))!.edges.map((e) => e.node);
      expect(timedOut).toHaveLength(n);
      for (const d of timedOut) expect(d).toMatchObject({ status: 'FAILED', attempts: MAX_ATTEMPTS, lastError: 'Timed out after 1000 ms' });
      // Every message reached the hanging endpoint, none more than MAX_ATTEMPTS times.
      expect(new Set(ids(hanging.requests)).size).toBe(n);
      expect(hanging.requests.length).toBeLessThanOrEqual(n * MAX_ATTEMPTS);

      // The healthy endpoint got every message, each attempt recorded (1 each unless the machine was too slow to
      // answer within the timeout), and nothing is left pending.
      expect(new Set(healthy.requests.map((x) => x.json.data.chat.text)).size).toBe(n);
      const goodRows = await rowsOf(good.id);
      expect(healthy.requests).toHaveLength(goodRows.reduce((sum, d) => sum + d.attempts, 0));
      expect(await s.deps.prisma.webhookDelivery.count({ where: { webhook: { appId: t.appId }, status: 'PENDING' } })).toBe(0);
    });
  });

  it('replayWebhook sends every delivery after a cursor again with the same webhook-id; foreign cursors are refused', async () => {
    const t = await makeTenant(s);
    const r = await receiver();
    const hook = await createHook(t, r.url, ['CHAT_CREATED']);
    const otherHook = await createHook(t, r.url, ['CONVERSATION_CREATED']);
    const c = await conversation(t);
    for (let i = 0; i < 5; i++) await ok(s, SEND, { threadId: c.threadId, text: `replay ${i}` }, c.visitorToken);
    // 5 chats to `hook`, 1 conversation.created to `otherHook` (same receiver).
    await r.until((rs) => rs.length >= 6, WAIT, 'first deliveries');
    await until(async () => (await deliveries(hook.id, t.secretKey, { status: 'SUCCEEDED' }))!.edges.length === 5, WAIT, 'SUCCEEDED');

    const conn = (await deliveries(hook.id, t.secretKey))!;
    const cursorAfterSecond = conn.edges[1]!.cursor;
    const replayedIds = conn.edges.slice(2).map((e) => e.node.id);
    const before = r.requests.length;
    expect((await ok(s, REPLAY, { id: hook.id, after: cursorAfterSecond }, t.secretKey)).queued).toBe(3);
    await r.until((rs) => rs.length >= before + 3, WAIT, 'replayed deliveries');
    await sleep(300);
    const replayed = r.requests.slice(before);
    expect(replayed).toHaveLength(3);
    expect(ids(replayed).sort()).toEqual([...replayedIds].sort());
    const firstTime = new Map(r.requests.slice(0, before).map((x) => [String(x.headers['webhook-id']), x.body]));
    for (const x of replayed) {
      expect(x.body).toBe(firstTime.get(String(x.headers['webhook-id'])));
      expect(r.verify(x, hook.secret)).toEqual(x.json);
    }
    const after = (await deliveries(hook.id, t.secretKey))!.edges.map((e) => e.node);
    expect(after.map((d) => d.status)).toEqual(Array(5).fill('SUCCEEDED'));
    expect(after.map((d) => d.attempts)).toEqual([1, 1, 1, 1, 1]);

    // The last cursor: nothing after it. No cursor: everything.
    expect((await ok(s, REPLAY, { id: hook.id, after: conn.edges[4]!.cursor }, t.secretKey)).queued).toBe(0);

    // Cursors of another webhook, of another list, or forged: ValidationError, nothing queued.
    const otherCursor = (await deliveries(otherHook.id, t.secretKey))!.edges[0]!.cursor;
    const listCursor = (await s.gql(LIST, { first: 1 }, t.secretKey)).data!.webhooks.edges[0].cursor;
    const forged = Buffer.from(JSON.stringify([hook.id, '1; DROP TABLE event'])).toString('base64url');
    for (const after of [otherCursor, listCursor, forged, 'not-a-cursor!', Buffer.from('[]').toString('base64url')]) {
      expect((await fails(s, REPLAY, { id: hook.id, after }, t.secretKey)).code, after).toBe('VALIDATION');
      expect((await s.gql(DELIVERIES, { webhookId: hook.id, after }, t.secretKey)).errors?.[0]?.extensions?.code).toBe('VALIDATION');
    }
    await sleep(200);
    expect(r.requests).toHaveLength(before + 3);
    expect(await s.deps.prisma.webhookDelivery.count({ where: { webhookId: hook.id, status: { not: 'SUCCEEDED' } } })).toBe(0);

    expect((await ok(s, REPLAY, { id: hook.id }, t.secretKey)).queued).toBe(5);
    await r.until((rs) => rs.length >= before + 3 + 5, WAIT, 'full replay');
    await sleep(200);
    expect(r.requests).toHaveLength(before + 3 + 5);
  });

  it('a disabled webhook gets nothing until enabled again, a deleted one nothing at all', async () => {
    const t = await makeTenant(s);
    const control = await receiver();
    const toggled = await receiver();
    const deleted = await receiver();
    await createHook(t, control.url, ['CHAT_CREATED']);
    const toggle = await createHook(t, toggled.url, ['CHAT_CREATED']);
    const gone = await createHook(t, deleted.url, ['CHAT_CREATED']);
    const c = await conversation(t);

    await ok(s, SEND, { threadId: c.threadId, text: 'before' }, c.visitorToken);
    await control.until((rs) => rs.length >= 1);
    await toggled.until((rs) => rs.length >= 1);
    await deleted.until((rs) => rs.length >= 1);

    await ok(s, UPDATE, { id: toggle.id, enabled: false }, t.secretKey);
    await ok(s, DELETE, { id: gone.id }, t.secretKey);
    await ok(s, SEND, { threadId: c.threadId, text: 'while off' }, c.visitorToken);
    await control.until((rs) => rs.length >= 2, WAIT, 'control got the second chat');
    await sleep(300);
    expect(toggled.requests).toHaveLength(1);
    expect(deleted.requests).toHaveLength(1);
    expect(await s.deps.prisma.webhookDelivery.count({ where: { webhookId: gone.id } })).toBe(0);

    // Enabled again: events from now on arrive; the ones while disabled are not fanned out to it.
    await ok(s, UPDATE, { id: toggle.id, enabled: true }, t.secretKey);
    await ok(s, SEND, { threadId: c.threadId, text: 'after' }, c.visitorToken);
    await toggled.until((rs) => rs.length >= 2, WAIT, 'enabled again');
    await control.until((rs) => rs.length >= 3);
    await sleep(300);
    expect(toggled.requests.map((x) => x.json.data.chat.text)).toEqual(['before', 'after']);
    expect(deleted.requests.map((x) => x.json.data.chat.text)).toEqual(['before']);
    expect(control.requests).toHaveLength(3);
  });

  it('a webhook gets only events that happened after it was created', async () => {
    const t = await makeTenant(s);
    const c = await conversation(t);
    await ok(s, SEND, { threadId: c.threadId, text: 'too early' }, c.visitorToken);
    const r = await receiver();
    await createHook(t, r.url);
    await ok(s, SEND, { threadId: c.threadId, text: 'in time' }, c.visitorToken);
    await r.until((rs) => rs.length >= 1);
    await sleep(300);
    expect(r.requests.map((x) => x.json.data.chat?.text)).toEqual(['in time']);
  });
});

describe.skipIf(!haveServices)('webhooks with two server processes on one database', { timeout: 90_000 }, () => {
  let cluster: Awaited<ReturnType<typeof clusterDatabase>>;
  const procs: ServerProcess[] = [];

  beforeAll(async () => {
    cluster = await clusterDatabase();
    const env = { DATABASE_URL: cluster.url, REDIS_URL: process.env.TEST_REDIS_URL || process.env.REDIS_URL || '', ...WEBHOOK_ENV };
    procs.push(...(await Promise.all([startProcess(env), startProcess(env)])));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await cluster?.close();
  });

  it('deliver each event exactly once per webhook in total', async () => {
    const a = cluster.at(procs[0]!.url);
    const b = cluster.at(procs[1]!.url);
    const t = await makeTenant(a);
    const r1 = await receiver();
    const r2 = await receiver();
    const created = await Promise.all([r1, r2].map((r) => gqlAt(procs[0]!.url, CREATE, { input: { url: r.url, events: ['CHAT_CREATED'] } }, t.secretKey)));
    const hookIds = created.map((res) => res.data!.createWebhook.webhook.id as string);
    const started = await gqlAt(procs[1]!.url, START, { input: { name: 'Two' } }, t.publishableKey);
    const { visitorToken } = started.data!.startConversation;
    const threadId = started.data!.startConversation.conversation.thread.id as string;
    const agent = await t.user({ role: 'MOD' });

    const n = 40;
    await Promise.all(
      Array.from({ length: n }, (_, i) => ok(i % 2 ? a : b, SEND, { threadId, text: `pair ${i}` }, i % 3 ? visitorToken : agent.token)),
    );
    for (const r of [r1, r2]) await r.until((rs) => rs.length >= n, WAIT, `${n} deliveries`);
    const settled = async () =>
      (await cluster.deps.prisma.webhookDelivery.count({ where: { webhookId: { in: hookIds }, status: 'SUCCEEDED' } })) === 2 * n;
    await until(settled, WAIT, 'all SUCCEEDED');
    await sleep(500);
    for (const r of [r1, r2]) {
      const rows = await cluster.deps.prisma.webhookDelivery.findMany({ where: { webhookId: { in: hookIds }, attempts: { not: 1 } } });
      expect(r.requests, `retried: ${JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`).toHaveLength(n);
      expect(new Set(ids(r.requests)).size).toBe(n);
      expect(new Set(r.requests.map((x) => x.json.data.chat.text)).size).toBe(n);
    }
    const rows = await cluster.deps.prisma.webhookDelivery.findMany({ where: { webhookId: { in: hookIds } } });
    expect(rows).toHaveLength(2 * n);
    expect(rows.filter((d) => d.attempts !== 1), 'deliveries that needed a retry').toEqual([]);
    expect(procs.every((p) => !/webhook round failed/.test(p.output()))).toBe(true);
  });

  it('a process that shuts down gives its attempt in flight back, and another process sends it', async () => {
    const a = cluster.at(procs[0]!.url);
    const t = await makeTenant(a);
    const r = await receiver();
    r.hang();
    const created = await gqlAt(procs[0]!.url, CREATE, { input: { url: r.url, events: ['CONVERSATION_CREATED'] } }, t.secretKey);
    const hookId = created.data!.createWebhook.webhook.id as string;
    await gqlAt(procs[1]!.url, START, { input: { name: 'Shutdown' } }, t.publishableKey);
    await r.until((rs) => rs.length >= 1, WAIT, 'the attempt in flight');

    // SIGTERM both while the endpoint holds the attempt (its timeout is 10 s): the attempt is given back, not failed.
    expect(await Promise.all(procs.splice(0).map((p) => p.stop()))).toEqual([0, 0]);
    const released = await cluster.deps.prisma.webhookDelivery.findMany({ where: { webhookId: hookId } });
    expect(released).toHaveLength(1);
    expect(released[0]).toMatchObject({ status: 'PENDING', attempts: 0, lockedUntil: null });

    r.hang(false);
    procs.push(await startProcess({ DATABASE_URL: cluster.url, REDIS_URL: process.env.TEST_REDIS_URL || process.env.REDIS_URL || '', ...WEBHOOK_ENV }));
    await until(async () => (await cluster.deps.prisma.webhookDelivery.findFirst({ where: { webhookId: hookId } }))?.status === 'SUCCEEDED', WAIT, 'redelivery');
    const [row] = await cluster.deps.prisma.webhookDelivery.findMany({ where: { webhookId: hookId } });
    expect(row).toMatchObject({ status: 'SUCCEEDED', attempts: 1, responseCode: 200 });
    expect(r.requests).toHaveLength(2);
    expect(new Set(ids(r.requests)).size).toBe(1);
    expect(r.requests.map((x) => x.answered)).toEqual([0, 200]);
  });
});
