/** buildApp(deps) -> one HTTP server serving GraphQL (and GraphiQL) at /graphql. */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, maskError as defaultMaskError } from 'graphql-yoga';
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
        const original = (error as { originalError?: unknown }).originalError;
        if (original instanceof AppError) return toGraphQLError(original);
        const mapped = fromDatabaseError(original);
        if (mapped) return toGraphQLError(mapped);
        deps.log.error({ err: original ?? error }, 'unexpected error');
        return defaultMaskError(error, message, isDev);
      },
    },
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
