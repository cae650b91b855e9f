import { Queue, QueueEvents } from 'bullmq';
import { isConnectionError, redisReason, unreachableServiceError } from '../core/network-errors.ts';
import type { Logger } from '../logging/logger.ts';
import { type JobPayload, QUEUE_NAME } from './job-payloads.ts';
import { createRedisConnections, type RedisConnections } from './redis-connections.ts';

/**
 * How ended jobs keep their BullMQ records (completed: a day, failed: a week), for every
 * job however it is added; the catalog keeps the history for good.
 */
export const JOB_RETENTION = {
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/** How long a request to the queue waits for Redis before it is refused as unreachable. */
export const QUEUE_WAIT_MS = 5_000;

export interface JobQueue {
  /** The BullMQ queue; first use connects to Redis. */
  readonly queue: Queue;
  /** The queue's events (progress, completed, failed); first use connects to Redis. */
  readonly events: QueueEvents;
  /** The Redis connections of this queue and of the workers started with it. */
  readonly connections: RedisConnections;
  /**
   * Queues a job under a caller-chosen id (re-adding an existing id is a no-op). Throws a
   * `ServiceUnavailableError` when Redis does not answer within {@link QUEUE_WAIT_MS}.
   */
  add(payload: JobPayload, jobId: string): Promise<void>;
  /** Resolves when Redis answers a PING, within `timeoutMs`; else throws why it did not. */
  ping(timeoutMs?: number): Promise<void>;
  /** Workers currently connected to the queue, on any machine (throws while Redis is away). */
  workerCount(timeoutMs?: number): Promise<number>;
  /** Jobs waiting (delayed and prioritized too), running and failed (throws while Redis is away). */
  counts(timeoutMs?: number): Promise<{ waiting: number; active: number; failed: number }>;
  /**
   * Closes the queue's connections: gracefully while Redis answers, at once when it does not
   * (nothing can be handed back to a Redis that is gone), and never later than `deadlineMs`.
   */
  close(deadlineMs?: number): Promise<void>;
}

export interface OpenJobQueueOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  /** Where lost connections and recoveries are logged, one line each, rate-limited. */
  readonly logger: Logger;
  /** @defaultValue one minute */
  readonly errorLogIntervalMs?: number;
}

/**
 * The job queue on Redis. Nothing connects until the queue is first used, so commands that
 * need only the catalog run while Redis is down; every request is bounded in time, so a
 * Redis that went away makes a request fail with a message saying so instead of hanging.
 */
export function openJobQueue(options: OpenJobQueueOptions): JobQueue {
  const connections = createRedisConnections(options.redisUrl, {
    logger: options.logger,
    ...(options.errorLogIntervalMs ? { logIntervalMs: options.errorLogIntervalMs } : {}),
  });
  const quiet = (what: string) => (error: unknown) => {
    // Lost connections are logged once, rate-limited, by the connections themselves.
    if (!isConnectionError(error)) options.logger.error({ err: error }, `${what} error`);
  };
  let queue: Queue | undefined;
  let events: QueueEvents | undefined;
  const theQueue = () => {
    if (!queue) {
      queue = new Queue(QUEUE_NAME, {
        prefix: options.prefix,
        connection: connections.commands(`${QUEUE_NAME}-queue`),
      });
      queue.on('error', quiet('queue'));
    }
    return queue;
  };
  const theEvents = () => {
    if (!events) {
      events = new QueueEvents(QUEUE_NAME, {
        prefix: options.prefix,
        connection: connections.blocking(`${QUEUE_NAME}-events`),
      });
      events.on('error', quiet('queue events'));
    }
    return events;
  };
  /** Runs `work` on the queue once Redis answers, failing as unreachable after `timeoutMs`. */
  const bounded = async <T>(timeoutMs: number, work: (q: Queue) => Promise<T>): Promise<T> => {
    const q = theQueue();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueueTimeout()), timeoutMs);
    });
    try {
      return await Promise.race([
        (async () => {
          await q.waitUntilReady();
          return work(q);
        })(),
        timedOut,
      ]);
    } catch (error) {
      const cause = error instanceof QueueTimeout ? (connections.lastError() ?? error) : error;
      if (!(error instanceof QueueTimeout) && !isConnectionError(error)) throw error;
      throw unreachableServiceError(
        'Redis (job queue)',
        options.redisUrl,
        redisReason(cause, timeoutMs, cause === error),
        'REDIS_URL',
      );
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    get queue() {
      return theQueue();
    },
    get events() {
      return theEvents();
    },
    connections,
    async add(payload, jobId) {
      await bounded(QUEUE_WAIT_MS, (q) =>
        q.add(payload.kind, payload, { jobId, attempts: 1, ...JOB_RETENTION }),
      );
    },
    async ping(timeoutMs = QUEUE_WAIT_MS) {
      await bounded(timeoutMs, async (q) => {
        await (await q.backend.client).runCommand('ping', []);
      });
    },
    async workerCount(timeoutMs = QUEUE_WAIT_MS) {
      return bounded(timeoutMs, async (q) => (await q.getWorkers()).length);
    },
    async counts(timeoutMs = QUEUE_WAIT_MS) {
      const counts = await bounded(timeoutMs, (q) =>
        q.getJobCounts('waiting', 'active', 'failed', 'delayed', 'prioritized'),
      );
      return {
        waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        failed: counts.failed ?? 0,
      };
    },
    async close(deadlineMs = QUEUE_WAIT_MS) {
      const open = [events, queue].filter((each) => each !== undefined);
      if (connections.up()) {
        const closing = Promise.all(open.map((each) => each.close())).catch(() => undefined);
        await withinDeadline(closing, deadlineMs);
      }
      // A graceful close that waits for a Redis that is gone would wait for good.
      connections.disconnectAll();
    },
  };
}

class QueueTimeout extends Error {}

/** Resolves when `work` settles or `ms` passed, whichever comes first. */
export async function withinDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
