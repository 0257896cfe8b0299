/** Real subscription clients for tests: graphql-ws over a WebSocket and graphql-sse over SSE, plus a collector. */
import { createClient as createSseClient } from 'graphql-sse';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Payload<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Collects what one subscription delivers and lets a test wait for it. */
export class Collector<T = Record<string, any>> {
  readonly items: Payload<T>[] = [];
  completed = false;
  error: unknown = null;
  private waiters: (() => void)[] = [];
  dispose: () => void = () => {};

  push(p: Payload<T>) {
    this.items.push(p);
    this.wake();
  }
  finish(error: unknown = null) {
    this.completed = true;
    this.error = error;
    this.wake();
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `check` holds (re-evaluated on every delivery), failing after `ms`. */
  async until(check: (c: this) => boolean, ms = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.items.length} items: ${JSON.stringify(this.items.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  count(n: number, ms?: number) {
    return this.until((c) => c.items.length >= n, ms, `${n} items`);
  }
  done(ms?: number) {
    return this.until((c) => c.completed, ms, 'completion');
  }
}

export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

/** A graphql-ws client that does not retry (tests decide when to reconnect). */
export function wsClient(httpUrl: string, credential?: string, extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: credential ? { authorization: `Bearer ${credential}` } : {},
    onNonLazyError: () => {},
    ...extra,
  });
}

/** Subscribes through graphql-ws and collects. */
export function subscribeWs<T = Record<string, any>>(client: Client, query: string, variables: Record<string, unknown> = {}): Collector<T> {
  const c = new Collector<T>();
  c.dispose = client.subscribe<T>(
    { query, variables },
    { next: (p) => c.push(p as Payload<T>), error: (e) => c.finish(e ?? 'error'), complete: () => c.finish() },
  );
  return c;
}

/** Subscribes through SSE (yoga's distinct-connections mode, the graphql-sse client) and collects. */
export function subscribeSse<T = Record<string, any>>(httpUrl: string, credential: string, query: string, variables: Record<string, unknown> = {}): Collector<T> {
  const client = createSseClient({ url: httpUrl, singleConnection: false, retryAttempts: 0, headers: { authorization: `Bearer ${credential}` } });
  const c = new Collector<T>();
  const stop = client.subscribe<T>(
    { query, variables },
    { next: (p) => c.push(p as Payload<T>), error: (e) => c.finish(e ?? 'error'), complete: () => c.finish() },
  );
  c.dispose = () => {
    stop();
    client.dispose();
  };
  return c;
}

/** Sleeps briefly (to give an unwanted event a chance to arrive before asserting there was none). */
export async function settle(ms = 150): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `subscribe` and waits until the in-process server has `n` more live streams (subscribed and caught up), so a
 * test can send right after without racing the subscription.
 */
export async function opened<T>(server: { deps: { realtime: { streamsOpened: number } } }, n: number, subscribe: () => T, ms = 10_000): Promise<T> {
  const target = server.deps.realtime.streamsOpened + n;
  const result = subscribe();
  const deadline = Date.now() + ms;
  while (server.deps.realtime.streamsOpened < target) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} stream(s) to open`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return result;
}
