import { hostname } from 'node:os';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { isConnectionError } from '../core/network-errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { JobJournal } from './job-journal.ts';
import { type JobKind, type JobPayload, jobPayloadSchema, QUEUE_NAME } from './job-payloads.ts';
import { createRedisConnections } from './redis-connections.ts';

/** What a processor gets besides its payload. */
export interface JobContext {
  readonly jobId: string;
  /** 1 for the first run of the job, 2 for its first retry, … */
  readonly attempt: number;
  /** Aborted when the worker shuts down and its deadline has passed: hand the work back. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  reportProgress(data: object): Promise<void>;
}

export type JobProcessor<K extends JobKind> = (
  payload: Extract<JobPayload, { kind: K }>,
  context: JobContext,
) => Promise<unknown>;

export type JobProcessors = { readonly [K in JobKind]: JobProcessor<K> };

export interface WorkerOptions extends WorkerTuning {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly processors: JobProcessors;
  readonly logger: Logger;
  /** Told when each job starts, completes, or fails for good; its errors are logged only. */
  readonly journal?: JobJournal;
}

/** How a worker runs its jobs; every setting has a default fit for production. */
export interface WorkerTuning {
  /** Jobs run at once by this worker. @defaultValue 2 */
  readonly concurrency?: number;
  /**
   * How long a job stays locked to this worker without renewal; the lock is renewed every half
   * of it while the job runs. When a worker dies, its jobs can go to another worker once their
   * locks have expired. @defaultValue 30 000 ms
   */
  readonly lockDurationMs?: number;
  /**
   * How often this worker looks for stalled jobs (locked by a worker that died) and puts them
   * back on the queue; a job found stalled twice fails instead. @defaultValue 30 000 ms
   */
  readonly stalledIntervalMs?: number;
  /**
   * At shutdown past the deadline, how long aborted jobs get to hand their work back before the
   * worker hands them back without waiting for them any longer. @defaultValue 10 000 ms
   */
  readonly handBackGraceMs?: number;
}

export interface WorkerHandle {
  readonly name: string;
  /**
   * Stops taking jobs and waits for the running ones. Past `deadlineMs` the running jobs are
   * aborted and handed back to the queue for another worker. @defaultValue 30 000 ms
   */
  close(deadlineMs?: number): Promise<void>;
}

const DEFAULT_LOCK_DURATION_MS = 30_000;
const DEFAULT_STALLED_INTERVAL_MS = 30_000;
const DEFAULT_HAND_BACK_GRACE_MS = 10_000;
/** How long an abandoned job's hand-back may take to reach Redis before the worker stops waiting. */
const HAND_BACK_RECORD_MS = 10_000;

/** The longest a job waits for Redis to take one progress update before it carries on. */
const PROGRESS_WAIT_MS = 2_000;

/** Settles as `work` does, or resolves after `ms` if it has not settled by then. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work.then(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Raised into a processor's signal when shutdown hands its job back. */
export class ShutdownAbort extends Error {
  constructor() {
    super('the worker is shutting down; the job goes back to the queue');
    this.name = 'ShutdownAbort';
  }
}

/**
 * Resolves to 'closed' when `closing` settles first, to 'stuck' as soon as `stuck()` holds
 * (checked every 100 ms), else to 'timeout' after `ms`.
 */
async function closedWithin(
  closing: Promise<void>,
  ms: number,
  stuck: () => boolean = () => false,
): Promise<'closed' | 'stuck' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const stalled = new Promise<'stuck'>((resolve) => {
    const check = () => (stuck() ? resolve('stuck') : undefined);
    poll = setInterval(check, 100);
  });
  try {
    return await Promise.race([closing.then(() => 'closed' as const), stalled, timeout]);
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
  }
}

/** A job this worker is running: `controller` asks it to stop, `abandon` stops waiting for it. */
interface RunningJob {
  readonly controller: AbortController;
  readonly abandon: () => void;
}

/**
 * The name of this process's workers in Redis and in what they report: `lifeboat-worker@host:pid`.
 */
export function workerName(): string {
  return `${QUEUE_NAME}-worker@${hostname()}:${process.pid}`;
}

