import { Redis, type RedisOptions } from 'ioredis';
import { createErrorThrottle } from '../core/error-throttle.ts';
import { errorCode, errorMessage, isConnectionError } from '../core/network-errors.ts';
import { redactUrl } from '../core/redact.ts';
import type { Logger } from '../logging/logger.ts';
import { redisOptions } from './redis.ts';

/** How often one kind of Redis connection error is logged while Redis stays away. */
export const REDIS_ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * The Redis connections of one process's queue, worker and queue events. Lifeboat makes them
 * (and every duplicate BullMQ makes of them), so that each is watched from its first moment:
 * a lost connection is logged as one structured line, at most once a minute per kind of error,
 * never as the raw stack ioredis prints for an error nobody listens to; and each can be dropped
 * at once when Redis is gone and a graceful close would wait for it forever.
 */
export interface RedisConnections {
  /** `redis://host:port/db`, without the password. */
  readonly where: string;
  /**
   * For BullMQ's Queue: a command fails at once while the connection is down (no offline
   * queue), so that adding a job or asking for counts never waits for Redis to come back.
   */
  commands(name: string): Redis;
  /**
   * For a Worker or QueueEvents: requests wait across reconnects, as BullMQ's blocking reads
   * need (`maxRetriesPerRequest: null`). Never connected itself: BullMQ duplicates it.
   */
  blocking(name: string): Redis;
  /** True while every connection opened so far is connected (`ready`). */
  up(): boolean;
  /** The last connection error seen, for messages. */
  lastError(): unknown;
  /**
   * Resolves once every connection opened so far is ready; rejects with the last connection
   * error after `timeoutMs`.
   */
  waitUntilUp(timeoutMs: number): Promise<void>;
  /** Drops every connection now, with its pending commands, and stops reconnecting. */
  disconnectAll(): void;
}

export interface RedisConnectionsOptions {
  readonly logger: Logger;
  /** @defaultValue {@link REDIS_ERROR_LOG_INTERVAL_MS} */
  readonly logIntervalMs?: number;
}

export function createRedisConnections(
  url: string,
  options: RedisConnectionsOptions,
): RedisConnections {
  const where = redactUrl(url);
  const clients = new Set<Redis>();
  const throttle = createErrorThrottle(options.logIntervalMs ?? REDIS_ERROR_LOG_INTERVAL_MS);
  const log = options.logger.child({ redis: where });
  let last: unknown;
  let down = false;

  const watch = (client: Redis, name: string) => {
    clients.add(client);
    client.on('error', (error: unknown) => {
      last = error;
      if (!isConnectionError(error)) {
        log.error({ err: error, connection: name }, 'Redis (job queue) error');
        return;
      }
      down = true;
      const decision = throttle.admit(errorCode(error) ?? errorMessage(error), Date.now());
      if (!decision.log) return;
      log.warn(
        {
          connection: name,
          code: errorCode(error),
          error: errorMessage(error),
          ...(decision.suppressed ? { repeated: decision.suppressed } : {}),
        },
        'Redis (job queue) unreachable; retrying (repeats of this error are counted, not each logged)',
      );
    });
    client.on('ready', () => {
      if (!down) return;
      down = false;
      throttle.reset();
      log.info({ connection: name }, 'Redis (job queue) reachable again');
    });
  };

  /** A Redis client whose duplicates (BullMQ's blocking connections) are watched as well. */
  class WatchedRedis extends Redis {
    readonly #name: string;
    constructor(redisOptions: RedisOptions, name: string) {
      super(redisOptions as RedisOptions & { replyMapping?: 'legacy' });
      this.#name = name;
      watch(this, name);
    }
    override duplicate(override?: Partial<RedisOptions>): Redis {
      const name = override?.connectionName ?? `${this.#name}-copy`;
      // A lazy copy that fails its first connect would fail BullMQ's set-up for good; one that
      // connects at once waits for Redis however long it is away.
      return new WatchedRedis({ ...this.options, lazyConnect: false, ...override }, name);
    }
  }

  return {
    where,
    commands(name) {
      return new WatchedRedis({ ...redisOptions(url, name), enableOfflineQueue: false }, name);
    },
    blocking(name) {
      return new WatchedRedis({ ...redisOptions(url, name), lazyConnect: true }, name);
    },
    up() {
      // `wait`: made lazily and never used; `end`: closed on purpose (and may be reopened).
      return [...clients].every((client) => ['ready', 'wait', 'end'].includes(client.status));
    },
    lastError: () => last,
    async waitUntilUp(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!this.up()) {
        if (Date.now() >= deadline) throw last ?? new Error('Redis did not answer in time');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    disconnectAll() {
      for (const client of clients) client.disconnect();
    },
  };
}
