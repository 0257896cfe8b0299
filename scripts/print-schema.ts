/**
 * Prints the GraphQL schema (src/schema/index.ts, already lexicographically sorted) to schema.graphql at the
 * repository root. `--check` writes nothing and exits 1 when the file is missing or differs, for CI.
 *
 * Usage: npm run schema:print [-- --check]
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

/** Absolute path of the checked-in SDL file. */
export const schemaFile = fileURLToPath(new URL('../schema.graphql', import.meta.url));

/** The SDL exactly as it is written to schema.graphql (trailing newline included). */
export function renderSchema(): string {
  return `${printSchema(schema)}\n`;
}

function main(argv: string[]): number {
  const expected = renderSchema();
  if (argv.includes('--check')) {
    let current: string | null;
    try {
      current = readFileSync(schemaFile, 'utf8');
    } catch {
      current = null;
    }
    if (current === expected) {
      console.log('schema.graphql is up to date.');
      return 0;
    }
    console.error(
      current === null
        ? 'schema.graphql is missing. Run `npm run schema:print` and commit the result.'
        : 'schema.graphql is stale: it differs from the schema built from src/schema. Run `npm run schema:print` and commit the result.',
    );
    return 1;
  }
  writeFileSync(schemaFile, expected);
  console.log(`Wrote ${schemaFile}`);
  return 0;
}

// Only run when executed directly, so tests can import renderSchema without side effects.
const entry = process.argv[1];
if (entry && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  process.exit(main(process.argv.slice(2)));
}
