/**
 * Driver-adapter factories for Prisma's WASM schema engine: PostgreSQL through adapter-pg and embedded PGlite through
 * pglite-prisma-adapter, each with its own shadow database and with the fixes the stock adapters need for migrations.
 */
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';

/** A factory the engine connects through, plus `close()` to release every pool and shadow database it opened. */
export interface EngineAdapterFactory extends SqlMigrationAwareDriverAdapterFactory {
  close(): Promise<void>;
}

const CHAR_OID = 18; // Postgres' internal one-byte "char" (pg_class.relkind, pg_constraint.contype, …)
const TEXT_OID = 25;

/** Relabels `"char"` result columns as text: the engine's introspection reads them, and adapter-pg 7.10 rejects OID 18
 * before any type parser runs ("Column type 'char' could not be deserialized"). pg already returns the value as a string. */
function charColumnsAsText(result: unknown): void {
  for (const one of Array.isArray(result) ? result : [result]) {
    const fields: unknown = typeof one === 'object' && one !== null ? Reflect.get(one, 'fields') : undefined;
    if (!Array.isArray(fields)) continue;
    for (const field of fields) {
      if (typeof field === 'object' && field !== null && Reflect.get(field, 'dataTypeID') === CHAR_OID) {
        Reflect.set(field, 'dataTypeID', TEXT_OID);
      }
    }
  }
}

/** pg client whose results go through charColumnsAsText; pools use it for plain queries and for transactions alike. */
class CharAsTextClient extends pg.Client {}
const baseQuery: (...args: unknown[]) => unknown = pg.Client.prototype.query;
Reflect.set(CharAsTextClient.prototype, 'query', function (this: pg.Client, ...args: unknown[]): unknown {
  const callback = args.at(-1);
  if (typeof callback === 'function') {
    args[args.length - 1] = (error: unknown, result: unknown) => {
      if (!error) charColumnsAsText(result);
      Reflect.apply(callback, undefined, [error, result]);
    };
  }
  const out = Reflect.apply(baseQuery, this, args);
  return out instanceof Promise ? out.then((result: unknown) => (charColumnsAsText(result), result)) : out;
});

/** Maps a Postgres/PGlite error to the adapter error the engine understands, so its message reaches the caller. */
function adapterError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const field = (key: string): string | undefined => {
    const value: unknown = Reflect.get(error, key);
    return typeof value === 'string' ? value : undefined;
  };
  const code = field('code');
  if (code === undefined) return error;
  return new DriverAdapterError({
    kind: 'postgres',
    code,
    severity: field('severity') ?? 'ERROR',
    message: error.message,
    detail: field('detail'),
    column: field('column'),
    hint: field('hint'),
  });
}

/**
 * Runs a migration script as ONE simple-protocol query, as Prisma's native engine does. Both stock adapters get this
 * wrong: adapter-pg splits on every `;` (breaking literals and function bodies) and pglite-prisma-adapter does not
 * await `exec`, so a failing migration would be recorded as applied.
 */
function runScriptsWhole(adapter: SqlDriverAdapter, run: (script: string) => Promise<unknown>): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => {
    try {
      await run(script);
    } catch (error) {
      throw adapterError(error);
    }
  };
  return adapter;
}

/** Opens a single-connection pool: the engine's session state (its advisory lock) then stays on one connection. */
function openPool(connectionString: string, pools: pg.Pool[]): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 1, Client: CharAsTextClient });
  pools.push(pool);
  return pool;
}

async function endPool(pool: pg.Pool): Promise<void> {
  if (!pool.ended) await pool.end();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function connectPool(pool: pg.Pool): Promise<SqlDriverAdapter> {
  const adapter = runScriptsWhole(await new PrismaPg(pool).connect(), (script) => pool.query(script));
  adapter.dispose = () => endPool(pool);
  return adapter;
}

/**
 * Factory for a PostgreSQL server. The shadow database is a uniquely named database on the same server (the role needs
 * CREATEDB), dropped WITH (FORCE) on dispose; adapter-pg's own helper would drop it while its pool is still connected.
 */
export function postgresFactory(url: string): EngineAdapterFactory {
  const pools: pg.Pool[] = [];
  const shadows = new Set<string>();
  const dropShadow = async (name: string) => {
    shadows.delete(name);
    await adminQuery(url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  };
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => connectPool(openPool(url, pools)),
    async connectToShadowDb() {
      const name = `prisma_shadow_${randomUUID().replaceAll('-', '')}`;
      await adminQuery(url, `CREATE DATABASE "${name}"`);
      shadows.add(name);
      const shadowUrl = new URL(url);
      shadowUrl.pathname = `/${name}`;
      const pool = openPool(shadowUrl.toString(), pools);
      const adapter = await connectPool(pool);
      adapter.dispose = async () => {
        await endPool(pool);
        await dropShadow(name);
      };
      return adapter;
    },
    async close() {
      await Promise.all(pools.map(endPool));
      await Promise.all([...shadows].map(dropShadow));
    },
  };
}

let pristine: Promise<Blob> | undefined;

/**
 * An empty in-memory PGlite. Booting one runs initdb (~2.5 s); restoring a snapshot of a pristine one takes ~0.8 s, and
 * `migrate dev` needs several shadow databases, so the first database booted is snapshotted (~40 MB kept in memory).
 */
export async function freshPGlite(): Promise<PGlite> {
  if (pristine) return PGlite.create({ loadDataDir: await pristine });
  const db = await PGlite.create();
  pristine = db.dumpDataDir('none').catch((error: unknown) => {
    pristine = undefined;
    throw error;
  });
  await pristine;
  return db;
}

async function connectPGlite(db: PGlite): Promise<SqlDriverAdapter> {
  return runScriptsWhole(await new PrismaPGlite(db).connect(), (script) => db.exec(script));
}

/**
 * Factory for a caller-owned PGlite instance (left open on close). Each shadow database is a fresh in-memory PGlite,
 * closed on dispose (the stock adapter never closes its shadow, and reuses the name "memory://shadow").
 */
export function pgliteFactory(db: PGlite): EngineAdapterFactory {
  const shadows: PGlite[] = [];
  const closeShadow = async (shadow: PGlite) => {
    if (!shadow.closed) await shadow.close();
  };
  return {
    provider: 'postgres',
    adapterName: 'pglite-prisma-adapter',
    connect: () => connectPGlite(db),
    async connectToShadowDb() {
      const shadow = await freshPGlite();
      shadows.push(shadow);
      const adapter = await connectPGlite(shadow);
      adapter.dispose = () => closeShadow(shadow);
      return adapter;
    },
    async close() {
      await Promise.all(shadows.map(closeShadow));
    },
  };
}
