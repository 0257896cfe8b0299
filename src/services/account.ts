/** Accounts (the people who run apps on Parley): sign-up, log-in, log-out and their sessions. */
import { CREDENTIAL_PREFIX, credentialHash, hashPassword, randomCredential, verifyPassword } from '../auth/secrets.js';
import type { Context } from '../context.js';
import { ConflictError, fromDatabaseError, UnauthenticatedError } from '../errors.js';
import type { Account, Prisma } from '../generated/prisma/client.js';
import { newId } from '../ids.js';
import type { PageRequest } from '../schema/connection.js';
import { pageById } from './id-page.js';

export interface SessionResult {
  /** The plaintext session token; only its hash is stored. */
  token: string;
  account: Account;
}

const WRONG_CREDENTIALS = 'Wrong email or password';

/** Creates an account and its first session. The email is unique (case-insensitively: inputs arrive lowercased). */
export async function signUp(
  ctx: Context,
  input: { email: string; password: string; name: string },
): Promise<SessionResult> {
  if (await ctx.prisma.account.findUnique({ where: { email: input.email }, select: { id: true } })) {
    throw new ConflictError('An account with this email already exists');
  }
  const passwordHash = await hashPassword(input.password);
  const token = randomCredential(CREDENTIAL_PREFIX.session);
  try {
    const account = await ctx.prisma.account.create({
      data: {
        id: newId('acc'),
        email: input.email,
        name: input.name,
        passwordHash,
        sessions: { create: { id: newId('ses'), tokenHash: credentialHash(token) } },
      },
    });
    return { token, account };
  } catch (e) {
    // A concurrent sign-up with the same email passed the check above.
    const mapped = fromDatabaseError(e);
    throw mapped instanceof ConflictError ? new ConflictError('An account with this email already exists') : (mapped ?? e);
  }
}

/** A hash to verify against when the email is unknown, so both failures take about as long. */
let dummyHash: Promise<string> | null = null;

/** Starts a new session. Unknown email and wrong password give the same error (no account oracle). */
export async function logIn(ctx: Context, input: { email: string; password: string }): Promise<SessionResult> {
  const account = await ctx.prisma.account.findUnique({ where: { email: input.email } });
  dummyHash ??= hashPassword('not-a-real-password');
  const ok = await verifyPassword(input.password, account?.passwordHash ?? (await dummyHash));
  if (!account || !ok) throw new UnauthenticatedError(WRONG_CREDENTIALS);
  const token = randomCredential(CREDENTIAL_PREFIX.session);
  await ctx.prisma.session.create({ data: { id: newId('ses'), accountId: account.id, tokenHash: credentialHash(token) } });
  return { token, account };
}

/** Ends the caller's session (or all sessions of the account). Sessions are not cached, so this is immediate. */
export async function logOut(ctx: Context, input: { allSessions?: boolean | null }): Promise<void> {
  const v = ctx.viewer;
  if (v.kind !== 'account') throw new UnauthenticatedError();
  await ctx.prisma.session.deleteMany({ where: input.allSessions ? { accountId: v.accountId } : { id: v.sessionId } });
}

/** The account id of a session viewer, or a value that matches no row. */
export function accountIdOf(ctx: Context): string {
  return ctx.viewer.kind === 'account' ? ctx.viewer.accountId : '__none__';
}

/** Organizations the account owns, oldest first. */
export function listOwnedOrganizations(ctx: Context, accountId: string, req: PageRequest) {
  return pageById(req, ({ id, orderBy, take }) => {
    const where: Prisma.OrganizationWhereInput = { id, owners: { some: { accountId } } };
    return ctx.prisma.organization.findMany({ where, orderBy, take });
  });
}
