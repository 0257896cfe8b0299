/** Apps and API keys: the App and ApiKey nodes and their mutations. */
import { builder } from '../builder.js';
import {
  canSeeJoinSecret,
  createApiKey,
  createApp,
  listApiKeys,
  revokeApiKey,
  rotateJoinSecret,
  updateApp,
  visibleApiKeyWhere,
  visibleAppWhere,
} from '../services/app.js';
import { pageRequest } from './connection.js';
import { defineMutation } from './mutation.js';
import { safeText } from './validators.js';

export const ApiKeyKindEnum = builder.enumType('ApiKeyKind', {
  values: {
    SECRET: { description: 'Server to server: may do everything within its app. Never ship it to a browser.' },
    PUBLISHABLE: { description: 'Safe to embed in a client: may only join users with the app’s join secret.' },
  } as const,
});

export const ApiKeyNode = builder.prismaNode('ApiKey', {
  id: { field: 'id' },
  nullable: true,
  description: 'An API key of an app (the plaintext is shown only once, by createApiKey). Visible to org owners.',
  findUnique: (id, ctx) => ({ id, AND: [visibleApiKeyWhere(ctx)] }),
  fields: (t) => ({
    kind: t.expose('kind', { type: ApiKeyKindEnum }),
    prefix: t.exposeString('prefix'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const AppNode = builder.prismaNode('App', {
  id: { field: 'id' },
  nullable: true,
  description: 'An app: the tenant that owns users, channels, threads and chats. Visible to its org owners and credentials.',
  findUnique: (id, ctx) => ({ id, AND: [visibleAppWhere(ctx)] }),
  fields: (t) => ({
    name: t.exposeString('name'),
    openJoin: t.exposeBoolean('openJoin', { description: 'Any active user may add users through joinApp.' }),
    joinSecret: t.string({
      nullable: true,
      description: 'The secret joinApp needs; visible to org owners, ADMIN+ users and SECRET keys, else null.',
      resolve: async (app, _a, ctx) => ((await canSeeJoinSecret(ctx, app)) ? app.joinSecret : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    apiKeys: t.connection({
      type: ApiKeyNode,
      nullable: true,
      description: 'API keys of the app, oldest first, revoked ones included; null unless the viewer owns the app.',
      resolve: (app, args, ctx) => listApiKeys(ctx, app, pageRequest(args, ['s'])),
    }),
  }),
});


defineMutation('createApp', {
  description: 'Creates an app in an organization the caller owns, with a fresh join secret.',
  authScopes: { account: true },
  input: (t) => ({
    organizationId: t.id({ required: true }),
    name: t.string({ required: true, validate: safeText(1, 200) }),
    openJoin: t.boolean(),
  }),
  resolve: async (input, ctx) => ({ app: await createApp(ctx, input) }),
  payload: (t) => ({ app: t.field({ type: AppNode, resolve: (p) => p.app }) }),
});

defineMutation('updateApp', {
  description: 'Updates an app’s settings (org owners, or the app’s SECRET key).',
  authScopes: { account: true, secretKey: true },
  input: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ validate: safeText(1, 200) }),
    openJoin: t.boolean(),
  }),
  resolve: async (input, ctx) => ({ app: await updateApp(ctx, input) }),
  payload: (t) => ({ app: t.field({ type: AppNode, resolve: (p) => p.app }) }),
});

defineMutation('rotateJoinSecret', {
  description:
    'Replaces the app’s join secret; the old one stops working at once. ADMIN+ users and SECRET keys rotate their ' +
    'own app; org owners (account sessions) name the app with `appId`.',
  authScopes: { admin: true, secretKey: true, account: true },
  input: (t) => ({
    appId: t.id({ description: 'Required for account sessions; for app credentials it must be their own app.' }),
  }),
  resolve: async (input, ctx) => ({ app: await rotateJoinSecret(ctx, input) }),
  payload: (t) => ({ app: t.field({ type: AppNode, resolve: (p) => p.app }) }),
});

defineMutation('createApiKey', {
  description: 'Creates an API key for an app the caller owns. `secret` is the plaintext key, shown only this once.',
  authScopes: { account: true },
  input: (t) => ({
    appId: t.id({ required: true }),
    kind: t.field({ type: ApiKeyKindEnum, required: true }),
  }),
  resolve: (input, ctx) => createApiKey(ctx, input),
  payload: (t) => ({
    apiKey: t.field({ type: ApiKeyNode, resolve: (p) => p.apiKey }),
    secret: t.exposeString('secret'),
  }),
});

defineMutation('revokeApiKey', {
  description: 'Revokes an API key; it stops working at once on this instance (within KEY_CACHE_TTL_MS elsewhere).',
  authScopes: { account: true },
  input: (t) => ({ id: t.id({ required: true }) }),
  resolve: async (input, ctx) => ({ apiKey: await revokeApiKey(ctx, input) }),
  payload: (t) => ({ apiKey: t.field({ type: ApiKeyNode, resolve: (p) => p.apiKey }) }),
});
