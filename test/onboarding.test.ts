/** The README's onboarding flow through the real HTTP API, and the life cycle of sessions and keys. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const ERR = '... on Error { __typename code message }';

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) {
  __typename ... on SignUpPayload { token account { id email name } } ${ERR} } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) {
  __typename ... on LogInPayload { token account { id email } } ${ERR} } }`;
const LOG_OUT = `mutation { logOut(input: {}) { __typename ... on LogOutPayload { ok } ${ERR} } }`;
const CREATE_ORG = `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) {
  __typename ... on CreateOrganizationPayload { organization { id name hostname } } ${ERR} } }`;
const CREATE_APP = `mutation($input: CreateAppInput!) { createApp(input: $input) {
  __typename ... on CreateAppPayload { app { id name openJoin joinSecret } } ${ERR} } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  __typename ... on CreateApiKeyPayload { secret apiKey { id kind prefix revokedAt } } ${ERR} } }`;
const REVOKE_KEY = `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) {
  __typename ... on RevokeApiKeyPayload { apiKey { id revokedAt } } ${ERR} } }`;
const ISSUE = `mutation($input: IssueUserTokenInput!) { issueUserToken(input: $input) {
  __typename ... on IssueUserTokenPayload { token expiresAt user { id externalId displayName role } } ${ERR} } }`;
const VIEWER = `{ viewer { credential account { id email } app { id name } user { id externalId displayName } } }`;

describe('onboarding: signUp → createOrganization → createApp → createApiKey → issueUserToken → viewer', () => {
  const email = 'Founder@Example.com';
  const password = 'correct horse battery';
  let session = '';
  let accountId = '';
  let appId = '';
  let secretKey = '';
  let secretKeyId = '';

  it('signs up (email lowercased, password stored hashed) and the session token identifies the account', async () => {
    const r = await server.gql(SIGN_UP, { input: { email, password, name: 'Fran Founder' } });
    expect(r.errors).toBeUndefined();
    const p = r.data!.signUp;
    expect(p.__typename).toBe('SignUpPayload');
    expect(p.token).toMatch(/^pst_/);
    expect(p.account).toMatchObject({ email: 'founder@example.com', name: 'Fran Founder' });
    expect(p.account.id).toMatch(/^acc_/);
    session = p.token;
    accountId = p.account.id;

    const row = await server.deps.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
    expect(row.passwordHash).toMatch(/^scrypt\$/);
    expect(row.passwordHash).not.toContain(password);
    const sessions = await server.deps.prisma.session.findMany({ where: { accountId } });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.tokenHash).not.toBe(session);

    const v = await server.gql(VIEWER, {}, session);
    expect(v.data!.viewer).toEqual({ credential: 'ACCOUNT', account: { id: accountId, email: 'founder@example.com' }, app: null, user: null });
  });

  it('rejects a second sign-up with the same email (any case) with ConflictError', async () => {
    const r = await server.gql(SIGN_UP, { input: { email: 'FOUNDER@example.com', password: 'another password', name: 'X' } });
    expect(r.data!.signUp).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    expect(await server.deps.prisma.account.count({ where: { email: 'founder@example.com' } })).toBe(1);
  });

  it('creates an organization owned by the account', async () => {
    const r = await server.gql(CREATE_ORG, { input: { name: 'Acme', hostname: 'Chat.Acme.example' } }, session);
    const org = r.data!.createOrganization.organization;
    expect(org).toMatchObject({ name: 'Acme', hostname: 'chat.acme.example' });
    expect(org.id).toMatch(/^org_/);
    const owners = await server.deps.prisma.organizationOwner.findMany({ where: { organizationId: org.id } });
    expect(owners.map((o) => o.accountId)).toEqual([accountId]);

    const app = await server.gql(CREATE_APP, { input: { organizationId: org.id, name: 'Acme Chat' } }, session);
    const a = app.data!.createApp.app;
    expect(a).toMatchObject({ name: 'Acme Chat', openJoin: false });
    expect(a.id).toMatch(/^app_/);
    expect(a.joinSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    appId = a.id;

    const listed = await server.gql(`{ viewer { account { organizations { edges { node { id apps { edges { node { id } } } } } } } } }`, {}, session);
    expect(listed.data!.viewer.account.organizations.edges).toEqual([{ node: { id: org.id, apps: { edges: [{ node: { id: appId } }] } } }]);
  });

  it('creates a SECRET key shown once, stored as a hash with an 8-character prefix', async () => {
    const r = await server.gql(CREATE_KEY, { input: { appId, kind: 'SECRET' } }, session);
    const p = r.data!.createApiKey;
    expect(p.secret).toMatch(/^psk_/);
    expect(p.apiKey).toMatchObject({ kind: 'SECRET', prefix: p.secret.slice(0, 8), revokedAt: null });
    secretKey = p.secret;
    secretKeyId = p.apiKey.id;
    const row = await server.deps.prisma.apiKey.findUniqueOrThrow({ where: { id: secretKeyId } });
    expect(row.keyHash).not.toBe(secretKey);
    expect(row.keyHash).toMatch(/^[0-9a-f]{64}$/);
    const keys = await server.gql(`query($id: ID!) { node(id: $id) { ... on App { apiKeys { edges { node { id prefix } } } } } }`, { id: appId }, session);
    expect(keys.data!.node.apiKeys.edges).toEqual([{ node: { id: secretKeyId, prefix: p.secret.slice(0, 8) } }]);
  });

  it('issues a user token with the SECRET key, and the token makes viewer show the user', async () => {
    const r = await server.gql(ISSUE, { input: { externalId: 'u-42', email: 'u42@example.com' } }, secretKey);
    const p = r.data!.issueUserToken;
    expect(p.__typename).toBe('IssueUserTokenPayload');
    expect(p.user).toMatchObject({ externalId: 'u-42', displayName: 'u-42', role: 'MEMBER' });
    const ttl = new Date(p.expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);
    const v = await server.gql(VIEWER, {}, p.token);
    expect(v.data!.viewer).toEqual({
      credential: 'USER',
      account: null,
      app: { id: appId, name: 'Acme Chat' },
      user: { id: p.user.id, externalId: 'u-42', displayName: 'u-42' },
    });
    // onUserCreated ran: the user has the default feeds.
    expect(await server.deps.prisma.feed.count({ where: { userId: p.user.id } })).toBe(3);

    const again = await server.gql(ISSUE, { input: { externalId: 'u-42', displayName: 'Forty Two', ttlSeconds: 120 } }, secretKey);
    expect(again.data!.issueUserToken.user).toMatchObject({ id: p.user.id, displayName: 'Forty Two' });
    expect(new Date(again.data!.issueUserToken.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(120_000);
    expect(await server.deps.prisma.user.count({ where: { appId } })).toBe(1);

    const kv = await server.gql(VIEWER, {}, secretKey);
    expect(kv.data!.viewer).toMatchObject({ credential: 'SECRET_KEY', app: { id: appId }, user: null, account: null });
  });

  it('logOut ends the session: the token stops working, logIn works again, a wrong password does not', async () => {
    const out = await server.gql(LOG_OUT, {}, session);
    expect(out.data!.logOut).toEqual({ __typename: 'LogOutPayload', ok: true });
    expect(await server.deps.prisma.session.count({ where: { accountId } })).toBe(0);
    const v = await server.gql(VIEWER, {}, session);
    expect(v.data!.viewer).toMatchObject({ credential: 'ANONYMOUS', account: null });
    const again = await server.gql(CREATE_ORG, { input: { name: 'Nope' } }, session);
    expect(again.data!.createOrganization.__typename).toBe('UnauthenticatedError');

    const wrongPw = await server.gql(LOG_IN, { input: { email, password: 'wrong password!' } }, undefined);
    const wrongEmail = await server.gql(LOG_IN, { input: { email: 'nobody@example.com', password } }, undefined);
    expect(wrongPw.data!.logIn).toMatchObject({ __typename: 'UnauthenticatedError', code: 'UNAUTHENTICATED' });
    expect(wrongEmail.data!.logIn).toEqual(wrongPw.data!.logIn);

    const ok = await server.gql(LOG_IN, { input: { email: 'FOUNDER@example.com', password } });
    expect(ok.data!.logIn.account.id).toBe(accountId);
    session = ok.data!.logIn.token;
    const v2 = await server.gql(VIEWER, {}, session);
    expect(v2.data!.viewer.account.id).toBe(accountId);
  });

  it('revokeApiKey stops the key immediately (even though its lookup was cached)', async () => {
    // The key was used above, so its lookup is in the process cache.
    const before = await server.gql(VIEWER, {}, secretKey);
    expect(before.data!.viewer.credential).toBe('SECRET_KEY');
    const r = await server.gql(REVOKE_KEY, { input: { id: secretKeyId } }, session);
    expect(r.data!.revokeApiKey.apiKey.id).toBe(secretKeyId);
    expect(r.data!.revokeApiKey.apiKey.revokedAt).not.toBeNull();
    const after = await server.gql(VIEWER, {}, secretKey);
    expect(after.data!.viewer.credential).toBe('ANONYMOUS');
    const issue = await server.gql(ISSUE, { input: { externalId: 'u-43' } }, secretKey);
    expect(issue.data!.issueUserToken.__typename).toBe('UnauthenticatedError');
    expect(await server.deps.prisma.user.count({ where: { appId, externalId: 'u-43' } })).toBe(0);
  });
});
