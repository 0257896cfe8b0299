/** The Pothos builder and its plugins. Defines no types (see src/schema/). */
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { DateTimeResolver } from 'graphql-scalars';
import type { Context } from './context.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError, toGraphQLError } from './errors.js';
import type PrismaTypes from './generated/pothos-types.js';
import { getDatamodel } from './generated/pothos-types.js';
import { idPrefix, ID_PREFIXES } from './ids.js';
import { isModPlus, isAdminPlus } from './auth/roles.js';

/** Types that implement Node (sessions have ids but are never exposed). */
const NODE_TYPES = new Set<string>(['Account', 'Organization', 'App', 'ApiKey', 'User', 'Channel', 'Thread', 'Chat', 'Feed', 'Webhook']);

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
  };
  AuthScopes: {
    /** Any valid credential. */
    authenticated: boolean;
    /** An account session (the people who run apps on Parley). */
    account: boolean;
    /** A SECRET API key of an app (server to server). */
    secretKey: boolean;
    /** A user token of an active app user who is not a support visitor. */
    user: boolean;
    /** A support visitor's token (a VISITOR user from startConversation): only their own conversation. */
    visitor: boolean;
    /** A PUBLISHABLE API key (shipped to browsers): joinApp and startConversation only. */
    publishableKey: boolean;
    /** A user with role MOD, ADMIN or OWNER. */
    mod: boolean;
    /** A user with role ADMIN or OWNER. */
    admin: boolean;
  };
}>({
  plugins: [ErrorsPlugin, ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ValidationPlugin],
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    // Our ids are already prefixed and opaque, so they are used as global ids unchanged.
    encodeGlobalID: (_typename, id) => String(id),
    decodeGlobalID: (globalID) => {
      const prefix = idPrefix(globalID);
      const typename = prefix ? ID_PREFIXES[prefix] : null;
      // Malformed ids and prefixes of non-node types load as a User id that matches no row: node(id) gives null.
      return typename && NODE_TYPES.has(typename) ? { typename, id: globalID } : { typename: 'User', id: 'usr_none' };
    },
    nodesQueryOptions: {
      description: 'Up to 100 nodes by id, in order; null for each id the viewer may not see.',
      resolve: (_root, { ids }, _ctx, _info, resolveNodes) => {
        if (ids.length > 100) throw toGraphQLError(ValidationError.field(['ids'], 'At most 100 ids'));
        return resolveNodes(ids);
      },
    },
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesOnConnection: false,
  },
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      authenticated: ctx.viewer.kind !== 'anonymous',
      account: ctx.viewer.kind === 'account',
      secretKey: ctx.viewer.kind === 'secretKey',
      user: ctx.viewer.kind === 'user' && ctx.viewer.user.kind !== 'VISITOR',
      visitor: ctx.viewer.kind === 'user' && ctx.viewer.user.kind === 'VISITOR',
      publishableKey: ctx.viewer.kind === 'publishableKey',
      // A visitor is never staff, whatever role someone gave it.
      mod: ctx.viewer.kind === 'user' && ctx.viewer.user.kind !== 'VISITOR' && isModPlus(ctx.viewer.user.role),
      admin: ctx.viewer.kind === 'user' && ctx.viewer.user.kind !== 'VISITOR' && isAdminPlus(ctx.viewer.user.role),
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.viewer.kind === 'anonymous' ? new UnauthenticatedError() : new ForbiddenError('This credential may not do that'),
  },
  errors: {
    defaultTypes: [NotFoundError, ForbiddenError, ValidationError, ConflictError, UnauthenticatedError],
    directResult: true,
    unsafelyHandleInputErrors: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName.charAt(0).toUpperCase()}${fieldName.slice(1)}Result`,
    },
  },
  validation: {
    validationError: (result) =>
      new ValidationError(
        result.issues.map((i) => i.message).join('; '),
        result.issues.map((i) => ({
          path: (i.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)),
          message: i.message,
        })),
      ),
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
