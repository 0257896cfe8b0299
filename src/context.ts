/** One createContext for HTTP and WebSocket: bearer credential -> viewer. */
import type { Logger } from 'pino';
import type { Env } from './env.js';
import type { PrismaClient, User } from './generated/prisma/client.js';
import { CREDENTIAL_PREFIX, credentialHash } from './auth/secrets.js';
import type { TtlCache } from './auth/ttl-cache.js';
import type { UserTokens } from './auth/user-token.js';
import type { Bus } from './realtime/bus.js';
import type { Realtime } from './realtime/realtime.js';

export type Viewer =
  | { kind: 'anonymous' }
  | { kind: 'account'; accountId: string; sessionId: string }
  | { kind: 'secretKey' | 'publishableKey'; appId: string; keyId: string }
  | { kind: 'user'; appId: string; user: User; tokenExpiresAt: Date };

/** A viewer acting inside one app. */
export type AppViewer = Extract<Viewer, { appId: string }>;

export interface CachedKey {
  id: string;
  appId: string;
  kind: 'SECRET' | 'PUBLISHABLE';
}

/** Long-lived dependencies shared by every request of one server. */
export interface Deps {
  env: Env;
  prisma: PrismaClient;
  bus: Bus;
  realtime: Realtime;
  log: Logger;
  tokens: UserTokens;
  keyCache: TtlCache<CachedKey | null>;
  userCache: TtlCache<User>;
}

export interface Context {
  viewer: Viewer;
  prisma: PrismaClient;
  deps: Deps;
  requestId: string;
  /** The HTTP request's abort signal (absent over graphql-ws, which tells streams itself when the client left). */
  signal?: AbortSignal;
}

/** The bearer credential of an `Authorization` header value (or graphql-ws connectionParams.authorization). */
export function bearer(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m?.[1] ?? null;
}

/** Resolves a credential to a viewer. Invalid, expired or revoked credentials give the anonymous viewer. */
export async function resolveViewer(deps: Deps, credential: string | null): Promise<Viewer> {
  if (!credential) return { kind: 'anonymous' };
  if (credential.startsWith(CREDENTIAL_PREFIX.secretKey) || credential.startsWith(CREDENTIAL_PREFIX.publishableKey)) {
    const key = await lookupKey(deps, credential);
    if (!key) return { kind: 'anonymous' };
    return { kind: key.kind === 'SECRET' ? 'secretKey' : 'publishableKey', appId: key.appId, keyId: key.id };
  }
  if (credential.startsWith(CREDENTIAL_PREFIX.session)) {
    const session = await deps.prisma.session.findUnique({ where: { tokenHash: credentialHash(credential) } });
    return session ? { kind: 'account', accountId: session.accountId, sessionId: session.id } : { kind: 'anonymous' };
  }
  const claims = await deps.tokens.verify(credential);
  if (!claims) return { kind: 'anonymous' };
  const user = await loadUser(deps, claims.userId);
  if (!user || user.appId !== claims.appId || user.deactivatedAt) return { kind: 'anonymous' };
  return { kind: 'user', appId: user.appId, user, tokenExpiresAt: claims.expiresAt };
}

async function lookupKey(deps: Deps, credential: string): Promise<CachedKey | null> {
  const hash = credentialHash(credential);
  const cached = deps.keyCache.get(hash);
  if (cached !== undefined) return cached;
  const row = await deps.prisma.apiKey.findUnique({ where: { keyHash: hash } });
  const key = row && !row.revokedAt ? { id: row.id, appId: row.appId, kind: row.kind } : null;
  deps.keyCache.set(hash, key);
  return key;
}

/** The user row behind a token, cached briefly so that hot paths need no round trip; updateUser invalidates it. */
async function loadUser(deps: Deps, userId: string): Promise<User | null> {
  const cached = deps.userCache.get(userId);
  if (cached) return cached;
  const user = await deps.prisma.user.findUnique({ where: { id: userId } });
  if (user) deps.userCache.set(userId, user);
  return user;
}
