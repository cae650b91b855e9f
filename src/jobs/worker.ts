import { hostname } from 'node:os';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from '../logging/logger.ts';
import { type JobKind, type JobPayload, jobPayloadSchema, QUEUE_NAME } from './job-payloads.ts';
import { redisOptions } from './redis.ts';

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

export interface WorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly processors: JobProcessors;
  readonly logger: Logger;
  /** Jobs run at once by this worker. @defaultValue 2 */
  readonly concurrency?: number;
}

export interface WorkerHandle {
  readonly name: string;
  /**
   * Stops taking jobs and waits for the running ones. Past `deadlineMs` the running jobs are
   * aborted and handed back to the queue for another worker. @defaultValue 30 000 ms
   */
  close(deadlineMs?: number): Promise<void>;
}

/** Raised into a processor's signal when shutdown hands its job back. */
export class ShutdownAbort extends Error {
  constructor() {
    super('the worker is shutting down; the job goes back to the queue');
    this.name = 'ShutdownAbort';
  }
}

/** Resolves to 'closed' when `closing` settles first, else to 'timeout' after `ms`. */
async function closedWithin(closing: Promise<void>, ms: number): Promise<'closed' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([closing.then(() => 'closed' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function startWorker(options: WorkerOptions): WorkerHandle {
  const name = `${QUEUE_NAME}-worker@${hostname()}:${process.pid}`;
  const running = new Map<string, AbortController>();
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
    running.set(jobId, controller);
    const logger = log.child({ jobId, kind: payload.kind });
    const context: JobContext = {
      jobId,
      attempt: job.attemptsMade + 1,
      signal: controller.signal,
      logger,
      reportProgress: (data) => job.updateProgress(data),
    };
    try {
      logger.info('job started');
      const processor = options.processors[payload.kind] as JobProcessor<typeof payload.kind>;
      const result = await processor(payload as never, context);
      logger.info('job completed');
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

  const worker = new Worker(QUEUE_NAME, processJob, {
    name,
    prefix: options.prefix,
    connection: redisOptions(options.redisUrl, name),
    concurrency: options.concurrency ?? 2,
  });
  worker.on('error', (error) => log.error({ err: error }, 'worker error'));

  return {
    name,
    async close(deadlineMs = 30_000) {
      const closed = worker.close();
      if ((await closedWithin(closed, deadlineMs)) === 'closed') return;
      log.warn(
        { jobs: [...running.keys()] },
        'shutdown deadline passed; handing running jobs back',
      );
      for (const controller of running.values()) controller.abort(new ShutdownAbort());
      if ((await closedWithin(closed, 10_000)) === 'timeout') await worker.close(true);
    },
  };
}
