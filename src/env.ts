import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

/** Every setting Parley reads from the environment. This module is the only reader of process.env. */
const schema = z.object({
  /** PostgreSQL connection string. Unset: embedded PGlite under DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /** Redis connection string (ioredis). Unset: in-process pub/sub (single instance). */
  REDIS_URL: z.string().url().optional(),
  /** HTTP + WebSocket port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Interface to listen on. */
  HOST: z.string().default('0.0.0.0'),
  /** Directory for the embedded database and generated secrets. */
  DATA_DIR: z.string().default('./data'),
  /**
   * Secret (32+ chars) that signs user tokens. Unset: a random secret is generated once and kept in
   * DATA_DIR/token-secret, so tokens survive restarts of a single instance. Set it when you run several instances.
   */
  TOKEN_SECRET: z.string().min(32).optional(),
  /** Lifetime of user tokens issued by issueUserToken, in seconds. */
  USER_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 24 * 3600).default(3600),
  /** How long an API-key lookup is cached per process, in milliseconds (revocation is immediate on the same instance). */
  KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Serve GraphiQL at /graphql. */
  GRAPHIQL: bool.default(true),
});

export type Env = z.infer<typeof schema>;

/** Parses and validates the environment; throws a readable error listing every bad variable. */
export function readEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = schema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  return result.data;
}
