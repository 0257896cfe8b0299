/**
 * The message bus between instances: typed topics over Redis pub/sub (REDIS_URL) or in-process (single instance).
 *
 * Messages are small wake-up hints; the event log in PostgreSQL is the record. The bus is ours rather than
 * `@graphql-yoga/redis-event-target` because Parley needs three things that target does not give:
 * - a publish never raises and never leaves an unhandled rejection when Redis is down (mutations must commit anyway);
 * - messages reach this instance's subscribers directly, so local subscribers keep working while Redis is down
 *   (the copy that comes back from Redis is recognised by its origin and dropped);
 * - a hook when the subscriber connection is (re)established, so streams can catch up on hints lost meanwhile.
 *
 * Each topic has at most one Redis SUBSCRIBE per process, released when its last local handler leaves.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** A change in a thread's event log (chat seq numbers live in the event payloads, not here). */
export interface ThreadHint {
  threadId: string;
  /** The event-log seq of the change. */
  seq: number;
  type: string;
}

/** Activity in an app's threads, for feed and unread streams. */
export interface ActivityHint extends ThreadHint {
  authorId: string | null;
  /** A chat that is an agent-only note (visitors' streams skip it). */
  internal?: boolean;
  /** A chat sent by the conversation's visitor (moves the conversation to the top of the inbox). */
  byVisitor?: boolean;
}

export interface TypingHint {
  threadId: string;
  userId: string;
  isTyping: boolean;
}

export interface PresenceHint {
  userIds: string[];
  status: 'ACTIVE' | 'AWAY';
}

/** Something about one user changed: their read state (another device) or their access. */
export type UserHint = { type: 'read'; threadId: string; lastReadSeq: number } | { type: 'access' };

/** Topic name -> message type. The key (thread, app or user id) is appended to the name. */
export interface Topics {
  thread: ThreadHint;
  activity: ActivityHint;
  typing: TypingHint;
  presence: PresenceHint;
  user: UserHint;
}

export type TopicName = keyof Topics;
export type Unsubscribe = (() => void) & { ready: Promise<void> };
type Handler = (message: never) => void;

export interface Bus {
  /** Delivers to this instance's handlers now and to other instances through Redis; never throws. */
  publish<T extends TopicName>(topic: T, key: string, message: Topics[T]): void;
  /**
   * Registers a handler; returns the function that removes it. Its `ready` resolves once Redis confirmed the
   * subscription (at once in single-instance mode; it never rejects).
   */
  subscribe<T extends TopicName>(topic: T, key: string, handler: (message: Topics[T]) => void): Unsubscribe;
  /** Called whenever the subscriber connection becomes ready again after a loss (not on the first connect). */
  onReconnect(listener: () => void): () => void;
  /** Redis channels this process currently subscribes to (for leak checks). */
  channels(): string[];
  /** The command connection to Redis (null in single-instance mode), for state such as presence. */
  readonly redis: Redis | null;
  close(): Promise<void>;
}

const channelOf = (topic: TopicName, key: string) => `parley:${topic}:${key}`;

/** Creates the bus: Redis-backed when `redisUrl` is set, in-process otherwise. */
export function createBus(redisUrl: string | undefined, log: Logger): Bus {
  const origin = randomUUID();
  const handlers = new Map<string, Set<Handler>>();
  const confirmed = new Map<string, Promise<void>>();
  const reconnectListeners = new Set<() => void>();

  const deliver = (channel: string, message: unknown) => {
    for (const h of handlers.get(channel) ?? []) {
      try {
        (h as (m: unknown) => void)(message);
      } catch (err) {
        log.error({ err, channel }, 'bus handler failed');
      }
    }
  };

  let pub: Redis | null = null;
  let sub: Redis | null = null;
  if (redisUrl) {
    // No offline queue on the publisher: while Redis is down a publish fails at once instead of piling up.
    pub = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    sub = new Redis(redisUrl, { maxRetriesPerRequest: null, autoResubscribe: true });
    for (const [name, c] of [['publish', pub], ['subscribe', sub]] as const) {
      c.on('error', (err: Error) => log.warn({ err: err.message, client: name }, 'redis error'));
    }
    let readyBefore = false;
    sub.on('ready', () => {
      if (readyBefore) {
        log.info('redis subscriber reconnected');
        for (const l of reconnectListeners) l();
      }
      readyBefore = true;
    });
    sub.on('message', (channel: string, raw: string) => {
      let parsed: { o: string; m: unknown };
      try {
        parsed = JSON.parse(raw) as { o: string; m: unknown };
      } catch {
        return;
      }
      if (parsed.o !== origin) deliver(channel, parsed.m);
    });
  }

  return {
    publish(topic, key, message) {
      const channel = channelOf(topic, key);
      deliver(channel, message);
      if (!pub) return;
      pub.publish(channel, JSON.stringify({ o: origin, m: message })).catch((err: Error) => {
        log.warn({ err: err.message, channel }, 'publish failed; subscribers elsewhere catch up from the event log');
      });
    },
    subscribe(topic, key, handler) {
      const channel = channelOf(topic, key);
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        const ready = sub
          ? sub.subscribe(channel).then(
              () => undefined,
              (err: Error) => log.warn({ err: err.message, channel }, 'subscribe failed'),
            )
          : Promise.resolve();
        confirmed.set(channel, ready);
      }
      set.add(handler as Handler);
      const unsubscribe = () => {
        const s = handlers.get(channel);
        if (!s?.delete(handler as Handler) || s.size > 0) return;
        handlers.delete(channel);
        confirmed.delete(channel);
        sub?.unsubscribe(channel).catch((err: Error) => log.warn({ err: err.message, channel }, 'unsubscribe failed'));
      };
      return Object.assign(unsubscribe, { ready: confirmed.get(channel) ?? Promise.resolve() });
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    channels: () => [...handlers.keys()],
    redis: pub,
    async close() {
      handlers.clear();
      pub?.disconnect();
      sub?.disconnect();
    },
  };
}
