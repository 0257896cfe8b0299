/**
 * A tiny support bot driven by Parley webhooks: it answers every visitor chat of a support conversation with an
 * acknowledgement, through Parley's GraphQL API as a BOT user.
 *
 *   PORT=8787 WEBHOOK_SECRET=whsec_… BOT_TOKEN=… PARLEY_URL=http://localhost:4000/graphql npx tsx examples/support-bot/bot.ts
 *
 * Every request is verified with the Standard Webhooks signature (401 and no action when it does not verify). Parley
 * delivers at least once, so the reply's clientId is derived from the `webhook-id` header: a redelivered message
 * (a retry or a replay) returns the stored reply instead of posting a second one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

const PORT = Number(process.env.PORT ?? 8787);
const HOST = process.env.HOST ?? '127.0.0.1';
const PARLEY_URL = process.env.PARLEY_URL ?? 'http://localhost:4000/graphql';
const WEBHOOK_SECRET = required('WEBHOOK_SECRET');
const BOT_TOKEN = required('BOT_TOKEN');
/** Largest webhook body accepted (Parley's messages are a few KB). */
const MAX_BODY = 1024 * 1024;

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`Set ${name} (see examples/support-bot/README.md)`);
    process.exit(2);
  }
  return value;
}

const webhook = new Webhook(WEBHOOK_SECRET);

interface ChatCreated {
  type: string;
  data: {
    threadId: string;
    chat?: { id: string; text: string; origin: string; internal: boolean } | null;
  };
}

const SEND_CHAT = `mutation($input: SendChatInput!) { sendChat(input: $input) {
  __typename ... on SendChatPayload { chat { id } } ... on Error { code message } } }`;

/** Posts the reply as the bot; throws when Parley did not store it (the webhook then fails and is retried). */
async function reply(threadId: string, text: string, clientId: string): Promise<void> {
  const res = await fetch(PARLEY_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BOT_TOKEN}` },
    body: JSON.stringify({ query: SEND_CHAT, variables: { input: { threadId, text, clientId } } }),
  });
  const body = (await res.json()) as { data?: { sendChat?: { __typename: string; code?: string; message?: string } }; errors?: unknown[] };
  const result = body.data?.sendChat;
  if (result?.__typename !== 'SendChatPayload') {
    throw new Error(`sendChat failed: ${JSON.stringify(result ?? body.errors)}`);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const header = (req: IncomingMessage, name: string) => String(req.headers[name] ?? '');

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const body = await readBody(req);
  const headers = { 'webhook-id': header(req, 'webhook-id'), 'webhook-timestamp': header(req, 'webhook-timestamp'), 'webhook-signature': header(req, 'webhook-signature') };
  let event: ChatCreated;
  try {
    // Verifies the HMAC over id.timestamp.body and that the timestamp is within 5 minutes (replayed captures fail).
    event = webhook.verify(body, headers) as ChatCreated;
  } catch {
    res.writeHead(401).end('bad signature');
    return;
  }
  const chat = event.data?.chat;
  // Only what visitors write: not agents, not internal notes, not this bot's own replies.
  if (event.type === 'chat.created' && chat && chat.origin === 'VISITOR' && !chat.internal) {
    const said = chat.text.length > 500 ? `${chat.text.slice(0, 500)}…` : chat.text;
    await reply(event.data.threadId, `Thanks! An agent will be with you shortly. You said: ${said}`, `bot-${headers['webhook-id']}`);
    console.log(`replied in ${event.data.threadId} to ${chat.id}`);
  }
  res.writeHead(200).end('ok');
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: Error) => {
    console.error(err.message);
    // A failure answers 5xx, so Parley retries later; the clientId keeps the retry from posting twice.
    if (!res.headersSent) res.writeHead(500).end('error');
  });
});

server.listen(PORT, HOST, () => {
  const { port } = server.address() as AddressInfo;
  console.log(`Support bot listening on http://${HOST}:${port}/`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
