/**
 * One subscriber's stream of a thread's events: authorise, replay from the event log after the client's cursor, then
 * continue live from the hub, with no gap and no duplicate (every item is numbered by the thread's event seq and
 * delivered once, in order). The viewer's own read-state changes ride along, numbered by the last delivered seq.
 */
import type { Context, Viewer } from '../context.js';
import { AppError, NotFoundError, ValidationError } from '../errors.js';
import { eventsAfter, EVENT_PAGE, parseEventCursor, type LoggedEvent } from '../services/event-log.js';
import { findVisibleThread } from '../services/thread.js';
import { visibleThreadWhere } from '../services/visibility.js';
import { watchAccess } from './access.js';
import { endWith, type StreamEnd } from './realtime.js';

export type ThreadStreamItem =
  | { kind: 'event'; threadId: string; seq: number; event: LoggedEvent }
  | { kind: 'readState'; threadId: string; seq: number; lastReadSeq: number }
  | { kind: 'resync'; threadId: string; seq: number };

export interface ThreadStreamOptions {
  /** Client cursor to resume after; null starts live from now. */
  after: string | null;
  /** Also deliver the viewer's own read-state changes. */
  readState: boolean;
}

/** Whether the viewer (as it is now) may still see the thread. */
export async function threadAccess(ctx: Context, viewer: Viewer, threadId: string): Promise<AppError | null> {
  const t = await ctx.prisma.thread.findFirst({ where: { id: threadId, ...visibleThreadWhere(viewer) }, select: { id: true } });
  return t ? null : new NotFoundError('Thread not found');
}

/** Opens the stream; throws NotFound/Validation before anything is subscribed when the request is not allowed. */
export async function threadStream(
  ctx: Context,
  threadId: string,
  opts: ThreadStreamOptions,
): Promise<AsyncIterable<ThreadStreamItem | StreamEnd>> {
  const thread = await findVisibleThread(ctx, threadId);
  const resumeAfter = opts.after === null ? null : parseEventCursor(opts.after, thread.id);
  const rt = ctx.deps.realtime;

  let delivered = 0;
  let live = false;
  const pending: LoggedEvent[][] = [];
  let chain: Promise<void> = Promise.resolve();
  const cleanups: (() => void)[] = [];
  const queue = rt.stream<ThreadStreamItem>(() => cleanups.forEach((c) => c()));

  /** Replays the log after the cursor; returns the seq delivered up to. */
  const replay = async (after: number): Promise<number> => {
    const head = (await ctx.prisma.thread.findUniqueOrThrow({ where: { id: thread.id }, select: { lastEventSeq: true } })).lastEventSeq;
    if (after > head) throw ValidationError.field(['after'], 'This cursor is ahead of the thread');
    delivered = after;
    const first = await eventsAfter(ctx.prisma, thread.id, after, EVENT_PAGE);
    if (after < head && first[0]?.seq !== after + 1) {
      // The events right after the cursor were pruned: the client must reload, then it continues live from the head.
      queue.push({ kind: 'resync', threadId: thread.id, seq: head });
      return head;
    }
    await deliver(first);
    // The rest page by page; live batches wait in `pending` meanwhile and are deduped by seq afterwards.
    for (let page = first; page.length === EVENT_PAGE && !queue.closed; ) {
      page = await eventsAfter(ctx.prisma, thread.id, delivered, EVENT_PAGE);
      await deliver(page);
    }
    return delivered;
  };

  const lose = (error: AppError) => queue.end(endWith(error));
  const access = watchAccess(ctx, (viewer) => threadAccess(ctx, viewer, thread.id), lose);
  cleanups.push(() => access.stop());

  /** Delivers events in order, once; a thread change re-checks access before it is shown. */
  const deliver = async (events: LoggedEvent[]) => {
    for (const event of events) {
      if (queue.closed) return;
      if (event.seq <= delivered) continue;
      if (event.type === 'thread.updated' && (await access.recheck())) return;
      delivered = event.seq;
      queue.push({ kind: 'event', threadId: thread.id, seq: event.seq, event });
    }
  };
  // Live batches are processed one after another (access checks are async), in the order the hub hands them out.
  const onLive = (events: LoggedEvent[]) => {
    if (!live) {
      pending.push(events);
      return;
    }
    chain = chain.then(() => deliver(events));
  };

  try {
    const joined = await rt.hub.join(thread.id, onLive);
    cleanups.push(joined.leave);
    if (opts.readState && ctx.viewer.kind === 'user') {
      cleanups.push(
        rt.bus.subscribe('user', ctx.viewer.user.id, (hint) => {
          if (hint.type !== 'read' || hint.threadId !== thread.id) return;
          chain = chain.then(() => queue.push({ kind: 'readState', threadId: thread.id, seq: delivered, lastReadSeq: hint.lastReadSeq }));
        }),
      );
    }
    delivered = resumeAfter === null ? joined.head : await replay(resumeAfter);
  } catch (err) {
    await queue.return();
    throw err;
  }
  live = true;
  for (const batch of pending.splice(0)) chain = chain.then(() => deliver(batch));
  return rt.opened(queue);
}
