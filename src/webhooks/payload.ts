/**
 * The JSON body of a webhook message, Standard Webhooks style: `{ type, timestamp, data }`. Built once per event
 * (shared by every webhook it goes to) from the event-log row plus the current chat / conversation rows.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { WireType } from './event-types.js';

/** One event-log row as fan-out reads it. */
export interface LogRow {
  id: bigint;
  txid: bigint;
  threadId: string;
  appId: string;
  seq: number;
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

export type WebhookPayload = Prisma.InputJsonObject & { type: WireType; timestamp: string; data: Prisma.InputJsonObject };

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

type Db = Pick<PrismaClient, 'chat' | 'conversation'> | Prisma.TransactionClient;

/** Payloads of the given events (with their wire types), keyed by event id. Two queries, whatever the batch size. */
export async function buildPayloads(db: Db, events: { row: LogRow; wire: WireType }[]): Promise<Map<bigint, WebhookPayload>> {
  const chatIds = [...new Set(events.map((e) => str(e.row.payload.chatId)).filter((id): id is string => id !== null))];
  const threadIds = [...new Set(events.map((e) => e.row.threadId))];
  const [chats, conversations] = await Promise.all([
    chatIds.length
      ? db.chat.findMany({ where: { id: { in: chatIds } }, include: { author: { select: { id: true, displayName: true, kind: true } } } })
      : [],
    db.conversation.findMany({ where: { threadId: { in: threadIds } } }),
  ]);
  const chatById = new Map(chats.map((c) => [c.id, c]));
  const conversationByThread = new Map(conversations.map((c) => [c.threadId, c]));

  const out = new Map<bigint, WebhookPayload>();
  for (const { row, wire } of events) {
    const log = row.payload;
    const data: Record<string, Prisma.InputJsonValue | null> = { appId: row.appId, threadId: row.threadId, eventSeq: row.seq };
    const chatId = str(log.chatId);
    if (chatId) {
      const c = chatById.get(chatId);
      data.chat = c
        ? {
            id: c.id,
            seq: c.seq,
            text: c.text,
            authorId: c.authorId,
            author: { id: c.author.id, displayName: c.author.displayName, kind: c.author.kind },
            origin: c.origin,
            internal: c.internal,
            clientId: c.clientId,
            replyToId: c.replyToId,
            createdAt: c.createdAt.toISOString(),
            editedAt: iso(c.editedAt),
            deletedAt: iso(c.deletedAt),
          }
        : null;
    }
    const cv = conversationByThread.get(row.threadId);
    if (cv) {
      data.conversation = { threadId: cv.threadId, status: cv.status, assigneeId: cv.assigneeId, visitorId: cv.visitorId, channelId: cv.channelId };
    }
    if (wire === 'reaction.changed') {
      data.reaction = { chatId, name: str(log.name), userId: str(log.userId), set: log.set === true };
    }
    // The values this event set (the conversation above is the current row, which may have moved on since).
    if (wire === 'conversation.status_changed') {
      data.status = str(log.status);
      data.previousStatus = str(log.previousStatus);
    }
    if (wire === 'conversation.assigned') {
      data.assigneeId = str(log.assigneeId);
      data.previousAssigneeId = str(log.previousAssigneeId);
    }
    out.set(row.id, { type: wire, timestamp: row.createdAt.toISOString(), data });
  }
  return out;
}
