/**
 * The example support bot (examples/support-bot/bot.ts) as a real child process against a real Parley server: a
 * visitor's chat reaches it by webhook and it answers in the thread as a BOT user; a redelivered message does not
 * post twice; a forged signature gets 401 and no reply; agents' chats, internal notes and its own replies get none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, SEND } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const ISSUE = `mutation($input: IssueUserTokenInput!) { issueUserToken(input: $input) {
  __typename ... on IssueUserTokenPayload { token user { id } } ... on Error { code message } } }`;
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
  __typename ... on CreateWebhookPayload { webhook { id } secret } ... on Error { code message } } }`;
const REPLAY = `mutation($input: ReplayWebhookInput!) { replayWebhook(input: $input) {
  __typename ... on ReplayWebhookPayload { queued } ... on Error { code message } } }`;
const START = `mutation($input: StartConversationInput!) { startConversation(input: $input) {
  __typename ... on StartConversationPayload { conversation { id thread { id } } visitorToken resumeToken } ... on Error { code message } } }`;
const CHATS = `query($id: ID!) { thread(id: $id) { chats(last: 100) { edges { node { id text origin internal clientId author { id } } } } } }`;
const DELIVERIES = `query($id: ID!) { webhookDeliveries(webhookId: $id, first: 100) { edges { node { id type status attempts } } } }`;

const REPLY = 'Thanks! An agent will be with you shortly. You said: ';

interface BotProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the bot on a free port and resolves once it listens; stopped by its PID. */
function startBot(env: Record<string, string>): Promise<BotProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/support-bot/bot.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bot did not listen within 30 s:\n${out}`)), 30_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child, output: () => out, stop });
      }
    });
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    void exited.then(() => reject(new Error(`bot exited before listening:\n${out}`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let s: TestServer;
let bot: BotProcess | undefined;
let t: TestTenant;
let botUserId: string;
let webhookId: string;
const secret = `whsec_${randomBytes(32).toString('base64')}`;

async function chats(threadId: string, cred: string) {
  const res = await s.gql(CHATS, { id: threadId }, cred);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return (res.data!.thread.chats.edges as { node: Record<string, any> }[]).map((e) => e.node);
}

async function waitFor<T>(probe: () => Promise<T | null>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${bot?.output() ?? ''}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  s = await startTestServer({ WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '10000' });
  t = await makeTenant(s);
  // The bot is a BOT user with role MOD: an agent of every support channel without being a member.
  const issued = await ok(s, ISSUE, { externalId: 'support-bot', displayName: 'Support Bot', kind: 'BOT', role: 'MOD' }, t.secretKey);
  botUserId = issued.user.id;
  bot = await startBot({ WEBHOOK_SECRET: secret, BOT_TOKEN: issued.token, PARLEY_URL: s.url });
  const created = await ok(s, CREATE, { url: bot.url, events: ['CHAT_CREATED'], secret }, t.secretKey);
  webhookId = created.webhook.id;
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await s?.close();
});

describe('example support bot', () => {
  it('answers a visitor’s chat in the thread, once, even when the webhook is delivered again', async () => {
    const started = await ok(s, START, { name: 'Visitor Vic' }, t.publishableKey);
    const threadId = started.conversation.thread.id as string;
    const visitorToken = started.visitorToken as string;
    const asked = (await ok(s, SEND, { threadId, text: 'My order #42 has not arrived' }, visitorToken)).chat;

    const botChats = await waitFor(
      async () => {
        const found = (await chats(threadId, visitorToken)).filter((c) => c.origin === 'BOT');
        return found.length ? found : null;
      },
      20_000,
      'the bot’s reply',
    );
    expect(botChats).toHaveLength(1);
    expect(botChats[0]).toMatchObject({ text: `${REPLY}My order #42 has not arrived`, internal: false, author: { id: botUserId } });
    expect(botChats[0]!.clientId).toMatch(/^bot-msg_\d+$/);

    // The bot's own chat is a chat.created too: delivered to it, answered 200, and ignored (no reply loop).
    await waitFor(
      async () => {
        const d = (await s.gql(DELIVERIES, { id: webhookId }, t.secretKey)).data!.webhookDeliveries.edges.map((e: any) => e.node);
        return d.length >= 2 && d.every((x: any) => x.status === 'SUCCEEDED') ? d : null;
      },
      20_000,
      'both deliveries to succeed',
    );

    // Redelivery (a replay: same webhook-id) reaches the bot again; the clientId makes sendChat return the stored reply.
    const replayed = await ok(s, REPLAY, { id: webhookId }, t.secretKey);
    expect(replayed.queued).toBeGreaterThanOrEqual(2);
    await waitFor(
      async () => {
        const d = (await s.gql(DELIVERIES, { id: webhookId }, t.secretKey)).data!.webhookDeliveries.edges.map((e: any) => e.node);
        return d.every((x: any) => x.status === 'SUCCEEDED') ? d : null;
      },
      20_000,
      'the replay to succeed',
    );
    await sleep(300);
    const after = await chats(threadId, visitorToken);
    expect(after.filter((c) => c.origin === 'BOT')).toHaveLength(1);
    expect(after.map((c) => c.id)).toEqual([asked.id, botChats[0]!.id]);
  });

  it('does not answer agents, internal notes or forged requests (401)', async () => {
    const started = await ok(s, START, { name: 'Quiet Visitor' }, t.publishableKey);
    const threadId = started.conversation.thread.id as string;
    const agent = await t.user({ role: 'MOD' });
    await ok(s, SEND, { threadId, text: 'Hello from an agent' }, agent.token);
    await ok(s, SEND, { threadId, text: 'note to self', internal: true }, agent.token);

    // A forged request shaped like a visitor's chat.created: wrong secret, and no signature at all.
    const body = JSON.stringify({
      type: 'chat.created',
      timestamp: new Date().toISOString(),
      data: { appId: t.appId, threadId, chat: { id: 'cht_forged', text: 'forged', origin: 'VISITOR', internal: false } },
    });
    const now = Math.floor(Date.now() / 1000);
    const { Webhook } = await import('standardwebhooks');
    const wrong = new Webhook(`whsec_${randomBytes(32).toString('base64')}`).sign('msg_forged', new Date(), body);
    const right = new Webhook(secret).sign('msg_forged', new Date(), body);
    const post = (headers: Record<string, string>, payload = body) =>
      fetch(bot!.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
    expect((await post({ 'webhook-id': 'msg_forged', 'webhook-timestamp': String(now), 'webhook-signature': wrong })).status).toBe(401);
    expect((await post({ 'webhook-id': 'msg_forged', 'webhook-timestamp': String(now), 'webhook-signature': right }, body.replace('forged', 'tampered'))).status).toBe(401);
    expect((await post({ 'webhook-id': 'msg_forged', 'webhook-timestamp': String(now - 3600), 'webhook-signature': right })).status).toBe(401);
    expect((await post({})).status).toBe(401);

    // Both real chats were delivered to the bot (so it had its chance to answer them) — and nothing was posted.
    await waitFor(
      async () => {
        const n = await s.deps.prisma.webhookDelivery.count({ where: { webhookId, status: 'SUCCEEDED', payload: { path: ['data', 'threadId'], equals: threadId } } });
        return n === 2 ? n : null;
      },
      20_000,
      'the agent chats to reach the bot',
    );
    await sleep(300);
    const all = await chats(threadId, agent.token);
    expect(all.map((c) => c.text)).toEqual(['Hello from an agent', 'note to self']);
    expect(all.some((c) => c.origin === 'BOT')).toBe(false);
  });
});
