/**
 * bench/send — how fast sendChat is. Loopback only; bounded by counts; exits by itself.
 *
 * 1. End to end over HTTP against a real server: sends/s and p50/p99 latency at 1 and 32 concurrent clients.
 * 2. The service alone, in this process: server CPU per send of the one-statement CTE (src/services/chat-send.ts)
 *    versus a baseline doing the same work as a straightforward Prisma interactive transaction, and the ratio.
 * 3. The same CTE with the server stopped: an ordinary thread versus a support conversation (a VISITOR and a MOD agent
 *    alternating, the visitor/SUPPORT branches of the permission check and the conversation UPDATE), and the ratio.
 *
 * Usage: npm run bench:send [-- --sends 2000]   (DATABASE_URL or postgresql://postgres@127.0.0.1:5432/parley_bench)
 */
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import type { Context, Deps } from '../src/context.js';
import { buildDeps } from '../src/deps.js';
import { readEnv } from '../src/env.js';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { newId } from '../src/ids.js';
import { migrateDeploy } from '../src/migrate.js';
import { sendChat } from '../src/services/chat-send.js';
import { admin, withDatabase } from '../test/helpers/databases.js';
import { makeTenant, type TestTenant } from '../test/helpers/fixtures.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SENDS = arg('sends', 2000);
const SERVICE_SENDS = arg('service-sends', 1000);

const baseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `parley_bench_${process.pid}`;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function setup(deps: Deps) {
  const tenant = await makeTenant({ deps } as never);
  const users = await Promise.all(Array.from({ length: 32 }, () => tenant.user()));
  const channelId = newId('chn');
  await deps.prisma.channel.create({ data: { id: channelId, appId: tenant.appId, name: 'bench' } });
  await deps.prisma.channelMember.createMany({ data: users.map((u) => ({ channelId, userId: u.id })) });
  const newThread = async () => {
    const id = newId('thr');
    await deps.prisma.thread.create({ data: { id, appId: tenant.appId, authorId: users[0]!.id, channels: { create: { channelId } } } });
    return id;
  };
  return { tenant, users, newThread };
}

/** A support conversation as startConversation leaves it (OPEN, no chats): SUPPORT channel, thread, conversation row. */
async function supportSetup(deps: Deps, tenant: TestTenant) {
  const { appId } = tenant;
  const visitor = await tenant.user({ kind: 'VISITOR' });
  // Not a channel member: MOD+ users are agents of every SUPPORT channel, which is the branch to measure.
  const agent = await tenant.user({ role: 'MOD' });
  const channelId = newId('chn');
  await deps.prisma.channel.create({ data: { id: channelId, appId, name: 'bench support', visibility: 'HIDDEN', support: true } });
  const threadId = newId('thr');
  await deps.prisma.thread.create({
    data: { id: threadId, appId, authorId: visitor.id, channels: { create: { channelId } }, conversation: { create: { appId, channelId, visitorId: visitor.id } } },
  });
  return { threadId, visitor, agent };
}

/** A service context for one user, as resolveViewer would build it for their token. */
async function userContext(deps: Deps, appId: string, userId: string): Promise<Context> {
  const user = await deps.prisma.user.findUniqueOrThrow({ where: { id: userId } });
  return { viewer: { kind: 'user', appId, user, tokenExpiresAt: new Date(Date.now() + 3600_000) }, prisma: deps.prisma, deps, requestId: 'bench' };
}

