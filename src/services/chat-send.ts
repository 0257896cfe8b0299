/**
 * sendChat, the hottest path: one SQL statement (a data-modifying CTE) checks the author may post, bumps the
 * thread's seq counters under its row lock (so commit order == seq order, gap-free), inserts the chat, its event-log
 * row, the participant row and the author's read state. Only a failure path costs a second query (to tell
 * NotFound from Forbidden, or to return the stored chat of an idempotent retry).
 */
import { Prisma, type Chat } from '../generated/prisma/client.js';
import type { Context } from '../context.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../errors.js';
import { reopenConversation } from './conversation-lifecycle.js';
import { newId } from '../ids.js';
import { publishEvents } from './events.js';
import { sqlState } from '../errors.js';
import { visibleChatWhere, visibleThreadWhere, visitorIdOf } from './visibility.js';

export interface SendChatInput {
  threadId: string;
  text: string;
  clientId?: string | null;
  replyToId?: string | null;
  /** An agent-only note (support conversations only). */
  internal?: boolean | null;
}

interface ChatRow {
  id: string;
  app_id: string;
  thread_id: string;
  seq: number;
  author_id: string;
  text: string;
  client_id: string | null;
  reply_to_id: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  origin: Chat['origin'];
  internal: boolean;
  event_seq: number;
  /** The conversation's status after the send (null outside support conversations). */
  conversation_status: string | null;
}

/** Maps a raw chat row to the Prisma model shape (the statement returns snake_case columns). */
export function chatFromRow(r: Omit<ChatRow, 'event_seq' | 'conversation_status'>): Chat {
  return {
    id: r.id,
    appId: r.app_id,
    threadId: r.thread_id,
    seq: Number(r.seq),
    authorId: r.author_id,
    text: r.text,
    clientId: r.client_id,
    replyToId: r.reply_to_id,
    createdAt: r.created_at,
    editedAt: r.edited_at,
    deletedAt: r.deleted_at,
    origin: r.origin,
    internal: r.internal,
  };
}

