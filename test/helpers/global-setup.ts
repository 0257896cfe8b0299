/**
 * Migrates a PostgreSQL template database once per test run (skipped on the embedded default). Each run gets its own
 * template name, so concurrent runs on one server do not drop each other's template.
 */
import type { TestProject } from 'vitest/node';
import { migrateDeploy } from '../../src/migrate.js';
import { admin, testDatabaseUrl, withDatabase } from './databases.js';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const url = testDatabaseUrl();
  if (!url) return;
  const template = `parley_tpl_${process.pid}`;
  await admin(url, (c) => c.query(`CREATE DATABASE ${template}`));
  await migrateDeploy({ kind: 'postgres', url: withDatabase(url, template) });
  project.provide('templateDb', template);
  return async () => {
    await admin(url, (c) => c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`));
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string;
  }
}
