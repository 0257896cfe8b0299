/**
 * Fast fixtures that write tenants straight through Prisma (the onboarding test covers the same path through the
 * API). Each call makes a new org + app, so tests in one file do not see each other's data.
 */
import { CREDENTIAL_PREFIX, credentialHash, randomCredential } from '../../src/auth/secrets.js';
import type { Role, UserKind } from '../../src/generated/prisma/enums.js';
import { newId } from '../../src/ids.js';
import type { TestServer } from './server.js';

export interface TestUser {
  id: string;
  token: string;
}

export interface TestTenant {
  appId: string;
  secretKey: string;
  publishableKey: string;
  /** Creates an app user and a signed token for it. */
  user(opts?: { role?: Role; kind?: UserKind; name?: string }): Promise<TestUser>;
}

let counter = 0;

export async function makeTenant(s: TestServer): Promise<TestTenant> {
  const { prisma, tokens } = s.deps;
  const orgId = newId('org');
  const appId = newId('app');
  await prisma.organization.create({ data: { id: orgId, name: 'Test org' } });
  await prisma.app.create({ data: { id: appId, organizationId: orgId, name: 'Test app', joinSecret: 'join-secret-1' } });
  const secretKey = randomCredential(CREDENTIAL_PREFIX.secretKey);
  const publishableKey = randomCredential(CREDENTIAL_PREFIX.publishableKey);
  await prisma.apiKey.createMany({
    data: [
      { id: newId('key'), appId, kind: 'SECRET', keyHash: credentialHash(secretKey), prefix: secretKey.slice(0, 8) },
      { id: newId('key'), appId, kind: 'PUBLISHABLE', keyHash: credentialHash(publishableKey), prefix: publishableKey.slice(0, 8) },
    ],
  });
  return {
    appId,
    secretKey,
    publishableKey,
    async user(opts = {}) {
      const n = ++counter;
      const id = newId('usr');
      await prisma.user.create({
        data: {
          id,
          appId,
          externalId: `ext-${n}-${id.slice(-6)}`,
          displayName: opts.name ?? `User ${n}`,
          email: `user${n}@example.com`,
          role: opts.role ?? 'MEMBER',
          kind: opts.kind ?? 'HUMAN',
        },
      });
      const { token } = await tokens.issue(id, appId);
      return { id, token };
    },
  };
}
