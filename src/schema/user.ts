/** App users: the User node, the users connection and user(id). */
import { builder } from '../builder.js';
import { isAdminPlus } from '../auth/roles.js';
import { listUsers } from '../services/user.js';
import { appIdOf, visibleUserWhere } from '../services/visibility.js';
import { pageRequest } from './connection.js';

export const RoleEnum = builder.enumType('Role', { values: ['OWNER', 'ADMIN', 'MOD', 'MEMBER'] as const });
export const UserKindEnum = builder.enumType('UserKind', { values: ['HUMAN', 'BOT', 'VISITOR'] as const });

export const UserNode = builder.prismaNode('User', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, appId: appIdOf(ctx.viewer) }),
  fields: (t) => ({
    externalId: t.exposeString('externalId'),
    displayName: t.exposeString('displayName'),
    avatarUrl: t.exposeString('avatarUrl', { nullable: true }),
    email: t.string({
      nullable: true,
      description: 'Visible to the user themself, ADMIN+ users and SECRET keys.',
      resolve: (u, _a, ctx) => {
        const v = ctx.viewer;
        const allowed = v.kind === 'secretKey' || (v.kind === 'user' && (v.user.id === u.id || isAdminPlus(v.user.role)));
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
    args: { search: t.arg.string({ required: false }) },
    resolve: (_root, args, ctx) => listUsers(ctx, pageRequest(args, ['s', 's']), args.search ?? null),
  }),
}));
