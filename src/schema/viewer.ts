/** The `viewer` query: which credential is in use and who is behind it. */
import { builder } from '../builder.js';
import type { Viewer } from '../context.js';
// The viewer's fields refer to these types by name; importing the modules registers them first.
import './account.js';
import './app.js';
import './user.js';

export const CredentialKindEnum = builder.enumType('CredentialKind', {
  values: ['ANONYMOUS', 'ACCOUNT', 'SECRET_KEY', 'PUBLISHABLE_KEY', 'USER'] as const,
});

const KIND = {
  anonymous: 'ANONYMOUS',
  account: 'ACCOUNT',
  secretKey: 'SECRET_KEY',
  publishableKey: 'PUBLISHABLE_KEY',
  user: 'USER',
} as const;

export const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'The credential of the request and what it stands for.',
  fields: (t) => ({
    credential: t.field({ type: CredentialKindEnum, resolve: (v) => KIND[v.kind] }),
    user: t.prismaField({
      type: 'User',
      nullable: true,
      resolve: (query, v, _a, ctx) => (v.kind === 'user' ? ctx.prisma.user.findUnique({ ...query, where: { id: v.user.id } }) : null),
    }),
    account: t.prismaField({
      type: 'Account',
      nullable: true,
      description: 'The account behind a session credential.',
      resolve: (query, v, _a, ctx) =>
        v.kind === 'account' ? ctx.prisma.account.findUnique({ ...query, where: { id: v.accountId } }) : null,
    }),
    app: t.prismaField({
      type: 'App',
      nullable: true,
      description: 'The app of a key or user credential.',
      resolve: (query, v, _a, ctx) => ('appId' in v ? ctx.prisma.app.findUnique({ ...query, where: { id: v.appId } }) : null),
    }),
    tokenExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (v) => (v.kind === 'user' ? v.tokenExpiresAt : null),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({ type: ViewerRef, description: 'Who is asking.', resolve: (_r, _a, ctx) => ctx.viewer }),
);
