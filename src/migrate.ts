/**
 * Offline migrations: Prisma's own schema engine (WebAssembly build) driven through driver adapters, because the
 * `prisma migrate` CLI needs a native engine it cannot download here. Migrations stay in Prisma's format
 * (prisma/migrations/<ts>_<name>/migration.sql, migration_lock.toml, the _prisma_migrations table), so the official
 * `prisma migrate deploy` works on the same history.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type { MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { freshPGlite, pgliteFactory, postgresFactory, type EngineAdapterFactory } from './migrate/adapters.js';
import { withEngine } from './migrate/engine.js';

/** Where to migrate: a PostgreSQL URL, or a PGlite instance the caller created (and closes). */
export type MigrationTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; db: PGlite };

/** Overrides for tests and tools; defaults are the repository's prisma/schema.prisma and prisma/migrations. */
export interface MigrateOptions {
  /** Absolute path of the migrations directory. */
  migrationsDir?: string;
  /** Absolute path of the Prisma schema file. */
  schemaPath?: string;
  /** Schema text to use instead of reading `schemaPath`. */
  schema?: string;
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** Default locations, resolved from this file rather than the working directory. */
export const migratePaths = {
  schema: join(repoRoot, 'prisma', 'schema.prisma'),
  migrations: join(repoRoot, 'prisma', 'migrations'),
} as const;

const LOCKFILE = 'migration_lock.toml';
const filters: SchemaFilter = { externalTables: [], externalEnums: [] };

/** Reads the migrations directory the way the Prisma CLI does (sorted directories, each with migration.sql). */
async function readMigrations(baseDir: string): Promise<MigrationList> {
  const content = await readFile(join(baseDir, LOCKFILE), 'utf8').catch(() => null);
  const entries = await readdir(baseDir, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort((a, b) => a.localeCompare(b));
  const migrationDirectories = await Promise.all(
    dirs.map(async (path) => ({
      path,
      migrationFile: {
        path: 'migration.sql',
        content: await readFile(join(baseDir, path, 'migration.sql'), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (error: unknown) => ({ tag: 'error' as const, value: error instanceof Error ? error.message : String(error) }),
        ),
      },
    })),
  );
  return { baseDir, lockfile: { path: LOCKFILE, content }, shadowDbInitScript: '', migrationDirectories };
}

async function loadSchema(options: MigrateOptions): Promise<{ path: string; content: string }> {
  const path = options.schemaPath ?? migratePaths.schema;
  return { path, content: options.schema ?? (await readFile(path, 'utf8')) };
}

/** Directory-safe name, as the Prisma CLI slugifies it ("Add pronouns" and "addPronouns" become "add_pronouns"). */
function slug(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9]+/g, '_');
  return words.replace(/^_+|_+$/g, '').slice(0, 200) || 'change';
}

function factoryFor(target: MigrationTarget): EngineAdapterFactory {
  return target.kind === 'postgres' ? postgresFactory(target.url) : pgliteFactory(target.db);
}

/**
 * Applies pending migrations, like `prisma migrate deploy`: never generates SQL, never resets. Idempotent.
 * On PostgreSQL the engine holds `pg_advisory_lock(72707369)` while applying, so concurrent deploys wait for each
 * other instead of applying a migration twice.
 * @returns names of the migrations applied by this call (empty when the database was up to date)
 * @throws when a migration fails or an earlier one is recorded as failed (fix it, then mark it rolled back)
 */
export async function migrateDeploy(target: MigrationTarget, options: MigrateOptions = {}): Promise<string[]> {
  const migrationsList = await readMigrations(options.migrationsDir ?? migratePaths.migrations);
  if (migrationsList.migrationDirectories.length === 0) return [];
  const schema = await loadSchema(options);
  return withEngine(factoryFor(target), schema, async (engine) => {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters });
    return appliedMigrationNames;
  });
}

/**
 * Like `prisma migrate dev --name <name>`, without prompts: checks the database against the history (refusing when
 * it would need a reset), applies pending migrations, writes a new migration for the difference between the history
 * and schema.prisma, and applies it. Data-loss warnings are printed to stderr; unexecutable steps throw.
 * @param name migration name, slugified like the CLI does ("Add pronouns" → `<timestamp>_add_pronouns`)
 * @returns the new migration's directory name, or null when schema and history already agree
 */
export async function createMigration(
  target: MigrationTarget,
  name: string,
  options: MigrateOptions = {},
): Promise<string | null> {
  const baseDir = options.migrationsDir ?? migratePaths.migrations;
  const schema = await loadSchema(options);
  const schemas = { files: [schema] };
  return withEngine(factoryFor(target), schema, async (engine) => {
    let migrationsList = await readMigrations(baseDir);
    const { action } = await engine.devDiagnostic({ migrationsList, filters });
    if (action.tag === 'reset') throw new Error(`The database needs a reset before migrating: ${action.reason}`);
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters });
    // evaluateDataLoss and createMigration get no shadow database in the WASM engine: they only read the schema of the
    // history from a per-engine cache, which diagnosing fills for the migrations applied at that moment. So diagnose
    // (again) once the whole history is applied, in this same engine instance.
    if (appliedMigrationNames.length > 0) {
      await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: true, filters });
    }
    const loss = await engine.evaluateDataLoss({ migrationsList, schema: schemas, filters });
    if (loss.unexecutableSteps.length > 0) {
      throw new Error(`Migration cannot be executed:\n${loss.unexecutableSteps.map((s) => s.message).join('\n')}`);
    }
    for (const warning of loss.warnings) process.stderr.write(`warning: ${warning.message}\n`);
    const created = await engine.createMigration({ draft: false, migrationName: slug(name), migrationsList, schema: schemas, filters });
    if (created.migrationScript === null) return null;
    const dir = join(baseDir, created.generatedMigrationName);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `migration.${created.extension}`), created.migrationScript, { flag: 'wx' });
    if (migrationsList.lockfile.content === null) {
      const lock = `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${created.connectorType}"\n`;
      await writeFile(join(baseDir, LOCKFILE), lock);
    }
    migrationsList = await readMigrations(baseDir);
    await engine.applyMigrations({ migrationsList, filters });
    return created.generatedMigrationName;
  });
}

/**
 * The SQL that takes a database built from the migration history to schema.prisma; empty when they agree. Replays the
 * history on throwaway in-memory PGlite databases, so it needs no server.
 * @param options.schema schema text to compare instead of the file (lets tests show that drift is detected)
 */
export async function diffSchemaVsMigrations(options: MigrateOptions = {}): Promise<string> {
  const migrationsList = await readMigrations(options.migrationsDir ?? migratePaths.migrations);
  const schema = await loadSchema(options);
  const db = await freshPGlite(); // the engine wants a main database even though the diff only uses shadows
  try {
    return await withEngine(pgliteFactory(db), schema, async (engine) => {
      const result = await engine.diff({
        from: { tag: 'migrations', ...migrationsList },
        to: { tag: 'schemaDatamodel', files: [schema] },
        script: true,
        exitCode: true, // exitCode 2 means "not empty"; an empty script is still a comment line
        filters,
      });
      return result.exitCode === 2 ? (result.stdout ?? '') : '';
    });
  } finally {
    await db.close();
  }
}
