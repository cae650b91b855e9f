import type { RedisOptions } from 'ioredis';
import { LifeboatError } from '../core/errors.ts';

/**
 * A `redis://[user[:password]@]host[:port][/db]` URL taken apart, so that the password travels
 * in `REDISCLI_AUTH` or an in-process client and never in a manifest, a log or a command line.
 */
export interface RedisUrl {
  /** The URL with its password removed (user, host, port and db kept): for manifests and logs. */
  readonly safeUrl: string;
  /** `scheme://host:port/db` without any credentials: what `redis-cli -u` is given. */
  readonly cliUrl: string;
  readonly host: string;
  readonly port: number;
  readonly username: string | null;
  readonly password: string | null;
  /** The database index the URL names. @defaultValue 0 */
  readonly db: number;
  readonly tls: boolean;
}

/** Parses a redis target's URL; throws `redis_url_invalid` without echoing the URL (it may hold a password). */
export function parseRedisUrl(text: string): RedisUrl {
  const url = URL.parse(text);
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    throw new LifeboatError(
      'redis_url_invalid',
      'a redis url must look like redis://[user[:password]@]host[:port][/db] (or rediss:// for TLS)',
    );
  }
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) {
    throw new LifeboatError(
      'redis_url_invalid',
      `a redis url's path is the database index, a number such as /0 or /3, not "/${path}"`,
    );
  }
  const db = path === '' ? 0 : Number(path);
  const password = url.password === '' ? null : decodeURIComponent(url.password);
  const username = url.username === '' ? null : decodeURIComponent(url.username);
  const safe = new URL(url.toString());
  safe.password = '';
  const bare = new URL(url.toString());
  bare.username = '';
  bare.password = '';
  bare.search = '';
  bare.hash = '';
  return {
    safeUrl: safe.toString(),
    cliUrl: bare.toString(),
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    username,
    password,
    db,
    tls: url.protocol === 'rediss:',
  };
}

/**
 * ioredis options for a one-off connection that fails fast: no reconnects, no offline queue,
 * so an unreachable server is an error within `connectTimeout` rather than a hang.
 */
export function oneShotRedisOptions(url: RedisUrl, connectionName: string): RedisOptions {
  return {
    host: url.host,
    port: url.port,
    username: url.username ?? undefined,
    password: url.password ?? undefined,
    db: url.db,
    tls: url.tls ? {} : undefined,
    connectionName,
    ...FAIL_FAST,
  };
}

/** What makes a connection fail fast: see {@link oneShotRedisOptions}. */
export const FAIL_FAST = {
  lazyConnect: true,
  connectTimeout: 10_000,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
  enableOfflineQueue: false,
  disconnectTimeout: 200,
} as const satisfies RedisOptions;