export function startWorker(options: WorkerOptions): WorkerHandle {
  const name = workerName();
  const running = new Map<string, RunningJob>();
  const log = options.logger.child({ worker: name });

  const processJob = async (job: Job, token?: string): Promise<unknown> => {
    const parsed = jobPayloadSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(
        `job ${job.id} has an invalid payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const payload = parsed.data;
    const controller = new AbortController();
    const jobId = String(job.id);
    let abandon = () => {};
    const abandoned = new Promise<never>((_, reject) => {
      abandon = () => reject(new ShutdownAbort());
    });
    running.set(jobId, { controller, abandon });
    const logger = log.child({ jobId, kind: payload.kind });
    const context: JobContext = {
      jobId,
      attempt: job.attemptsMade + 1,
      signal: controller.signal,
      logger,
      // Progress is for people watching: a Redis that is away or slow must not hold the job.
      reportProgress: async (data) => {
        if (connections.up()) await settledWithin(job.updateProgress(data), PROGRESS_WAIT_MS);
      },
    };
    const note = (what: string, write: () => Promise<void>) =>
      write().catch((error: unknown) =>
        logger.error({ err: error }, `could not record in the catalog that the job ${what}`),
      );
    try {
      logger.info('job started');
      await note('started', async () => options.journal?.started(jobId, payload, context.attempt));
      const processor = options.processors[payload.kind] as JobProcessor<typeof payload.kind>;
      // A processor that ignores its signal would keep the worker from ever closing.
      const result = await Promise.race([processor(payload as never, context), abandoned]);
      logger.info('job completed');
      await note('completed', async () => options.journal?.completed(jobId, result));
      return result;
    } catch (error) {
      if (controller.signal.reason instanceof ShutdownAbort && token) {
        logger.warn('job handed back at shutdown');
        await job.moveToDelayed(Date.now() + 1_000, token);
        throw new DelayedError();
      }
      logger.error({ err: error }, 'job failed');
      throw error;
    } finally {
      running.delete(jobId);
    }
  };

  const connections = createRedisConnections(options.redisUrl, { logger: log });
  const worker = new Worker(QUEUE_NAME, processJob, {
    name,
    prefix: options.prefix,
    connection: connections.blocking(name),
    concurrency: options.concurrency ?? 2,
    lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
    stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
  });
  // Lost connections are logged once, rate-limited, by the connections themselves.
  worker.on('error', (error) => {
    if (!isConnectionError(error)) log.error({ err: error }, 'worker error');
  });
  const { journal } = options;
  if (journal) {
    worker.on('failed', (job, error) => {
      // `finishedOn` is set only when the job failed for good, not when it will be retried.
      if (!job?.finishedOn) return;
      const parsed = jobPayloadSchema.safeParse(job.data);
      if (!parsed.success) return;
      journal
        .failed(String(job.id), parsed.data, error.message)
        .catch((recordError: unknown) =>
          log.error({ err: recordError, jobId: job.id }, 'could not record the failed job'),
        );
    });
  }

  return {
    name,
    async close(deadlineMs = 30_000) {
      try {
        await closeWorker(deadlineMs);
      } finally {
        // Whatever BullMQ still holds (a connection it is retrying) must not outlive the close.
        connections.disconnectAll();
      }
    },
  };

  async function closeWorker(deadlineMs: number): Promise<void> {
    // BullMQ's close() waits for the running jobs with no time limit, and a later
    // close(true) returns that same wait: the deadline has to end the jobs instead. With Redis
    // gone, it would also wait for good to record the end of jobs that did end: once they
    // did, the connections are dropped (the catalog has their outcome; the queue's stalled
    // check hands any job back once Redis is there again).
    const redisGone = () => running.size === 0 && !connections.up();
    // Nothing left to finish or hand back, and no Redis to tell: close without waiting.
    const closed = worker.close(redisGone());
    const first = await closedWithin(closed, deadlineMs, redisGone);
    if (first === 'closed') return;
    if (first === 'stuck') {
      log.warn('Redis is unreachable: closing the worker without waiting for it');
      return;
    }
    log.warn({ jobs: [...running.keys()] }, 'shutdown deadline passed; handing running jobs back');
    for (const job of running.values()) job.controller.abort(new ShutdownAbort());
    const graceMs = options.handBackGraceMs ?? DEFAULT_HAND_BACK_GRACE_MS;
    if ((await closedWithin(closed, graceMs, redisGone)) === 'closed') return;
    log.error(
      { jobs: [...running.keys()] },
      'jobs did not stop when aborted; handing them back without waiting for them',
    );
    for (const job of running.values()) job.abandon();
    // Handing the abandoned jobs back takes BullMQ a moment while Redis answers.
    await closedWithin(closed, HAND_BACK_RECORD_MS, redisGone);
  }
}
