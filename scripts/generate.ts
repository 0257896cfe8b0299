/**
 * Runs `prisma generate` offline. Every Prisma CLI command first tries to download the native schema engine, which
 * these machines cannot reach; generate never runs that engine, so pointing PRISMA_SCHEMA_ENGINE_BINARY at any
 * existing file (here the node binary) is enough.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, 'generate'], {
  stdio: 'inherit',
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
process.exit(result.status ?? 1);
