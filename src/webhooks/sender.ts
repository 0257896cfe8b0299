/**
 * Sending deliveries: claim due ones (FOR UPDATE SKIP LOCKED, so several processes share the work), POST each one
 * signed per Standard Webhooks, record the outcome. A claim is a lease (`locked_until`): a crashed process's
 * deliveries become due again when it lapses. Outcomes are written only while the lease is still ours.
 */
import { Webhook } from 'standardwebhooks';
import type { PrismaClient } from '../generated/prisma/client.js';
import { backoffMs } from './backoff.js';

/** One claimed delivery, with what it takes to send it. */
export interface Claim {
  id: bigint;
  webhookId: string;
  url: string;
  secret: string;
  payload: unknown;
  /** Attempts including this one. */
  attempts: number;
  /** The lease (epoch ms of locked_until): identifies this claim when recording its outcome. */
  lease: bigint;
}

export interface ClaimOptions {
  /** Most deliveries to claim. */
  limit: number;
  /** Most deliveries of one webhook in flight at once (in every process), so one slow endpoint cannot take every slot. */
  perWebhook: number;
  /** Lease length; longer than an attempt can take. */
  leaseMs: number;
}

/** The Standard Webhooks message id of a delivery: stable across retries and replays, so receivers can dedupe. */
export const messageId = (deliveryId: bigint | string) => `msg_${deliveryId}`;

interface RawClaim {
  id: bigint;
  webhook_id: string;
  url: string;
  secret: string;
  payload: unknown;
  attempts: number;
  lease: bigint;
}

/**
 * Claims due deliveries of enabled webhooks: PENDING with next_attempt_at passed and no live lease (a lapsed lease
 * counts as none). Oldest due first, at most `perWebhook` in flight per webhook. Counts the attempt at claim time.
 */
export async function claimDeliveries(prisma: PrismaClient, o: ClaimOptions): Promise<Claim[]> {
  if (o.limit <= 0) return [];
  const rows = await prisma.$queryRaw<RawClaim[]>`
    WITH cand AS (
      SELECT d.id, d.next_attempt_at FROM webhook w
      CROSS JOIN LATERAL (
        SELECT d.id, d.next_attempt_at FROM webhook_delivery d
        WHERE d.webhook_id = w.id AND d.status = 'PENDING' AND d.next_attempt_at <= now()
          AND (d.locked_until IS NULL OR d.locked_until < now())
        ORDER BY d.next_attempt_at, d.id
        LIMIT GREATEST(0, ${o.perWebhook}::int - (
          SELECT count(*) FROM webhook_delivery b
          WHERE b.webhook_id = w.id AND b.status = 'PENDING' AND b.locked_until >= now()))
      ) d
      WHERE w.enabled
      ORDER BY d.next_attempt_at, d.id
      LIMIT ${o.limit}::int
    ), locked AS (
      SELECT d.id FROM webhook_delivery d
      WHERE d.id IN (SELECT id FROM cand) AND d.status = 'PENDING' AND (d.locked_until IS NULL OR d.locked_until < now())
      FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_delivery d
    SET locked_until = now() + ${o.leaseMs}::int * interval '1 millisecond', attempts = d.attempts + 1, last_attempt_at = now()
    FROM locked l, webhook w
    WHERE d.id = l.id AND w.id = d.webhook_id
    RETURNING d.id, d.webhook_id, w.url, w.secret, d.payload, d.attempts,
      (extract(epoch FROM d.locked_until) * 1000)::bigint AS lease`;
  return rows.map((r) => ({
    id: BigInt(r.id),
    webhookId: r.webhook_id,
    url: r.url,
    secret: r.secret,
    payload: r.payload,
    attempts: Number(r.attempts),
    lease: BigInt(r.lease),
  }));
}

export interface Outcome {
  ok: boolean;
  responseCode: number | null;
  error: string | null;
}

/** Longest part of a response body kept in last_error. */
const BODY_SNIPPET = 200;

