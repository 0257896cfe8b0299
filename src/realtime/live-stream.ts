/**
 * The shape shared by bus-driven streams (typing, presence, feed, unread): a registered bounded buffer, an access
 * watch, handlers that run one after another (so async checks keep the bus order), and cleanup when it ends.
 */
import type { Context, Viewer } from '../context.js';
import type { AppError } from '../errors.js';
import { watchAccess } from './access.js';
import { endWith, type StreamEnd } from './realtime.js';

export interface LiveSink<T> {
  push(item: T): void;
  /** Runs `work` after all earlier queued work (keeps async handlers in bus order). */
  enqueue(work: () => Promise<void> | void): void;
}

/**
 * Opens a stream. `check` decides, against a fresh viewer, whether access still holds (null: only the credential
 * itself must stay valid). `start` subscribes and returns the cleanups to run when the stream ends.
 */
export function liveStream<T extends { kind: string }>(
  ctx: Context,
  check: ((viewer: Viewer) => Promise<AppError | null>) | null,
  start: (sink: LiveSink<T>) => (() => void)[],
): AsyncIterable<T | StreamEnd> {
  const cleanups: (() => void)[] = [];
  const queue = ctx.deps.realtime.stream<T>(() => cleanups.forEach((c) => c()));
  const access = watchAccess(ctx, check ?? (async () => null), (error) => queue.end(endWith(error)));
  cleanups.push(() => access.stop());
  let chain: Promise<void> = Promise.resolve();
  const sink: LiveSink<T> = {
    push: (item) => queue.push(item),
    enqueue: (work) => {
      chain = chain.then(work).catch((err: unknown) => ctx.deps.log.warn({ err }, 'live stream handler failed'));
    },
  };
  cleanups.push(...start(sink));
  return ctx.deps.realtime.opened(queue, ctx.signal);
}
