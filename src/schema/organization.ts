/** Organizations: the Organization node, createOrganization and updateOrganization. */
import { builder } from '../builder.js';
import {
  createOrganization,
  listOrganizationApps,
  updateOrganization,
  visibleOrganizationWhere,
} from '../services/organization.js';
import { AppNode } from './app.js';
import { pageRequest } from './connection.js';
import { defineMutation } from './mutation.js';
import { emailAddress, hostname, httpUrl, safeText } from './validators.js';

export const OrganizationNode = builder.prismaNode('Organization', {
  id: { field: 'id' },
  nullable: true,
  description: 'An organization, owned by one or more accounts. Visible only to its owners.',
  findUnique: (id, ctx) => ({ id, AND: [visibleOrganizationWhere(ctx)] }),
  fields: (t) => ({
    name: t.exposeString('name'),
    email: t.exposeString('email', { nullable: true }),
    banner: t.exposeString('banner', { nullable: true, description: 'URL of a banner image.' }),
    description: t.exposeString('description', { nullable: true }),
    hostname: t.exposeString('hostname', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    apps: t.connection({
      type: AppNode,
      description: 'Apps of the organization, oldest first.',
      resolve: (o, args, ctx) => listOrganizationApps(ctx, o.id, pageRequest(args, ['s'])),
    }),
  }),
});

const orgFields = {
  email: emailAddress,
  banner: httpUrl,
  description: () => safeText(0, 2000),
  hostname,
};

defineMutation('createOrganization', {
  description: 'Creates an organization; the calling account becomes its owner.',
  authScopes: { account: true },
  input: (t) => ({
    name: t.string({ required: true, validate: safeText(1, 200) }),
    email: t.string({ validate: orgFields.email() }),
    banner: t.string({ validate: orgFields.banner() }),
    description: t.string({ validate: orgFields.description() }),
    hostname: t.string({ validate: orgFields.hostname() }),
  }),
  resolve: async (input, ctx) => ({ organization: await createOrganization(ctx, input) }),
  payload: (t) => ({ organization: t.field({ type: OrganizationNode, resolve: (p) => p.organization }) }),
});

defineMutation('updateOrganization', {
  description: 'Updates an organization (owners only). Omitted fields are kept; null clears an optional field.',
  authScopes: { account: true },
  input: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ validate: safeText(1, 200) }),
    email: t.string({ validate: orgFields.email() }),
    banner: t.string({ validate: orgFields.banner() }),
    description: t.string({ validate: orgFields.description() }),
    hostname: t.string({ validate: orgFields.hostname() }),
  }),
  resolve: async (input, ctx) => ({ organization: await updateOrganization(ctx, input) }),
  payload: (t) => ({ organization: t.field({ type: OrganizationNode, resolve: (p) => p.organization }) }),
});