/** Text PostgreSQL can store, short enough for a diagnostics column. */
const clean = (s: string) => s.replace(/\0/g, '').slice(0, 500);

/** POSTs one delivery, signed with the webhook's secret. Never throws: failures are outcomes. */
export async function send(claim: Claim, timeoutMs: number, stop: AbortSignal): Promise<Outcome> {
  const body = JSON.stringify(claim.payload);
  const id = messageId(claim.id);
  const now = new Date();
  let signature: string;
  try {
    signature = new Webhook(claim.secret).sign(id, now, body);
  } catch (err) {
    return { ok: false, responseCode: null, error: clean(`Cannot sign: ${(err as Error).message}`) };
  }
  // An explicit timer rather than AbortSignal.any([AbortSignal.timeout(), …]): Node holds timeout signals only weakly,
  // and one that is collected never fires — an attempt to a hanging endpoint would then hang until its lease lapsed.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`Timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  const onStop = () => controller.abort(stop.reason);
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
  try {
    const res = await fetch(claim.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Parley-Webhooks/1',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      // A redirect is not a delivery: the endpoint should be configured with its final URL.
      redirect: 'manual',
      signal: controller.signal,
    });
    const snippet = await readSnippet(res);
    if (res.status >= 200 && res.status < 300) return { ok: true, responseCode: res.status, error: null };
    return { ok: false, responseCode: res.status, error: clean(`HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`) };
  } catch (err) {
    return { ok: false, responseCode: null, error: clean(describe(err, timeoutMs)) };
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', onStop);
  }
}

/** The first bytes of a response body (the rest is discarded so the connection can be reused or closed). */
async function readSnippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_SNIPPET) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(size, BODY_SNIPPET)).trim();
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `Timed out after ${timeoutMs} ms`;
  if (e.name === 'AbortError') return 'Aborted (server shutting down)';
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? 'Request failed'} (${cause})` : (e.message ?? 'Request failed');
}

/**
 * Writes the outcome of an attempt, if the lease is still ours (a replay or a lapsed lease may have handed the
 * delivery on). 2xx: SUCCEEDED. Anything else: retried after a backoff, or FAILED after `maxAttempts`.
 */
export async function recordOutcome(
  prisma: PrismaClient,
  claim: Claim,
  outcome: Outcome,
  o: { maxAttempts: number; retryBaseMs: number },
): Promise<void> {
  if (outcome.ok) {
    await prisma.$executeRaw`
      UPDATE webhook_delivery SET status = 'SUCCEEDED', response_code = ${outcome.responseCode}::int, last_error = NULL, locked_until = NULL
      WHERE id = ${claim.id} AND (extract(epoch FROM locked_until) * 1000)::bigint = ${claim.lease}`;
    return;
  }
  const failed = claim.attempts >= o.maxAttempts;
  const delay = failed ? 0 : backoffMs(claim.attempts, o.retryBaseMs);
  await prisma.$executeRaw`
    UPDATE webhook_delivery SET
      status = ${failed ? 'FAILED' : 'PENDING'}::"WebhookDeliveryStatus",
      next_attempt_at = now() + ${delay}::int * interval '1 millisecond',
      response_code = ${outcome.responseCode}::int, last_error = ${outcome.error}, locked_until = NULL
    WHERE id = ${claim.id} AND (extract(epoch FROM locked_until) * 1000)::bigint = ${claim.lease}`;
}

/** Gives a claim back without counting its attempt (shutdown interrupted it; another process may send it). */
export async function releaseClaim(prisma: PrismaClient, claim: Claim): Promise<void> {
  await prisma.$executeRaw`
    UPDATE webhook_delivery SET locked_until = NULL, attempts = GREATEST(attempts - 1, 0)
    WHERE id = ${claim.id} AND (extract(epoch FROM locked_until) * 1000)::bigint = ${claim.lease}`;
}
