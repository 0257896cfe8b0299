/**
 * Fan-out from the event log to webhook_delivery rows. One process at a time holds the single webhook_cursor row
 * (FOR UPDATE SKIP LOCKED: the others skip the round) and reads the events after it in (txid, id) order — only rows
 * of transactions older than every running one (`txid < pg_snapshot_xmin`), which are final: a transaction that
 * commits late has a txid at or above that horizon, so it is read in a later round instead of being skipped. The
 * deliveries and the new cursor are written in the same transaction, so every event is fanned out exactly once.
 */
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { WIRE_TYPE_OF_LOG, type WireType } from './event-types.js';
import { buildPayloads, type LogRow } from './payload.js';
import type { EventType } from '../services/events.js';

/** Events read per transaction. */
export const FANOUT_BATCH = 200;

const FINAL = Prisma.sql`pg_snapshot_xmin(pg_current_snapshot())::text::bigint`;

interface RawEvent {
  id: bigint;
  txid: bigint;
  thread_id: string;
  seq: number;
  type: string;
  payload: Record<string, unknown> | null;
  created_at: Date;
  app_id: string;
}

/** True when the log has final events after the cursor (one cheap index probe; most rounds stop here). */
export async function hasNewEvents(prisma: PrismaClient): Promise<boolean> {
  const rows = await prisma.$queryRaw<{ due: boolean }[]>`
    SELECT EXISTS (
      SELECT 1 FROM webhook_cursor c JOIN event e ON (e.txid, e.id) > (c.txid, c.event_id)
      WHERE c.id = 1 AND e.txid < ${FINAL}) AS due`;
  return rows[0]?.due === true;
}

/**
 * Fans out one batch. Returns the number of events read (FANOUT_BATCH means there may be more), or 0 when another
 * process holds the cursor.
 */
export async function fanOutBatch(prisma: PrismaClient): Promise<{ events: number; deliveries: number }> {
  return prisma.$transaction(
    async (tx) => {
      const cursor = (
        await tx.$queryRaw<{ txid: bigint; event_id: bigint }[]>`SELECT txid, event_id FROM webhook_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED`
      )[0];
      if (!cursor) {
        // Held by another process this round. Missing altogether (the migration creates it): start at the log's head.
        const exists = await tx.webhookCursor.count({ where: { id: 1 } });
        if (!exists) {
          await tx.$executeRaw`INSERT INTO webhook_cursor (id, txid, event_id)
            SELECT 1, COALESCE(MAX(txid), 0), COALESCE(MAX(id), 0) FROM event ON CONFLICT (id) DO NOTHING`;
        }
        return { events: 0, deliveries: 0 };
      }
      const raw = await tx.$queryRaw<RawEvent[]>`
        SELECT e.id, e.txid, e.thread_id, e.seq, e.type, e.payload, e.created_at, t.app_id
        FROM event e JOIN thread t ON t.id = e.thread_id
        WHERE (e.txid, e.id) > (${cursor.txid}, ${cursor.event_id}) AND e.txid < ${FINAL}
        ORDER BY e.txid, e.id
        LIMIT ${FANOUT_BATCH}`;
      const last = raw[raw.length - 1];
      if (!last) return { events: 0, deliveries: 0 };

      const rows: LogRow[] = raw.map((r) => ({
        id: BigInt(r.id),
        txid: BigInt(r.txid),
        threadId: r.thread_id,
        appId: r.app_id,
        seq: Number(r.seq),
        type: r.type,
        payload: r.payload ?? {},
        createdAt: r.created_at,
      }));
      const deliverable = rows.flatMap((row) => {
        const wire = WIRE_TYPE_OF_LOG[row.type as EventType];
        return wire ? [{ row, wire }] : [];
      });
      const appIds = [...new Set(deliverable.map((d) => d.row.appId))];
      const webhooks = appIds.length
        ? await tx.webhook.findMany({ where: { appId: { in: appIds }, enabled: true }, select: { id: true, appId: true, events: true, createdAt: true } })
        : [];

      // Each event goes to the enabled webhooks of its app that subscribe to its type and existed when it happened.
      const targets: { row: LogRow; wire: WireType; webhookIds: string[] }[] = [];
      for (const d of deliverable) {
        const webhookIds = webhooks
          .filter((w) => w.appId === d.row.appId && w.events.includes(d.wire) && w.createdAt <= d.row.createdAt)
          .map((w) => w.id);
        if (webhookIds.length) targets.push({ ...d, webhookIds });
      }
      let deliveries = 0;
      if (targets.length) {
        const payloads = await buildPayloads(tx, targets);
        const data = targets.flatMap((t) =>
          t.webhookIds.map((webhookId) => ({ webhookId, eventId: t.row.id, type: t.wire, payload: payloads.get(t.row.id) ?? {} })),
        );
        // A unique (webhook_id, event_id) makes a repeated fan-out (should the cursor ever move back) harmless.
        deliveries = (await tx.webhookDelivery.createMany({ data, skipDuplicates: true })).count;
      }
      await tx.$executeRaw`UPDATE webhook_cursor SET txid = ${BigInt(last.txid)}, event_id = ${BigInt(last.id)} WHERE id = 1`;
      return { events: raw.length, deliveries };
    },
    { timeout: 30_000, maxWait: 10_000 },
  );
}
