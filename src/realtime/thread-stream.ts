/**
 * One subscriber's stream of a thread's events: authorise, replay from the event log after the client's cursor, then
 * continue live from the hub, with no gap and no duplicate (every item is numbered by the thread's event seq and
 * delivered once, in order). The viewer's own read-state changes ride along, numbered by the last delivered seq.
 */
import type { Context, Viewer } from '../context.js';
import { AppError, NotFoundError, ValidationError } from '../errors.js';
import { eventsAfter, EVENT_PAGE, parseEventCursor, type LoggedEvent } from '../services/event-log.js';
import { findVisibleThread } from '../services/thread.js';
import { deliveredUpTo, unackedChatEvents } from '../services/delivery.js';
import { isAgentSide, visibleThreadWhere } from '../services/visibility.js';
import { watchAccess } from './access.js';
import { endWith, type StreamEnd } from './realtime.js';

export type ThreadStreamItem =
  /** `cursorSeq` is set on redelivered chats: their cursor is the resume cursor, so a client's position never goes back. */
  | { kind: 'event'; threadId: string; seq: number; event: LoggedEvent; redelivered?: boolean; cursorSeq?: number }
  | { kind: 'readState'; threadId: string; seq: number; lastReadSeq: number }
  | { kind: 'resync'; threadId: string; seq: number };

export interface ThreadStreamOptions {
  /** Client cursor to resume after; null starts live from now. */
  after: string | null;
  /** Also deliver the viewer's own read-state changes. */
  readState: boolean;
  /** On resume, first redeliver the chats of others the viewer has not acked (see services/delivery.ts). */
  redeliver?: boolean;
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
  // Visitors never see internal notes: events about them are skipped (their seqs still count as delivered).
  const hideInternal = !isAgentSide(ctx.viewer);

  // Seq of the last event handed to the client (or skipped past by a resync).
  let delivered = resumeAfter ?? 0;
  let live = false;
  let chain: Promise<void> = Promise.resolve();
  const cleanups: (() => void)[] = [];
  const queue = rt.stream<ThreadStreamItem>(() => cleanups.forEach((c) => c()));
  const lose = (error: AppError) => queue.end(endWith(error));
  const access = watchAccess(ctx, (viewer) => threadAccess(ctx, viewer, thread.id), lose);
  cleanups.push(() => access.stop());

  /**
   * Delivers events in order, once. A jump past `delivered + 1` can only mean pruned events (the log is gap-free
   * otherwise): the client is told to resync. A thread change re-checks access before it is shown.
   */
  const deliver = async (events: LoggedEvent[]) => {
    for (const event of events) {
      if (queue.closed) return;
      if (event.seq <= delivered) continue;
      if (event.seq > delivered + 1) queue.push({ kind: 'resync', threadId: thread.id, seq: event.seq - 1 });
      if (event.type === 'thread.updated' && (await access.recheck())) return;
      delivered = event.seq;
      if (hideInternal && event.payload.internal === true) continue;
      queue.push({ kind: 'event', threadId: thread.id, seq: event.seq, event });
    }
  };
  /** Everything in the log after `delivered`, page by page, waiting for the client to read (bounded memory). */
  const catchUp = async () => {
    for (;;) {
      await queue.room();
      if (queue.closed) return;
      // One slot is kept for a resync notice or the final item.
      const size = Math.max(1, Math.min(EVENT_PAGE, queue.free - 1));
      const page = await eventsAfter(ctx.prisma, thread.id, delivered, size);
      await deliver(page);
      if (page.length < size) return;
    }
  };
  /** The chats of others up to the cursor that the viewer has not acked, paced like the replay. */
  const redeliver = async (upTo: number) => {
    if (ctx.viewer.kind !== 'user') return;
    const acked = await deliveredUpTo(ctx, thread.id, ctx.viewer.user.id);
    for (let from = 0; ; ) {
      await queue.room();
      if (queue.closed) return;
      const size = Math.max(1, Math.min(EVENT_PAGE, queue.free - 1));
      const page = await unackedChatEvents(ctx, thread.id, acked, from, upTo, size);
      for (const event of page) queue.push({ kind: 'event', threadId: thread.id, seq: event.seq, event, redelivered: true, cursorSeq: upTo });
      if (page.length < size) return;
      from = page[page.length - 1]?.seq ?? upTo;
    }
  };
  // Live batches are processed one after another (access checks are async), in the order the hub hands them out.
  // Until the replay is done they are not needed: the replay reads the log up to its end and a final catch-up
  // covers whatever the hub handed out meanwhile.
  const onLive = (events: LoggedEvent[]) => {
    if (live) chain = chain.then(() => deliver(events));
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
    if (resumeAfter === null) {
      delivered = joined.head;
      live = true;
    } else {
      const head = (await ctx.prisma.thread.findUniqueOrThrow({ where: { id: thread.id }, select: { lastEventSeq: true } })).lastEventSeq;
      if (resumeAfter > head) throw ValidationError.field(['after'], 'This cursor is ahead of the thread');
      // The replay runs while the client reads; live batches start counting once it reached the end of the log.
      chain = chain.then(async () => {
        if (opts.redeliver) await redeliver(resumeAfter);
        await catchUp();
        // The log ends before the head only when its tail after the cursor was pruned.
        if (delivered < head && !queue.closed) {
          queue.push({ kind: 'resync', threadId: thread.id, seq: head });
          delivered = head;
        }
        live = true;
        await catchUp();
      });
    }
  } catch (err) {
    await queue.return();
    throw err;
  }
  return rt.opened(queue, ctx.signal);
}
