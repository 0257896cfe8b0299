import { monotonicFactory } from 'ulid';

/** Id prefixes; each one names the GraphQL type its ids belong to (used by `node(id)`). */
export const ID_PREFIXES = {
  acc: 'Account',
  org: 'Organization',
  app: 'App',
  key: 'ApiKey',
  usr: 'User',
  chn: 'Channel',
  thr: 'Thread',
  cht: 'Chat',
  fed: 'Feed',
  ses: 'Session',
  whk: 'Webhook',
} as const;

export type IdPrefix = keyof typeof ID_PREFIXES;

const ulid = monotonicFactory();

/** A new prefixed, opaque, time-ordered id such as `cht_01JD…` (ULID suffix, monotonic within a process). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}

const ID_SHAPE = /^([a-z]{3})_[0-9a-z]{26}$/;

/** The prefix of a well-formed id, or null for anything else (forged, truncated, foreign formats). */
export function idPrefix(id: string): IdPrefix | null {
  const m = ID_SHAPE.exec(id);
  const p = m?.[1];
  return p && p in ID_PREFIXES ? (p as IdPrefix) : null;
}

/** True when `id` is a well-formed id of the given prefix. */
export function isId(id: string, prefix: IdPrefix): boolean {
  return idPrefix(id) === prefix;
}
