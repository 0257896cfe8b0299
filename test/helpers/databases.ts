/**
 * Test databases. With TEST_DATABASE_URL or DATABASE_URL set (always in CI) every test file gets its own PostgreSQL
 * database, cloned from a template that global setup migrated once; otherwise each file boots embedded PGlite.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL URL tests run against, or undefined for the embedded default. */
export function testDatabaseUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs statements on the server's maintenance connection (the URL's own database). */
export async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh database cloned from the migrated template; returns its URL and a drop function. */
export async function cloneTemplate(url: string, template: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `parley_t_${randomBytes(6).toString('hex')}`;
  // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template; retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin(url, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
      break;
    } catch (e) {
      if (attempt > 20) throw e;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  return {
    url: withDatabase(url, name),
    drop: () => admin(url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
