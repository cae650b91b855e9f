import { Redis } from 'ioredis';
import pg from 'pg';
import { INVALID_CATALOG_NAME } from './catalog/ensure-database.ts';
import { ServiceUnavailableError } from './core/errors.ts';
import { redactUrl } from './core/redact.ts';
import { withDefaultUser } from './postgres/connection-url.ts';

/** One try, this long at most: start-up should say what is wrong, not hang or retry. */
const PREFLIGHT_TIMEOUT_MS = 3_000;

const HOW_TO_GET_ONE = [
  'To get one:',
  '  - from the Lifeboat repository: docker compose up -d postgres redis',
  '  - on Debian or Ubuntu: apt-get install postgresql redis-server, then start them',
  '    (service postgresql start; service redis-server start)',
];

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
    if (codeOf(error) === INVALID_CATALOG_NAME) return;
    throw unavailable(`PostgreSQL (${purpose})`, url, postgresReason(error), 'DATABASE_URL');
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
    throw unavailable('Redis (job queue)', url, redisReason(cause), 'REDIS_URL');
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

function unavailable(
  service: string,
  url: string,
  reason: string,
  variable: string,
): ServiceUnavailableError {
  return new ServiceUnavailableError(
    'service_unavailable',
    [
      `Cannot reach ${service} at ${redactUrl(url)}: ${reason}.`,
      ...HOW_TO_GET_ONE,
      `  - or set ${variable} to one you already run.`,
    ].join('\n'),
  );
}

function postgresReason(error: unknown): string {
  const code = codeOf(error);
  if (code === '28P01' || code === '28000') return `authentication failed (${messageOf(error)})`;
  if (code === '57P03') return 'the server is starting up or shutting down';
  if (error instanceof DeadlineExceeded || /timeout/i.test(messageOf(error))) {
    return `no answer within ${PREFLIGHT_TIMEOUT_MS / 1000} s (timeout)`;
  }
  return networkReason(error);
}

function redisReason(error: unknown): string {
  const message = messageOf(error);
  if (/WRONGPASS|NOAUTH|invalid (username-)?password/i.test(message)) {
    return `authentication failed (${message})`;
  }
  if (error instanceof DeadlineExceeded || /timed? ?out|ETIMEDOUT/i.test(message)) {
    return `no answer within ${PREFLIGHT_TIMEOUT_MS / 1000} s (timeout)`;
  }
  return networkReason(error);
}

function networkReason(error: unknown): string {
  switch (codeOf(error)) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED): nothing listens there';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found (${codeOf(error)})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable (${codeOf(error)})`;
    case 'ETIMEDOUT':
      return `no answer within ${PREFLIGHT_TIMEOUT_MS / 1000} s (timeout)`;
    case 'ECONNRESET':
      return 'the connection was reset (ECONNRESET)';
    default:
      return messageOf(error) || 'unknown error';
  }
}

/** The error's code; an AggregateError (IPv6 then IPv4 attempts) gives its first inner code. */
function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors)) return codeOf(errors[0]);
  return undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || codeOf(error) || error.name;
  return String(error);
}
