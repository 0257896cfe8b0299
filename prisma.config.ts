import { defineConfig } from 'prisma/config';

/**
 * Prisma CLI configuration. The datasource URL is only read by CLI commands that talk to a database; Parley's own
 * offline migrator (scripts/migrate.ts) gets its connection from src/env.ts instead.
 */
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/parley' },
});
