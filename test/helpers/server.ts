/** Starts a real Parley server on a real port for one test file, and a tiny GraphQL-over-HTTP client. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import type { Deps } from '../../src/context.js';
import { buildDeps } from '../../src/deps.js';
import { readEnv } from '../../src/env.js';
import { inject } from 'vitest';
import { cloneTemplate, testDatabaseUrl } from './databases.js';

export interface GqlResult<T = Record<string, any>> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export interface TestServer {
  url: string;
  deps: Deps;
  /** POSTs a GraphQL operation with an optional bearer credential. */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, credential?: string): Promise<GqlResult<T>>;
  close(): Promise<void>;
}

export async function startTestServer(extraEnv: Record<string, string> = {}): Promise<TestServer> {
  const pgUrl = testDatabaseUrl();
  const database = pgUrl ? await cloneTemplate(pgUrl, inject('templateDb')) : null;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const env = readEnv({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    TOKEN_SECRET: 'test-secret-test-secret-test-secret-0123',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(process.env.TEST_REDIS_URL || process.env.REDIS_URL
      ? { REDIS_URL: process.env.TEST_REDIS_URL || process.env.REDIS_URL }
      : {}),
    ...extraEnv,
  });
  const deps = await buildDeps(env);
  const app = buildApp(deps);
  const url = await app.start(0, '127.0.0.1');
  return {
    url,
    deps,
    async gql(query, variables = {}, credential) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GqlResult<any>;
    },
    async close() {
      await app.stop();
      await deps.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
