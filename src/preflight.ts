import { Redis } from 'ioredis';
import pg from 'pg';
import { INVALID_CATALOG_NAME } from './catalog/ensure-database.ts';
import {
  errorCode,
  postgresReason,
  redisReason,
  unreachableServiceError,
} from './core/network-errors.ts';
import { withDefaultUser } from './postgres/connection-url.ts';

/** One try, this long at most: start-up should say what is wrong, not hang or retry. */
const PREFLIGHT_TIMEOUT_MS = 3_000;

/**
 * Resolves when PostgreSQL at `url` accepts a connection; a database that does not exist yet
 * counts as reachable, because the catalog creates it. Otherwise throws a
 * `ServiceUnavailableError` saying where it looked, why it failed and how to get a server.
 *
 * @param purpose what the server is for, in the message: `the catalog`.
 */
export async function checkPostgres(url: string, purpose: string): Promise<void> {
  const client = new pg.Client({
    connectionString: withDefaultUser(url),
    // Shorter than the deadline, so that node-postgres gives up first and closes its socket.
    connectionTimeoutMillis: PREFLIGHT_TIMEOUT_MS - 500,
    query_timeout: PREFLIGHT_TIMEOUT_MS - 500,
    application_name: 'lifeboat preflight',
  });
  client.on('error', () => undefined);
  try {
    await withinDeadline(async () => {
      await client.connect();
      await client.query('SELECT 1');
    });
  } catch (error) {
    if (errorCode(error) === INVALID_CATALOG_NAME) return;
    throw unreachableServiceError(
      `PostgreSQL (${purpose})`,
      url,
      preflightPostgresReason(error),
      'DATABASE_URL',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Resolves when Redis at `url` answers a PING. Otherwise throws a `ServiceUnavailableError`
 * saying where it looked, why it failed and how to get a server.
 */
export async function checkRedis(url: string): Promise<void> {
  let lastError: unknown;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PREFLIGHT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectionName: 'lifeboat-preflight',
    // A server that never answers never closes its end either: drop the socket soon.
    disconnectTimeout: 200,
  });
  // ioredis reports the socket's error as an event and rejects connect() with a generic one.
  redis.on('error', (error) => {
    lastError = error;
  });
  try {
    await withinDeadline(async () => {
      await redis.connect();
      await redis.ping();
    });
  } catch (error) {
    const cause = error instanceof DeadlineExceeded ? error : (lastError ?? error);
    throw unreachableServiceError(
      'Redis (job queue)',
      url,
      redisReason(cause, PREFLIGHT_TIMEOUT_MS, cause instanceof DeadlineExceeded),
      'REDIS_URL',
    );
  } finally {
    redis.disconnect();
  }
}

class DeadlineExceeded extends Error {}

/** Runs `work`, failing with `DeadlineExceeded` once the preflight timeout has passed. */
async function withinDeadline(work: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded('timeout')), PREFLIGHT_TIMEOUT_MS);
  });
  try {
    await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function preflightPostgresReason(error: unknown): string {
  if (error instanceof DeadlineExceeded) {
    return `no answer within ${PREFLIGHT_TIMEOUT_MS / 1000} s (timeout)`;
  }
  return postgresReason(error, PREFLIGHT_TIMEOUT_MS, 'DATABASE_URL');
}
