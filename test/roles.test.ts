/** Every updateUser role and deactivation rule, through the API, plus unit tests of the pure rule functions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canSetRole, isAdminPlus, isModPlus } from '../src/auth/roles.js';
import { canDeactivate, removesOwner } from '../src/auth/user-rules.js';
import type { Role } from '../src/generated/prisma/enums.js';
import { makeTenant } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const ROLES: Role[] = ['OWNER', 'ADMIN', 'MOD', 'MEMBER'];
type Actor = Role | 'SECRET';
const ACTORS: Actor[] = ['OWNER', 'ADMIN', 'MOD', 'MEMBER', 'SECRET'];
type Outcome = 'ok' | 'FORBIDDEN' | 'CONFLICT';

const UPDATE = `mutation($input: UpdateUserInput!) { updateUser(input: $input) {
  __typename ... on UpdateUserPayload { user { id role deactivatedAt displayName } } ... on Error { code message } } }`;

/**
 * The expected outcome of `actor` setting `next` on a user whose role is `target`. With a user actor the app also
 * has the actor; with a SECRET key the target is the app's only user, so demoting an OWNER removes the last owner.
 */
function expectedRole(actor: Actor, target: Role, next: Role): Outcome {
  if (actor === 'SECRET') return target === 'OWNER' && next !== 'OWNER' ? 'CONFLICT' : 'ok';
  if (actor === 'OWNER') return 'ok';
  if (actor === 'ADMIN') return target !== 'OWNER' && next !== 'OWNER' ? 'ok' : 'FORBIDDEN';
  return 'FORBIDDEN';
}

function expectedDeactivate(actor: Actor, target: Role): Outcome {
  if (actor === 'SECRET') return target === 'OWNER' ? 'CONFLICT' : 'ok';
  if (actor === 'OWNER') return 'ok';
  if (actor === 'ADMIN') return target !== 'OWNER' ? 'ok' : 'FORBIDDEN';
  return 'FORBIDDEN';
}

/** A fresh app with the target user and (for user actors) the actor; returns the actor's credential. */
async function scenario(actor: Actor, target: Role) {
  const t = await makeTenant(server);
  const targetUser = await t.user({ role: target });
  const credential = actor === 'SECRET' ? t.secretKey : (await t.user({ role: actor })).token;
  return { t, targetUser, credential };
}

function outcomeOf(result: { __typename: string; code?: string }): Outcome {
  return result.__typename === 'UpdateUserPayload' ? 'ok' : (result.code as Outcome);
}

describe('updateUser: role changes (actor × target role × new role)', () => {
  const cases = ACTORS.flatMap((actor) =>
    ROLES.flatMap((target) => ROLES.map((next) => ({ actor, target, next, expected: expectedRole(actor, target, next) }))),
  );

  it.each(cases)('$actor sets $target → $next: $expected', async ({ actor, target, next, expected }) => {
    const { targetUser, credential } = await scenario(actor, target);
    const r = await server.gql(UPDATE, { input: { id: targetUser.id, role: next } }, credential);
    expect(r.errors).toBeUndefined();
    expect(outcomeOf(r.data!.updateUser)).toBe(expected);
    const row = await server.deps.prisma.user.findUniqueOrThrow({ where: { id: targetUser.id } });
    expect(row.role).toBe(expected === 'ok' ? next : target);
  });
});

describe('updateUser: deactivation (actor × target role)', () => {
  const cases = ACTORS.flatMap((actor) => ROLES.map((target) => ({ actor, target, expected: expectedDeactivate(actor, target) })));

  it.each(cases)('$actor deactivates $target: $expected', async ({ actor, target, expected }) => {
    const { targetUser, credential } = await scenario(actor, target);
    const r = await server.gql(UPDATE, { input: { id: targetUser.id, deactivated: true } }, credential);
    expect(outcomeOf(r.data!.updateUser)).toBe(expected);
    const row = await server.deps.prisma.user.findUniqueOrThrow({ where: { id: targetUser.id } });
    expect(row.deactivatedAt !== null).toBe(expected === 'ok');
  });
});

