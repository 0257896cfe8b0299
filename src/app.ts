/** buildApp(deps) -> one HTTP server serving GraphQL (and GraphiQL) at /graphql. */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, maskError as defaultMaskError, type Plugin } from 'graphql-yoga';
import { bearer, resolveViewer, type Context, type Deps } from './context.js';
import { AppError, fromDatabaseError, toGraphQLError } from './errors.js';
import { schema } from './schema/index.js';

export interface ParleyApp {
  yoga: ReturnType<typeof createYoga<Record<string, unknown>, Context>>;
  server: Server;
  /** Listens on `port` (0 = any free port) and returns the bound URL of the GraphQL endpoint. */
  start(port: number, host?: string): Promise<string>;
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
    graphiql: deps.env.GRAPHIQL ? { title: 'Parley' } : false,
    landingPage: false,
    logging: false,
    context: async ({ request }) => {
      const requestId = request.headers.get('x-request-id') ?? randomUUID();
      const viewer = await resolveViewer(deps, bearer(request.headers.get('authorization')));
      return { viewer, prisma: deps.prisma, deps, requestId };
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

  return {
    yoga,
    server,
    start: (port, host = deps.env.HOST) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { port: bound } = server.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve(`http://${shownHost}:${bound}/graphql`);
        });
      }),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