async function httpRun(url: string, tokens: string[], threadId: string, clients: number, total: number) {
  const q = 'mutation($input: SendChatInput!) { sendChat(input: $input) { __typename ... on SendChatPayload { chat { seq } } } }';
  const lat: number[] = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[c % tokens.length]}` },
          body: JSON.stringify({ query: q, variables: { input: { threadId, text: `bench ${i}` } } }),
        });
        const body = (await res.json()) as { data?: { sendChat?: { __typename: string } } };
        if (body.data?.sendChat?.__typename !== 'SendChatPayload') failed++;
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { clients, sends: total, perSec: total / secs, p50: pct(lat, 50), p99: pct(lat, 99), failed };
}

/** The baseline: the same writes as the CTE, as a plain Prisma interactive transaction (7 statements). */
async function baselineSend(prisma: PrismaClient, appId: string, userId: string, threadId: string, text: string) {
  return prisma.$transaction(async (tx) => {
    const member = await tx.channelMember.findFirst({ where: { userId, channel: { threads: { some: { threadId } } } } });
    if (!member) throw new Error('not a member');
    const t = await tx.thread.update({
      where: { id: threadId },
      data: { lastSeq: { increment: 1 }, lastEventSeq: { increment: 1 }, numChats: { increment: 1 }, lastActivityAt: new Date() },
    });
    const chat = await tx.chat.create({ data: { id: newId('cht'), appId, threadId, seq: t.lastSeq, authorId: userId, text } });
    await tx.event.create({ data: { threadId, seq: t.lastEventSeq, type: 'chat.added', payload: { chatId: chat.id, seq: chat.seq } } });
    await tx.threadParticipant.createMany({ data: [{ threadId, userId }], skipDuplicates: true });
    await tx.readState.upsert({
      where: { threadId_userId: { threadId, userId } },
      create: { threadId, userId, lastReadSeq: chat.seq },
      update: { lastReadSeq: chat.seq },
    });
    return chat;
  });
}

async function serviceRun(name: string, n: number, send: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 50; i++) await send(-1 - i); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await send(i);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { name, sends: n, cpuUsPerSend: (cpu.user + cpu.system) / n, wallUsPerSend: (wall * 1000) / n };
}

async function main() {
  await admin(baseUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const url = withDatabase(baseUrl, dbName);
  try {
    await migrateDeploy({ kind: 'postgres', url });
    const env = readEnv({ DATABASE_URL: url, LOG_LEVEL: 'warn', TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-01', DATA_DIR: '/tmp/parley-bench' });
    const deps = await buildDeps(env);
    const app = buildApp(deps);
    const endpoint = await app.start(0, '127.0.0.1');
    const { tenant, users, newThread } = await setup(deps);
    const tokens = users.map((u) => u.token);

    console.log(`bench/send: PostgreSQL ${dbName}, ${SENDS} sends per HTTP run, ${SERVICE_SENDS} per service run\n`);
    console.log('HTTP end to end (one thread, all clients sending to it):');
    for (const clients of [1, 32]) {
      const r = await httpRun(endpoint, tokens, await newThread(), clients, clients === 1 ? Math.ceil(SENDS / 4) : SENDS);
      console.log(`  ${String(clients).padStart(2)} client(s): ${r.perSec.toFixed(0).padStart(6)} sends/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  failed ${r.failed}`);
    }

    const user = users[0]!;
    const ctx = await userContext(deps, tenant.appId, user.id);
    const cteThread = await newThread();
    const baseThread = await newThread();
    console.log('\nService only, sequential, in this process (CPU = this process: Node + Prisma + driver):');
    const base = await serviceRun('baseline interactive tx', SERVICE_SENDS, (i) => baselineSend(deps.prisma, tenant.appId, user.id, baseThread, `b${i}`));
    const cte = await serviceRun('one-statement CTE      ', SERVICE_SENDS, (i) => sendChat(ctx, { threadId: cteThread, text: `c${i}` }));
    for (const r of [base, cte]) {
      console.log(`  ${r.name}: ${r.cpuUsPerSend.toFixed(0).padStart(5)} µs CPU/send  ${r.wallUsPerSend.toFixed(0).padStart(5)} µs wall/send`);
    }
    console.log(`  ratio baseline/CTE: ${(base.cpuUsPerSend / cte.cpuUsPerSend).toFixed(2)}x CPU, ${(base.wallUsPerSend / cte.wallUsPerSend).toFixed(2)}x wall`);

    // The server's webhook loop runs in this process and every publishEvents wakes it, so with the server up its
    // fan-out rounds are counted as send CPU (and compete for the database). Stopped, only sendChat is measured.
    await app.stop();
    const conv = await supportSetup(deps, tenant);
    const visitorCtx = await userContext(deps, tenant.appId, conv.visitor.id);
    const agentCtx = await userContext(deps, tenant.appId, conv.agent.id);
    const plainThread = await newThread();
    console.log('\nService only, server stopped (no webhook loop), same process:');
    const plain = await serviceRun('CTE, ordinary thread             ', SERVICE_SENDS, (i) => sendChat(ctx, { threadId: plainThread, text: `p${i}` }));
    const support = await serviceRun('CTE, conversation visitor/agent  ', SERVICE_SENDS, (i) =>
      sendChat(i & 1 ? agentCtx : visitorCtx, { threadId: conv.threadId, text: `s${i}` }),
    );
    for (const r of [plain, support]) {
      console.log(`  ${r.name}: ${r.cpuUsPerSend.toFixed(0).padStart(5)} µs CPU/send  ${r.wallUsPerSend.toFixed(0).padStart(5)} µs wall/send`);
    }
    console.log(`  ratio conversation/ordinary: ${(support.cpuUsPerSend / plain.cpuUsPerSend).toFixed(2)}x CPU, ${(support.wallUsPerSend / plain.wallUsPerSend).toFixed(2)}x wall`);

    /** Gap-free: the thread's seq counter equals its number of chats. */
    const seqCheck = async (threadId: string) => {
      const [row, chats] = await Promise.all([deps.prisma.thread.findUniqueOrThrow({ where: { id: threadId } }), deps.prisma.chat.count({ where: { threadId } })]);
      return `lastSeq ${row.lastSeq} ${row.lastSeq === chats ? '=' : '≠ (GAP)'} chats ${chats}`;
    };
    const baseRow = await deps.prisma.thread.findUniqueOrThrow({ where: { id: baseThread } });
    console.log(`\nCheck: CTE thread ${await seqCheck(cteThread)}; baseline lastSeq ${baseRow.lastSeq}`);
    console.log(`       ordinary thread ${await seqCheck(plainThread)}; conversation ${await seqCheck(conv.threadId)}`);
    await deps.close();
  } finally {
    await admin(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  }
  process.exit(0);
}

await main();
