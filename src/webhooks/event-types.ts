/**
 * Webhook event types: the GraphQL enum names, the `type` on the wire (Standard Webhooks style, `chat.created`) and
 * the event-log types they come from. thread.created / thread.updated are not delivered.
 */
import type { EventType } from '../services/events.js';

/** GraphQL enum value -> wire type. */
export const WEBHOOK_EVENT_TYPES = {
  CHAT_CREATED: 'chat.created',
  CHAT_UPDATED: 'chat.updated',
  CHAT_DELETED: 'chat.deleted',
  REACTION_CHANGED: 'reaction.changed',
  CONVERSATION_CREATED: 'conversation.created',
  CONVERSATION_STATUS_CHANGED: 'conversation.status_changed',
  CONVERSATION_ASSIGNED: 'conversation.assigned',
} as const;

export type WebhookEventName = keyof typeof WEBHOOK_EVENT_TYPES;
export type WireType = (typeof WEBHOOK_EVENT_TYPES)[WebhookEventName];

/** Event-log type -> wire type, for the log types that are delivered. */
export const WIRE_TYPE_OF_LOG: Partial<Record<EventType, WireType>> = {
  'chat.added': 'chat.created',
  'chat.edited': 'chat.updated',
  'chat.deleted': 'chat.deleted',
  'reaction.changed': 'reaction.changed',
  'conversation.created': 'conversation.created',
  'conversation.status_changed': 'conversation.status_changed',
  'conversation.assigned': 'conversation.assigned',
};

const NAME_OF_WIRE = new Map<string, WebhookEventName>(
  Object.entries(WEBHOOK_EVENT_TYPES).map(([name, wire]) => [wire, name as WebhookEventName]),
);

/** The enum name of a stored wire type (null for a type this version does not know). */
export function eventNameOf(wire: string): WebhookEventName | null {
  return NAME_OF_WIRE.get(wire) ?? null;
}
