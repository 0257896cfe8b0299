/**
 * Process entry: read env, build deps, start, shut down gracefully on SIGTERM/SIGINT: stop accepting, end live
 * streams and close WebSockets with 1001, let in-flight requests finish, close Prisma and Redis, exit 0.
 */
import { buildApp } from './app.js';
import { buildDeps } from './deps.js';
import { readEnv } from './env.js';

const env = readEnv();
const deps = await buildDeps(env);
const app = buildApp(deps);
const url = await app.start(env.PORT);
deps.log.info({ url, database: env.DATABASE_URL ? 'postgresql' : 'embedded PGlite', pubsub: env.REDIS_URL ? 'redis' : 'in-process' }, 'Parley is running');
console.log(`Parley is running. GraphiQL: ${url}`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  deps.log.info({ signal }, 'shutting down');
  // app.stop() gives in-flight requests SHUTDOWN_TIMEOUT_MS; this is the backstop if closing hangs beyond that.
  const deadline = setTimeout(() => process.exit(1), env.SHUTDOWN_TIMEOUT_MS + 5_000);
  deadline.unref();
  await app.stop();
  await deps.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
