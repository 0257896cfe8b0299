/** Organizations: owned by accounts, visible and editable only by their owners. */
import type { Context } from '../context.js';
import { NotFoundError, UnauthenticatedError } from '../errors.js';
import type { Organization, Prisma } from '../generated/prisma/client.js';
import { isId, newId } from '../ids.js';
import type { PageRequest } from '../schema/connection.js';
import { accountIdOf } from './account.js';
import { pageById } from './id-page.js';

/** Editable organization fields; `null` clears an optional field, `undefined` leaves it unchanged. */
export interface OrganizationFields {
  name?: string | null;
  email?: string | null;
  banner?: string | null;
  description?: string | null;
  hostname?: string | null;
}

/** Organizations the viewer may see: those its session account owns (nothing for any other credential). */
export function visibleOrganizationWhere(ctx: Context): Prisma.OrganizationWhereInput {
  return { owners: { some: { accountId: accountIdOf(ctx) } } };
}

/** An organization the viewer owns, or NotFoundError (also for other people's organizations: no existence oracle). */
export async function findOwnedOrganization(ctx: Context, id: string): Promise<Organization> {
  const org = isId(id, 'org')
    ? await ctx.prisma.organization.findFirst({ where: { id, ...visibleOrganizationWhere(ctx) } })
    : null;
  if (!org) throw new NotFoundError('Organization not found');
  return org;
}

/** Creates an organization owned by the calling account. */
export async function createOrganization(ctx: Context, input: OrganizationFields & { name: string }): Promise<Organization> {
  const v = ctx.viewer;
  if (v.kind !== 'account') throw new UnauthenticatedError();
  return ctx.prisma.organization.create({
    data: {
      id: newId('org'),
      name: input.name,
      email: input.email ?? null,
      banner: input.banner ?? null,
      description: input.description ?? null,
      hostname: input.hostname ?? null,
      owners: { create: { accountId: v.accountId } },
    },
  });
}

/** Updates an organization the viewer owns. */
export async function updateOrganization(ctx: Context, input: OrganizationFields & { id: string }): Promise<Organization> {
  const org = await findOwnedOrganization(ctx, input.id);
  const data: Prisma.OrganizationUpdateInput = {};
  if (input.name != null) data.name = input.name;
  for (const key of ['email', 'banner', 'description', 'hostname'] as const) {
    if (input[key] !== undefined) data[key] = input[key];
  }
  if (Object.keys(data).length === 0) return org;
  return ctx.prisma.organization.update({ where: { id: org.id }, data });
}

/** Apps of an organization, oldest first (the caller has already seen the organization). */
export function listOrganizationApps(ctx: Context, organizationId: string, req: PageRequest) {
  return pageById(req, ({ id, orderBy, take }) =>
    ctx.prisma.app.findMany({ where: { id, organizationId }, orderBy, take }),
  );
}
