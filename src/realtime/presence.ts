/**
 * Presence: a user is ACTIVE while they sent a heartbeat (or held a live subscription) within PRESENCE_AWAY_SECONDS,
 * AWAY otherwise. With Redis every instance shares one sorted set per app (member = user id, score = last seen, in
 * ms) so all instances agree; transitions are decided inside Lua scripts, so exactly one instance announces each
 * ACTIVE and each AWAY. Without Redis the same rules run in memory.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Env } from '../env.js';
import type { Bus } from './bus.js';

export interface Presence {
  /** Marks users active now; announces those who were away. */
  touch(appId: string, userIds: string[]): Promise<void>;
  /** Marks a user away now (e.g. the app went to the background); announces it if they were active. */
  leave(appId: string, userId: string): Promise<void>;
  /** Last-seen time of each given user that is active now. */
  lastSeen(appId: string, userIds: string[]): Promise<Map<string, Date>>;
  close(): void;
}

interface Store {
  /** Sets last seen = now; returns the users that were not active before. */
  touch(appId: string, userIds: string[], now: number, cutoff: number): Promise<string[]>;
  lastSeen(appId: string, userIds: string[], cutoff: number): Promise<Map<string, number>>;
  /** Removes a user; true when they were present. */
  remove(appId: string, userId: string): Promise<boolean>;
  /** Removes users last seen before the cutoff; returns them per app. */
  sweep(cutoff: number): Promise<Map<string, string[]>>;
}

const APPS = 'parley:presence:apps';
const keyOf = (appId: string) => `parley:presence:${appId}`;

// KEYS: the app's set, the set of apps. ARGV: app id, now, cutoff, user ids...
const TOUCH = `
local fresh = {}
for i = 4, #ARGV do
  local old = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if (not old) or tonumber(old) < tonumber(ARGV[3]) then table.insert(fresh, ARGV[i]) end
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
end
-- The whole set expires a minute after its newest member went away (apps nobody uses leave nothing behind).
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) - tonumber(ARGV[3]) + 60000)
redis.call('SADD', KEYS[2], ARGV[1])
return fresh`;

// KEYS: the app's set, the set of apps. ARGV: cutoff, app id.
const SWEEP = `
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1]) end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return gone`;

function redisStore(redis: Redis): Store {
  return {
    async touch(appId, userIds, now, cutoff) {
      return (await redis.eval(TOUCH, 2, keyOf(appId), APPS, appId, String(now), String(cutoff), ...userIds)) as string[];
    },
    async lastSeen(appId, userIds, cutoff) {
      const scores = userIds.length ? await redis.zmscore(keyOf(appId), ...userIds) : [];
      const out = new Map<string, number>();
      userIds.forEach((id, i) => {
        const s = scores[i];
        if (s != null && Number(s) >= cutoff) out.set(id, Number(s));
      });
      return out;
    },
    async remove(appId, userId) {
      return (await redis.zrem(keyOf(appId), userId)) > 0;
    },
    async sweep(cutoff) {
      const out = new Map<string, string[]>();
      for (const appId of await redis.smembers(APPS)) {
        const gone = (await redis.eval(SWEEP, 2, keyOf(appId), APPS, String(cutoff), appId)) as string[];
        if (gone.length) out.set(appId, gone);
      }
      return out;
    },
  };
}

function memoryStore(): Store {
  const apps = new Map<string, Map<string, number>>();
  return {
    async touch(appId, userIds, now, cutoff) {
      const seen = apps.get(appId) ?? new Map<string, number>();
      apps.set(appId, seen);
      const fresh = userIds.filter((id) => (seen.get(id) ?? -Infinity) < cutoff);
      for (const id of userIds) seen.set(id, now);
      return fresh;
    },
    async lastSeen(appId, userIds, cutoff) {
      const seen = apps.get(appId);
      const out = new Map<string, number>();
      for (const id of userIds) {
        const s = seen?.get(id);
        if (s !== undefined && s >= cutoff) out.set(id, s);
      }
      return out;
    },
    async remove(appId, userId) {
      return apps.get(appId)?.delete(userId) ?? false;
    },
    async sweep(cutoff) {
      const out = new Map<string, string[]>();
      for (const [appId, seen] of apps) {
        const gone = [...seen].filter(([, s]) => s < cutoff).map(([id]) => id);
        for (const id of gone) seen.delete(id);
        if (gone.length) out.set(appId, gone);
        if (seen.size === 0) apps.delete(appId);
      }
      return out;
    },
  };
}

/** Creates presence over Redis (when the bus has it) or memory, and starts the sweeper that announces AWAY. */
export function createPresence(env: Env, bus: Bus, log: Logger): Presence {
  const store = bus.redis ? redisStore(bus.redis) : memoryStore();
  const awayMs = env.PRESENCE_AWAY_SECONDS * 1000;
  const cutoff = () => Date.now() - awayMs;
  const sweeper = setInterval(
    () =>
      void store
        .sweep(cutoff())
        .then((gone) => {
          for (const [appId, userIds] of gone) bus.publish('presence', appId, { userIds, status: 'AWAY' });
        })
        .catch((err: Error) => log.warn({ err: err.message }, 'presence sweep failed')),
    Math.min(Math.max(awayMs / 4, 250), 15_000),
  );
  sweeper.unref();
  return {
    async touch(appId, userIds) {
      if (userIds.length === 0) return;
      const fresh = await store.touch(appId, userIds, Date.now(), cutoff());
      if (fresh.length) bus.publish('presence', appId, { userIds: fresh, status: 'ACTIVE' });
    },
    async leave(appId, userId) {
      if (await store.remove(appId, userId)) bus.publish('presence', appId, { userIds: [userId], status: 'AWAY' });
    },
    async lastSeen(appId, userIds) {
      const m = await store.lastSeen(appId, userIds, cutoff());
      return new Map([...m].map(([id, s]) => [id, new Date(s)]));
    },
    close: () => clearInterval(sweeper),
  };
}
