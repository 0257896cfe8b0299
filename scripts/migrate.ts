/**
 * Offline replacement for `prisma migrate` (whose native engine cannot be downloaded here).
 *
 *   tsx scripts/migrate.ts deploy        apply pending migrations
 *   tsx scripts/migrate.ts dev [name]    create a migration from schema.prisma (default name "change") and apply it
 *   tsx scripts/migrate.ts diff          print SQL that schema.prisma needs beyond the migrations; exit 1 if any
 *
 * Target: DATABASE_URL when set, else the embedded PGlite database in DATA_DIR/pglite (default ./data/pglite, as the
 * app uses). The script exits itself: the schema engine leaves a 10-second timer behind.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { readEnv } from '../src/env.js';
import { createMigration, diffSchemaVsMigrations, migrateDeploy, type MigrationTarget } from '../src/migrate.js';

async function openTarget(): Promise<{ target: MigrationTarget; close: () => Promise<void> }> {
  const env = readEnv();
  const url = env.DATABASE_URL;
  if (url) return { target: { kind: 'postgres', url }, close: async () => {} };
  const dataDir = resolve(env.DATA_DIR);
  await mkdir(dataDir, { recursive: true }); // PGlite creates its own directory but not its parents
  const db = new PGlite(resolve(dataDir, 'pglite'));
  return { target: { kind: 'pglite', db }, close: () => db.close() };
}

async function main(command: string | undefined, name: string | undefined): Promise<number> {
  if (command === 'diff') {
    const sql = await diffSchemaVsMigrations();
    if (!sql) {
      console.log('schema.prisma and prisma/migrations agree.');
      return 0;
    }
    process.stdout.write(sql);
    console.error('\nschema.prisma differs from prisma/migrations: run `tsx scripts/migrate.ts dev <name>`.');
    return 1;
  }
  if (command !== 'deploy' && command !== 'dev') {
    console.error('usage: tsx scripts/migrate.ts deploy | dev [name] | diff');
    return 2;
  }
  const { target, close } = await openTarget();
  try {
    if (command === 'deploy') {
      const applied = await migrateDeploy(target);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
    } else {
      const created = await createMigration(target, name ?? 'change');
      console.log(created ? `Created and applied prisma/migrations/${created}` : 'Already in sync; no migration created.');
    }
    return 0;
  } finally {
    await close();
  }
}

main(process.argv[2], process.argv[3]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
