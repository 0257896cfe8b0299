/**
 * buildApp(deps) -> one HTTP server serving GraphQL at /graphql: queries and mutations over HTTP, subscriptions over
 * SSE (yoga) and graphql-ws (WebSocket upgrade on the same path), and GraphiQL (WS by default,
 * `/graphql?subscriptions=sse` for SSE).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, maskError as defaultMaskError, type Plugin } from 'graphql-yoga';
import { bearer, resolveViewer, type Context, type Deps, type Viewer } from './context.js';
import { AppError, fromDatabaseError, toGraphQLError } from './errors.js';
import { attachWebSocket } from './realtime/ws.js';
import { schema } from './schema/index.js';
import { WebhookWorker } from './webhooks/worker.js';

export interface ParleyApp {
  yoga: ReturnType<typeof createYoga<Record<string, unknown>, Context>>;
  server: Server;
  /** Listens on `port` (0 = any free port) and returns the bound URL of the GraphQL endpoint. */
  start(port: number, host?: string): Promise<string>;
  /**
   * Graceful stop: stops accepting and the webhook loop (attempts in flight are given back), ends every live stream
   * (UNAVAILABLE) and closes WebSockets with 1001, lets in-flight requests finish for up to SHUTDOWN_TIMEOUT_MS, then
   * drops what is left.
   */
  stop(): Promise<void>;
}

/** The typed error behind a GraphQL error (thrown AppError or a mapped database error), or null if unexpected. */
function typedError(error: unknown): AppError | null {
  const original = (error as { originalError?: unknown }).originalError ?? error;
  if (original instanceof AppError) return original;
  return fromDatabaseError(original);
}

/**
 * Unexpected errors are masked in the response; this logs them with the request id to find them by. Errors without
 * an original error (syntax, validation of the document) are the client's and are not logged.
 */
function logUnexpectedErrors(deps: Deps): Plugin<Context> {
  return {
    onExecute: () => ({
      onExecuteDone: ({ args, result }) => {
        if (!('errors' in result) || !result.errors) return;
        const { requestId } = args.contextValue as Context;
        for (const error of result.errors) {
          if (error.originalError && !typedError(error)) {
            deps.log.error({ err: error.originalError, requestId, path: error.path }, 'unexpected error');
          }
        }
      },
    }),
  };
}

export function buildApp(deps: Deps): ParleyApp {
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: deps.env.GRAPHIQL
      ? (request) => ({
          title: 'Parley',
          subscriptionsProtocol: new URL(request.url).searchParams.get('subscriptions') === 'sse' ? 'GRAPHQL_SSE' : 'WS',
        })
      : false,
    landingPage: false,
    logging: false,
    context: async (initial) => {
      // graphql-ws resolved the viewer once per connection (see realtime/ws.ts); HTTP resolves it per request.
      const wsViewer = (initial as { wsViewer?: Viewer }).wsViewer;
      if (wsViewer) return { viewer: wsViewer, prisma: deps.prisma, deps, requestId: randomUUID() };
      const { request } = initial;
      const requestId = request.headers.get('x-request-id') ?? randomUUID();
      const viewer = await resolveViewer(deps, bearer(request.headers.get('authorization')));
      return { viewer, prisma: deps.prisma, deps, requestId, signal: request.signal };
    },
    maskedErrors: {
      maskError: (error, message, isDev) => {
        const mapped = typedError(error);
        return mapped ? toGraphQLError(mapped) : defaultMaskError(error, message, isDev);
      },
    },
    plugins: [logUnexpectedErrors(deps)],
  });

  const server = createServer(yoga);
  const ws = attachWebSocket(server, yoga, deps);
  // Started with the server (a buildApp used only through yoga.fetch runs no background work); stopped before Prisma.
  const webhooks = new WebhookWorker(deps);

  return {
    yoga,
    server,
    start: (port, host = deps.env.HOST) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { port: bound } = server.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          webhooks.start(deps);
          resolve(`http://${shownHost}:${bound}/graphql`);
        });
      }),
    stop: async () => {
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, deps.env.SHUTDOWN_TIMEOUT_MS).unref());
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const webhooksStopped = webhooks.stop(deps);
      deps.realtime.endAll();
      // A moment for the final UNAVAILABLE payloads to reach WebSocket clients before their sockets close.
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, deps.env.SHUTDOWN_TIMEOUT_MS)));
      // An unresponsive peer must not hold the close handshake beyond the deadline.
      await Promise.race([ws.close(), deadline]);
      ws.terminate();
      server.closeIdleConnections();
      await Promise.race([closed, deadline]);
      server.closeAllConnections();
      await closed;
      await webhooksStopped;
    },
  };
}
