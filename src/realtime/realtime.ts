/**
 * The realtime parts of one process: the bus, the thread hub, presence, and the registry of open streams (so that
 * shutdown can end every stream, SSE included, with a clear reason).
 */
import type { Logger } from 'pino';
import type { Env } from '../env.js';
import { AppError, StreamEndedError } from '../errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { pruneEvents } from '../services/event-log.js';
import type { Bus } from './bus.js';
import { createPresence, type Presence } from './presence.js';
import { BoundedQueue } from './queue.js';
import { ThreadHub } from './thread-hub.js';

/** The last item of a stream that the server ends: its resolver raises the error to the client. */
export interface StreamEnd {
  kind: 'end';
  error: AppError;
}

export const endWith = (error: AppError): StreamEnd => ({ kind: 'end', error });

/** Resolver helper: passes items through and raises the error of a StreamEnd. */
export function unwrap<T extends { kind: string }>(item: T | StreamEnd): T {
  if (item.kind === 'end') throw (item as StreamEnd).error;
  return item as T;
}

export class Realtime {
  readonly hub: ThreadHub;
  readonly presence: Presence;
  private readonly streams = new Set<BoundedQueue<StreamEnd>>();
  private readonly pruner: NodeJS.Timeout;

  constructor(
    readonly env: Env,
    prisma: PrismaClient,
    readonly bus: Bus,
    log: Logger,
  ) {
    this.hub = new ThreadHub(prisma, bus, log, env.STREAM_POLL_MS);
    this.presence = createPresence(env, bus, log);
    const retentionMs = env.EVENT_RETENTION_HOURS * 3600_000;
    this.pruner = setInterval(
      () =>
        void pruneEvents(prisma, new Date(Date.now() - retentionMs))
          .then((n) => n && log.info({ deleted: n }, 'pruned the event log'))
          .catch((err: Error) => log.warn({ err: err.message }, 'pruning the event log failed')),
      Math.min(retentionMs / 4, 3600_000),
    );
    this.pruner.unref();
  }

  /** Streams that became live since start (monotonic; tests wait on it instead of sleeping). */
  streamsOpened = 0;

  /** A bounded stream buffer; `cleanup` runs once when it ends. Call `opened` when it is live. */
  stream<T extends { kind: string }>(cleanup: () => void): BoundedQueue<T | StreamEnd> {
    const queue: BoundedQueue<T | StreamEnd> = new BoundedQueue<T | StreamEnd>(
      this.env.STREAM_BUFFER,
      () => endWith(new StreamEndedError('SLOW_CONSUMER', `Stream closed: more than ${this.env.STREAM_BUFFER} events were waiting for this client. Resubscribe with your last cursor.`)),
      () => {
        this.streams.delete(queue as BoundedQueue<StreamEnd>);
        cleanup();
      },
    );
    return queue;
  }

  private stopping = false;

  /**
   * Registers a stream that is now live, so shutdown can end it. `signal` is the HTTP request's (SSE): a client that
   * left while the stream was being set up never reads it, so the stream is released here instead.
   */
  opened<T>(queue: BoundedQueue<T | StreamEnd>, signal?: AbortSignal): BoundedQueue<T | StreamEnd> {
    if (queue.closed) return queue;
    if (signal?.aborted) {
      void queue.return();
      return queue;
    }
    signal?.addEventListener('abort', () => void queue.return(), { once: true });
    if (this.stopping) {
      queue.end(endWith(new StreamEndedError('UNAVAILABLE', 'The server is shutting down; resubscribe with your last cursor')));
      return queue;
    }
    this.streams.add(queue as BoundedQueue<StreamEnd>);
    this.streamsOpened++;
    return queue;
  }

  /** Open streams of this process. */
  openStreams(): number {
    return this.streams.size;
  }

  /** Ends every open stream (shutdown); clients resubscribe elsewhere with their cursor. */
  endAll(): void {
    this.stopping = true;
    for (const q of [...this.streams]) q.end(endWith(new StreamEndedError('UNAVAILABLE', 'The server is shutting down; resubscribe with your last cursor')));
  }

  close(): void {
    clearInterval(this.pruner);
    this.endAll();
    this.hub.close();
    this.presence.close();
  }
}
