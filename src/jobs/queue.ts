import { Job, Queue, QueueEvents } from 'bullmq';
import { messageOf } from '../core/errors.ts';
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

/**
 * How the answer to a question put to a worker (`ask`) is kept: an hour, enough for the asker
 * to read it; nobody looks at it later, and the catalog's job history keeps it.
 */
const ANSWER_RETENTION = {
  removeOnComplete: { age: 3600 },
  removeOnFail: { age: 3600 },
} as const;

/** How long a request to the queue waits for Redis before it is refused as unreachable. */
export const QUEUE_WAIT_MS = 5_000;

/** How a job put to the workers with `ask` ended, within the time given. */
export type JobAnswer =
  | { readonly status: 'completed'; readonly value: unknown }
  | { readonly status: 'failed'; readonly reason: string }
  /** No worker ended it in time; it was taken off the queue unless a worker holds it. */
  | { readonly status: 'unanswered' };

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
  /**
   * Puts a short job to the workers ahead of the jobs waiting and waits up to `waitMs` for it
   * to end: a question whose answer only a worker has. Throws a `ServiceUnavailableError` when
   * Redis does not answer within {@link QUEUE_WAIT_MS}.
   */
  ask(payload: JobPayload, jobId: string, waitMs: number): Promise<JobAnswer>;
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
    async ask(payload, jobId, waitMs) {
      const events = theEvents();
      // Listening before the job exists, so that an answer given at once is not missed.
      await bounded(QUEUE_WAIT_MS, () => events.waitUntilReady());
      const job = await bounded(QUEUE_WAIT_MS, (q) =>
        // lifo: ahead of the jobs waiting, which may be long backups.
        q.add(payload.kind, payload, { jobId, attempts: 1, lifo: true, ...ANSWER_RETENTION }),
      );
      try {
        return { status: 'completed', value: await job.waitUntilFinished(events, waitMs) };
      } catch (error) {
        // Failed, or the wait ran out: the job's state says which (it may have ended just now).
        const ended = await bounded(QUEUE_WAIT_MS, (q) => Job.fromId(q, jobId));
        const state = await bounded(QUEUE_WAIT_MS, async () => ended?.getState());
        if (state === 'completed') return { status: 'completed', value: ended?.returnvalue };
        if (state === 'failed') {
          return { status: 'failed', reason: ended?.failedReason ?? messageOf(error) };
        }
        // Nobody took it: no worker should run it later for nobody. A worker that holds it
        // keeps it (it cannot be removed) and ends it as usual.
        await bounded(QUEUE_WAIT_MS, () => job.remove()).catch(() => undefined);
        return { status: 'unanswered' };
      }
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
