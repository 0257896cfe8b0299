/** Creating and managing app users: issueUserToken, joinApp, updateUser (role and deactivation rules). */
import { signalAccessChanged } from './events.js';
import { canSetRole, isAdminPlus } from '../auth/roles.js';
import { canDeactivate, removesOwner } from '../auth/user-rules.js';
import type { Context } from '../context.js';
import { ConflictError, ForbiddenError, fromDatabaseError, NotFoundError, UnauthenticatedError } from '../errors.js';
import type { Prisma, Role, User, UserKind } from '../generated/prisma/client.js';
import { isId, newId } from '../ids.js';
import { joinSecretMatches } from './app.js';
import { onUserCreated } from './user.js';

type Tx = Prisma.TransactionClient;

export interface IssuedToken {
  token: string;
  expiresAt: Date;
  user: User;
}

export interface ProfileFields {
  displayName?: string | null;
  email?: string | null;
  avatarUrl?: string | null;
}

/**
 * Serialises role and deactivation changes within one app (row lock on the app), so two concurrent demotions cannot
 * both see "another owner is left" and leave the app without an active OWNER.
 */
async function lockApp(tx: Tx, appId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM app WHERE id = ${appId} FOR UPDATE`;
}

/** ConflictError when the change would remove the last active OWNER of the app. Call with the app locked. */
async function assertKeepsAnOwner(tx: Tx, target: User, change: { role?: Role | null; deactivated?: boolean | null }) {
  if (!removesOwner(target, change)) return;
  const others = await tx.user.count({
    where: { appId: target.appId, role: 'OWNER', deactivatedAt: null, id: { not: target.id } },
  });
  if (others === 0) throw new ConflictError('The last active owner cannot be demoted or deactivated');
}

/** Creates a user and everything a new user gets, in one transaction. A taken externalId gives ConflictError. */
async function createUser(
  ctx: Context,
  data: { appId: string; externalId: string; displayName?: string | null; email?: string | null; avatarUrl?: string | null; role?: Role | null; kind?: UserKind | null },
): Promise<User> {
  try {
    return await ctx.prisma.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: {
          id: newId('usr'),
          appId: data.appId,
          externalId: data.externalId,
          displayName: data.displayName ?? data.externalId,
          email: data.email ?? null,
          avatarUrl: data.avatarUrl ?? null,
          role: data.role ?? 'MEMBER',
          kind: data.kind ?? 'HUMAN',
        },
      });
      await onUserCreated(tx, user);
      return user;
    });
  } catch (e) {
    const mapped = fromDatabaseError(e);
    if (mapped instanceof ConflictError) throw new ConflictError('A user with this externalId already exists');
    throw mapped ?? e;
  }
}

/**
 * Upserts the app user with this externalId and signs a token for it (SECRET keys only). Given profile fields, role
 * and kind overwrite the stored ones; omitted or null ones are kept. Two concurrent calls for a new externalId make
 * one user: the loser of the unique-key race re-reads the winner's row.
 */
export async function issueUserToken(
  ctx: Context,
  input: ProfileFields & { externalId: string; role?: Role | null; kind?: UserKind | null; ttlSeconds?: number | null },
): Promise<IssuedToken> {
  const v = ctx.viewer;
  if (v.kind !== 'secretKey') throw new ForbiddenError('Only a SECRET key may issue user tokens');
  const where = { appId_externalId: { appId: v.appId, externalId: input.externalId } };
  let user = await ctx.prisma.user.findUnique({ where });
  if (!user) {
    try {
      user = await createUser(ctx, { ...input, appId: v.appId });
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      user = await ctx.prisma.user.findUnique({ where });
      if (!user) throw e;
      user = await updateExisting(ctx, user, input);
    }
  } else {
    user = await updateExisting(ctx, user, input);
  }
  const { token, expiresAt } = await ctx.deps.tokens.issue(user.id, user.appId, input.ttlSeconds ?? undefined);
  return { token, expiresAt, user };
}

async function updateExisting(
  ctx: Context,
  user: User,
  input: ProfileFields & { role?: Role | null; kind?: UserKind | null },
): Promise<User> {
  if (user.deactivatedAt) throw new ForbiddenError('This user is deactivated');
  const data: Prisma.UserUpdateInput = {};
  for (const key of ['displayName', 'email', 'avatarUrl', 'kind'] as const) {
    const value = input[key];
    if (value != null && value !== user[key]) data[key] = value;
  }
  if (input.role != null && input.role !== user.role) data.role = input.role;
  if (Object.keys(data).length === 0) return user;
  const updated = await ctx.prisma.$transaction(async (tx) => {
    if (data.role) {
      await lockApp(tx, user.appId);
      const fresh = await tx.user.findUniqueOrThrow({ where: { id: user.id } });
      await assertKeepsAnOwner(tx, fresh, { role: input.role });
    }
    return tx.user.update({ where: { id: user.id }, data });
  });
  ctx.deps.userCache.delete(user.id);
  return updated;
}

export interface UpdateUserInput {
  id: string;
  displayName?: string | null;
  avatarUrl?: string | null;
  bio?: string | null;
  email?: string | null;
  role?: Role | null;
  deactivated?: boolean | null;
}

/**
 * Updates a user of the viewer's app:
 * - profile fields (displayName, avatarUrl, bio, email): the user themself, or a SECRET key;
 * - role: OWNER sets any role on anyone else; ADMIN sets ADMIN/MOD/MEMBER on non-owners; MOD and MEMBER never;
 *   nobody changes their own role;
 * - deactivated: ADMIN+ on non-owners, OWNER on anyone else (never oneself); `false` reactivates;
 * - SECRET keys may do everything; nobody removes the last active OWNER (ConflictError).
 * `null` clears avatarUrl, bio and email; an omitted field is left as it is.
 */
export async function updateUser(ctx: Context, input: UpdateUserInput): Promise<User> {
  const v = ctx.viewer;
  if (v.kind !== 'user' && v.kind !== 'secretKey') throw new UnauthenticatedError();
  const actorRole = v.kind === 'user' ? v.user.role : null;
  const actorId = v.kind === 'user' ? v.user.id : null;
  const managing = input.role != null || input.deactivated != null;
  const updated = await ctx.prisma.$transaction(async (tx) => {
    if (managing) await lockApp(tx, v.appId);
    const target = isId(input.id, 'usr') ? await tx.user.findFirst({ where: { id: input.id, appId: v.appId } }) : null;
    if (!target) throw new NotFoundError('User not found');
    const self = actorId === target.id;

    const data: Prisma.UserUpdateInput = {};
    if (input.displayName != null) data.displayName = input.displayName;
    for (const key of ['avatarUrl', 'bio', 'email'] as const) {
      if (input[key] !== undefined) data[key] = input[key];
    }
    if (Object.keys(data).length > 0 && !self && actorRole !== null) {
      throw new ForbiddenError('Only the user themself may edit their profile');
    }
    if (input.role != null) {
      if (self) throw new ForbiddenError('Users cannot change their own role');
      if (!canSetRole(actorRole, target.role, input.role)) throw new ForbiddenError('Not allowed to set this role');
      data.role = input.role;
    }
    if (input.deactivated != null) {
      if (self) throw new ForbiddenError('Users cannot deactivate themselves');
      if (!canDeactivate(actorRole, target.role)) throw new ForbiddenError('Not allowed to deactivate this user');
      if (input.deactivated !== (target.deactivatedAt !== null)) data.deactivatedAt = input.deactivated ? new Date() : null;
    }
    if (managing) await assertKeepsAnOwner(tx, target, input);
    if (Object.keys(data).length === 0) return target;
    return tx.user.update({ where: { id: target.id }, data });
  });
  ctx.deps.userCache.delete(updated.id);
  if (managing) signalAccessChanged(ctx, [updated.id]);
  return updated;
}

export interface JoinResult {
  user: User;
  /** A token for the new user: only when a key joined it (never handed to an inviting user). */
  token: string | null;
  expiresAt: Date | null;
}

/**
 * Adds a new MEMBER to the viewer's app. Two ways in:
 * - a key credential (PUBLISHABLE, as from a sign-up page, or SECRET) presenting the app's current `joinSecret`:
 *   the new user is created and a token for it is returned, so the browser can continue as that user;
 * - a user token of an active member (an invitation): allowed when the app has `openJoin`, when the inviter is
 *   ADMIN+, or when the inviter presents the current `joinSecret`. The new user is returned with `token: null`:
 *   a user never receives another user's credential; the new user signs in through the app's own backend
 *   (issueUserToken) later.
 * A presented `joinSecret` that is not the current one is always ForbiddenError. A taken externalId is ConflictError.
 */
export async function joinApp(
  ctx: Context,
  input: { joinSecret?: string | null; externalId: string; displayName?: string | null; email?: string | null },
): Promise<JoinResult> {
  const v = ctx.viewer;
  if (v.kind === 'anonymous') throw new UnauthenticatedError();
  if (v.kind === 'account') throw new ForbiddenError('Join an app with one of its keys or a user token');
  const app = await ctx.prisma.app.findUnique({ where: { id: v.appId }, select: { openJoin: true, joinSecret: true } });
  if (!app) throw new NotFoundError('App not found');
  if (input.joinSecret != null) {
    if (!joinSecretMatches(input.joinSecret, app.joinSecret)) throw new ForbiddenError('Wrong join secret');
  } else if (v.kind !== 'user' || !(app.openJoin || isAdminPlus(v.user.role))) {
    throw new ForbiddenError('A valid join secret is required');
  }
  const existing = await ctx.prisma.user.findUnique({
    where: { appId_externalId: { appId: v.appId, externalId: input.externalId } },
    select: { id: true },
  });
  if (existing) throw new ConflictError('A user with this externalId already exists');
  const user = await createUser(ctx, {
    appId: v.appId,
    externalId: input.externalId,
    displayName: input.displayName ?? null,
    email: input.email ?? null,
  });
  if (v.kind === 'user') return { user, token: null, expiresAt: null };
  const { token, expiresAt } = await ctx.deps.tokens.issue(user.id, user.appId);
  return { user, token, expiresAt };
}
