/**
 * bench/realtime — fan-out of one busy thread across two instances. Loopback only; bounded by counts and a deadline;
 * exits by itself.
 *
 * Starts two real Parley processes (A and B) on one scratch PostgreSQL database and one Redis, opens K graphql-ws
 * subscribers to one thread (half on A, half on B, one user each), then sends N chats from S concurrent sender loops
 * over HTTP, alternating A and B. Every (subscriber, chat) receipt is matched by clientId to the moment its send
 * started, so the figures are end to end: sendChat → event log → Redis hint → hub read → stream → WebSocket.
 *
 * Prints sends/s, deliveries/s, send→receipt latency p50/p99/max (all, same instance, cross instance), deliveries per
 * instance, and lost / duplicated / out-of-order counts, which must all be 0 (exit 1 otherwise, or on the deadline).
 *
 * Usage: npm run bench:realtime [-- --chats 2000 --subscribers 20 --senders 4 --rate 0 --timeout 120 --op threadEvents
 *                                    --dump receipts.csv]
 *   (or BENCH_CHATS, BENCH_SUBSCRIBERS, BENCH_SENDERS, BENCH_RATE, BENCH_TIMEOUT_S, BENCH_OP, BENCH_DUMP;
 *    BENCH_DATABASE_URL_BASE or DATABASE_URL: maintenance URL, default postgresql://postgres@127.0.0.1:5432/postgres;
 *    REDIS_URL, default redis://127.0.0.1:6379)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { buildDeps } from '../src/deps.js';
import { readEnv } from '../src/env.js';
import { migrateDeploy } from '../src/migrate.js';
import { admin, withDatabase } from '../test/helpers/databases.js';
import { makeTenant, type TestUser } from '../test/helpers/fixtures.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function setting(flag: string, envName: string, fallback: string): string {
  const i = process.argv.indexOf(`--${flag}`);
  return (i > 0 ? process.argv[i + 1] : undefined) ?? process.env[envName] ?? fallback;
}
function count(flag: string, envName: string, fallback: number, min = 1): number {
  const v = Number(setting(flag, envName, String(fallback)));
  if (!Number.isInteger(v) || v < min) throw new Error(`--${flag} must be an integer >= ${min}`);
  return v;
}

const CHATS = count('chats', 'BENCH_CHATS', 2000);
const SUBSCRIBERS = count('subscribers', 'BENCH_SUBSCRIBERS', 20);
const SENDERS = count('senders', 'BENCH_SENDERS', 4);
const TIMEOUT_S = count('timeout', 'BENCH_TIMEOUT_S', 120);
/**
 * Total sends per second, 0 for as fast as the senders go. Unpaced, the senders saturate the machine and latency is
 * mostly queueing; a rate below saturation shows the delivery path itself.
 */
const RATE = count('rate', 'BENCH_RATE', 0, 0);
const OP = setting('op', 'BENCH_OP', 'threadEvents');
/** Optional CSV of every receipt (for looking at a latency tail over time). */
const DUMP = setting('dump', 'BENCH_DUMP', '');
if (OP !== 'threadEvents' && OP !== 'chatAdded') throw new Error('--op must be threadEvents or chatAdded');

const baseUrl = process.env.BENCH_DATABASE_URL_BASE ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dbName = `parley_bench_${process.pid}`;
// Both instances must verify the tokens this process signs; fresh per run, never a real secret.
const tokenSecret = randomBytes(32).toString('base64url');
/** After the last expected receipt, keep listening this long so that late duplicates are still counted. */
const GRACE_MS = 1000;

function assertLoopback(url: string, what: string) {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error(`${what} must be on loopback, got ${host}`);
}
assertLoopback(baseUrl, 'PostgreSQL');
assertLoopback(redisUrl, 'Redis');

// ---- The deadline: loops check `timedOut`, requests time out at `deadlineAt`, server start-up listens to `abort`. ----

