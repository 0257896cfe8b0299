/**
 * graphql-ws on the HTTP server's port and path (/graphql), executed through yoga's envelop so that plugins, error
 * masking and the context are the same as over HTTP.
 *
 * - Auth: `connectionParams.authorization` ("Bearer …"). A credential that does not resolve closes with 4403; no
 *   credential gives an anonymous connection (whose subscriptions then fail auth individually). Each operation
 *   resolves the credential again, so one that stopped working since connection_init gets UNAUTHENTICATED. No connection_init
 *   within WS_INIT_TIMEOUT_MS closes with 4408; subscribe before init 4401; a duplicate operation id 4409 (protocol).
 * - Limits: MAX_SUBSCRIPTIONS_PER_CONNECTION operations at once (more get a LIMIT_EXCEEDED error message),
 *   MAX_CONNECTIONS_PER_USER per instance (more close with 4429 "Too many connections"), WS_MAX_PAYLOAD_BYTES per
 *   message (larger closes with 1009), keepalive pings every WS_KEEPALIVE_MS.
 * - Presence: a connection with a live subscription keeps its user ACTIVE (touched on subscribe and periodically).
 */
import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearer, resolveViewer, type Context, type Deps, type Viewer } from '../context.js';

export const CLOSE_TOO_MANY_CONNECTIONS = 4429;

interface Connection {
  credential: string | null;
  owner: string | null;
}

/** Who a connection counts against for the per-user limit. */
function ownerOf(viewer: Viewer): string | null {
  if (viewer.kind === 'user') return viewer.user.id;
  if (viewer.kind === 'secretKey' || viewer.kind === 'publishableKey') return viewer.keyId;
  if (viewer.kind === 'account') return viewer.accountId;
  return null;
}

/**
 * The authorization value of connection_init's payload: `authorization` as documented; `Authorization` and
 * `headers.authorization` too, which is how GraphiQL-style clients pass their headers tab.
 */
function authorizationOf(params: Record<string, unknown> | undefined): unknown {
  if (!params) return undefined;
  const headers = (typeof params.headers === 'object' && params.headers ? params.headers : {}) as Record<string, unknown>;
  return params.authorization ?? params.Authorization ?? headers.authorization ?? headers.Authorization;
}

interface Envelope {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

export interface WebSocketTransport {
  /** Closes every socket with 1001 and stops accepting new ones (waits for the close handshakes). */
  close(): Promise<void>;
  /** Drops every socket still open at once. */
  terminate(): void;
  connections(): number;
}

export function attachWebSocket(
  server: Server,
  yoga: YogaServerInstance<Record<string, unknown>, Context>,
  deps: Deps,
): WebSocketTransport {
  const { env } = deps;
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: env.WS_MAX_PAYLOAD_BYTES });
  const conns = new WeakMap<WebSocket, Connection>();
  const perOwner = new Map<string, number>();

  const release = (socket: WebSocket) => {
    const c = conns.get(socket);
    conns.delete(socket);
    if (!c?.owner) return;
    const n = (perOwner.get(c.owner) ?? 1) - 1;
    if (n > 0) perOwner.set(c.owner, n);
    else perOwner.delete(c.owner);
  };

  // Live subscriptions keep their users ACTIVE: touched on subscribe and every third of the away window.
  const liveUsers = new Map<WebSocket, { appId: string; userId: string; live: () => boolean }>();
  const presenceTimer = setInterval(() => {
    const byApp = new Map<string, Set<string>>();
    for (const u of liveUsers.values()) {
      if (!u.live()) continue;
      const set = byApp.get(u.appId) ?? new Set<string>();
      byApp.set(u.appId, set.add(u.userId));
    }
    for (const [appId, ids] of byApp) {
      deps.realtime.presence.touch(appId, [...ids]).catch((err: Error) => deps.log.warn({ err: err.message }, 'presence refresh failed'));
    }
  }, (env.PRESENCE_AWAY_SECONDS * 1000) / 3);
  presenceTimer.unref();

  const handle = useServer<Record<string, unknown> | undefined, { socket: WebSocket; request: import('node:http').IncomingMessage }>(
    {
      connectionInitWaitTimeout: env.WS_INIT_TIMEOUT_MS,
      execute: (args) => (args.rootValue as Envelope).execute(args) as never,
      subscribe: (args) => (args.rootValue as Envelope).subscribe(args) as never,
      onConnect: async (ctx) => {
        const credential = bearer(authorizationOf(ctx.connectionParams));
        const viewer = await resolveViewer(deps, credential);
        // The socket may have gone while the credential was checked: then it must not take a connection slot.
        if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
        if (credential && viewer.kind === 'anonymous') return false;
        const owner = ownerOf(viewer);
        if (owner) {
          const n = perOwner.get(owner) ?? 0;
          if (n >= env.MAX_CONNECTIONS_PER_USER) {
            ctx.extra.socket.close(CLOSE_TOO_MANY_CONNECTIONS, `Too many connections for this user (max ${env.MAX_CONNECTIONS_PER_USER})`);
            return false;
          }
          perOwner.set(owner, n + 1);
        }
        conns.set(ctx.extra.socket, { credential, owner });
        return true;
      },
      onClose: (ctx) => {
        release(ctx.extra.socket);
        liveUsers.delete(ctx.extra.socket);
      },
      onSubscribe: async (ctx, _id, payload) => {
        const conn = conns.get(ctx.extra.socket);
        if (!conn) return [new GraphQLError('Connection not initialised', { extensions: { code: 'UNAUTHENTICATED' } })];
        // Every operation resolves the credential again (cached briefly, as over HTTP): a token that expired, a user
        // deactivated or demoted, a key revoked since connection_init authorise nothing new.
        const viewer = await resolveViewer(deps, conn.credential);
        if (conn.credential && viewer.kind === 'anonymous') {
          return [new GraphQLError('This credential is no longer valid; reconnect with a new one', { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        // ctx.subscriptions already holds this operation's reservation.
        if (Object.keys(ctx.subscriptions).length > env.MAX_SUBSCRIPTIONS_PER_CONNECTION) {
          return [
            new GraphQLError(`At most ${env.MAX_SUBSCRIPTIONS_PER_CONNECTION} operations at once on one connection`, {
              extensions: { code: 'LIMIT_EXCEEDED' },
            }),
          ];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          wsViewer: viewer,
          // As `req`, not `request`: yoga would take the upgrade GET for the operation's request and refuse mutations.
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Syntax error')];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const v = viewer;
        if (v.kind === 'user') {
          const socket = ctx.extra.socket;
          liveUsers.set(socket, { appId: v.appId, userId: v.user.id, live: () => Object.values(ctx.subscriptions).length > 0 });
          deps.realtime.presence.touch(v.appId, [v.user.id]).catch((err: Error) => deps.log.warn({ err: err.message }, 'presence touch failed'));
        }
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies Envelope,
        };
      },
    },
    wss,
    env.WS_KEEPALIVE_MS,
  );

  return {
    async close() {
      clearInterval(presenceTimer);
      await handle.dispose();
    },
    terminate() {
      for (const c of wss.clients) c.terminate();
    },
    connections: () => wss.clients.size,
  };
}
