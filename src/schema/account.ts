/** Accounts: the Account node and signUp / logIn / logOut. */
import { z } from 'zod';
import { builder } from '../builder.js';
import { accountIdOf, listOwnedOrganizations, logIn, logOut, signUp } from '../services/account.js';
import { pageRequest } from './connection.js';
import { defineMutation } from './mutation.js';
import { OrganizationNode } from './organization.js';
import { emailAddress, password, safeText } from './validators.js';

export const AccountNode = builder.prismaNode('Account', {
  id: { field: 'id' },
  nullable: true,
  description: 'A person who runs apps on Parley. Visible only to its own sessions.',
  findUnique: (id, ctx) => ({ id, AND: [{ id: accountIdOf(ctx) }] }),
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    organizations: t.connection({
      type: OrganizationNode,
      description: 'Organizations this account owns, oldest first.',
      resolve: (a, args, ctx) => listOwnedOrganizations(ctx, a.id, pageRequest(args, ['s'])),
    }),
  }),
});

defineMutation('signUp', {
  description: 'Creates an account and returns a session token for it (`Authorization: Bearer <token>`).',
  input: (t) => ({
    email: t.string({ required: true, validate: emailAddress() }),
    password: t.string({ required: true, validate: password() }),
    name: t.string({ required: true, validate: safeText(1, 200) }),
  }),
  resolve: (input, ctx) => signUp(ctx, input),
  payload: (t) => ({
    token: t.exposeString('token', { description: 'The session token; shown only once.' }),
    account: t.field({ type: AccountNode, resolve: (p) => p.account }),
  }),
});

defineMutation('logIn', {
  description: 'Starts a new session. A wrong email and a wrong password give the same UnauthenticatedError.',
  input: (t) => ({
    email: t.string({ required: true, validate: emailAddress() }),
    // Any length up to the maximum: a wrong password of any length is the same UnauthenticatedError.
    password: t.string({ required: true, validate: z.string().min(1).max(200) }),
  }),
  resolve: (input, ctx) => logIn(ctx, input),
  payload: (t) => ({
    token: t.exposeString('token', { description: 'The session token; shown only once.' }),
    account: t.field({ type: AccountNode, resolve: (p) => p.account }),
  }),
});

defineMutation('logOut', {
  description: 'Ends the session of the request (or every session of the account); its token stops working at once.',
  authScopes: { account: true },
  input: (t) => ({
    allSessions: t.boolean({ description: 'End every session of the account, not only this one.' }),
  }),
  resolve: async (input, ctx) => {
    await logOut(ctx, input);
    return { ok: true };
  },
  payload: (t) => ({ ok: t.exposeBoolean('ok') }),
});
