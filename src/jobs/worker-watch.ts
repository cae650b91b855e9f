import type { Logger } from '../logging/logger.ts';
import type { JobQueue } from './queue.ts';

export interface WorkerWatchOptions {
  readonly queue: Pick<JobQueue, 'workerCount' | 'counts'>;
  /** Whether this process already runs a worker of its own. */
  readonly serving: () => boolean;
  /** Starts this process's worker. */
  readonly start: () => void;
  readonly logger: Logger;
  /** How often to look. @defaultValue 3000 */
  readonly intervalMs?: number;
}

export interface WorkerWatch {
  stop(): void;
}

/**
 * For the CLI and the console, which work on their own: every few seconds, while no worker of
 * this process runs, looks whether any worker serves the queue, and starts this process's own
 * when none does and jobs are waiting or were left running (by a worker that died: the new
 * worker's stalled check hands them back). A worker elsewhere that stops after this process
 * started therefore never strands the jobs it queued. A Redis that does not answer is looked at
 * again on the next round.
 */
export function watchForWorkers(options: WorkerWatchOptions): WorkerWatch {
  let looking = false;
  const look = async () => {
    if (looking || options.serving()) return;
    looking = true;
    try {
      const [workers, jobs] = await Promise.all([
        options.queue.workerCount(),
        options.queue.counts(),
      ]);
      if (workers > 0 || jobs.waiting + jobs.active === 0 || options.serving()) return;
      options.logger.warn(
        { waiting: jobs.waiting, active: jobs.active },
        'no worker serves the queue any more: starting this process’s own',
      );
      options.start();
    } catch (error) {
      options.logger.debug({ err: error }, 'could not look for workers; looking again soon');
    } finally {
      looking = false;
    }
  };
  const timer = setInterval(() => void look(), options.intervalMs ?? 3_000);
  // The watch never keeps a process alive by itself.
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
