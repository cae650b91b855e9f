import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceUnavailableError } from '../../src/core/errors.ts';
import { checkPostgres, checkRedis } from '../../src/preflight.ts';
import { databaseExists, databaseUrl, uniqueName } from '../support/databases.ts';

/** A port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

/** Rejection of `check`, which must fail. */
async function failureOf(check: Promise<void>): Promise<ServiceUnavailableError> {
  const error = await check.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServiceUnavailableError);
  return error as ServiceUnavailableError;
}

describe('preflight checks', () => {
  // A server that accepts connections and never says a word.
  const silent = createServer((socket) => socket.resume());
  let silentPort: number;
  beforeAll(async () => {
    silentPort = await listen(silent);
  });
  afterAll(() => new Promise((resolve) => silent.close(resolve)));

  it('explains where PostgreSQL was looked for and how to get one when nothing listens', async () => {
    const port = await closedPort();
    const url = `postgres://lifeboat:s3cret@127.0.0.1:${port}/lifeboat`;

    const error = await failureOf(checkPostgres(url, 'the catalog'));

    expect(error.code).toBe('service_unavailable');
    expect(error.message).toContain('PostgreSQL (the catalog)');
    expect(error.message).toContain(`postgres://lifeboat@127.0.0.1:${port}/lifeboat`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('docker compose up -d postgres redis');
    expect(error.message).toContain('apt-get install postgresql redis-server');
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).not.toContain('s3cret');
    expect(error.message).not.toMatch(/\n\s+at /);
  });

  it('explains where Redis was looked for and how to get one when nothing listens', async () => {
    const port = await closedPort();
    const url = `redis://:hunter2@127.0.0.1:${port}/0`;

    const error = await failureOf(checkRedis(url));

    expect(error.message).toContain('Redis');
    expect(error.message).toContain(`127.0.0.1:${port}/0`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('docker compose up -d postgres redis');
    expect(error.message).toContain('REDIS_URL');
    expect(error.message).not.toContain('hunter2');
  });

  it('gives up on a PostgreSQL that never answers within 3 seconds', async () => {
    const started = Date.now();

    const error = await failureOf(
      checkPostgres(`postgres://127.0.0.1:${silentPort}/x`, 'the catalog'),
    );

    expect(Date.now() - started).toBeLessThan(3_500);
    expect(error.message).toContain('timeout');
  });

  it('gives up on a Redis that never answers within 3 seconds', async () => {
    const started = Date.now();

    const error = await failureOf(checkRedis(`redis://127.0.0.1:${silentPort}`));

    expect(Date.now() - started).toBeLessThan(3_500);
    expect(error.message).toContain('timeout');
  });

  it('says authentication failed for a role the server does not know', async () => {
    const error = await failureOf(
      checkPostgres('postgres://no_such_role_lifeboat@127.0.0.1:5432/postgres', 'the catalog'),
    );

    expect(error.message).toContain('authentication failed');
  });

  it('passes for the running PostgreSQL and Redis', async () => {
    await expect(checkPostgres(databaseUrl('postgres'), 'the catalog')).resolves.toBeUndefined();
    await expect(checkRedis('redis://127.0.0.1:6379/0')).resolves.toBeUndefined();
  });

  it('counts a PostgreSQL whose database does not exist yet as reachable, creating nothing', async () => {
    const name = uniqueName('lb_preflight_missing');

    await expect(checkPostgres(databaseUrl(name), 'the catalog')).resolves.toBeUndefined();
    expect(await databaseExists(name)).toBe(false);
  });
});
