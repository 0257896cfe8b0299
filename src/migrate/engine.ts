/**
 * Loads Prisma's schema engine compiled to WebAssembly and runs one engine session over a driver adapter. The native
 * engine cannot be downloaded on our machines; this one ships on npm.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { EngineAdapterFactory } from './adapters.js';

export type { SchemaEngine };

let loading: Promise<void> | undefined;

function initialised(): boolean {
  try {
    bg.version(); // throws while the wasm instance is unset
    return true;
  } catch {
    return false;
  }
}

/**
 * The package's entry does `import * as wasm from "./schema_engine_bg.wasm"`, which Node 20 cannot import, so we
 * instantiate the bytes ourselves against the glue module (the wasm imports everything from './schema_engine_bg.js').
 * The glue module may already be initialised by another copy of this module (vitest re-evaluates our sources but
 * shares node_modules); instantiating twice would swap the instance under a live engine.
 */
function loadWasm(): Promise<void> {
  loading ??= (async () => {
    if (initialised()) return;
    const glue = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(glue.replace(/\.js$/, '.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, {
      './schema_engine_bg.js': bg as unknown as WebAssembly.ModuleImports,
    });
    if (initialised()) return;
    bg.__wbg_set_wasm(instance.exports);
    const start = instance.exports.__wbindgen_start;
    if (typeof start === 'function') start();
  })();
  return loading;
}

/** Engine log lines are JSON; only warnings and errors are worth showing. */
function onLog(line: unknown): void {
  if (typeof line === 'string' && /"level":"(WARN|ERROR)"/.test(line)) process.stderr.write(`[schema-engine] ${line}\n`);
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` with a fresh engine over `factory`, then frees the engine and closes the factory's pools and shadow
 * databases. Sessions in one process run one at a time: two engines interleaving on the same PGlite would both try
 * to apply the same migration (across processes on PostgreSQL, the engine's advisory lock serialises them).
 */
export function withEngine<T>(
  factory: EngineAdapterFactory,
  schema: { path: string; content: string },
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const run = async () => {
    await loadWasm();
    try {
      const adapter = bindMigrationAwareSqlAdapterFactory(factory);
      const engine = await bg.SchemaEngine.new({ datamodels: [[schema.path, schema.content]] }, onLog, adapter);
      try {
        return await fn(engine);
      } finally {
        engine.free();
      }
    } finally {
      await factory.close();
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}
