/** App users: the User node, the users connection, user(id), and issueUserToken / updateUser / joinApp. */
import { z } from 'zod';
import { builder } from '../builder.js';
import { isAdminPlus, isModPlus } from '../auth/roles.js';
import { listUsers } from '../services/user.js';
import { issueUserToken, joinApp, updateUser } from '../services/user-admin.js';
import { visibleUserWhere } from '../services/visibility.js';
import { pageRequest } from './connection.js';
import { defineMutation } from './mutation.js';
import { emailAddress, httpUrl, safeText } from './validators.js';

export const RoleEnum = builder.enumType('Role', { values: ['OWNER', 'ADMIN', 'MOD', 'MEMBER'] as const });
export const UserKindEnum = builder.enumType('UserKind', { values: ['HUMAN', 'BOT', 'VISITOR'] as const });

export const UserNode = builder.prismaNode('User', {
  id: { field: 'id' },
  // Unknown and invisible ids resolve to null (no error, no existence oracle).
  nullable: true,
  findUnique: (id, ctx) => ({ id, AND: [visibleUserWhere(ctx.viewer)] }),
  fields: (t) => ({
    externalId: t.exposeString('externalId'),
    displayName: t.exposeString('displayName'),
    avatarUrl: t.exposeString('avatarUrl', { nullable: true }),
    email: t.string({
      nullable: true,
      description: 'Visible to the user themself, ADMIN+ users and SECRET keys; a visitor’s also to MOD+ (support agents).',
      resolve: (u, _a, ctx) => {
        const v = ctx.viewer;
        const staff = v.kind === 'user' && (isAdminPlus(v.user.role) || (u.kind === 'VISITOR' && isModPlus(v.user.role)));
        const allowed = v.kind === 'secretKey' || (v.kind === 'user' && v.user.id === u.id) || staff;
        return allowed ? u.email : null;
      },
    }),
    bio: t.exposeString('bio', { nullable: true }),
    role: t.expose('role', { type: RoleEnum }),
    kind: t.expose('kind', { type: UserKindEnum }),
    deactivatedAt: t.expose('deactivatedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  user: t.prismaField({
    type: 'User',
    nullable: true,
    description: 'A user of the viewer’s app, or null.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) =>
      ctx.prisma.user.findFirst({ ...query, where: { id, ...visibleUserWhere(ctx.viewer) } }),
  }),
  users: t.connection({
    type: UserNode,
    description: 'Users of the viewer’s app, by display name. `search` matches display name, external id or email.',
    authScopes: { user: true, secretKey: true },
    args: { search: t.arg.string({ required: false, validate: safeText(0, 200) }) },
    resolve: (_root, args, ctx) => listUsers(ctx, pageRequest(args, ['s', 's']), args.search ?? null),
  }),
}));

/** Shared input validators of user fields. */
const userFields = {
  externalId: () => safeText(1, 200, { trim: false }),
  displayName: () => safeText(1, 100),
  bio: () => safeText(0, 2000),
};

defineMutation('issueUserToken', {
  description:
    'Upserts the app user with this externalId and returns a signed token for it (SECRET keys only). Given fields ' +
    'overwrite the stored ones. A deactivated user gets ForbiddenError.',
  authScopes: { secretKey: true },
  input: (t) => ({
    externalId: t.string({ required: true, validate: userFields.externalId() }),
    displayName: t.string({ description: 'Defaults to externalId for new users.', validate: userFields.displayName() }),
    email: t.string({ validate: emailAddress() }),
    avatarUrl: t.string({ validate: httpUrl() }),
    role: t.field({ type: RoleEnum }),
    kind: t.field({ type: UserKindEnum }),
    ttlSeconds: t.int({
      description: 'Token lifetime; defaults to USER_TOKEN_TTL_SECONDS.',
      validate: z.number().int().min(60).max(30 * 24 * 3600),
    }),
  }),
  resolve: (input, ctx) => issueUserToken(ctx, input),
  payload: (t) => ({
    token: t.exposeString('token', { description: 'Use as `Authorization: Bearer <token>`.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    user: t.field({ type: UserNode, resolve: (p) => p.user }),
  }),
});

defineMutation('updateUser', {
  description:
    'Updates a user. Profile fields: the user themself or a SECRET key. role: OWNER sets any role, ADMIN sets ' +
    'ADMIN/MOD/MEMBER on non-owners, nobody changes their own. deactivated: ADMIN+ on non-owners, OWNER on anyone ' +
    'else. SECRET keys may do everything. The last active OWNER cannot be demoted or deactivated (ConflictError).',
  authScopes: { user: true, secretKey: true },
  input: (t) => ({
    id: t.id({ required: true }),
    displayName: t.string({ validate: userFields.displayName() }),
    avatarUrl: t.string({ description: 'null clears it.', validate: httpUrl() }),
    bio: t.string({ description: 'null clears it.', validate: userFields.bio() }),
    email: t.string({ description: 'null clears it.', validate: emailAddress() }),
    role: t.field({ type: RoleEnum }),
    deactivated: t.boolean({ description: 'true deactivates (the user can do nothing any more), false reactivates.' }),
  }),
  resolve: async (input, ctx) => ({ user: await updateUser(ctx, input) }),
  payload: (t) => ({ user: t.field({ type: UserNode, resolve: (p) => p.user }) }),
});

defineMutation('joinApp', {
  description:
    'Adds a MEMBER to the app. With a key (PUBLISHABLE or SECRET) and the current joinSecret: creates the user and ' +
    'returns a token for it. With a user token (an invitation; needs openJoin, ADMIN+ or the joinSecret): creates ' +
    'the user and returns token: null, since nobody receives another user’s credential. Support visitors cannot.',
  authScopes: { publishableKey: true, secretKey: true, user: true },
  input: (t) => ({
    joinSecret: t.string({ validate: z.string().max(200) }),
    externalId: t.string({ required: true, validate: userFields.externalId() }),
    displayName: t.string({ validate: userFields.displayName() }),
    email: t.string({ validate: emailAddress() }),
  }),
  resolve: (input, ctx) => joinApp(ctx, input),
  payload: (t) => ({
    user: t.field({ type: UserNode, resolve: (p) => p.user }),
    token: t.exposeString('token', { nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
  }),
});
