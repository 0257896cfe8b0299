/** Migrates the PostgreSQL template database once per test run (skipped on the embedded default). */
import { migrateDeploy } from '../../src/migrate.js';
import { admin, TEMPLATE_DB, testDatabaseUrl, withDatabase } from './databases.js';

export default async function setup(): Promise<void> {
  const url = testDatabaseUrl();
  if (!url) return;
  await admin(url, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  });
  await migrateDeploy({ kind: 'postgres', url: withDatabase(url, TEMPLATE_DB) });
}
