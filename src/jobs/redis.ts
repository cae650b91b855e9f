import type { RedisOptions } from 'bullmq';

/**
 * ioredis options for BullMQ from a `redis://` or `rediss://` URL (see `createRedisConnections`,
 * which makes the clients from them). Workers and queue events block on Redis, so requests are
 * never failed after a number of retries (`maxRetriesPerRequest: null`, as BullMQ requires); the
 * reconnect delay is capped so a worker comes back quickly after a Redis restart.
 */
export function redisOptions(url: string, connectionName?: string): RedisOptions {
  // Parsed here rather than passed as `url` so the connection name and retry policy apply.
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db ? Number(db) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    connectionName,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
  };
}
