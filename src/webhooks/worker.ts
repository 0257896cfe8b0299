/**
 * The webhook loop of one server process: every WEBHOOK_POLL_MS (and at once when this process publishes events) it
 * fans new events out to deliveries and sends what is due, at most WEBHOOK_CONCURRENCY at a time. It runs beside the
 * request path and never blocks it; errors are logged and the loop goes on.
 */
import type { Logger } from 'pino';
import type { Env } from '../env.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { FANOUT_BATCH, fanOutBatch, hasNewEvents } from './fanout.js';
import { claimDeliveries, recordOutcome, releaseClaim, send, type Claim } from './sender.js';

/** Batches fanned out per round at most, so that a backlog does not hold up sending. */
const MAX_BATCHES_PER_ROUND = 10;

export interface WebhookWorkerDeps {
  env: Env;
  prisma: PrismaClient;
  log: Logger;
}

/** Workers by the deps object of their server, so publishEvents can wake its own process's worker. */
const workers = new WeakMap<object, WebhookWorker>();

/** How often an idle worker (no enabled webhook anywhere) looks again; a webhook made elsewhere is seen this late. */
const IDLE_RECHECK_MS = 5_000;

/**
 * Wakes the webhook worker of the server these deps belong to (a no-op when none runs). `changed`: a webhook was
 * created, enabled or replayed here, so an idle worker becomes active at once.
 */
export function wakeWebhooks(deps: object, changed = false): void {
  workers.get(deps)?.wake(changed);
}

export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = new AbortController();

  constructor(private readonly deps: WebhookWorkerDeps) {}

  /** Starts polling; `key` is the object wakeWebhooks is called with (the server's deps). */
  start(key: object): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopping = new AbortController();
    workers.set(key, this);
    this.schedule(0);
  }

  /**
   * Whether any enabled webhook exists (in any app), as last checked at `checkedAt`. While there is none, sends do
   * not wake the worker and rounds do nothing but look again every IDLE_RECHECK_MS: apps without webhooks pay
   * nothing per chat. Nothing is lost meanwhile, since fan-out reads the event log from its cursor.
   */
  private active = true;
  private checkedAt = 0;

  /** Runs a round as soon as possible (coalesced: a wake during a round runs one more round after it). */
  wake(changed = false): void {
    if (this.stopped) return;
    if (changed) this.checkedAt = 0;
    else if (!this.active) return;
    if (this.round) this.again = true;
    else this.schedule(0);
  }

  /**
   * Stops polling, interrupts attempts in flight and gives their claims back (another process, or this one after a
   * restart, sends them). Resolves when nothing of the worker touches the database any more.
   */
  async stop(key?: object): Promise<void> {
    this.stopped = true;
    if (key && workers.get(key) === this) workers.delete(key);
    if (this.timer) clearTimeout(this.timer);
    this.stopping.abort();
    await this.round;
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), ms);
    this.timer.unref();
  }

  /** Rounds failed in a row (the database is unreachable, say): they back off and are logged sparingly. */
  private failures = 0;

  private run(): void {
    if (this.stopped || this.round) return;
    const { env, log } = this.deps;
    this.round = this.work()
      .then(() => {
        if (this.failures > 0) log.info({ failures: this.failures }, 'webhook rounds work again');
        this.failures = 0;
      })
      .catch((err: Error) => {
        this.failures++;
        if (this.failures === 1 || this.failures % 100 === 0) log.error({ err, failures: this.failures }, 'webhook round failed');
      })
      .finally(() => {
        this.round = null;
        if (this.stopped) return;
        const again = this.again && this.failures === 0;
        this.again = false;
        const delay = this.failures ? Math.min(env.WEBHOOK_POLL_MS * 2 ** Math.min(this.failures, 6), 10_000) : env.WEBHOOK_POLL_MS;
        this.schedule(again ? 0 : delay);
      });
  }

  private async work(): Promise<void> {
    const { prisma } = this.deps;
    if (Date.now() - this.checkedAt >= IDLE_RECHECK_MS) {
      this.active = (await prisma.webhook.count({ where: { enabled: true }, take: 1 })) > 0;
      this.checkedAt = Date.now();
    }
    if (!this.active) return;
    if (await hasNewEvents(prisma)) {
      for (let i = 0; i < MAX_BATCHES_PER_ROUND && !this.stopped; i++) {
        const { events } = await fanOutBatch(prisma);
        if (events < FANOUT_BATCH) break;
        if (i === MAX_BATCHES_PER_ROUND - 1) this.again = true;
      }
    }
    if (!this.stopped) await this.sendDue();
  }

  private async sendDue(): Promise<void> {
    const { env, prisma } = this.deps;
    const claims = await claimDeliveries(prisma, {
      limit: env.WEBHOOK_CONCURRENCY - this.inFlight.size,
      perWebhook: Math.max(1, Math.ceil(env.WEBHOOK_CONCURRENCY / 2)),
      // Longer than an attempt can take, so a lease lapses only when its process died.
      leaseMs: env.WEBHOOK_TIMEOUT_MS * 2 + 30_000,
    });
    for (const claim of claims) {
      const task: Promise<void> = this.attempt(claim).finally(() => {
        this.inFlight.delete(task);
        this.wake();
      });
      this.inFlight.add(task);
    }
  }

  private async attempt(claim: Claim): Promise<void> {
    const { env, prisma, log } = this.deps;
    try {
      const outcome = await send(claim, env.WEBHOOK_TIMEOUT_MS, this.stopping.signal);
      if (this.stopping.signal.aborted && !outcome.ok) {
        await releaseClaim(prisma, claim);
        return;
      }
      await recordOutcome(prisma, claim, outcome, { maxAttempts: env.WEBHOOK_MAX_ATTEMPTS, retryBaseMs: env.WEBHOOK_RETRY_BASE_MS });
      if (!outcome.ok) log.debug({ webhookId: claim.webhookId, delivery: String(claim.id), attempts: claim.attempts, error: outcome.error }, 'webhook attempt failed');
    } catch (err) {
      // The lease lapses and the delivery is retried (by any process).
      log.error({ err, webhookId: claim.webhookId, delivery: String(claim.id) }, 'recording a webhook attempt failed');
    }
  }
}
