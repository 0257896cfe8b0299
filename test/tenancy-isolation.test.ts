/**
 * Tenancy isolation and bad input for accounts, organizations, apps, keys and users: every mutation with another
 * tenant's ids is NotFoundError and writes nothing; key kinds, joinApp, visibility of emails and secrets; page sizes,
 * forged cursors and NUL bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTenant } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;

const ERR = '... on Error { __typename code message }';

interface OwnedTenant {
  session: string;
  accountId: string;
  orgId: string;
  appId: string;
  keyId: string;
  secretKey: string;
  publishableKey: string;
  joinSecret: string;
  /** A user of the app with the given role: id and token. */
  user(role?: 'OWNER' | 'ADMIN' | 'MOD' | 'MEMBER', externalId?: string): Promise<{ id: string; token: string }>;
}

let n = 0;
/** An account with an organization, an app, a SECRET and a PUBLISHABLE key, all made through the API. */
async function ownedTenant(): Promise<OwnedTenant> {
  const tag = `${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const gql = async (q: string, input: Record<string, unknown>, cred?: string) => {
    const r = await server.gql(q, { input }, cred);
    expect(r.errors).toBeUndefined();
    const value = Object.values(r.data!)[0] as Record<string, any>;
    expect(value.code).toBeUndefined();
    return value;
  };
  const su = await gql(`mutation($input: SignUpInput!) { signUp(input: $input) { ... on SignUpPayload { token account { id } } ${ERR} } }`, {
    email: `owner-${tag}@example.com`,
    password: 'password-123',
    name: `Owner ${tag}`,
  });
  const session = su.token as string;
  const org = await gql(`mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { ... on CreateOrganizationPayload { organization { id } } ${ERR} } }`, { name: `Org ${tag}` }, session);
  const app = await gql(`mutation($input: CreateAppInput!) { createApp(input: $input) { ... on CreateAppPayload { app { id joinSecret } } ${ERR} } }`, { organizationId: org.organization.id, name: `App ${tag}` }, session);
  const KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { secret apiKey { id } } ${ERR} } }`;
  const sk = await gql(KEY, { appId: app.app.id, kind: 'SECRET' }, session);
  const pk = await gql(KEY, { appId: app.app.id, kind: 'PUBLISHABLE' }, session);
  let u = 0;
  return {
    session,
    accountId: su.account.id,
    orgId: org.organization.id,
    appId: app.app.id,
    keyId: sk.apiKey.id,
    secretKey: sk.secret,
    publishableKey: pk.secret,
    joinSecret: app.app.joinSecret,
    async user(role = 'MEMBER', externalId = `user-${tag}-${++u}`) {
      const r = await gql(
        `mutation($input: IssueUserTokenInput!) { issueUserToken(input: $input) { ... on IssueUserTokenPayload { token user { id } } ${ERR} } }`,
        { externalId, role, email: `${externalId}@example.com` },
        sk.secret,
      );
      return { id: r.user.id, token: r.token };
    },
  };
}

/** Everything a tenant owns, for "nothing written" comparisons. */
async function snapshot(t: OwnedTenant) {
  const p = server.deps.prisma;
  return JSON.stringify({
    org: await p.organization.findUnique({ where: { id: t.orgId }, include: { owners: true } }),
    apps: await p.app.findMany({ where: { organizationId: t.orgId }, orderBy: { id: 'asc' } }),
    keys: await p.apiKey.findMany({ where: { app: { organizationId: t.orgId } }, orderBy: { id: 'asc' } }),
    users: await p.user.findMany({ where: { app: { organizationId: t.orgId } }, orderBy: { id: 'asc' } }),
  });
}

let a: OwnedTenant;
let b: OwnedTenant;
let bUserId: string;

beforeAll(async () => {
  server = await startTestServer();
  a = await ownedTenant();
  b = await ownedTenant();
  bUserId = (await b.user('MEMBER')).id;
});
afterAll(async () => {
  await server?.close();
});

