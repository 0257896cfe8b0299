/** Prisma client over PostgreSQL (adapter-pg, DATABASE_URL) or the embedded PGlite default. */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from './generated/prisma/client.js';
import { migrateDeploy } from './migrate.js';

export interface Database {
  prisma: PrismaClient;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; without it an embedded PGlite database lives under `dataDir`. */
  url?: string;
  dataDir: string;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
}

/** Opens the database. The embedded default is created if missing and migrated on every start. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: opts.url, max: opts.poolSize ?? 20 }) });
    return { prisma, kind: 'postgres', close: () => prisma.$disconnect() };
  }
  const dir = resolve(opts.dataDir);
  // PGlite does not create parent directories of its data dir.
  mkdirSync(dir, { recursive: true });
  const pglite = new PGlite(join(dir, 'pglite'));
  await migrateDeploy({ kind: 'pglite', db: pglite });
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    prisma,
    kind: 'pglite',
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
