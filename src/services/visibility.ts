/**
 * Who may see what, as Prisma filters, so every read path (node, lists, relations, nested fields) applies the same
 * rules in the database query itself:
 * - everything is scoped to the viewer's app; a viewer without an app sees nothing;
 * - channels: MEMBER and ANYONE are listed to every user of the app, HIDDEN only to members; SECRET keys see all;
 * - threads: visible when one of their live channels is ANYONE or has the viewer as a member; `hidden` threads only
 *   to their author and MOD+; deleted threads to nobody;
 * - support: MOD+ users are agents of every SUPPORT channel (they read it without being members); a VISITOR user sees
 *   only their own conversations, none of their internal notes, no channels, and only the users taking part in them.
 */
import type { Viewer } from '../context.js';
import type { Prisma } from '../generated/prisma/client.js';
import { isModPlus } from '../auth/roles.js';

/** A filter that matches no row (for viewers outside any app). */
const NOTHING = '__none__';

/**
 * The channels a visitor sees: none. It filters on appId, not id, because lists page by adding their own `id`
 * condition (`{ ...visibleChannelWhere(v), id: page.id }`), which would replace an `id` filter and list every channel.
 */
const NO_CHANNEL: Prisma.ChannelWhereInput = { appId: NOTHING };

/**
 * The app whose content the viewer may read. PUBLISHABLE keys are public (shipped to browsers), so they read no
 * users, channels, threads or chats: they only start flows such as joinApp.
 */
export function appIdOf(viewer: Viewer): string {
  return 'appId' in viewer && viewer.kind !== 'publishableKey' ? viewer.appId : NOTHING;
}

export function userIdOf(viewer: Viewer): string | null {
  return viewer.kind === 'user' ? viewer.user.id : null;
}

/** The visitor's user id when the viewer is a support visitor (a VISITOR user), else null. */
export function visitorIdOf(viewer: Viewer): string | null {
  return viewer.kind === 'user' && viewer.user.kind === 'VISITOR' ? viewer.user.id : null;
}

/** A user of the app that is not a visitor (agents, members, bots): the only users who see internal notes. */
export function isAgentSide(viewer: Viewer): boolean {
  return viewer.kind === 'secretKey' || (viewer.kind === 'user' && viewer.user.kind !== 'VISITOR');
}

/** Extra channels a MOD+ user reads without membership: every SUPPORT channel (its agents). */
function agentChannels(viewer: Viewer): Prisma.ChannelWhereInput[] {
  return viewer.kind === 'user' && isModPlus(viewer.user.role) ? [{ support: true }] : [];
}

export function visibleChannelWhere(viewer: Viewer): Prisma.ChannelWhereInput {
  const base: Prisma.ChannelWhereInput = { appId: appIdOf(viewer), deletedAt: null };
  if (viewer.kind === 'secretKey') return base;
  if (visitorIdOf(viewer)) return NO_CHANNEL;
  const userId = userIdOf(viewer) ?? NOTHING;
  return { ...base, OR: [{ visibility: { not: 'HIDDEN' } }, { members: { some: { userId } } }, ...agentChannels(viewer)] };
}

/** Channels whose threads the viewer may read (ANYONE, or the viewer is a member). */
export function readableChannelWhere(viewer: Viewer): Prisma.ChannelWhereInput {
  const base: Prisma.ChannelWhereInput = { appId: appIdOf(viewer), deletedAt: null };
  if (viewer.kind === 'secretKey') return base;
  if (visitorIdOf(viewer)) return NO_CHANNEL;
  const userId = userIdOf(viewer) ?? NOTHING;
  return { ...base, OR: [{ visibility: 'ANYONE' }, { members: { some: { userId } } }, ...agentChannels(viewer)] };
}

export function visibleThreadWhere(viewer: Viewer): Prisma.ThreadWhereInput {
  const base: Prisma.ThreadWhereInput = { appId: appIdOf(viewer), deletedAt: null };
  if (viewer.kind === 'secretKey') return base;
  const visitorId = visitorIdOf(viewer);
  if (visitorId) return { ...base, conversation: { visitorId } };
  const and: Prisma.ThreadWhereInput[] = [{ channels: { some: { channel: readableChannelWhere(viewer) } } }];
  if (!(viewer.kind === 'user' && isModPlus(viewer.user.role))) {
    and.push({ OR: [{ hidden: false }, { authorId: userIdOf(viewer) ?? NOTHING }] });
  }
  return { ...base, AND: and };
}

export function visibleChatWhere(viewer: Viewer): Prisma.ChatWhereInput {
  return { appId: appIdOf(viewer), thread: visibleThreadWhere(viewer), ...(isAgentSide(viewer) ? {} : { internal: false }) };
}

export function visibleUserWhere(viewer: Viewer): Prisma.UserWhereInput {
  const visitorId = visitorIdOf(viewer);
  if (!visitorId) return { appId: appIdOf(viewer) };
  const own: Prisma.ThreadWhereInput = { conversation: { visitorId }, deletedAt: null };
  return {
    appId: appIdOf(viewer),
    OR: [
      { id: visitorId },
      { participations: { some: { thread: own } } },
      { reactions: { some: { chat: { internal: false, thread: own } } } },
      { assignedConversations: { some: { visitorId, thread: { deletedAt: null } } } },
    ],
  };
}


/**
 * Threads the viewer may write to (react, post): a visitor only their own conversations; anyone else through
 * membership of one of the thread's live channels, and MOD+ also in SUPPORT channels. Mirrors sendChat's SQL check.
 */
export function postableThreadWhere(viewer: Viewer): Prisma.ThreadWhereInput {
  const userId = userIdOf(viewer) ?? NOTHING;
  const visitorId = visitorIdOf(viewer);
  if (visitorId) return { conversation: { visitorId } };
  const writable: Prisma.ChannelWhereInput[] = [{ members: { some: { userId } } }, ...agentChannels(viewer)];
  return { channels: { some: { channel: { deletedAt: null, OR: writable } } } };
}