describe('cross-tenant ids → NotFoundError, nothing written', () => {
  type Cred = 'session' | 'secretKey' | 'admin' | 'owner';
  const cases: { name: string; cred: Cred; mutation: string; input: () => Record<string, unknown> }[] = [
    { name: 'updateOrganization(other org)', cred: 'session', mutation: 'updateOrganization', input: () => ({ id: b.orgId, name: 'pwned' }) },
    { name: 'updateOrganization(app id)', cred: 'session', mutation: 'updateOrganization', input: () => ({ id: a.appId, name: 'pwned' }) },
    { name: 'createApp(other org)', cred: 'session', mutation: 'createApp', input: () => ({ organizationId: b.orgId, name: 'pwned' }) },
    { name: 'updateApp(other app) by session', cred: 'session', mutation: 'updateApp', input: () => ({ id: b.appId, openJoin: true }) },
    { name: 'updateApp(other app) by SECRET key', cred: 'secretKey', mutation: 'updateApp', input: () => ({ id: b.appId, openJoin: true }) },
    { name: 'createApiKey(other app)', cred: 'session', mutation: 'createApiKey', input: () => ({ appId: b.appId, kind: 'SECRET' }) },
    { name: 'createApiKey(org id)', cred: 'session', mutation: 'createApiKey', input: () => ({ appId: b.orgId, kind: 'SECRET' }) },
    { name: 'revokeApiKey(other key)', cred: 'session', mutation: 'revokeApiKey', input: () => ({ id: b.keyId }) },
    { name: 'revokeApiKey(forged id)', cred: 'session', mutation: 'revokeApiKey', input: () => ({ id: 'key_\u0000' }) },
    { name: 'rotateJoinSecret(other app) by session', cred: 'session', mutation: 'rotateJoinSecret', input: () => ({ appId: b.appId }) },
    { name: 'rotateJoinSecret(other app) by SECRET key', cred: 'secretKey', mutation: 'rotateJoinSecret', input: () => ({ appId: b.appId }) },
    { name: 'rotateJoinSecret(other app) by ADMIN', cred: 'admin', mutation: 'rotateJoinSecret', input: () => ({ appId: b.appId }) },
    { name: 'updateUser(other app user) by SECRET key', cred: 'secretKey', mutation: 'updateUser', input: () => ({ id: bUserId, role: 'OWNER' }) },
    { name: 'updateUser(other app user) by OWNER', cred: 'owner', mutation: 'updateUser', input: () => ({ id: bUserId, deactivated: true }) },
    { name: 'updateUser(other app user) by ADMIN', cred: 'admin', mutation: 'updateUser', input: () => ({ id: bUserId, displayName: 'pwned' }) },
  ];

  it.each(cases)('$name', async ({ cred, mutation, input }) => {
    const credential =
      cred === 'session' ? a.session : cred === 'secretKey' ? a.secretKey : (await a.user(cred === 'admin' ? 'ADMIN' : 'OWNER')).token;
    const before = await snapshot(b);
    const Name = mutation.charAt(0).toUpperCase() + mutation.slice(1);
    const r = await server.gql(`mutation($input: ${Name}Input!) { ${mutation}(input: $input) { __typename ${ERR} } }`, { input: input() }, credential);
    expect(r.errors).toBeUndefined();
    expect(r.data![mutation]).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(await snapshot(b)).toBe(before);
  });

  it('node(id) of another tenant’s account, organization, app and key is null', async () => {
    const NODE = `query($id: ID!) { node(id: $id) { id } }`;
    for (const [id, cred] of [
      [b.accountId, a.session],
      [b.orgId, a.session],
      [b.appId, a.session],
      [b.keyId, a.session],
      [b.appId, a.secretKey],
      [b.orgId, a.secretKey],
      [b.keyId, b.secretKey],
      [b.orgId, b.secretKey],
    ] as const) {
      const r = await server.gql(NODE, { id }, cred);
      expect(r.errors, id).toBeUndefined();
      expect(r.data!.node, id).toBeNull();
    }
    // The owner sees its own.
    for (const id of [b.accountId, b.orgId, b.appId, b.keyId]) {
      expect((await server.gql(NODE, { id }, b.session)).data!.node).toEqual({ id });
    }
    // Any credential of the app sees the app.
    expect((await server.gql(NODE, { id: b.appId }, b.publishableKey)).data!.node).toEqual({ id: b.appId });
  });

  it('user(id) of another app is null', async () => {
    const r = await server.gql(`query($id: ID!) { user(id: $id) { id } }`, { id: bUserId }, a.secretKey);
    expect(r.data!.user).toBeNull();
  });
});