const abort = new AbortController();
const deadlineAt = performance.now() + TIMEOUT_S * 1000;
let timedOut = false;
const children: ChildProcess[] = [];
const deadline = setTimeout(() => {
  timedOut = true;
  abort.abort(new Error('deadline'));
  // Last resort if cleanup itself hangs: kill our own servers by handle and leave.
  setTimeout(() => {
    console.error('bench/realtime: cleanup hung; killing servers and exiting');
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    process.exit(1);
  }, 30_000).unref();
}, TIMEOUT_S * 1000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** CPU seconds a child has used so far, from /proc (Linux; USER_HZ is 100 on mainstream kernels); NaN elsewhere. */
function childCpu(proc: ChildProcess): number {
  try {
    const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// ---- Servers ----

interface Server {
  name: 'A' | 'B';
  url: string;
  proc: ChildProcess;
}

/** Starts `node --import tsx src/main.ts` and resolves with the URL from its "Parley is running" line. */
function startServer(name: 'A' | 'B', databaseUrl: string): Promise<Server> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      TOKEN_SECRET: tokenSecret,
      GRAPHIQL: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let ready = false;
    // Warnings and errors (pino JSON on stdout, anything on stderr) are passed through so a run shows what went wrong.
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /Parley is running\. GraphiQL: (http:\/\/\S+)/.exec(line);
      if (m && !ready) {
        ready = true;
        assertLoopback(m[1]!, `server ${name}`);
        resolve({ name, url: m[1]!, proc });
      } else console.error(`[${name}] ${line}`);
    });
    createInterface({ input: proc.stderr! }).on('line', (line) => console.error(`[${name}] ${line}`));
    proc.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`server ${name} exited before it was ready (code ${code}, signal ${signal})`));
    });
    abort.signal.addEventListener('abort', () => {
      if (!ready) reject(new Error(`server ${name} not ready before the deadline`));
    });
  });
}

async function stopServer(proc: ChildProcess) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  // The server gives in-flight work SHUTDOWN_TIMEOUT_MS (10 s); past that, it is stuck.
  const t = setTimeout(() => proc.kill('SIGKILL'), 12_000);
  await exited;
  clearTimeout(t);
}

// ---- GraphQL over HTTP ----

interface GqlResponse<T> {
  data?: T | null;
  errors?: { message: string }[];
}

async function gql<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<GqlResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    // A timeout per request rather than the shared `abort.signal`: fetch leaves one listener per request on it.
    signal: AbortSignal.timeout(Math.max(1, Math.ceil(deadlineAt - performance.now()))),
  });
  return (await res.json()) as GqlResponse<T>;
}

type Payload = { __typename: string; code?: string; message?: string } & Record<string, unknown>;

/** Runs a mutation whose result union has an `... on Error { code message }` member; throws on any error. */
async function mutate(url: string, query: string, input: Record<string, unknown>, token: string): Promise<Payload> {
  const res = await gql<Record<string, Payload>>(url, query, { input }, token);
  const payload = Object.values(res.data ?? {})[0];
  if (res.errors || !payload || payload.code) throw new Error(`mutation failed: ${JSON.stringify(res)}`);
  return payload;
}

const CREATE_CHANNEL = `mutation($input: CreateChannelInput!) { createChannel(input: $input) {
  __typename ... on CreateChannelPayload { channel { id } } ... on Error { code message } } }`;
const ADD_MEMBERS = `mutation($input: AddChannelMembersInput!) { addChannelMembers(input: $input) {
  __typename ... on Error { code message } } }`;
const CREATE_THREAD = `mutation($input: CreateThreadInput!) { createThread(input: $input) {
  __typename ... on CreateThreadPayload { thread { id } } ... on Error { code message } } }`;
const SEND = `mutation($input: SendChatInput!) { sendChat(input: $input) {
  __typename ... on SendChatPayload { chat { seq } } ... on Error { code message } } }`;

// ---- Subscribers ----

interface ChatFields {
  id: string;
  seq: number;
  clientId: string | null;
}
interface StreamData {
  threadEvents?: { __typename: string; seq: number; chat?: ChatFields } | null;
  chatAdded?: ChatFields | null;
}

const SUBSCRIPTION =
  OP === 'threadEvents'
    ? `subscription($threadId: ID!) { threadEvents(threadId: $threadId) {
        __typename cursor seq ... on ChatAddedEvent { chat { id seq clientId } } } }`
    : `subscription($threadId: ID!) { chatAdded(threadId: $threadId) { id seq clientId } }`;

interface Sent {
  i: number;
  at: number;
  via: 'A' | 'B';
}

/** What the senders record; subscribers read it to compute latency. */
const sent = new Map<string, Sent>();
/** clientIds whose sendChat returned a chat: every subscriber must receive each of them exactly once. */
const confirmed = new Set<string>();

const WARM_PREFIX = 'warm-';
/** CSV rows for --dump, times in ms from the first send. */
const receipts: string[] = [];
let clockZero = 0;

class Subscriber {
  private static count = 0;
  readonly index = Subscriber.count++;
  readonly client: Client;
  readonly received = new Map<string, number>();
  deliveries = 0;
  distinctConfirmed = 0;
  unexpected = 0;
  outOfOrder = 0;
  lastChatSeq = 0;
  warm = false;
  lastAt = 0;
  readonly errors: string[] = [];
  ended = false;
  private dispose: () => void = () => {};

