/**
 * Real server processes (src/main.ts, as `npm start` runs it) sharing one PostgreSQL database, and a private
 * redis-server a test may kill and restart. Every process started here is ended by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { inject } from 'vitest';
import { buildDeps } from '../../src/deps.js';
import { readEnv } from '../../src/env.js';
import { cloneTemplate, testDatabaseUrl } from './databases.js';
import type { GqlResult, TestServer } from './server.js';

export const TOKEN_SECRET = 'multi-instance-secret-0123456789-abcdef';

/** True when PostgreSQL and Redis are configured (always in CI); multi-process tests need both. */
export const haveServices = Boolean(testDatabaseUrl() && (process.env.TEST_REDIS_URL || process.env.REDIS_URL));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Output so far (for failure messages). */
  output(): string;
  /** Sends a signal and resolves with the exit code (SIGKILL after 20 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts one Parley process and resolves with its GraphQL URL. */
export function startProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', TOKEN_SECRET, GRAPHIQL: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /GraphiQL: (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child, output: () => out, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    void exited.then((code) => reject(new Error(`exited ${code} before listening:\n${out}`)));
  });
}

/** POSTs a GraphQL operation to a URL. */
export async function gqlAt<T = Record<string, any>>(url: string, query: string, variables: Record<string, unknown> = {}, credential?: string): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlResult<T>;
}

/**
 * A fresh database for a cluster of processes, plus in-process deps on it (for fixtures: prisma and the token
 * issuer share TOKEN_SECRET with the processes). `at(url)` gives a TestServer-shaped handle for the chat-ops helpers.
 */
export async function clusterDatabase() {
  const database = await cloneTemplate(testDatabaseUrl()!, inject('templateDb'));
  const deps = await buildDeps(readEnv({ DATABASE_URL: database.url, TOKEN_SECRET, LOG_LEVEL: 'silent', GRAPHIQL: 'false' }));
  return {
    url: database.url,
    deps,
    at: (url: string): TestServer => ({ url, deps, gql: (q, v, c) => gqlAt(url, q, v, c), close: async () => {} }),
    async close() {
      await deps.close();
      await database.drop();
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A private redis-server on a free port that the test may kill (SIGKILL) and start again on the same port. */
export async function privateRedis() {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    // Ready when it answers PING.
    const { Redis } = await import('ioredis');
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server on ${port} did not start`);
  };
  const kill = async () => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, kill, restart: start, stop: kill };
}
