/**
 * Webhooks: the Webhook node, its deliveries, and the mutations that manage them (ADMIN+ users and SECRET keys).
 * Delivery itself runs in the background (src/webhooks/).
 */
import { z } from 'zod';
import { builder } from '../builder.js';
import type { WebhookDelivery } from '../generated/prisma/client.js';
import {
  createWebhook,
  DELIVERY_CURSOR,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  replayWebhook,
  updateWebhook,
  visibleWebhookWhere,
} from '../services/webhook.js';
import { eventNameOf, type WebhookEventName } from '../webhooks/event-types.js';
import { messageId } from '../webhooks/sender.js';
import { NotFoundError } from '../errors.js';
import { pageRequest } from './connection.js';
import { defineMutation } from './mutation.js';
import { httpUrl } from './validators.js';

export const WebhookEventTypeEnum = builder.enumType('WebhookEventType', {
  description: 'What a webhook subscribes to; the message `type` on the wire is given with each value.',
  values: {
    CHAT_CREATED: { description: '`chat.created`: a chat was sent (internal notes too, with `internal: true`).' },
    CHAT_UPDATED: { description: '`chat.updated`: a chat’s text was edited.' },
    CHAT_DELETED: { description: '`chat.deleted`: a chat was deleted.' },
    REACTION_CHANGED: { description: '`reaction.changed`: a reaction was set or removed.' },
    CONVERSATION_CREATED: { description: '`conversation.created`: a visitor started a support conversation.' },
    CONVERSATION_STATUS_CHANGED: { description: '`conversation.status_changed`: OPEN, PENDING, RESOLVED or CLOSED.' },
    CONVERSATION_ASSIGNED: { description: '`conversation.assigned`: assigned to an agent, or unassigned.' },
  } as const,
});

const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  values: {
    PENDING: { description: 'Waiting for its next attempt (or being sent).' },
    SUCCEEDED: { description: 'The endpoint answered 2xx.' },
    FAILED: { description: 'Every attempt failed (WEBHOOK_MAX_ATTEMPTS); replayWebhook sends it again.' },
  } as const,
});

const eventsOf = (wire: string[]) => wire.map(eventNameOf).filter((n): n is WebhookEventName => n !== null);

export const WebhookNode = builder.prismaNode('Webhook', {
  id: { field: 'id' },
  nullable: true,
  description: 'An endpoint that receives signed event messages (Standard Webhooks). Visible to ADMIN+ users and SECRET keys.',
  findUnique: (id, ctx) => ({ id, AND: [visibleWebhookWhere(ctx)] }),
  fields: (t) => ({
    url: t.exposeString('url'),
    events: t.field({ type: [WebhookEventTypeEnum], resolve: (w) => eventsOf(w.events) }),
    enabled: t.exposeBoolean('enabled', { description: 'A disabled webhook gets no new events; its pending deliveries wait.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'Events from this moment on are delivered.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  description: 'One event sent to one webhook: the message, its attempts and its outcome.',
  fields: (t) => ({
    id: t.id({ description: 'The `webhook-id` header of the message (the same on every retry and replay).', resolve: (d) => messageId(d.id) }),
    type: t.field({ type: WebhookEventTypeEnum, resolve: (d) => eventNameOf(d.type) ?? 'CHAT_CREATED' }),
    eventId: t.string({ description: 'The event-log row it came from.', resolve: (d) => d.eventId.toString() }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made (a replay starts again from 0).' }),
    responseCode: t.exposeInt('responseCode', { nullable: true, description: 'HTTP status of the last attempt.' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it is due next (PENDING only).',
      resolve: (d) => (d.status === 'PENDING' ? d.nextAttemptAt : null),
    }),
    payload: t.string({ description: 'The JSON body, exactly as sent.', resolve: (d) => JSON.stringify(d.payload) }),
  }),
});

const managers = { admin: true, secretKey: true } as const;
const eventList = z.array(z.string()).min(1, 'At least one event type').max(50);

builder.queryFields((t) => ({
  webhooks: t.connection({
    type: WebhookNode,
    description: 'The app’s webhooks, oldest first (ADMIN+ users and SECRET keys).',
    authScopes: managers,
    resolve: (_r, args, ctx) => listWebhooks(ctx, pageRequest(args, ['s'])),
  }),
  webhookDeliveries: t.connection({
    type: WebhookDeliveryRef,
    nullable: true,
    description:
      'Deliveries of a webhook, oldest first (`last: n` for the newest), optionally of one status; null for a webhook ' +
      'the viewer cannot see. An edge cursor is what replayWebhook takes as `after`.',
    authScopes: managers,
    args: { webhookId: t.arg.id({ required: true }), status: t.arg({ type: WebhookDeliveryStatusEnum }) },
    resolve: async (_r, args, ctx) => {
      const req = pageRequest(args, DELIVERY_CURSOR);
      try {
        return await listDeliveries(ctx, args.webhookId, args.status, req);
      } catch (err) {
        if (err instanceof NotFoundError) return null;
        throw err;
      }
    },
  }),
}));

defineMutation('createWebhook', {
  description:
    'Creates a webhook: events of the given types from now on are POSTed to `url`, signed per Standard Webhooks. ' +
    '`secret` is shown only here; without one a fresh `whsec_…` secret is generated.',
  authScopes: managers,
  input: (t) => ({
    url: t.string({ required: true, validate: httpUrl(), description: 'An absolute http(s) URL.' }),
    events: t.field({ type: [WebhookEventTypeEnum], required: true, validate: eventList }),
    secret: t.string({ validate: z.string().max(200), description: 'Your own signing secret: `whsec_` + base64 of 24 to 64 bytes.' }),
  }),
  resolve: (input, ctx) => createWebhook(ctx, input),
  payload: (t) => ({
    webhook: t.field({ type: WebhookNode, resolve: (p) => p.webhook }),
    secret: t.string({ description: 'The signing secret (Standard Webhooks `whsec_…`); it is not shown again.', resolve: (p) => p.secret }),
  }),
});

defineMutation('updateWebhook', {
  description: 'Changes a webhook’s url, event types or enabled flag; fields left out stay as they are.',
  authScopes: managers,
  input: (t) => ({
    id: t.id({ required: true }),
    url: t.string({ validate: httpUrl() }),
    events: t.field({ type: [WebhookEventTypeEnum], validate: eventList }),
    enabled: t.boolean(),
  }),
  resolve: async (input, ctx) => ({ webhook: await updateWebhook(ctx, input) }),
  payload: (t) => ({ webhook: t.field({ type: WebhookNode, resolve: (p) => p.webhook }) }),
});

defineMutation('deleteWebhook', {
  description: 'Deletes a webhook and its delivery history; nothing more is sent to it.',
  authScopes: managers,
  input: (t) => ({ id: t.id({ required: true }) }),
  resolve: async (input, ctx) => ({ webhookId: await deleteWebhook(ctx, input.id) }),
  payload: (t) => ({ webhookId: t.id({ resolve: (p) => p.webhookId }) }),
});

defineMutation('replayWebhook', {
  description:
    'Sends every delivery of the webhook after the cursor `after` (from webhookDeliveries; all of them without it) ' +
    'again, whatever its status: the same message with the same `webhook-id`, with a fresh attempt budget.',
  authScopes: managers,
  input: (t) => ({ id: t.id({ required: true }), after: t.string({ description: 'An edge cursor of webhookDeliveries.' }) }),
  resolve: async (input, ctx) => ({ queued: await replayWebhook(ctx, input) }),
  payload: (t) => ({ queued: t.int({ description: 'How many deliveries were queued.', resolve: (p) => p.queued }) }),
});