  constructor(
    readonly instance: 'A' | 'B',
    url: string,
    token: string,
    /** Latencies by where the chat was sent: same instance as this subscriber, or the other one (via Redis). */
    private readonly lat: { same: number[]; cross: number[] },
  ) {
    this.client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: 0,
      // A reconnect would hide a gap; the bench must see the failure instead.
      onNonLazyError: (e) => this.errors.push(`connection: ${describe(e)}`),
    });
  }

  subscribe(threadId: string) {
    this.dispose = this.client.subscribe<StreamData>(
      { query: SUBSCRIPTION, variables: { threadId } },
      {
        next: (p) => this.onPayload(p.data ?? null, p.errors),
        error: (e) => {
          this.ended = true;
          this.errors.push(describe(e));
        },
        complete: () => {
          this.ended = true;
        },
      },
    );
  }

  private onPayload(data: StreamData | null, errors: readonly { message: string }[] | undefined) {
    const now = performance.now();
    if (errors?.length) this.errors.push(...errors.map((e) => e.message));
    const chat = OP === 'threadEvents' ? (data?.threadEvents?.__typename === 'ChatAddedEvent' ? data.threadEvents.chat : null) : data?.chatAdded;
    if (!chat?.clientId) return;
    if (chat.clientId.startsWith(WARM_PREFIX)) {
      this.warm = true;
      return;
    }
    const s = sent.get(chat.clientId);
    if (!s) {
      this.unexpected++;
      return;
    }
    this.deliveries++;
    this.lastAt = now;
    const n = (this.received.get(chat.clientId) ?? 0) + 1;
    this.received.set(chat.clientId, n);
    if (n > 1) return; // counted as a duplicate, not as disorder
    if (chat.seq < this.lastChatSeq) this.outOfOrder++;
    this.lastChatSeq = Math.max(this.lastChatSeq, chat.seq);
    (s.via === this.instance ? this.lat.same : this.lat.cross).push(now - s.at);
    if (DUMP) receipts.push([s.i, s.via, (s.at - clockZero).toFixed(2), this.index, this.instance, (now - clockZero).toFixed(2), chat.seq].join(','));
    // Counted as it arrives only when already confirmed; the rest are reconciled after the sends (see settle()).
    if (confirmed.has(chat.clientId)) this.distinctConfirmed++;
  }

  /** Recounts once all sends are answered: a receipt can beat its send's response, and was not counted then. */
  settle() {
    this.distinctConfirmed = [...this.received.keys()].filter((id) => confirmed.has(id)).length;
  }

  close() {
    this.dispose();
    return this.client.dispose();
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'code' in e) return `close ${String(e.code)} ${'reason' in e ? String(e.reason) : ''}`;
  return JSON.stringify(e);
}

/** Waits until `done()` holds, the deadline passes, or `ms` elapse; returns whether it holds. */
async function waitFor(done: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (!done() && !timedOut && performance.now() < until) await sleep(10);
  return done();
}

// ---- The run ----

