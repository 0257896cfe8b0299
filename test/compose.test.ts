/**
 * docker-compose.yml is for users; Docker does not run on the CI machine, so this keeps the file honest: the services,
 * ports, env and healthchecks are checked statically, and the app's env must pass Parley's own env validation.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readEnv } from '../src/env.js';

const root = new URL('../', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, root), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string> | string[];
  ports?: (string | number)[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string | string[]; interval?: string; retries?: number };
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const services = compose.services;

function env(service: Service): Record<string, string> {
  const e = service.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
}

/** Compose's `${VAR:-default}` interpolation, with no variables set (what a user gets by default). */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '');
}

function healthcheck(service: Service): string {
  const test = service.healthcheck?.test;
  expect(test, 'healthcheck.test').toBeDefined();
  return Array.isArray(test) ? test.join(' ') : String(test);
}

describe('docker-compose.yml', () => {
  it('defines postgres, redis and app', () => {
    expect(Object.keys(services).sort()).toEqual(['app', 'postgres', 'redis']);
    expect(services.postgres?.image).toBe('postgres:15');
    expect(services.redis?.image).toBe('redis:7');
  });

  it('gives every service a healthcheck', () => {
    expect(healthcheck(services.postgres!)).toMatch(/pg_isready/);
    expect(healthcheck(services.redis!)).toMatch(/redis-cli ping/);
    const app = healthcheck(services.app!);
    expect(app).toMatch(/^CMD /);
    expect(app).toMatch(/http:\/\/(localhost|127\.0\.0\.1):4000\/health/);
  });

  it('starts the app only after postgres and redis are healthy', () => {
    expect(services.app?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
  });

  it('builds the app from the Dockerfile and publishes port 4000', () => {
    const build = services.app?.build;
    const dockerfile = typeof build === 'string' ? 'Dockerfile' : (build?.dockerfile ?? 'Dockerfile');
    expect(build).toBeDefined();
    expect(dockerfile).toBe('Dockerfile');
    expect(services.app?.ports?.map(String)).toContain('4000:4000');
  });

  it('configures the app with DATABASE_URL, REDIS_URL, PORT and TOKEN_SECRET that Parley accepts', () => {
    const e = env(services.app!);
    expect(Object.keys(e)).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'PORT', 'TOKEN_SECRET']));
    const pg = env(services.postgres!);
    const db = new URL(e.DATABASE_URL!);
    expect(db.protocol).toBe('postgresql:');
    expect(db.hostname).toBe('postgres');
    expect(decodeURIComponent(db.username)).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(db.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(db.pathname).toBe(`/${pg.POSTGRES_DB}`);
    expect(new URL(e.REDIS_URL!).hostname).toBe('redis');

    const parsed = readEnv(Object.fromEntries(Object.entries(e).map(([k, v]) => [k, interpolate(v)])));
    expect(parsed.PORT).toBe(4000);
    expect(parsed.TOKEN_SECRET?.length).toBeGreaterThanOrEqual(32);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('exists next to the compose file, with a .dockerignore', () => {
    expect(existsSync(new URL('Dockerfile', root))).toBe(true);
    const ignore = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignore).toEqual(expect.arrayContaining(['node_modules', 'data']));
  });

  it('builds on node:20-slim with npm ci and prisma generate', () => {
    expect(instructions[0]).toBe('FROM node:20-slim');
    const run = instructions.filter((l) => l.startsWith('RUN ')).join('\n');
    expect(run).toMatch(/npm ci\b/);
    expect(run).toMatch(/npm run generate\b/);
    expect(run.indexOf('npm ci')).toBeLessThan(run.indexOf('npm run generate'));
  });

  it('runs the migrations before starting the server', () => {
    const cmd = instructions.filter((l) => l.startsWith('CMD ') || l.startsWith('ENTRYPOINT ')).at(-1);
    expect(cmd).toBeDefined();
    const migrate = cmd!.indexOf('npm run db:migrate');
    const start = cmd!.indexOf('npm start');
    expect(migrate).toBeGreaterThanOrEqual(0);
    expect(start).toBeGreaterThan(migrate);
    // `&&`: a failed migration must not start the server.
    expect(cmd!.slice(migrate, start)).toMatch(/&&/);
  });
});
