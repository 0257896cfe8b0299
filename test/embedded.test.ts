/**
 * The embedded default: `npm start`'s entry point boots from an empty data dir with no database and no Redis,
 * migrates PGlite, serves GraphQL, keeps its data across a restart, and exits cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dataDir = join(mkdtempSync(join(tmpdir(), 'parley-embedded-')), 'data');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(join(dataDir, '..'), { recursive: true, force: true });
});

/** Starts src/main.ts like `npm start` and resolves with its GraphiQL URL. */
function boot(): Promise<{ child: ChildProcess; url: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'TOKEN_SECRET']) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /GraphiQL: (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening:\n${out}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

async function signUp(url: string, email: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `mutation($i: SignUpInput!) { signUp(input: $i) { __typename ... on SignUpPayload { account { email } } ... on Error { code } } }`,
      variables: { i: { email, password: 'embedded-password', name: 'E' } },
    }),
  });
  return ((await res.json()) as { data: { signUp: { __typename: string; code?: string } } }).data.signUp;
}

describe('embedded default', () => {
  it('boots from an empty data dir, keeps data across a restart, and stops on SIGTERM', { timeout: 120_000 }, async () => {
    const first = await boot();
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['pglite', 'token-secret']));
    expect((await signUp(first.url, 'first@example.com')).__typename).toBe('SignUpPayload');
    expect(await stop(first.child)).toBe(0);

    const second = await boot();
    // The account from the first run is still there: signing up again with its email conflicts.
    expect((await signUp(second.url, 'first@example.com')).code).toBe('CONFLICT');
    expect(await stop(second.child)).toBe(0);
  });
});