describe('credential kinds', () => {
  const ISSUE = `mutation($input: IssueUserTokenInput!) { issueUserToken(input: $input) { __typename ... on IssueUserTokenPayload { user { id } } ${ERR} } }`;

  const credentials: [string, () => Promise<string>, string][] = [
    ['PUBLISHABLE key', async () => a.publishableKey, 'FORBIDDEN'],
    ['user token (OWNER)', async () => (await a.user('OWNER')).token, 'FORBIDDEN'],
    ['account session', async () => a.session, 'FORBIDDEN'],
    ['no credential', async () => '', 'UNAUTHENTICATED'],
  ];
  it.each(credentials)('issueUserToken with a %s → %s, no user written', async (_name, cred, code) => {
    const r = await server.gql(ISSUE, { input: { externalId: 'should-not-exist' } }, (await cred()) || undefined);
    expect(r.data!.issueUserToken.code).toBe(code);
    expect(await server.deps.prisma.user.count({ where: { externalId: 'should-not-exist' } })).toBe(0);
  });

  it('account-only mutations refuse app credentials', async () => {
    const r = await server.gql(`mutation { createOrganization(input: { name: "x" }) { __typename ${ERR} } }`, {}, a.secretKey);
    expect(r.data!.createOrganization.code).toBe('FORBIDDEN');
    const k = await server.gql(`mutation($id: ID!) { createApiKey(input: { appId: $id, kind: SECRET }) { __typename ${ERR} } }`, { id: a.appId }, a.secretKey);
    expect(k.data!.createApiKey.code).toBe('FORBIDDEN');
  });

  it('a SECRET key may update its own app’s settings; an owner session rotates the join secret by appId', async () => {
    const t = await ownedTenant();
    const u = await server.gql(`mutation($id: ID!) { updateApp(input: { id: $id, openJoin: true }) { ... on UpdateAppPayload { app { openJoin } } } }`, { id: t.appId }, t.secretKey);
    expect(u.data!.updateApp.app.openJoin).toBe(true);
    const noId = await server.gql(`mutation { rotateJoinSecret(input: {}) { __typename } }`, {}, t.session);
    expect(noId.data!.rotateJoinSecret.__typename).toBe('NotFoundError');
    const r = await server.gql(`mutation($id: ID!) { rotateJoinSecret(input: { appId: $id }) { ... on RotateJoinSecretPayload { app { joinSecret } } } }`, { id: t.appId }, t.session);
    const fresh = r.data!.rotateJoinSecret.app.joinSecret;
    expect(fresh).not.toBe(t.joinSecret);
    expect((await server.deps.prisma.app.findUniqueOrThrow({ where: { id: t.appId } })).joinSecret).toBe(fresh);
  });

  it('concurrent issueUserToken for one new externalId make exactly one user', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => server.gql(ISSUE, { input: { externalId: 'racer', displayName: 'Racer' } }, a.secretKey)),
    );
    const ids = new Set(results.map((r) => r.data!.issueUserToken.user?.id));
    expect([...ids]).toHaveLength(1);
    expect([...ids][0]).toMatch(/^usr_/);
    expect(await server.deps.prisma.user.count({ where: { appId: a.appId, externalId: 'racer' } })).toBe(1);
    const userId = [...ids][0] as string;
    expect(await server.deps.prisma.feed.count({ where: { userId } })).toBe(3);
  });
});

