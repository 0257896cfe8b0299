/** Apps (the tenants) and their API keys. Account owners manage them; credentials of an app can see their app. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isAdminPlus } from '../auth/roles.js';
import { CREDENTIAL_PREFIX, credentialHash, randomCredential } from '../auth/secrets.js';
import type { Context } from '../context.js';
import { NotFoundError } from '../errors.js';
import type { ApiKey, ApiKeyKind, App, Prisma } from '../generated/prisma/client.js';
import { isId, newId } from '../ids.js';
import type { PageRequest } from '../schema/connection.js';
import { accountIdOf } from './account.js';
import { pageById } from './id-page.js';
import { findOwnedOrganization, visibleOrganizationWhere } from './organization.js';

/** A new join secret (192 random bits). */
export function newJoinSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison of a presented join secret with the app's current one (none set: never matches). */
export function joinSecretMatches(presented: string, current: string | null): boolean {
  if (!current) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(current));
}

/** Apps the viewer may see: its own app for key and user credentials, the apps of owned organizations for accounts. */
export function visibleAppWhere(ctx: Context): Prisma.AppWhereInput {
  const v = ctx.viewer;
  if (v.kind === 'account') return { organization: visibleOrganizationWhere(ctx) };
  return { id: 'appId' in v ? v.appId : '__none__' };
}

/** Apps whose organization the calling account owns. */
function ownedAppWhere(ctx: Context): Prisma.AppWhereInput {
  return { organization: { owners: { some: { accountId: accountIdOf(ctx) } } } };
}

/** True when the viewer is a session of an owner of the app's organization. */
export async function isAppOwner(ctx: Context, app: Pick<App, 'organizationId'>): Promise<boolean> {
  if (ctx.viewer.kind !== 'account') return false;
  const owner = await ctx.prisma.organizationOwner.findUnique({
    where: { organizationId_accountId: { organizationId: app.organizationId, accountId: ctx.viewer.accountId } },
    select: { accountId: true },
  });
  return owner !== null;
}

/** Who sees `joinSecret`: organization owners, ADMIN+ users of the app and the app's SECRET keys. */
export async function canSeeJoinSecret(ctx: Context, app: Pick<App, 'id' | 'organizationId'>): Promise<boolean> {
  const v = ctx.viewer;
  if (v.kind === 'secretKey') return v.appId === app.id;
  if (v.kind === 'user') return v.appId === app.id && isAdminPlus(v.user.role);
  return isAppOwner(ctx, app);
}

/** An app whose organization the viewer owns, or NotFoundError. */
async function findOwnedApp(ctx: Context, id: string): Promise<App> {
  const app = isId(id, 'app') ? await ctx.prisma.app.findFirst({ where: { id, ...ownedAppWhere(ctx) } }) : null;
  if (!app) throw new NotFoundError('App not found');
  return app;
}

/** An app the viewer may administer: owned through its organization, or the own app of a SECRET key. */
async function findManagedApp(ctx: Context, id: string): Promise<App> {
  const v = ctx.viewer;
  if (v.kind === 'secretKey') {
    const app = v.appId === id ? await ctx.prisma.app.findUnique({ where: { id } }) : null;
    if (!app) throw new NotFoundError('App not found');
    return app;
  }
  return findOwnedApp(ctx, id);
}

/** Creates an app in an organization the viewer owns, with a fresh join secret. */
export async function createApp(
  ctx: Context,
  input: { organizationId: string; name: string; openJoin?: boolean | null },
): Promise<App> {
  const org = await findOwnedOrganization(ctx, input.organizationId);
  return ctx.prisma.app.create({
    data: { id: newId('app'), organizationId: org.id, name: input.name, openJoin: input.openJoin ?? false, joinSecret: newJoinSecret() },
  });
}

/** Updates an app's settings (organization owners, or the app's own SECRET key). */
export async function updateApp(ctx: Context, input: { id: string; name?: string | null; openJoin?: boolean | null }): Promise<App> {
  const app = await findManagedApp(ctx, input.id);
  const data: Prisma.AppUpdateInput = {};
  if (input.name != null) data.name = input.name;
  if (input.openJoin != null) data.openJoin = input.openJoin;
  if (Object.keys(data).length === 0) return app;
  return ctx.prisma.app.update({ where: { id: app.id }, data });
}

/**
 * Replaces the join secret of an app; the old one stops working at once (joinApp reads it from the database).
 * User and key credentials rotate their own app (`appId`, if given, must be it); accounts name an app they own.
 */
export async function rotateJoinSecret(ctx: Context, input: { appId?: string | null }): Promise<App> {
  const v = ctx.viewer;
  let appId: string;
  if ('appId' in v) {
    if (input.appId != null && input.appId !== v.appId) throw new NotFoundError('App not found');
    appId = v.appId;
  } else {
    appId = (await findOwnedApp(ctx, input.appId ?? '')).id;
  }
  return ctx.prisma.app.update({ where: { id: appId }, data: { joinSecret: newJoinSecret() } });
}

/** Creates an API key; the plaintext is returned once and only its hash is stored. */
export async function createApiKey(
  ctx: Context,
  input: { appId: string; kind: ApiKeyKind },
): Promise<{ apiKey: ApiKey; secret: string }> {
  const app = await findOwnedApp(ctx, input.appId);
  const secret = randomCredential(input.kind === 'SECRET' ? CREDENTIAL_PREFIX.secretKey : CREDENTIAL_PREFIX.publishableKey);
  const apiKey = await ctx.prisma.apiKey.create({
    data: { id: newId('key'), appId: app.id, kind: input.kind, keyHash: credentialHash(secret), prefix: secret.slice(0, 8) },
  });
  return { apiKey, secret };
}

/**
 * Revokes an API key (idempotent: the first revocation time is kept). This process forgets the key at once; other
 * instances within KEY_CACHE_TTL_MS.
 */
export async function revokeApiKey(ctx: Context, input: { id: string }): Promise<ApiKey> {
  const key = isId(input.id, 'key')
    ? await ctx.prisma.apiKey.findFirst({ where: { id: input.id, app: ownedAppWhere(ctx) } })
    : null;
  if (!key) throw new NotFoundError('API key not found');
  const revoked = key.revokedAt
    ? key
    : await ctx.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
  ctx.deps.keyCache.deleteWhere((k) => k?.id === key.id);
  return revoked;
}

/** API keys the viewer may see: those of apps it owns. */
export function visibleApiKeyWhere(ctx: Context): Prisma.ApiKeyWhereInput {
  return { app: ownedAppWhere(ctx) };
}

/** API keys of an app, oldest first; null unless the viewer owns the app. */
export async function listApiKeys(ctx: Context, app: Pick<App, 'id' | 'organizationId'>, req: PageRequest) {
  if (!(await isAppOwner(ctx, app))) return null;
  return pageById(req, ({ id, orderBy, take }) => ctx.prisma.apiKey.findMany({ where: { id, appId: app.id }, orderBy, take }));
}