/** Without Redis the servers still start, but cross-instance chats only arrive by the poll: fail early instead. */
async function checkRedis() {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: unknown = null;
  redis.on('error', (e: unknown) => (cause = e)); // the socket error is the useful one, not "Connection is closed"
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    throw new Error(`Redis at ${redisUrl} is not reachable: ${describe(cause ?? e)}`, { cause: e });
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  await checkRedis();
  await admin(baseUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const url = withDatabase(baseUrl, dbName);
  let deps: Awaited<ReturnType<typeof buildDeps>> | null = null;
  const servers: Server[] = [];
  const subs: Subscriber[] = [];
  const lat = { same: [] as number[], cross: [] as number[] };
  try {
    await migrateDeploy({ kind: 'postgres', url });
    // Tenant and users straight through Prisma (fast, like the test fixtures); this process needs no bus.
    deps = await buildDeps(readEnv({ DATABASE_URL: url, LOG_LEVEL: 'silent', TOKEN_SECRET: tokenSecret, DATA_DIR: '/tmp/parley-bench' }));
    const tenant = await makeTenant({ deps } as never);
    const mod = await tenant.user({ role: 'MOD', name: 'Bench mod' });
    // One user per subscriber and per sender: no per-user connection limit applies, and no subscriber sees its own sends.
    const senders: TestUser[] = await Promise.all(Array.from({ length: SENDERS }, (_, i) => tenant.user({ name: `Sender ${i}` })));
    const readers: TestUser[] = await Promise.all(Array.from({ length: SUBSCRIBERS }, (_, i) => tenant.user({ name: `Reader ${i}` })));

    // allSettled: a server that fails while the other is still starting must not leave an unhandled rejection.
    const starting = await Promise.allSettled([startServer('A', url), startServer('B', url)]);
    for (const r of starting) if (r.status === 'fulfilled') servers.push(r.value);
    for (const r of starting) if (r.status === 'rejected') throw r.reason;
    const [a, b] = servers as [Server, Server];

    // Channel, members and thread through the API, so the thread has its thread.created event like any real one.
    const created = await mutate(a.url, CREATE_CHANNEL, { name: 'bench', visibility: 'MEMBER' }, mod.token);
    const channelId = (created.channel as { id: string }).id;
    const members = [...senders, ...readers].map((u) => u.id);
    for (let i = 0; i < members.length; i += 100) {
      await mutate(a.url, ADD_MEMBERS, { channelId, userIds: members.slice(i, i + 100) }, mod.token);
    }
    const threadPayload = await mutate(a.url, CREATE_THREAD, { channelIds: [channelId], subject: 'Bench', text: 'start' }, mod.token);
    const threadId = (threadPayload.thread as { id: string }).id;

    // Even indices on A, odd on B: an even split, and K odd puts the extra one on A.
    for (const [i, r] of readers.entries()) {
      const s = i % 2 === 0 ? a : b;
      const sub = new Subscriber(s.name, s.url, r.token, lat);
      sub.subscribe(threadId);
      subs.push(sub);
    }
    const onA = subs.filter((s) => s.instance === 'A').length;
    console.log(
      `bench/realtime: ${CHATS} chats from ${SENDERS} senders (alternating A/B, ${RATE ? `paced at ${RATE}/s` : 'unpaced'}) ` +
        `into one thread; ${SUBSCRIBERS} ${OP} ` +
        `subscribers (${onA} on A, ${SUBSCRIBERS - onA} on B); PostgreSQL ${dbName}, Redis ${redisUrl}; ` +
        `setup ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );

    // graphql-ws has no "subscribed" acknowledgement: warm-up chats until every subscriber has received one, so
    // every stream is live before the clock starts. Their receipts are left out of every figure.
    let warmups = 0;
    while (!timedOut && !subs.every((s) => s.warm)) {
      if (subs.some((s) => s.ended || s.errors.length)) break;
      await mutate(servers[warmups % 2]!.url, SEND, { threadId, text: 'warm-up', clientId: `${WARM_PREFIX}${warmups}` }, senders[0]!.token);
      warmups++;
      await waitFor(() => subs.every((s) => s.warm), 2000);
    }
    const broken = subs.filter((s) => s.ended || s.errors.length);
    if (timedOut || broken.length) {
      console.log(`Warm-up failed after ${warmups} chat(s): ${subs.filter((s) => s.warm).length}/${SUBSCRIBERS} subscribers live.`);
      for (const s of broken) console.log(`  subscriber on ${s.instance}: ${s.errors.join('; ') || 'completed'}`);
      return 1;
    }

    // ---- Send ----
    const sendLat: number[] = [];
    let failed = 0;
    let next = 0;
    const runId = randomBytes(3).toString('hex');
    // Where the CPU goes decides what the figures mean on a small machine: this process is one of the loads.
    const cpu0 = [selfCpu(), childCpu(a.proc), childCpu(b.proc)];
    const load0 = loadavg()[0]!;
    const t0 = performance.now();
    clockZero = t0;
    await Promise.all(
      senders.map(async (sender) => {
        while (next < CHATS && !timedOut) {
          const i = next++;
          if (RATE > 0) await sleep(t0 + (i * 1000) / RATE - performance.now());
          const server = servers[i % 2]!;
          const clientId = `b${runId}-${i}`;
          const at = performance.now();
          sent.set(clientId, { i, at, via: server.name });
          try {
            const res = await gql<{ sendChat?: Payload }>(server.url, SEND, { input: { threadId, text: `bench ${i}`, clientId } }, sender.token);
            if (res.data?.sendChat?.__typename === 'SendChatPayload') confirmed.add(clientId);
            else if (failed++ < 5) console.error(`send ${i} failed: ${JSON.stringify(res)}`);
          } catch (e) {
            if (failed++ < 5) console.error(`send ${i} failed: ${describe(e)}`);
          }
          sendLat.push(performance.now() - at);
        }
      }),
    );
    const sendSecs = (performance.now() - t0) / 1000;
    for (const s of subs) s.settle();

    // ---- Wait for every confirmed chat at every subscriber, then a grace period for late duplicates ----
    const expected = confirmed.size;
    const complete = () => subs.every((s) => s.distinctConfirmed >= expected || s.ended);
    await waitFor(complete, Number.POSITIVE_INFINITY);
    const cpu1 = [selfCpu(), childCpu(a.proc), childCpu(b.proc)];
    const wallSecs = (performance.now() - t0) / 1000;
    const load1 = loadavg()[0]!;
    if (!timedOut) await sleep(GRACE_MS);

    // ---- Report ----
    const lastAt = Math.max(t0, ...subs.map((s) => s.lastAt));
    const deliveries = subs.reduce((n, s) => n + s.deliveries, 0);
    const by = (inst: 'A' | 'B') => subs.filter((s) => s.instance === inst).reduce((n, s) => n + s.deliveries, 0);
    const lost = subs.reduce((n, s) => n + (expected - [...s.received.keys()].filter((id) => confirmed.has(id)).length), 0);
    const dup = subs.reduce((n, s) => n + s.deliveries - s.received.size, 0);
    const outOfOrder = subs.reduce((n, s) => n + s.outOfOrder, 0);
    const unexpected = subs.reduce((n, s) => n + s.unexpected, 0);
    const streamErrors = subs.flatMap((s) => s.errors.map((e) => `${s.instance}: ${e}`));
    const ms = (v: number) => v.toFixed(1).padStart(7);
    const line = (name: string, xs: number[]) => {
      const sorted = [...xs].sort((x, y) => x - y);
      return `  ${name.padEnd(22)} p50 ${ms(pct(sorted, 50))}  p99 ${ms(pct(sorted, 99))}  max ${ms(sorted.at(-1) ?? NaN)}  (n ${sorted.length})`;
    };
    const sortedSend = [...sendLat].sort((x, y) => x - y);

    console.log(`sends        ${confirmed.size} ok, ${failed} failed in ${sendSecs.toFixed(2)} s = ${(sendLat.length / sendSecs).toFixed(0)} sends/s` +
      `  (HTTP p50 ${pct(sortedSend, 50).toFixed(1)} ms, p99 ${pct(sortedSend, 99).toFixed(1)} ms)`);
    const spanSecs = (lastAt - t0) / 1000;
    console.log(`deliveries   ${deliveries} of ${expected * SUBSCRIBERS} in ${spanSecs.toFixed(2)} s (first send → last receipt) = ` +
      `${(deliveries / spanSecs).toFixed(0)} deliveries/s  (on A ${by('A')}, on B ${by('B')})`);
    console.log('latency, ms  (send start → subscriber receipt)');
    console.log(line('all', [...lat.same, ...lat.cross]));
    console.log(line('same instance', lat.same));
    console.log(line('cross instance (Redis)', lat.cross));
    console.log(`check        lost ${lost}  duplicated ${dup}  out of order ${outOfOrder}  unexpected ${unexpected}  ` +
      `failed sends ${failed}  stream errors ${streamErrors.length}  warm-up chats ${warmups}`);
    for (const e of streamErrors.slice(0, 10)) console.log(`  stream error ${e}`);
    const [bench, cpuA, cpuB] = cpu1.map((v, i) => (v - cpu0[i]!).toFixed(1));
    console.log(`cpu          bench ${bench} s, A ${cpuA} s, B ${cpuB} s in ${wallSecs.toFixed(1)} s wall on ${cpus().length} cores; ` +
      `load average (1 min) ${load0.toFixed(1)} → ${load1.toFixed(1)}`);

    if (DUMP) {
      writeFileSync(DUMP, ['send,via,sent_ms,subscriber,instance,received_ms,chat_seq', ...receipts].join('\n') + '\n');
      console.log(`receipts     ${receipts.length} rows in ${DUMP}`);
    }

    const bad = lost + dup + outOfOrder + unexpected + failed + streamErrors.length;
    if (timedOut) console.log(`\nFAIL: deadline of ${TIMEOUT_S} s reached; figures above are partial.`);
    else console.log(bad ? '\nFAIL: every check above must be 0.' : '\nOK');
    return timedOut || bad ? 1 : 0;
  } finally {
    await Promise.allSettled(subs.map((s) => s.close()));
    await Promise.allSettled(servers.map((s) => stopServer(s.proc)));
    // A server that failed to start is not in `servers`; make sure no child outlives the bench.
    await Promise.allSettled(children.map((c) => stopServer(c)));
    await deps?.close().catch(() => {});
    await admin(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  }
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`bench/realtime: ${timedOut ? `deadline of ${TIMEOUT_S} s reached: ` : ''}${e instanceof Error ? e.stack : describe(e)}`);
}
clearTimeout(deadline);
// The schema engine leaves a timer behind (see scripts/migrate.ts); exit explicitly.
process.exit(code);