describe('joinApp', () => {
  const JOIN = `mutation($input: JoinAppInput!) { joinApp(input: $input) {
    __typename ... on JoinAppPayload { token expiresAt user { id externalId displayName role } } ${ERR} } }`;
  const count = (appId: string, externalId: string) => server.deps.prisma.user.count({ where: { appId, externalId } });

  it('a PUBLISHABLE key with the current join secret creates a MEMBER and returns its token', async () => {
    const r = await server.gql(JOIN, { input: { joinSecret: a.joinSecret, externalId: 'joiner-1', displayName: 'Joiner' } }, a.publishableKey);
    const p = r.data!.joinApp;
    expect(p.user).toMatchObject({ externalId: 'joiner-1', displayName: 'Joiner', role: 'MEMBER' });
    expect(p.token).toEqual(expect.any(String));
    const v = await server.gql(`{ viewer { user { id } app { id } } }`, {}, p.token);
    expect(v.data!.viewer).toEqual({ user: { id: p.user.id }, app: { id: a.appId } });
    const again = await server.gql(JOIN, { input: { joinSecret: a.joinSecret, externalId: 'joiner-1' } }, a.publishableKey);
    expect(again.data!.joinApp.code).toBe('CONFLICT');
    expect(await count(a.appId, 'joiner-1')).toBe(1);
  });

  it.each([
    ['a wrong secret', () => 'not-the-secret'],
    ['no secret', () => null],
    ['the other app’s secret', () => b.joinSecret],
  ])('a PUBLISHABLE key with %s → ForbiddenError, nothing written', async (_n, secret) => {
    const r = await server.gql(JOIN, { input: { joinSecret: secret(), externalId: 'intruder' } }, a.publishableKey);
    expect(r.data!.joinApp.code).toBe('FORBIDDEN');
    expect(await count(a.appId, 'intruder')).toBe(0);
  });

  it('rotateJoinSecret (ADMIN) invalidates the old secret; the new one works; MEMBERs may not rotate', async () => {
    const t = await ownedTenant();
    const member = await t.user('MEMBER');
    const ROTATE = `mutation { rotateJoinSecret(input: {}) { __typename ... on RotateJoinSecretPayload { app { joinSecret } } ${ERR} } }`;
    expect((await server.gql(ROTATE, {}, member.token)).data!.rotateJoinSecret.code).toBe('FORBIDDEN');
    expect((await server.gql(ROTATE, {}, t.publishableKey)).data!.rotateJoinSecret.code).toBe('FORBIDDEN');
    const admin = await t.user('ADMIN');
    const r = await server.gql(ROTATE, {}, admin.token);
    const fresh = r.data!.rotateJoinSecret.app.joinSecret as string;
    expect(fresh).not.toBe(t.joinSecret);
    const old = await server.gql(JOIN, { input: { joinSecret: t.joinSecret, externalId: 'late' } }, t.publishableKey);
    expect(old.data!.joinApp.code).toBe('FORBIDDEN');
    expect(await count(t.appId, 'late')).toBe(0);
    const ok = await server.gql(JOIN, { input: { joinSecret: fresh, externalId: 'late' } }, t.publishableKey);
    expect(ok.data!.joinApp.user.externalId).toBe('late');
  });

  it('a member invites only with openJoin (token: null); an ADMIN always may', async () => {
    const t = await ownedTenant();
    const member = await t.user('MEMBER');
    const closed = await server.gql(JOIN, { input: { externalId: 'friend-1' } }, member.token);
    expect(closed.data!.joinApp.code).toBe('FORBIDDEN');
    expect(await count(t.appId, 'friend-1')).toBe(0);

    const admin = await t.user('ADMIN');
    const byAdmin = await server.gql(JOIN, { input: { externalId: 'friend-2' } }, admin.token);
    expect(byAdmin.data!.joinApp).toMatchObject({ token: null, expiresAt: null, user: { externalId: 'friend-2', role: 'MEMBER' } });

    await server.gql(`mutation($id: ID!) { updateApp(input: { id: $id, openJoin: true }) { __typename } }`, { id: t.appId }, t.session);
    const open = await server.gql(JOIN, { input: { externalId: 'friend-1', displayName: 'Friend' } }, member.token);
    expect(open.data!.joinApp).toMatchObject({ token: null, expiresAt: null, user: { externalId: 'friend-1', displayName: 'Friend' } });
    const wrong = await server.gql(JOIN, { input: { externalId: 'friend-3', joinSecret: 'wrong' } }, member.token);
    expect(wrong.data!.joinApp.code).toBe('FORBIDDEN');
    expect(await count(t.appId, 'friend-3')).toBe(0);
  });

  it('account sessions cannot join; anonymous callers are UnauthenticatedError', async () => {
    expect((await server.gql(JOIN, { input: { joinSecret: a.joinSecret, externalId: 'x1' } }, a.session)).data!.joinApp.code).toBe('FORBIDDEN');
    expect((await server.gql(JOIN, { input: { joinSecret: a.joinSecret, externalId: 'x1' } })).data!.joinApp.code).toBe('UNAUTHENTICATED');
    expect(await count(a.appId, 'x1')).toBe(0);
  });
});

