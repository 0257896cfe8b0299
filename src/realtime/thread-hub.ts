/**
 * One per process: for every thread with live local subscribers, one bus subscription and one reader of the event
 * log. A hint only says "the log of thread T reached seq N"; the hub reads every event after the last one it has seen
 * (so a lost hint only delays events until the next hint, the reconnect catch-up or the poll) and hands each batch,
 * in seq order, to the thread's local streams. Streams dedupe by seq themselves.
 */
import type { Logger } from 'pino';
import type { PrismaClient } from '../generated/prisma/client.js';
import { eventsAfter, EVENT_PAGE, type LoggedEvent } from '../services/event-log.js';
import type { Bus } from './bus.js';

export type EventListener = (events: LoggedEvent[]) => void;

interface Entry {
  listeners: Set<EventListener>;
  /** Seq of the newest event handed out (or the thread's head when the entry was made). */
  head: number;
  ready: Promise<void>;
  reading: boolean;
  readAgain: boolean;
  unsubscribe: () => void;
}

export class ThreadHub {
  private readonly threads = new Map<string, Entry>();
  private readonly poll: NodeJS.Timeout | null;
  private readonly stopReconnect: () => void;

  /** @param pollMs how often live threads are checked against the database even without hints (0: never) */
  constructor(
    private readonly prisma: PrismaClient,
    private readonly bus: Bus,
    private readonly log: Logger,
    pollMs: number,
  ) {
    this.stopReconnect = bus.onReconnect(() => void this.catchUp());
    this.poll = pollMs > 0 ? setInterval(() => void this.catchUp(), pollMs) : null;
    this.poll?.unref();
  }

  /**
   * Adds a listener to a thread's live events. Resolves with the seq from which the listener will get every event
   * (events after `head` are all delivered to it, in order).
   */
  async join(threadId: string, listener: EventListener): Promise<{ head: number; leave: () => void }> {
    let entry = this.threads.get(threadId);
    if (!entry) {
      const created: Entry = {
        listeners: new Set(),
        head: 0,
        ready: Promise.resolve(),
        reading: false,
        readAgain: false,
        unsubscribe: () => {},
      };
      const subscription = this.bus.subscribe('thread', threadId, (hint) => {
        if (hint.seq > created.head) this.read(threadId, created);
      });
      created.unsubscribe = subscription;
      // Read the head only once Redis confirmed the subscription (hints from other instances are then not missed);
      // while Redis is down, do not wait longer than a second: the reconnect catch-up and the poll cover the rest.
      const confirmed = Promise.race([subscription.ready, new Promise<void>((r) => setTimeout(r, 1000).unref())]);
      created.ready = confirmed
        .then(() => this.prisma.thread.findUnique({ where: { id: threadId }, select: { lastEventSeq: true } }))
        .then((t) => {
          created.head = Math.max(created.head, t?.lastEventSeq ?? 0);
        });
      this.threads.set(threadId, created);
      entry = created;
    }
    const e = entry;
    e.listeners.add(listener);
    const leave = () => {
      e.listeners.delete(listener);
      if (e.listeners.size === 0 && this.threads.get(threadId) === e) {
        this.threads.delete(threadId);
        e.unsubscribe();
      }
    };
    try {
      await e.ready;
    } catch (err) {
      // A failed head read must not poison the thread: drop the entry so that the next join starts afresh.
      leave();
      if (this.threads.get(threadId) === e) {
        this.threads.delete(threadId);
        e.unsubscribe();
      }
      throw err;
    }
    return { head: e.head, leave };
  }

  /** Threads with live local listeners (for metrics and tests). */
  liveThreads(): number {
    return this.threads.size;
  }

  /** Reads what every live thread missed (after a Redis reconnect, and on the poll). */
  async catchUp(): Promise<void> {
    const ids = [...this.threads.keys()];
    if (ids.length === 0) return;
    try {
      const heads = await this.prisma.thread.findMany({ where: { id: { in: ids } }, select: { id: true, lastEventSeq: true } });
      for (const t of heads) {
        const entry = this.threads.get(t.id);
        if (entry && t.lastEventSeq > entry.head) this.read(t.id, entry);
      }
    } catch (err) {
      this.log.warn({ err }, 'stream catch-up failed; retrying on the next poll');
    }
  }

  close(): void {
    if (this.poll) clearInterval(this.poll);
    this.stopReconnect();
    for (const e of this.threads.values()) e.unsubscribe();
    this.threads.clear();
  }

  /** Reads events after the entry's head until none are left; one reader per thread at a time. */
  private read(threadId: string, entry: Entry): void {
    if (entry.reading) {
      entry.readAgain = true;
      return;
    }
    entry.reading = true;
    void (async () => {
      try {
        await entry.ready;
        do {
          entry.readAgain = false;
          for (;;) {
            const events = await eventsAfter(this.prisma, threadId, entry.head);
            const last = events[events.length - 1];
            if (!last) break;
            entry.head = last.seq;
            for (const l of entry.listeners) l(events);
            if (events.length < EVENT_PAGE) break;
          }
        } while (entry.readAgain);
      } catch (err) {
        this.log.warn({ err, threadId }, 'reading the event log failed; the next hint or poll retries');
      } finally {
        entry.reading = false;
      }
    })();
  }
}
