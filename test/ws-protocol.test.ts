/**
 * The graphql-ws transport (src/realtime/ws.ts) at the protocol level: connection_init auth (4403), init timeout
 * (4408), subscribe before init (4401), duplicate operation ids (4409), anonymous connections, the per-connection
 * operation limit (LIMIT_EXCEEDED), the per-user connection limit (4429), the payload limit (1009), keepalive pings,
 * and queries/mutations over the socket with the same auth as HTTP.
 *
 * Most tests drive a raw `ws` socket so that the exact messages and close codes are visible.
 */
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { channelWithThread, ok, SEND } from './helpers/chat-ops.js';
import { makeTenant, type TestTenant, type TestUser } from './helpers/fixtures.js';
import { opened, subscribeWs, wsClient, wsUrl, type Payload } from './helpers/live.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const PROTOCOL = 'graphql-transport-ws';

const EVENTS = `subscription($threadId: ID!) { threadEvents(threadId: $threadId) {
  __typename seq ... on ChatAddedEvent { chat { text } } } }`;
const VIEWER = `{ viewer { credential user { id } } }`;

interface Message {
  type: string;
  id?: string;
  payload?: any;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every raw socket and graphql-ws client a test opens; afterEach closes whatever a test left open (e.g. on failure). */
const openSockets = new Set<RawSocket>();
const openClients = new Set<Client>();

afterEach(async () => {
  for (const raw of openSockets) raw.ws.terminate();
  openSockets.clear();
  await Promise.all([...openClients].map((c) => c.dispose()));
  openClients.clear();
});

function client(httpUrl: string, credential?: string): Client {
  const c = wsClient(httpUrl, credential);
  openClients.add(c);
  return c;
}

/** A raw WebSocket that records every message, ping and the close event from the moment it is created. */
class RawSocket {
  readonly messages: Message[] = [];
  readonly pings: number[] = [];
  closeEvent: { code: number; reason: string } | null = null;
  opened = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    const wake = () => {
      for (const w of this.waiters.splice(0)) w();
    };
    ws.on('open', () => {
      this.opened = true;
      wake();
    });
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Message);
      wake();
    });
    ws.on('ping', () => {
      this.pings.push(Date.now());
      wake();
    });
    ws.on('close', (code, reason) => {
      this.closeEvent = { code, reason: String(reason) };
      wake();
    });
    ws.on('error', wake);
  }

  /** Opens a socket (subprotocols [graphql-transport-ws] unless told otherwise) and waits until it is open. */
  static async open(httpUrl: string, opts: { protocols?: string[]; autoPong?: boolean } = {}): Promise<RawSocket> {
    const ws = new WebSocket(wsUrl(httpUrl), opts.protocols ?? [PROTOCOL], { autoPong: opts.autoPong ?? true });
    const raw = new RawSocket(ws);
    openSockets.add(raw);
    await raw.until((r) => r.opened || r.closeEvent !== null, 5_000, 'the socket to open');
    // The handshake succeeded (the server may already be closing it, e.g. 4406).
    expect(raw.opened, JSON.stringify(raw.closeEvent)).toBe(true);
    return raw;
  }

  /** Opens a socket, sends connection_init (with `Bearer credential` if given) and waits for the outcome. */
  static async connect(httpUrl: string, credential?: string): Promise<RawSocket> {
    const raw = await RawSocket.open(httpUrl);
    raw.init(credential);
    await raw.until((r) => r.has('connection_ack') || r.closeEvent !== null, 5_000, 'connection_ack or close');
    return raw;
  }

  send(message: Message | Record<string, unknown>) {
    this.ws.send(JSON.stringify(message));
  }

  init(credential?: string) {
    this.send({ type: 'connection_init', payload: credential ? { authorization: `Bearer ${credential}` } : {} });
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}) {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  has(type: string, id?: string): boolean {
    return this.messages.some((m) => m.type === type && (id === undefined || m.id === id));
  }

  of(id: string, type?: string): Message[] {
    return this.messages.filter((m) => m.id === id && (type === undefined || m.type === type));
  }

  async until(check: (r: this) => boolean, ms = 5_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check(this)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; messages ${JSON.stringify(this.messages.slice(-5))}, close ${JSON.stringify(this.closeEvent)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the close event and returns it. */
  async closed(ms = 5_000): Promise<{ code: number; reason: string }> {
    await this.until((r) => r.closeEvent !== null, ms, 'close');
    return this.closeEvent!;
  }

  /** Closes from the client side (1000) and waits until the close handshake is over. */
  async close(): Promise<void> {
    if (this.closeEvent) return;
    this.ws.close(1000);
    await this.closed();
    openSockets.delete(this);
  }
}

/** Sends a chat over HTTP and waits until each subscription `id` on `raw` delivered it (proves they are live). */
async function sendAndSee(s: TestServer, who: TestUser, threadId: string, text: string, subs: [RawSocket, string][]) {
  await ok(s, SEND, { threadId, text }, who.token);
  for (const [raw, id] of subs) {
    await raw.until(
      (r) => r.of(id, 'next').some((m) => m.payload?.data?.threadEvents?.chat?.text === text),
      5_000,
      `"${text}" on subscription ${id}`,
    );
  }
}

/** A server with default settings. */
describe('graphql-ws on a default server', () => {
  let s: TestServer;
  let t: TestTenant;
  let mod: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  let threadId: string;

  beforeAll(async () => {
    s = await startTestServer();
    t = await makeTenant(s);
    mod = await t.user({ role: 'MOD' });
    member = await t.user();
    outsider = await t.user();
    ({ threadId } = await channelWithThread(s, mod, [member]));
  });
  afterAll(() => s?.close());

  it('acknowledges connection_init with a valid user token or API key', async () => {
    for (const cred of [member.token, t.secretKey, t.publishableKey]) {
      const raw = await RawSocket.connect(s.url, cred);
      expect(raw.messages[0], JSON.stringify(raw.closeEvent)).toEqual({ type: 'connection_ack' });
      expect(raw.closeEvent).toBeNull();
      await raw.close();
    }
  });

  it('closes with 4403 when the credential does not resolve (garbage, tampered, expired, revoked, deactivated)', async () => {
    const other = await makeTenant(s);
    await s.deps.prisma.apiKey.updateMany({ where: { appId: other.appId, kind: 'SECRET' }, data: { revokedAt: new Date() } });
    const gone = await other.user();
    await s.deps.prisma.user.update({ where: { id: gone.id }, data: { deactivatedAt: new Date() } });
    const expired = await s.deps.tokens.issue(member.id, t.appId, -60);
    const [head, body] = member.token.split('.');
    const cases: [string, string][] = [
      ['nope', 'not a token'],
      [`psk_${'A'.repeat(43)}`, 'garbage secret key'],
      [`ppk_${'A'.repeat(43)}`, 'garbage publishable key'],
      [`pst_${'A'.repeat(43)}`, 'garbage session'],
      [`${head}.${body}.${'A'.repeat(43)}`, 'user token with a forged signature'],
      [expired.token, 'expired user token'],
      [other.secretKey, 'revoked secret key'],
      [gone.token, 'token of a deactivated user'],
    ];
    for (const [cred, what] of cases) {
      const raw = await RawSocket.open(s.url);
      raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${cred}` } });
      const { code } = await raw.closed();
      expect(code, what).toBe(4403);
      expect(raw.has('connection_ack'), what).toBe(false);
    }
    // The revoked key's app still works with its other key (the 4403 is about the key, not the app).
    const still = await RawSocket.connect(s.url, other.publishableKey);
    expect(still.has('connection_ack')).toBe(true);
    await still.close();
  });

  it('closes with 4401 when subscribe comes before connection_init', async () => {
    const raw = await RawSocket.open(s.url);
    raw.subscribe('1', '{ __typename }');
    const { code } = await raw.closed();
    expect(code).toBe(4401);
    expect(raw.messages).toEqual([]);
  });

  it('closes with 4409 on a second subscribe with the id of a running subscription, but allows reusing a finished id', async () => {
    const raw = await RawSocket.connect(s.url, member.token);
    expect(raw.has('connection_ack')).toBe(true);
    // A finished operation's id is free again.
    raw.subscribe('q', '{ __typename }');
    await raw.until((r) => r.has('complete', 'q'), 5_000, 'first q to complete');
    raw.subscribe('q', '{ __typename }');
    await raw.until((r) => r.of('q', 'complete').length === 2, 5_000, 'second q to complete');
    expect(raw.of('q', 'next').map((m) => m.payload)).toEqual([{ data: { __typename: 'Query' } }, { data: { __typename: 'Query' } }]);
    expect(raw.closeEvent).toBeNull();

    await opened(s, 1, () => raw.subscribe('live', EVENTS, { threadId }));
    await sendAndSee(s, mod, threadId, 'dup check', [[raw, 'live']]);
    raw.subscribe('live', EVENTS, { threadId });
    const { code } = await raw.closed();
    expect(code).toBe(4409);
  });

  it('closes with 4406 without the graphql-transport-ws subprotocol', async () => {
    // No Sec-WebSocket-Protocol at all (asking for another one fails the handshake on the client before any close code).
    const raw = await RawSocket.open(s.url, { protocols: [] });
    const { code } = await raw.closed();
    expect(code).toBe(4406);
  });

  it('accepts an anonymous connection, whose threadEvents subscription fails with UNAUTHENTICATED', async () => {
    for (const init of [{ type: 'connection_init' }, { type: 'connection_init', payload: {} }]) {
      const raw = await RawSocket.open(s.url);
      raw.send(init);
      await raw.until((r) => r.has('connection_ack') || r.closeEvent !== null, 5_000, 'connection_ack');
      expect(raw.messages, JSON.stringify(raw.closeEvent)).toEqual([{ type: 'connection_ack' }]);

      raw.subscribe('v', VIEWER);
      raw.subscribe('ev', EVENTS, { threadId });
      await raw.until((r) => r.has('complete', 'v') && (r.has('complete', 'ev') || r.has('error', 'ev')), 5_000, 'both operations to end');
      expect(raw.of('v', 'next')[0]?.payload).toEqual({ data: { viewer: { credential: 'ANONYMOUS', user: null } } });
      // The auth failure arrives as a `next` result with errors (then `complete`), not as a protocol `error` message.
      const ev = raw.of('ev');
      expect(ev.map((m) => m.type), JSON.stringify(ev)).toEqual(['next', 'complete']);
      const errors = ev[0]!.payload.errors as Payload['errors'];
      expect(errors?.map((e) => e.extensions?.code), JSON.stringify(errors)).toEqual(['UNAUTHENTICATED']);
      expect(ev[0]!.payload.data ?? null).toBeNull();
      // The connection itself stays open.
      expect(raw.closeEvent).toBeNull();
      await raw.close();
    }
  });

  it('runs queries and mutations over graphql-ws with the same auth as HTTP', async () => {
    const ask = async (query: string, variables: Record<string, unknown>, cred?: string) => {
      const c = client(s.url, cred);
      const sub = subscribeWs(c, query, variables);
      await sub.done();
      expect(sub.error, JSON.stringify(sub.error)).toBeNull();
      expect(sub.items).toHaveLength(1);
      return sub.items[0]!;
    };

    // Who is asking: the same viewer as over HTTP.
    expect(await ask(VIEWER, {}, member.token)).toEqual({ data: { viewer: { credential: 'USER', user: { id: member.id } } } });
    expect(await ask(VIEWER, {}, t.secretKey)).toEqual({ data: { viewer: { credential: 'SECRET_KEY', user: null } } });
    expect(await ask(VIEWER, {}, undefined)).toEqual({ data: { viewer: { credential: 'ANONYMOUS', user: null } } });

    // A mutation as a member: the chat is really sent, by that member.
    const sent = await ask(SEND, { input: { threadId, text: 'over the socket' } }, member.token);
    expect(sent.errors).toBeUndefined();
    const chat = sent.data!.sendChat.chat;
    expect(chat).toMatchObject({ text: 'over the socket', author: { id: member.id } });
    const seen = await s.gql(`query($id: ID!) { node(id: $id) { ... on Chat { text author { id } } } }`, { id: chat.id }, mod.token);
    expect(seen.data?.node).toEqual({ text: 'over the socket', author: { id: member.id } });

    // Refusals are the same over both transports (outsider, key without user scope, anonymous).
    for (const cred of [outsider.token, t.secretKey, t.publishableKey, undefined]) {
      const vars = { input: { threadId, text: 'not allowed' } };
      const overWs = await ask(SEND, vars, cred);
      const overHttp = await s.gql(SEND, vars, cred);
      const strip = (r: Payload) => ({ data: r.data ?? null, errors: r.errors?.map((e) => ({ message: e.message, code: e.extensions?.code })) });
      expect(strip(overWs), String(cred)).toEqual(strip(overHttp));
      const refused = overWs.errors?.[0]?.extensions?.code ?? (overWs.data?.sendChat as { code?: string } | undefined)?.code;
      expect(refused, JSON.stringify(overWs)).toMatch(/^(NOT_FOUND|FORBIDDEN|UNAUTHENTICATED)$/);
    }
  });
});

describe('graphql-ws with WS_INIT_TIMEOUT_MS=300', () => {
  let s: TestServer;
  let user: TestUser;

  beforeAll(async () => {
    s = await startTestServer({ WS_INIT_TIMEOUT_MS: '300' });
    user = await (await makeTenant(s)).user();
  });
  afterAll(() => s?.close());

  it('closes a socket that sends no connection_init with 4408, and keeps one that did', async () => {
    const started = Date.now();
    const silent = await RawSocket.open(s.url);
    const initialised = await RawSocket.connect(s.url, user.token);
    expect(initialised.has('connection_ack')).toBe(true);
    const { code } = await silent.closed(3_000);
    expect(code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(silent.messages).toEqual([]);
    await sleep(400);
    expect(initialised.closeEvent).toBeNull();
    await initialised.close();
  });
});

describe('graphql-ws with MAX_SUBSCRIPTIONS_PER_CONNECTION=2', () => {
  let s: TestServer;
  let mod: TestUser;
  let member: TestUser;
  let threadId: string;

  beforeAll(async () => {
    s = await startTestServer({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' });
    const t = await makeTenant(s);
    mod = await t.user({ role: 'MOD' });
    member = await t.user();
    ({ threadId } = await channelWithThread(s, mod, [member]));
  });
  afterAll(() => s?.close());

  it('refuses a third running operation with LIMIT_EXCEEDED and accepts a new one once one completes', async () => {
    const raw = await RawSocket.connect(s.url, member.token);
    expect(raw.has('connection_ack')).toBe(true);
    await opened(s, 2, () => {
      raw.subscribe('1', EVENTS, { threadId });
      raw.subscribe('2', EVENTS, { threadId });
    });
    await sendAndSee(s, mod, threadId, 'both live', [[raw, '1'], [raw, '2']]);

    raw.subscribe('3', EVENTS, { threadId });
    await raw.until((r) => r.of('3').length > 0, 5_000, 'an answer to subscription 3');
    const third = raw.of('3');
    expect(third.map((m) => m.type), JSON.stringify(third)).toEqual(['error']);
    expect((third[0]!.payload as Payload['errors'])?.map((e) => e.extensions?.code)).toEqual(['LIMIT_EXCEEDED']);
    // The refused one cost nothing: the first two still run.
    await sendAndSee(s, mod, threadId, 'still live', [[raw, '1'], [raw, '2']]);

    raw.send({ id: '1', type: 'complete' });
    await opened(s, 1, () => raw.subscribe('4', EVENTS, { threadId }));
    await sendAndSee(s, mod, threadId, 'after complete', [[raw, '2'], [raw, '4']]);
    expect(raw.of('4', 'error')).toEqual([]);
    expect(raw.of('1', 'next').map((m) => m.payload.data.threadEvents.chat.text)).toEqual(['both live', 'still live']);
    expect(raw.closeEvent).toBeNull();
  });
});

describe('graphql-ws with MAX_CONNECTIONS_PER_USER=2', () => {
  let s: TestServer;
  let t: TestTenant;

  beforeAll(async () => {
    s = await startTestServer({ MAX_CONNECTIONS_PER_USER: '2' });
    t = await makeTenant(s);
  });
  afterAll(() => s?.close());

  /** Connects `user`, retrying briefly while the server may not have processed an earlier close yet. */
  async function connectEventually(cred: string): Promise<RawSocket> {
    const deadline = Date.now() + 1_000;
    for (;;) {
      const raw = await RawSocket.connect(s.url, cred);
      if (raw.has('connection_ack') || Date.now() > deadline) return raw;
      await sleep(50);
    }
  }

  it('closes the third connection of one user with 4429; other users connect; a freed slot can be used again', async () => {
    const a = await t.user();
    const b = await t.user();
    const a1 = await RawSocket.connect(s.url, a.token);
    const a2 = await RawSocket.connect(s.url, a.token);
    expect([a1.has('connection_ack'), a2.has('connection_ack')]).toEqual([true, true]);

    const a3 = await RawSocket.connect(s.url, a.token);
    const { code } = await a3.closed();
    expect(code).toBe(4429);
    expect(a3.has('connection_ack')).toBe(false);

    const b1 = await RawSocket.connect(s.url, b.token);
    expect(b1.has('connection_ack'), JSON.stringify(b1.closeEvent)).toBe(true);

    // One of a's connections ends: a can connect once more, and only once (the refused 4429 held no slot).
    await a1.close();
    const a4 = await connectEventually(a.token);
    expect(a4.has('connection_ack'), JSON.stringify(a4.closeEvent)).toBe(true);
    const a5 = await RawSocket.connect(s.url, a.token);
    expect((await a5.closed()).code).toBe(4429);
    expect(a2.closeEvent).toBeNull();
    expect(a4.closeEvent).toBeNull();
    for (const raw of [a2, a4, b1]) await raw.close();
  });

  it('counts an API key like a user', async () => {
    const k1 = await RawSocket.connect(s.url, t.secretKey);
    const k2 = await RawSocket.connect(s.url, t.secretKey);
    expect([k1.has('connection_ack'), k2.has('connection_ack')]).toEqual([true, true]);
    const k3 = await RawSocket.connect(s.url, t.secretKey);
    expect((await k3.closed()).code).toBe(4429);
    for (const raw of [k1, k2]) await raw.close();
  });

  it('does not keep a slot for a connection that drops while its connection_init is being checked', async () => {
    const u = await t.user();
    for (let i = 0; i < 5; i++) {
      // A cold user cache makes the credential check take a database round trip, as for a user's first connection.
      s.deps.userCache.delete(u.id);
      const raw = await RawSocket.open(s.url);
      raw.init(u.token);
      raw.ws.terminate();
      await raw.closed();
    }
    await sleep(300);
    const c1 = await connectEventually(u.token);
    const c2 = await connectEventually(u.token);
    expect([c1.closeEvent, c2.closeEvent]).toEqual([null, null]);
    expect([c1.has('connection_ack'), c2.has('connection_ack')]).toEqual([true, true]);
    for (const raw of [c1, c2]) await raw.close();
  });
});

describe('graphql-ws with WS_MAX_PAYLOAD_BYTES=2048 and WS_KEEPALIVE_MS=200', () => {
  let s: TestServer;
  let user: TestUser;

  beforeAll(async () => {
    s = await startTestServer({ WS_MAX_PAYLOAD_BYTES: '2048', WS_KEEPALIVE_MS: '200' });
    user = await (await makeTenant(s)).user();
  });
  afterAll(() => s?.close());

  it('accepts a message under WS_MAX_PAYLOAD_BYTES and closes with 1009 on one over it', async () => {
    const raw = await RawSocket.connect(s.url, user.token);
    expect(raw.has('connection_ack')).toBe(true);
    // A comment pads the query; the whole message stays under 2048 bytes.
    const small = JSON.stringify({ id: 'small', type: 'subscribe', payload: { query: `#${'x'.repeat(1800)}\n{ __typename }` } });
    expect(Buffer.byteLength(small)).toBeLessThan(2048);
    raw.ws.send(small);
    await raw.until((r) => r.has('complete', 'small'), 5_000, 'the small operation');
    expect(raw.of('small', 'next')[0]?.payload).toEqual({ data: { __typename: 'Query' } });

    const big = JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: `#${'x'.repeat(4000)}\n{ __typename }` } });
    expect(Buffer.byteLength(big)).toBeGreaterThan(2048);
    raw.ws.send(big);
    const { code } = await raw.closed();
    expect(code).toBe(1009);
    expect(raw.of('big')).toEqual([]);
  });

  it('pings every WS_KEEPALIVE_MS and keeps a socket that answers', async () => {
    const started = Date.now();
    const raw = await RawSocket.connect(s.url, user.token);
    expect(raw.has('connection_ack')).toBe(true);
    await raw.until((r) => r.pings.length >= 1, 1_000, 'a ping');
    expect(raw.pings[0]! - started).toBeLessThan(1_000);
    await raw.until((r) => r.pings.length >= 3, 2_000, 'three pings');
    expect(raw.closeEvent).toBeNull();
    await raw.close();
  });

  it('drops a socket that does not answer pings', async () => {
    const raw = await RawSocket.open(s.url, { autoPong: false });
    raw.init(user.token);
    await raw.until((r) => r.has('connection_ack'), 5_000, 'connection_ack');
    const { code } = await raw.closed(2_000);
    expect(raw.pings.length).toBeGreaterThanOrEqual(1);
    // Terminated without a close frame.
    expect(code).toBe(1006);
  });
});