describe('visibility of emails, join secrets and keys', () => {
  it('user.email: self, ADMIN+ and SECRET keys see it; MOD, MEMBER and PUBLISHABLE keys see null', async () => {
    const t = await ownedTenant();
    const target = await t.user('MEMBER', 'email-target');
    const Q = `query($id: ID!) { user(id: $id) { email } }`;
    const emailOf = async (cred: string) => (await server.gql(Q, { id: target.id }, cred)).data!.user?.email;
    expect(await emailOf(target.token)).toBe('email-target@example.com');
    expect(await emailOf((await t.user('ADMIN')).token)).toBe('email-target@example.com');
    expect(await emailOf((await t.user('OWNER')).token)).toBe('email-target@example.com');
    expect(await emailOf(t.secretKey)).toBe('email-target@example.com');
    expect(await emailOf((await t.user('MOD')).token)).toBeNull();
    expect(await emailOf((await t.user('MEMBER')).token)).toBeNull();
    // A PUBLISHABLE key is public: it reads no users at all.
    expect((await server.gql(Q, { id: target.id }, t.publishableKey)).data!.user).toBeNull();
    // Searching by email is no side channel for those who cannot see it.
    const S = `query($s: String) { users(search: $s) { edges { node { id } } } }`;
    const member = await t.user('MEMBER');
    expect((await server.gql(S, { s: 'email-target@' }, member.token)).data!.users.edges).toEqual([]);
    expect((await server.gql(S, { s: 'email-target@' }, t.secretKey)).data!.users.edges).toEqual([{ node: { id: target.id } }]);
  });

  it('app.joinSecret and app.apiKeys: owners; joinSecret also ADMIN+ and SECRET keys', async () => {
    const Q = `{ viewer { app { id joinSecret apiKeys { edges { node { id } } } } } }`;
    const member = await a.user('MEMBER');
    const mod = await a.user('MOD');
    const admin = await a.user('ADMIN');
    for (const cred of [member.token, mod.token, a.publishableKey]) {
      expect((await server.gql(Q, {}, cred)).data!.viewer.app).toEqual({ id: a.appId, joinSecret: null, apiKeys: null });
    }
    for (const cred of [admin.token, a.secretKey]) {
      expect((await server.gql(Q, {}, cred)).data!.viewer.app).toMatchObject({ joinSecret: expect.any(String), apiKeys: null });
    }
    const owner = await server.gql(`query($id: ID!) { node(id: $id) { ... on App { joinSecret apiKeys { edges { node { id } } } } } }`, { id: a.appId }, a.session);
    expect(owner.data!.node.joinSecret).toEqual(expect.any(String));
    expect(owner.data!.node.apiKeys.edges).toHaveLength(2);
  });
});

