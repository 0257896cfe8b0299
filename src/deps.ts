/** Builds the long-lived dependencies of a server from its settings. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { TtlCache } from './auth/ttl-cache.js';
import { UserTokens } from './auth/user-token.js';
import type { CachedKey, Deps } from './context.js';
import { openDatabase } from './db.js';
import type { Env } from './env.js';
import type { User } from './generated/prisma/client.js';
import { createBus } from './realtime/bus.js';
import { Realtime } from './realtime/realtime.js';

/** How long a user row (role, deactivation) may be served from memory on another instance. */
const USER_CACHE_TTL_MS = 5_000;

export async function buildDeps(env: Env): Promise<Deps & { close(): Promise<void> }> {
  const log = pino({ level: env.LOG_LEVEL, redact: ['req.headers.authorization', '*.password', '*.token', '*.secret'] });
  const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR });
  const bus = createBus(env.REDIS_URL, log);
  const realtime = new Realtime(env, db.prisma, bus, log);
  const tokens = new UserTokens(env.TOKEN_SECRET ?? localSecret(env.DATA_DIR), env.USER_TOKEN_TTL_SECONDS);
  return {
    env,
    prisma: db.prisma,
    bus,
    realtime,
    log,
    tokens,
    keyCache: new TtlCache<CachedKey | null>(env.KEY_CACHE_TTL_MS),
    userCache: new TtlCache<User>(USER_CACHE_TTL_MS),
    close: async () => {
      realtime.close();
      await bus.close();
      await db.close();
    },
  };
}

/** A token secret kept in the data dir, generated on first use (single-instance default). */
function localSecret(dataDir: string): string {
  const file = join(resolve(dataDir), 'token-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(resolve(dataDir), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
