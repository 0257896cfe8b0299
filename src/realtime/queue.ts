/**
 * The buffer between a live stream's producers (hub, bus) and its consumer (the transport). It is bounded: a consumer
 * that does not read (a stalled socket applies backpressure all the way here) cannot grow memory. On overflow the
 * buffer is dropped and replaced by one final item that tells the client why the stream ended.
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private ended = false;
  private roomWaiters: (() => void)[] = [];
  private cleanup: (() => void) | null;

  /**
   * @param limit most items held for a consumer that has not read them yet
   * @param overflow the final item sent instead of the dropped ones
   * @param cleanup runs once when the stream ends for any reason (consumer left, end(), overflow)
   */
  constructor(
    private readonly limit: number,
    private readonly overflow: () => T,
    cleanup: () => void,
  ) {
    this.cleanup = cleanup;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Adds an item; on overflow the stream ends with the overflow item. */
  push(item: T): void {
    if (!this.ended) this.enqueue(item, false);
  }

  private enqueue(item: T, force: boolean): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: item, done: false });
      return;
    }
    if (!force && this.items.length >= this.limit) {
      this.items = [];
      this.end(this.overflow());
      return;
    }
    this.items.push(item);
  }

  /** Ends the stream after what is buffered, optionally with a final item (e.g. an error to report). */
  end(final?: T): void {
    if (this.ended) return;
    if (final !== undefined) this.enqueue(final, true);
    this.ended = true;
    this.wakeProducers();
    this.runCleanup();
    if (this.waiting && this.items.length === 0) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: undefined, done: true });
    }
  }

  /** Items that can still be added without overflowing. */
  get free(): number {
    return Math.max(0, this.limit - this.items.length);
  }

  /** Resolves once the buffer is at most half full (or the stream ended): producers that can wait, wait here. */
  room(): Promise<void> {
    if (this.ended || this.items.length <= this.limit / 2) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private wakeProducers(): void {
    if (this.ended || this.items.length <= this.limit / 2) for (const w of this.roomWaiters.splice(0)) w();
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    this.wakeProducers();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.items = [];
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private runCleanup() {
    const c = this.cleanup;
    this.cleanup = null;
    c?.();
  }
}
