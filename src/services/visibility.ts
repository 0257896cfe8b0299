/**
 * Who may see what, as Prisma filters, so every read path (node, lists, relations, nested fields) applies the same
 * rules in the database query itself:
 * - everything is scoped to the viewer's app; a viewer without an app sees nothing;
 * - channels: MEMBER and ANYONE are listed to every user of the app, HIDDEN only to members; SECRET keys see all;
 * - threads: visible when one of their live channels is ANYONE or has the viewer as a member; `hidden` threads only
 *   to their author and MOD+; deleted threads to nobody.
 */
import type { Viewer } from '../context.js';
import type { Prisma } from '../generated/prisma/client.js';
import { isModPlus } from '../auth/roles.js';

/** A filter that matches no row (for viewers outside any app). */
const NOTHING = '__none__';

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

export function visibleChannelWhere(viewer: Viewer): Prisma.ChannelWhereInput {
  const base: Prisma.ChannelWhereInput = { appId: appIdOf(viewer), deletedAt: null };
  if (viewer.kind === 'secretKey') return base;
  const userId = userIdOf(viewer) ?? NOTHING;
  return { ...base, OR: [{ visibility: { not: 'HIDDEN' } }, { members: { some: { userId } } }] };
}

/** Channels whose threads the viewer may read (ANYONE, or the viewer is a member). */
export function readableChannelWhere(viewer: Viewer): Prisma.ChannelWhereInput {
  const base: Prisma.ChannelWhereInput = { appId: appIdOf(viewer), deletedAt: null };
  if (viewer.kind === 'secretKey') return base;
  const userId = userIdOf(viewer) ?? NOTHING;
  return { ...base, OR: [{ visibility: 'ANYONE' }, { members: { some: { userId } } }] };
}

export function visibleThreadWhere(viewer: Viewer): Prisma.ThreadWhereInput {
  const base: Prisma.ThreadWhereInput = { appId: appIdOf(viewer), deletedAt: null };
  if (viewer.kind === 'secretKey') return base;
  const and: Prisma.ThreadWhereInput[] = [{ channels: { some: { channel: readableChannelWhere(viewer) } } }];
  if (!(viewer.kind === 'user' && isModPlus(viewer.user.role))) {
    and.push({ OR: [{ hidden: false }, { authorId: userIdOf(viewer) ?? NOTHING }] });
  }
  return { ...base, AND: and };
}

export function visibleChatWhere(viewer: Viewer): Prisma.ChatWhereInput {
  return { appId: appIdOf(viewer), thread: visibleThreadWhere(viewer) };
}

export function visibleUserWhere(viewer: Viewer): Prisma.UserWhereInput {
  return { appId: appIdOf(viewer) };
}

