/** The offline migrator (src/migrate.ts): history matches schema.prisma, and deploy works on PGlite and PostgreSQL. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createMigration, diffSchemaVsMigrations, migratePaths, migrateDeploy } from '../src/migrate.js';
import { admin, testDatabaseUrl, withDatabase } from './helpers/databases.js';

const SLOW = 120_000; // each engine session boots PGlite or replays the history on a shadow database

async function migrationNames(dir = migratePaths.migrations): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** schema.prisma with one extra nullable column on app_user. */
async function schemaWithExtraColumn(): Promise<string> {
  const schema = await readFile(migratePaths.schema, 'utf8');
  const changed = schema.replace(/(model User \{\n)/, '$1  pronouns String?\n');
  expect(changed).not.toBe(schema);
  return changed;
}

/** A scratch copy of prisma/migrations, so tests that write migrations leave the repository alone. */
async function scratchMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-migrations-'));
  await cp(migratePaths.migrations, dir, { recursive: true });
  return dir;
}

describe('migration history', () => {
  it('agrees with schema.prisma — run `npm run db:migrate:dev -- <name>` after changing the schema', { timeout: SLOW }, async () => {
    expect(await migrationNames()).not.toHaveLength(0);
    await expect(readFile(join(migratePaths.migrations, 'migration_lock.toml'), 'utf8')).resolves.toContain(
      'provider = "postgresql"',
    );
    expect(await diffSchemaVsMigrations()).toBe('');
  });

  it('reports the SQL a changed schema needs', { timeout: SLOW }, async () => {
    const sql = await diffSchemaVsMigrations({ schema: await schemaWithExtraColumn() });
    expect(sql).toMatch(/ALTER TABLE "app_user" ADD COLUMN\s+"pronouns" TEXT/);
  });
});

describe('migrateDeploy on PGlite', () => {
  it('creates the schema once, then applies nothing', { timeout: SLOW }, async () => {
    const db = new PGlite();
    try {
      expect(await migrateDeploy({ kind: 'pglite', db })).toEqual(await migrationNames());
      const applied = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL');
      expect(applied.rows[0]?.n).toBe((await migrationNames()).length);
      const chat = await db.query<{ t: string | null }>(`SELECT to_regclass('chat')::text AS t`);
      expect(chat.rows[0]?.t).toBe('chat');
      expect(await migrateDeploy({ kind: 'pglite', db })).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('rolls back a failing migration and records it as failed', { timeout: SLOW }, async () => {
    const dir = await scratchMigrations();
    const db = new PGlite();
    try {
      // The statement with ';' inside a literal would break a naive split; the whole script must run as one.
      await mkdir(join(dir, '99990101000000_broken'));
      await writeFile(
        join(dir, '99990101000000_broken', 'migration.sql'),
        `CREATE TABLE "probe" ("v" TEXT DEFAULT 'a;b');\nSELECT 1 / 0;\n`,
      );
      await expect(migrateDeploy({ kind: 'pglite', db }, { migrationsDir: dir })).rejects.toThrow(/division by zero/);
      const rows = await db.query<{ finished: boolean }>(
        `SELECT finished_at IS NOT NULL AS finished FROM _prisma_migrations WHERE migration_name = '99990101000000_broken'`,
      );
      expect(rows.rows).toEqual([{ finished: false }]);
      const probe = await db.query<{ t: string | null }>(`SELECT to_regclass('probe')::text AS t`);
      expect(probe.rows[0]?.t).toBeNull();
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('createMigration on PGlite', () => {
  it('writes and applies a migration for a schema change, then finds nothing to do', { timeout: SLOW }, async () => {
    const dir = await scratchMigrations();
    const db = new PGlite();
    try {
      const options = { migrationsDir: dir, schema: await schemaWithExtraColumn() };
      const created = await createMigration({ kind: 'pglite', db }, 'add pronouns', options);
      expect(created).toMatch(/^\d{14}_add_pronouns$/);
      await expect(readFile(join(dir, created ?? '', 'migration.sql'), 'utf8')).resolves.toContain('"pronouns"');
      await db.query('SELECT "pronouns" FROM "app_user"');
      expect(await createMigration({ kind: 'pglite', db }, 'again', options)).toBeNull();
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const serverUrl = testDatabaseUrl();
const run = promisify(execFile);

/** `tsx scripts/migrate.ts deploy` in a child process; returns its stdout. */
async function deployCli(url: string): Promise<string> {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const env = { ...process.env, DATABASE_URL: url };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', 'deploy'], { cwd, env });
  return stdout;
}

describe('migrateDeploy on PostgreSQL', () => {
  it.skipIf(!serverUrl)('migrates a fresh database once, then applies nothing', { timeout: SLOW }, async () => {
    const server = serverUrl ?? '';
    const name = `parley_migrate_${randomBytes(6).toString('hex')}`;
    const url = withDatabase(server, name);
    await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
    try {
      // Two CLI processes at once: the engine's advisory lock lets exactly one of them apply the history.
      const outputs = await Promise.all([deployCli(url), deployCli(url)]);
      expect(outputs.filter((out) => out.startsWith('Applied:'))).toHaveLength(1);
      expect(outputs.filter((out) => out.startsWith('No pending migrations'))).toHaveLength(1);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const applied = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM _prisma_migrations');
        expect(applied.rows[0]?.n).toBe((await migrationNames()).length);
        const chat = await client.query<{ t: string | null }>(`SELECT to_regclass('chat')::text AS t`);
        expect(chat.rows[0]?.t).toBe('chat');
      } finally {
        await client.end();
      }
      expect(await migrateDeploy({ kind: 'postgres', url })).toEqual([]);
    } finally {
      await admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
  });
});
