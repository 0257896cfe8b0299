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
  /** How long the event log keeps events, in hours; a stream resuming from an older cursor gets ResyncRequiredEvent. */
  EVENT_RETENTION_HOURS: z.coerce.number().positive().default(24 * 30),
  /** A user without a heartbeat (or live subscription) for this many seconds is AWAY. */
  PRESENCE_AWAY_SECONDS: z.coerce.number().positive().default(600),
  /** A typing indicator not renewed within this many seconds ends by itself. */
  TYPING_TTL_SECONDS: z.coerce.number().positive().default(6),
  /** Events buffered per live stream for a client that does not read; beyond it the stream ends with SLOW_CONSUMER. */
  STREAM_BUFFER: z.coerce.number().int().min(1).default(1000),
  /** Live threads are compared with the database this often even without hints (covers lost hints); 0 disables. */
  STREAM_POLL_MS: z.coerce.number().int().min(0).default(5000),
  /** Live streams re-check their viewer's access this often (besides the immediate signals); 0 disables. */
  ACCESS_RECHECK_SECONDS: z.coerce.number().min(0).default(30),
  /** Most operations (subscriptions) running at once on one WebSocket connection. */
  MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).default(100),
  /** Most WebSocket connections one user (or API key) may hold on one instance. */
  MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).default(20),
  /** Largest WebSocket message accepted, in bytes (the ws default of 100 MiB is far too much for chat). */
  WS_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1024).default(256 * 1024),
  /** Server pings every WebSocket this often (ms) and drops it when the pong does not come within the same time. */
  WS_KEEPALIVE_MS: z.coerce.number().int().min(0).default(12_000),
  /** A WebSocket that sends no connection_init within this time (ms) is closed with 4408. */
  WS_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).default(3_000),
  /** On SIGTERM, in-flight requests get this long (ms) to finish before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** Webhook fan-out and sending run this often (ms) per process, and at once when the process itself writes events. */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).default(250),
  /** One webhook attempt (connect, send, response) may take this long (ms) before it counts as failed. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(5000),
  /** Wait (ms) before the first retry of a failed webhook attempt; each further retry waits 5× longer, at most 1 hour. */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(1000),
  /** Attempts per webhook delivery before it is marked FAILED. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  /** Webhook attempts in flight at once per process (one webhook takes at most half of them). */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
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