describe('updateUser: self and profile rules', () => {
  it.each(ROLES)('a %s edits their own profile but not their own role or deactivation', async (role) => {
    const t = await makeTenant(server);
    const me = await t.user({ role });
    const ok = await server.gql(UPDATE, { input: { id: me.id, displayName: '  New Name  ', bio: 'hi' } }, me.token);
    expect(ok.data!.updateUser.user).toMatchObject({ id: me.id, displayName: 'New Name', role });
    const other: Role = role === 'MEMBER' ? 'MOD' : 'MEMBER';
    const ownRole = await server.gql(UPDATE, { input: { id: me.id, role: other } }, me.token);
    expect(ownRole.data!.updateUser.code).toBe('FORBIDDEN');
    const ownDeactivate = await server.gql(UPDATE, { input: { id: me.id, deactivated: true } }, me.token);
    expect(ownDeactivate.data!.updateUser.code).toBe('FORBIDDEN');
    const row = await server.deps.prisma.user.findUniqueOrThrow({ where: { id: me.id } });
    expect(row).toMatchObject({ role, deactivatedAt: null, displayName: 'New Name', bio: 'hi' });
  });

  it.each(['OWNER', 'ADMIN', 'MOD', 'MEMBER'] as const)("a %s cannot edit another user's profile", async (role) => {
    const t = await makeTenant(server);
    const actor = await t.user({ role });
    const target = await t.user({ name: 'Original' });
    const r = await server.gql(UPDATE, { input: { id: target.id, displayName: 'Hacked' } }, actor.token);
    expect(r.data!.updateUser.code).toBe('FORBIDDEN');
    expect((await server.deps.prisma.user.findUniqueOrThrow({ where: { id: target.id } })).displayName).toBe('Original');
  });

  it('a SECRET key edits any profile; null clears optional fields', async () => {
    const t = await makeTenant(server);
    const target = await t.user();
    const r = await server.gql(
      UPDATE,
      { input: { id: target.id, displayName: 'By key', email: null, avatarUrl: 'https://cdn.example.com/a.png' } },
      t.secretKey,
    );
    expect(r.data!.updateUser.user.displayName).toBe('By key');
    const row = await server.deps.prisma.user.findUniqueOrThrow({ where: { id: target.id } });
    expect(row).toMatchObject({ email: null, avatarUrl: 'https://cdn.example.com/a.png' });
  });
});

describe('the last active OWNER', () => {
  it('a SECRET key may demote one of two owners but not the last one, nor deactivate it', async () => {
    const t = await makeTenant(server);
    const a = await t.user({ role: 'OWNER' });
    const b = await t.user({ role: 'OWNER' });
    const first = await server.gql(UPDATE, { input: { id: a.id, role: 'ADMIN' } }, t.secretKey);
    expect(first.data!.updateUser.user.role).toBe('ADMIN');
    const last = await server.gql(UPDATE, { input: { id: b.id, role: 'MEMBER' } }, t.secretKey);
    expect(last.data!.updateUser.code).toBe('CONFLICT');
    const deact = await server.gql(UPDATE, { input: { id: b.id, deactivated: true } }, t.secretKey);
    expect(deact.data!.updateUser.code).toBe('CONFLICT');
    expect(await server.deps.prisma.user.findUniqueOrThrow({ where: { id: b.id } })).toMatchObject({ role: 'OWNER', deactivatedAt: null });
  });

  it('an OWNER may deactivate another owner when one active owner remains', async () => {
    const t = await makeTenant(server);
    const a = await t.user({ role: 'OWNER' });
    const b = await t.user({ role: 'OWNER' });
    const r = await server.gql(UPDATE, { input: { id: b.id, deactivated: true } }, a.token);
    expect(r.data!.updateUser.user.deactivatedAt).not.toBeNull();
    // A deactivated owner does not count: a is now the last active owner.
    const demote = await server.gql(UPDATE, { input: { id: a.id, role: 'ADMIN' } }, t.secretKey);
    expect(demote.data!.updateUser.code).toBe('CONFLICT');
  });

  it('concurrent demotions of every owner: all but one succeed, one active owner is left', async () => {
    const t = await makeTenant(server);
    const owners = await Promise.all(Array.from({ length: 6 }, () => t.user({ role: 'OWNER' })));
    const results = await Promise.all(
      owners.map((u) => server.gql(UPDATE, { input: { id: u.id, role: 'MEMBER' } }, t.secretKey)),
    );
    const outcomes = results.map((r) => outcomeOf(r.data!.updateUser));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'CONFLICT')).toHaveLength(1);
    expect(await server.deps.prisma.user.count({ where: { appId: t.appId, role: 'OWNER', deactivatedAt: null } })).toBe(1);
  });

  it('issueUserToken cannot demote the last owner either', async () => {
    const t = await makeTenant(server);
    const owner = await t.user({ role: 'OWNER' });
    const row = await server.deps.prisma.user.findUniqueOrThrow({ where: { id: owner.id } });
    const r = await server.gql(
      `mutation($input: IssueUserTokenInput!) { issueUserToken(input: $input) { __typename ... on Error { code } } }`,
      { input: { externalId: row.externalId, role: 'MEMBER' } },
      t.secretKey,
    );
    expect(r.data!.issueUserToken.code).toBe('CONFLICT');
    expect((await server.deps.prisma.user.findUniqueOrThrow({ where: { id: owner.id } })).role).toBe('OWNER');
  });
});