describe('bad input', () => {
  it('users(first: 100000) → VALIDATION', async () => {
    const r = await server.gql(`{ users(first: 100000) { edges { node { id } } } }`, {}, a.secretKey);
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(r.data?.users ?? null).toBeNull();
  });

  it.each([
    ['not base64url', 'garbage!'],
    ['not JSON', Buffer.from('{{{').toString('base64url')],
    ['the wrong shape', Buffer.from('[1]').toString('base64url')],
    ['the wrong types', Buffer.from('[1,2]').toString('base64url')],
    ['too long', 'A'.repeat(600)],
  ])('a forged after cursor (%s) → VALIDATION', async (_name, cursor) => {
    const r = await server.gql(`query($c: String) { users(after: $c) { edges { node { id } } } }`, { c: cursor }, a.secretKey);
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });

  it('a forged cursor on an owner-side connection → VALIDATION', async () => {
    const r = await server.gql(`query($c: String) { viewer { account { organizations(after: $c) { edges { node { id } } } } } }`, { c: 'not-a-cursor!' }, a.session);
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });

  it('NUL bytes in displayName → ValidationError in the union with the field path; nothing written', async () => {
    const target = await a.user('MEMBER', 'nul-target');
    const before = await server.deps.prisma.user.findUniqueOrThrow({ where: { id: target.id } });
    const U = `mutation($input: UpdateUserInput!) { updateUser(input: $input) { __typename ... on ValidationError { code issues { path message } } } }`;
    const r = await server.gql(U, { input: { id: target.id, displayName: 'bad\u0000name' } }, target.token);
    expect(r.data!.updateUser).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION' });
    expect(r.data!.updateUser.issues[0].path).toEqual(['input', 'displayName']);
    expect(await server.deps.prisma.user.findUniqueOrThrow({ where: { id: target.id } })).toEqual(before);

    const I = `mutation($input: IssueUserTokenInput!) { issueUserToken(input: $input) { __typename ... on ValidationError { issues { path } } } }`;
    const i = await server.gql(I, { input: { externalId: 'nul-new', displayName: 'x\u0000' } }, a.secretKey);
    expect(i.data!.issueUserToken.__typename).toBe('ValidationError');
    const e = await server.gql(I, { input: { externalId: 'nul\u0000ext' } }, a.secretKey);
    expect(e.data!.issueUserToken.issues[0].path).toEqual(['input', 'externalId']);
    expect(await server.deps.prisma.user.count({ where: { appId: a.appId, externalId: { startsWith: 'nul-new' } } })).toBe(0);
  });

  it.each([
    ['signUp', { email: 'not-an-email', password: 'password-123', name: 'x' }, 'email'],
    ['signUp', { email: 'short@example.com', password: 'short', name: 'x' }, 'password'],
    ['signUp', { email: 'blank@example.com', password: 'password-123', name: '   ' }, 'name'],
    ['signUp', { email: 'nul@example.com', password: 'password-123', name: 'a\u0000b' }, 'name'],
  ])('%s with a bad %s → ValidationError, no account written', async (mutation, input, field) => {
    const r = await server.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { __typename ... on ValidationError { issues { path } } } }`, { input });
    expect(r.data![mutation].__typename).toBe('ValidationError');
    expect(r.data![mutation].issues.map((i: { path: string[] }) => i.path.at(-1))).toContain(field);
    expect(await server.deps.prisma.account.count({ where: { email: String(input.email) } })).toBe(0);
  });

  it.each([
    ['banner', 'javascript:alert(1)'],
    ['hostname', 'not a host'],
    ['name', '   '],
    ['email', 'nope@'],
    ['description', 'a\u0000b'],
  ])('updateOrganization with a bad %s → ValidationError on that field, nothing written', async (field, value) => {
    const before = await snapshot(a);
    const r = await server.gql(
      `mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { __typename ... on ValidationError { issues { path } } } }`,
      { input: { id: a.orgId, [field]: value } },
      a.session,
    );
    expect(r.data!.updateOrganization.__typename).toBe('ValidationError');
    expect(r.data!.updateOrganization.issues[0].path).toEqual(['input', field]);
    expect(await snapshot(a)).toBe(before);
  });

  it('updateApp with a NUL byte in the name → ValidationError, nothing written', async () => {
    const before = await snapshot(a);
    const app = await server.gql(`mutation($id: ID!) { updateApp(input: { id: $id, name: "a\\u0000" }) { __typename } }`, { id: a.appId }, a.session);
    expect(app.data!.updateApp.__typename).toBe('ValidationError');
    expect(await snapshot(a)).toBe(before);
  });

  it('mass assignment: inputs expose no appId, authorId, seq, role (except updateUser/issueUserToken) or ids to set', async () => {
    const r = await server.gql(`{ __schema { types { name inputFields { name } } } }`);
    const fields = new Map<string, string[]>(
      (r.data!.__schema.types as { name: string; inputFields: { name: string }[] | null }[])
        .filter((t) => t.inputFields)
        .map((t) => [t.name, t.inputFields!.map((f) => f.name).sort()]),
    );
    expect(fields.get('SignUpInput')).toEqual(['email', 'name', 'password']);
    expect(fields.get('LogInInput')).toEqual(['email', 'password']);
    expect(fields.get('LogOutInput')).toEqual(['allSessions']);
    expect(fields.get('CreateOrganizationInput')).toEqual(['banner', 'description', 'email', 'hostname', 'name']);
    expect(fields.get('UpdateOrganizationInput')).toEqual(['banner', 'description', 'email', 'hostname', 'id', 'name']);
    expect(fields.get('CreateAppInput')).toEqual(['name', 'openJoin', 'organizationId']);
    expect(fields.get('UpdateAppInput')).toEqual(['id', 'name', 'openJoin']);
    expect(fields.get('CreateApiKeyInput')).toEqual(['appId', 'kind']);
    expect(fields.get('RevokeApiKeyInput')).toEqual(['id']);
    expect(fields.get('RotateJoinSecretInput')).toEqual(['appId']);
    expect(fields.get('IssueUserTokenInput')).toEqual(['avatarUrl', 'displayName', 'email', 'externalId', 'kind', 'role', 'ttlSeconds']);
    expect(fields.get('UpdateUserInput')).toEqual(['avatarUrl', 'bio', 'deactivated', 'displayName', 'email', 'id', 'role']);
    expect(fields.get('JoinAppInput')).toEqual(['displayName', 'email', 'externalId', 'joinSecret']);
    // An extra field is rejected by GraphQL validation before anything runs.
    const extra = await server.gql(`mutation { createApp(input: { organizationId: "${a.orgId}", name: "x", appId: "app_x" }) { __typename } }`, {}, a.session);
    expect(extra.errors?.[0]?.message).toMatch(/appId/);
  });

  it('a role in joinApp is impossible; joined users are MEMBERs (not settable by the joiner)', async () => {
    const r = await server.gql(
      `mutation { joinApp(input: { joinSecret: "${a.joinSecret}", externalId: "wannabe", role: OWNER }) { __typename } }`,
      {},
      a.publishableKey,
    );
    expect(r.errors?.[0]?.message).toMatch(/role/);
    expect(await server.deps.prisma.user.count({ where: { appId: a.appId, externalId: 'wannabe' } })).toBe(0);
  });
});

describe('fixture tenants (no owner account) stay invisible to accounts', () => {
  it('an account cannot see or touch an app it does not own, even by id', async () => {
    const t = await makeTenant(server);
    const r = await server.gql(`mutation($id: ID!) { updateApp(input: { id: $id, name: "mine" }) { __typename } }`, { id: t.appId }, a.session);
    expect(r.data!.updateApp.__typename).toBe('NotFoundError');
    expect((await server.deps.prisma.app.findUniqueOrThrow({ where: { id: t.appId } })).name).toBe('Test app');
  });
});
