/**
 * Typed pub/sub topics. Redis (REDIS_URL) fans hints out between instances; without it an in-process event target
 * serves a single instance. Messages are small wake-up hints; the event log in PostgreSQL is the record.
 */
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface ThreadHint {
  threadId: string;
  /** The event-log seq of the change. */
  seq: number;
  type: string;
}

export type PubSubTopics = {
  'thread.event': [threadId: string, hint: ThreadHint];
};

export type PubSub = ReturnType<typeof createPubSub<PubSubTopics>> & { close(): Promise<void> };

/** Creates the pub/sub: Redis-backed when `redisUrl` is set, in-process otherwise. */
export function createParleyPubSub(redisUrl: string | undefined, log: Logger): PubSub {
  if (!redisUrl) {
    return Object.assign(createPubSub<PubSubTopics>(), { close: async () => {} });
  }
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: false });
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null });
  for (const [name, c] of [['publish', publishClient], ['subscribe', subscribeClient]] as const) {
    c.on('error', (err: Error) => log.warn({ err: err.message, client: name }, 'redis error'));
  }
  const pubsub = createPubSub<PubSubTopics>({
    eventTarget: createRedisEventTarget({ publishClient, subscribeClient }),
  });
  return Object.assign(pubsub, {
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  });
}

/** Publishes after commit; a failed publish is logged and never fails the mutation (the event log has the change). */
export function publishHint(pubsub: PubSub, log: Logger, hint: ThreadHint): void {
  try {
    pubsub.publish('thread.event', hint.threadId, hint);
  } catch (err) {
    log.warn({ err, hint }, 'publish failed');
  }
}