describe('deactivated users and demoted users', () => {
  const USERS = `{ users { edges { node { id } } } }`;

  it('a deactivated user can do nothing: its token is UnauthenticatedError everywhere, and gets no new token', async () => {
    const t = await makeTenant(server);
    const admin = await t.user({ role: 'ADMIN' });
    const victim = await t.user();
    expect((await server.gql(USERS, {}, victim.token)).data!.users.edges.length).toBe(2);
    const r = await server.gql(UPDATE, { input: { id: victim.id, deactivated: true } }, admin.token);
    expect(r.data!.updateUser.user.deactivatedAt).not.toBeNull();

    const read = await server.gql(USERS, {}, victim.token);
    expect(read.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const write = await server.gql(UPDATE, { input: { id: victim.id, displayName: 'still here?' } }, victim.token);
    expect(write.data!.updateUser.code).toBe('UNAUTHENTICATED');
    expect((await server.deps.prisma.user.findUniqueOrThrow({ where: { id: victim.id } })).displayName).not.toBe('still here?');

    const externalId = (await server.deps.prisma.user.findUniqueOrThrow({ where: { id: victim.id } })).externalId;
    const issue = await server.gql(
      `mutation($input: IssueUserTokenInput!) { issueUserToken(input: $input) { __typename ... on Error { code } } }`,
      { input: { externalId } },
      t.secretKey,
    );
    expect(issue.data!.issueUserToken.code).toBe('FORBIDDEN');

    const back = await server.gql(UPDATE, { input: { id: victim.id, deactivated: false } }, admin.token);
    expect(back.data!.updateUser.user.deactivatedAt).toBeNull();
    expect((await server.gql(USERS, {}, victim.token)).data!.users.edges.length).toBe(2);
  });

  it('a demoted ADMIN loses admin powers at once (the user cache is invalidated)', async () => {
    const t = await makeTenant(server);
    const owner = await t.user({ role: 'OWNER' });
    const admin = await t.user({ role: 'ADMIN' });
    const member = await t.user();
    const ROTATE = `mutation { rotateJoinSecret(input: {}) { __typename ... on Error { code } } }`;
    expect((await server.gql(ROTATE, {}, admin.token)).data!.rotateJoinSecret.__typename).toBe('RotateJoinSecretPayload');
    await server.gql(UPDATE, { input: { id: admin.id, role: 'MEMBER' } }, owner.token);
    expect((await server.gql(ROTATE, {}, admin.token)).data!.rotateJoinSecret.code).toBe('FORBIDDEN');
    const r = await server.gql(UPDATE, { input: { id: member.id, role: 'MOD' } }, admin.token);
    expect(r.data!.updateUser.code).toBe('FORBIDDEN');
  });
});

describe('src/auth/roles.ts and src/auth/user-rules.ts (unit)', () => {
  it('isModPlus / isAdminPlus rank the roles', () => {
    expect(ROLES.filter(isModPlus)).toEqual(['OWNER', 'ADMIN', 'MOD']);
    expect(ROLES.filter(isAdminPlus)).toEqual(['OWNER', 'ADMIN']);
  });

  it('canSetRole: SECRET (null) and OWNER set anything; ADMIN only among non-owners; MOD and MEMBER nothing', () => {
    for (const target of ROLES) {
      for (const next of ROLES) {
        expect(canSetRole(null, target, next)).toBe(true);
        expect(canSetRole('OWNER', target, next)).toBe(true);
        expect(canSetRole('ADMIN', target, next)).toBe(target !== 'OWNER' && next !== 'OWNER');
        expect(canSetRole('MOD', target, next)).toBe(false);
        expect(canSetRole('MEMBER', target, next)).toBe(false);
      }
    }
  });

  it('canDeactivate: SECRET and OWNER anyone, ADMIN non-owners, MOD and MEMBER nobody', () => {
    for (const target of ROLES) {
      expect(canDeactivate(null, target)).toBe(true);
      expect(canDeactivate('OWNER', target)).toBe(true);
      expect(canDeactivate('ADMIN', target)).toBe(target !== 'OWNER');
      expect(canDeactivate('MOD', target)).toBe(false);
      expect(canDeactivate('MEMBER', target)).toBe(false);
    }
  });

  it('removesOwner: only demoting or deactivating an active OWNER', () => {
    const owner = { role: 'OWNER' as const, deactivatedAt: null };
    expect(removesOwner(owner, { role: 'ADMIN' })).toBe(true);
    expect(removesOwner(owner, { deactivated: true })).toBe(true);
    expect(removesOwner(owner, { role: 'OWNER' })).toBe(false);
    expect(removesOwner(owner, { deactivated: false })).toBe(false);
    expect(removesOwner(owner, {})).toBe(false);
    expect(removesOwner({ role: 'OWNER', deactivatedAt: new Date() }, { role: 'MEMBER' })).toBe(false);
    expect(removesOwner({ role: 'ADMIN', deactivatedAt: null }, { role: 'MEMBER', deactivated: true })).toBe(false);
  });
});