/** Sends a chat; a retry with the same clientId by the same author returns the stored chat and writes nothing. */
export async function sendChat(ctx: Context, input: SendChatInput): Promise<Chat> {
  const v = ctx.viewer;
  if (v.kind !== 'user') throw new UnauthenticatedError('Sending needs a user token');
  const { threadId, text, clientId = null, replyToId = null } = input;
  const internal = input.internal === true;
  const visitor = v.user.kind === 'VISITOR';
  if (internal && visitor) throw new ForbiddenError('Visitors cannot write internal notes');
  let rows: ChatRow[];
  try {
    rows = await ctx.prisma.$queryRaw<ChatRow[]>(Prisma.sql`
      WITH actor AS (
        SELECT u.id, u.role, u.kind, u.role IN ('MOD', 'ADMIN', 'OWNER') AS mod_plus FROM app_user u
        WHERE u.id = ${v.user.id} AND u.app_id = ${v.appId} AND u.deactivated_at IS NULL
      ), target AS (
        SELECT t.id FROM thread t CROSS JOIN actor a
        WHERE t.id = ${threadId} AND t.app_id = ${v.appId} AND t.deleted_at IS NULL
          AND (NOT t.hidden OR t.author_id = a.id OR a.mod_plus)
          AND CASE WHEN a.kind = 'VISITOR'
            -- A visitor posts only to their own conversations, whatever channels they were added to.
            THEN EXISTS (SELECT 1 FROM conversation cv WHERE cv.thread_id = t.id AND cv.visitor_id = a.id AND cv.status <> 'CLOSED')
            ELSE EXISTS (
              SELECT 1 FROM thread_channel tc
              JOIN channel c ON c.id = tc.channel_id AND c.deleted_at IS NULL
              WHERE tc.thread_id = t.id
                AND ((c.support AND a.mod_plus) OR EXISTS (SELECT 1 FROM channel_member cm WHERE cm.channel_id = c.id AND cm.user_id = a.id)))
          END
          AND (NOT ${internal} OR EXISTS (SELECT 1 FROM conversation cv WHERE cv.thread_id = t.id))
          AND (${replyToId}::text IS NULL
               OR EXISTS (SELECT 1 FROM chat r WHERE r.id = ${replyToId}::text AND r.thread_id = t.id
                          AND (NOT r.internal OR a.kind <> 'VISITOR')))
      ), bump AS (
        UPDATE thread t SET last_seq = t.last_seq + 1, last_event_seq = t.last_event_seq + 1,
          num_chats = t.num_chats + 1, last_activity_at = GREATEST(t.last_activity_at, clock_timestamp())
        FROM target WHERE t.id = target.id
        RETURNING t.id, t.last_seq, t.last_event_seq, t.last_activity_at
      ), ins AS (
        INSERT INTO chat (id, app_id, thread_id, seq, author_id, text, client_id, reply_to_id, created_at, origin, internal)
        SELECT ${newId('cht')}, ${v.appId}, b.id, b.last_seq, ${v.user.id}, ${text}, ${clientId}::text,
               ${replyToId}::text, b.last_activity_at,
               (CASE a.kind WHEN 'VISITOR' THEN 'VISITOR' WHEN 'BOT' THEN 'BOT' ELSE 'AGENT' END)::"ChatOrigin", ${internal}
        FROM bump b CROSS JOIN actor a
        RETURNING *
      ), ev AS (
        INSERT INTO event (thread_id, seq, type, payload, created_at)
        SELECT i.thread_id, b.last_event_seq, 'chat.added',
               jsonb_build_object('chatId', i.id, 'seq', i.seq, 'internal', i.internal), i.created_at
        FROM ins i CROSS JOIN bump b
        RETURNING seq
      ), part AS (
        -- Participants are public (visitors see them), so an internal note does not make its author one.
        INSERT INTO thread_participant (thread_id, user_id, created_at)
        SELECT thread_id, author_id, created_at FROM ins WHERE NOT internal
        ON CONFLICT DO NOTHING
      ), conv AS (
        UPDATE conversation cv SET activity_at = i.created_at,
          last_visitor_chat_at = CASE WHEN i.origin = 'VISITOR' THEN i.created_at ELSE cv.last_visitor_chat_at END
        FROM ins i WHERE cv.thread_id = i.thread_id
        RETURNING cv.status::text AS status
      ), rs AS (
        INSERT INTO read_state (thread_id, user_id, last_read_seq, updated_at)
        SELECT thread_id, author_id, seq, created_at FROM ins
        ON CONFLICT (thread_id, user_id) DO UPDATE
          SET last_read_seq = GREATEST(read_state.last_read_seq, EXCLUDED.last_read_seq), updated_at = EXCLUDED.updated_at
      )
      SELECT ins.*, (SELECT seq FROM ev) AS event_seq, (SELECT status FROM conv) AS conversation_status FROM ins`);
  } catch (err) {
    // The statement is atomic: on a duplicate (author, clientId) nothing of it stays, not even the seq bump.
    if (clientId && sqlState(err) === '23505') return storedRetry(ctx, threadId, v.user.id, clientId, err);
    throw err;
  }
  const row = rows[0];
  if (!row) throw await whyNotSent(ctx, threadId, replyToId, internal);
  publishEvents(ctx, [{ threadId, appId: row.app_id, seq: Number(row.event_seq), type: 'chat.added', internal, byVisitor: visitor }]);
  if (visitor && (row.conversation_status === 'RESOLVED' || row.conversation_status === 'PENDING')) {
    // The chat is stored and acknowledged whatever happens here: a failed reopen is logged, not the send's error.
    await reopenConversation(ctx, threadId).catch((err: unknown) => ctx.deps.log.error({ err, threadId }, 'reopening a conversation failed'));
  }
  return chatFromRow(row);
}

/** The chat an earlier send with this clientId stored; a clientId used in another thread is a ConflictError. */
async function storedRetry(ctx: Context, threadId: string, authorId: string, clientId: string, err: unknown): Promise<Chat> {
  const stored = await ctx.prisma.chat.findUnique({ where: { authorId_clientId: { authorId, clientId } } });
  if (!stored) throw err;
  if (stored.threadId !== threadId) throw new ConflictError('This clientId was already used for another chat');
  return stored;
}

/** Tells NotFound (cannot see the thread or the replied-to chat) from Forbidden (can read, may not post). */
async function whyNotSent(ctx: Context, threadId: string, replyToId: string | null, internal: boolean): Promise<Error> {
  const thread = await ctx.prisma.thread.findFirst({
    where: { id: threadId, ...visibleThreadWhere(ctx.viewer) },
    select: { id: true, conversation: { select: { status: true } } },
  });
  if (!thread) return new NotFoundError('Thread not found');
  if (replyToId) {
    const reply = await ctx.prisma.chat.findFirst({ where: { id: replyToId, threadId, ...visibleChatWhere(ctx.viewer) }, select: { id: true } });
    if (!reply) return new NotFoundError('The chat replied to is not in this thread');
  }
  if (internal && !thread.conversation) return ValidationError.field(['internal'], 'Internal notes are only for support conversations');
  if (thread.conversation?.status === 'CLOSED' && visitorIdOf(ctx.viewer)) {
    return new ConflictError('This conversation is closed; start a new one with startConversation');
  }
  return new ForbiddenError('Join a channel of this thread to post in it');
}
