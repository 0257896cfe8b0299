/**
 * Webhooks of an app: create, update, delete, list, their deliveries, and replay. Managed by ADMIN+ users and the
 * app's SECRET key; everyone else is refused, and another app's webhook is NotFound like one that does not exist.
 */
import { Prisma, type Webhook, type WebhookDelivery, type WebhookDeliveryStatus } from '../generated/prisma/client.js';
import { isAdminPlus } from '../auth/roles.js';
import type { Context } from '../context.js';
import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../errors.js';
import { isId, newId } from '../ids.js';
import { decodeCursor, toConnection, type PageRequest } from '../schema/connection.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventName } from '../webhooks/event-types.js';
import { isValidWebhookSecret, newWebhookSecret } from '../webhooks/secret.js';
import { wakeWebhooks } from '../webhooks/worker.js';
import { pageById } from './id-page.js';

/** The app whose webhooks the viewer manages, or null (visitors, MEMBER/MOD users, PUBLISHABLE keys, accounts). */
export function webhookAppIdOf(ctx: Context): string | null {
  const v = ctx.viewer;
  if (v.kind === 'secretKey') return v.appId;
  if (v.kind === 'user' && v.user.kind !== 'VISITOR' && isAdminPlus(v.user.role)) return v.appId;
  return null;
}

function requireManager(ctx: Context): string {
  const appId = webhookAppIdOf(ctx);
  if (appId) return appId;
  if (ctx.viewer.kind === 'anonymous') throw new UnauthenticatedError();
  throw new ForbiddenError('Webhooks are managed by ADMIN+ users and the app’s SECRET key');
}

/** A webhook of the viewer's app, or NotFoundError (malformed ids and other apps' webhooks included). */
async function findWebhook(ctx: Context, id: string): Promise<Webhook> {
  const appId = requireManager(ctx);
  const webhook = isId(id, 'whk') ? await ctx.prisma.webhook.findFirst({ where: { id, appId } }) : null;
  if (!webhook) throw new NotFoundError('Webhook not found');
  return webhook;
}

const wireTypes = (events: WebhookEventName[]) => [...new Set(events.map((e) => WEBHOOK_EVENT_TYPES[e]))];

export interface CreateWebhookInput {
  url: string;
  events: WebhookEventName[];
  secret?: string | null;
}

/** Creates a webhook; the secret (given, or a fresh `whsec_…`) is returned once, here. */
export async function createWebhook(ctx: Context, input: CreateWebhookInput): Promise<{ webhook: Webhook; secret: string }> {
  const appId = requireManager(ctx);
  if (input.secret != null && !isValidWebhookSecret(input.secret)) {
    throw ValidationError.field(['secret'], 'Must be a Standard Webhooks secret: whsec_ followed by base64 of 24 to 64 bytes');
  }
  const secret = input.secret ?? newWebhookSecret();
  const webhook = await ctx.prisma.webhook.create({
    data: { id: newId('whk'), appId, url: input.url, events: wireTypes(input.events), secret },
  });
  wakeWebhooks(ctx.deps, true);
  return { webhook, secret };
}

/** Changes a webhook's url, event types or enabled flag (fields left out stay as they are). */
export async function updateWebhook(
  ctx: Context,
  input: { id: string; url?: string | null; events?: WebhookEventName[] | null; enabled?: boolean | null },
): Promise<Webhook> {
  const webhook = await findWebhook(ctx, input.id);
  const data: Prisma.WebhookUpdateInput = {};
  if (input.url != null) data.url = input.url;
  if (input.events != null) data.events = wireTypes(input.events);
  if (input.enabled != null) data.enabled = input.enabled;
  if (Object.keys(data).length === 0) return webhook;
  const updated = await ctx.prisma.webhook.update({ where: { id: webhook.id }, data: { ...data, updatedAt: new Date() } });
  if (updated.enabled) wakeWebhooks(ctx.deps, true);
  return updated;
}

/** Deletes a webhook with its delivery history; attempts in flight finish but are not recorded. */
export async function deleteWebhook(ctx: Context, id: string): Promise<string> {
  const webhook = await findWebhook(ctx, id);
  await ctx.prisma.webhook.delete({ where: { id: webhook.id } });
  return webhook.id;
}

/** The app's webhooks, oldest first. */
export function listWebhooks(ctx: Context, req: PageRequest) {
  const appId = requireManager(ctx);
  return pageById(req, ({ id, orderBy, take }) => ctx.prisma.webhook.findMany({ where: { id, appId }, orderBy, take }));
}

/** `node(id)` filter: a webhook is visible only to the managers of its app. */
export function visibleWebhookWhere(ctx: Context): Prisma.WebhookWhereInput {
  return { appId: webhookAppIdOf(ctx) ?? '__none__' };
}

/** Cursor shape of webhookDeliveries: [webhook id, delivery id as a decimal string]. */
export const DELIVERY_CURSOR: readonly ('s' | 'n')[] = ['s', 's'];
const deliveryKey = (d: Pick<WebhookDelivery, 'webhookId' | 'id'>) => [d.webhookId, d.id.toString()];

/** The delivery id in a cursor of this webhook's deliveries; any other cursor is a ValidationError. */
function deliveryIdOf(key: (string | number)[], webhookId: string, arg: string): bigint {
  const [owner, id] = key;
  if (owner !== webhookId || typeof id !== 'string' || !/^\d{1,18}$/.test(id)) {
    throw ValidationError.field([arg], 'This cursor does not belong to this webhook’s deliveries');
  }
  return BigInt(id);
}

/** A webhook's deliveries, oldest first (use `last` for the newest), optionally of one status. */
export async function listDeliveries(ctx: Context, webhookId: string, status: WebhookDeliveryStatus | null | undefined, req: PageRequest) {
  const webhook = await findWebhook(ctx, webhookId);
  const id: Prisma.BigIntFilter = {};
  const [from, to] = req.backward ? [req.before, req.after] : [req.after, req.before];
  if (from) id[req.backward ? 'lt' : 'gt'] = deliveryIdOf(from, webhook.id, req.backward ? 'before' : 'after');
  if (to) id[req.backward ? 'gt' : 'lt'] = deliveryIdOf(to, webhook.id, req.backward ? 'after' : 'before');
  const rows = await ctx.prisma.webhookDelivery.findMany({
    where: { webhookId: webhook.id, id, ...(status ? { status } : {}) },
    orderBy: { id: req.backward ? 'desc' : 'asc' },
    take: req.size + 1,
  });
  return toConnection(req, rows, deliveryKey);
}

/**
 * Queues every delivery of the webhook after the cursor (all of them without one) again: PENDING, due now, with a
 * fresh attempt budget. The message (payload and webhook-id) stays the same, so receivers can dedupe.
 */
export async function replayWebhook(ctx: Context, input: { id: string; after?: string | null }): Promise<number> {
  const webhook = await findWebhook(ctx, input.id);
  const after = input.after ? deliveryIdOf(decodeCursor(input.after, DELIVERY_CURSOR, 'after'), webhook.id, 'after') : 0n;
  const queued = await ctx.prisma.$executeRaw`
    UPDATE webhook_delivery SET status = 'PENDING', attempts = 0, next_attempt_at = now(), locked_until = NULL, last_error = NULL
    WHERE webhook_id = ${webhook.id} AND id > ${after}`;
  if (queued) wakeWebhooks(ctx.deps, true);
  return queued;
}
