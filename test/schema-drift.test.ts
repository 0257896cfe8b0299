/** schema.graphql is checked in; it must match the schema the code builds. */
import { existsSync, readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';

const file = new URL('../schema.graphql', import.meta.url);

describe('schema.graphql', () => {
  it('exists', () => {
    expect(existsSync(file), 'schema.graphql is missing: run `npm run schema:print`').toBe(true);
  });

  it('matches printSchema(schema) — run `npm run schema:print` after changing the schema', () => {
    const onDisk = readFileSync(file, 'utf8');
    const built = `${printSchema(schema)}\n`;
    // Compare first as a boolean so the failure message says what to do; then show the diff.
    expect(onDisk === built, 'schema.graphql is stale: run `npm run schema:print` and commit the result').toBe(true);
    expect(onDisk).toBe(built);
  });
});
