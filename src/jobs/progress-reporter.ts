import { type ComponentProgress, waitingProgress } from '../backup/progress.ts';
import type { JobContext } from './worker.ts';

/** Progress goes to the queue at most this often per job; a final state goes at once. */
const PROGRESS_INTERVAL_MS = 500;

/**
 * Keeps every component's latest progress and sends all of it to the queue at most once per
 * interval. An update held back by the interval goes out when the interval ends, so a component
 * that goes quiet (waiting for a target another job holds) is still shown as it is.
 */
export class ProgressReporter {
  private readonly components = new Map<string, ComponentProgress>();
  private readonly context: Pick<JobContext, 'reportProgress' | 'logger'>;
  private readonly intervalMs: number;
  private lastSent = Number.NEGATIVE_INFINITY;
  private trailing: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  /** @param intervalMs @defaultValue 500 */
  constructor(
    context: Pick<JobContext, 'reportProgress' | 'logger'>,
    names: readonly string[],
    intervalMs = PROGRESS_INTERVAL_MS,
  ) {
    this.context = context;
    this.intervalMs = intervalMs;
    for (const component of names) this.components.set(component, waitingProgress(component));
  }

  waiting(component: string, message: string): void {
    const current = this.components.get(component);
    if (current) this.update({ ...current, phase: 'waiting', message });
  }

  update(progress: ComponentProgress): void {
    this.components.set(progress.component, progress);
    const final = progress.phase === 'done' || progress.phase === 'failed';
    const wait = this.lastSent + this.intervalMs - Date.now();
    if (final || wait <= 0) {
      this.send();
    } else {
      this.trailing ??= setTimeout(() => this.send(), wait);
    }
  }

  /** Sends the latest state now and waits until everything sent has reached the queue. */
  async flush(): Promise<void> {
    this.send();
    await this.pending;
  }

  /** Sends nothing more, held-back updates included. */
  stop(): void {
    clearTimeout(this.trailing);
    this.trailing = undefined;
  }

  private send(): void {
    this.stop();
    this.lastSent = Date.now();
    const snapshot = { components: [...this.components.values()] };
    this.pending = this.pending
      .then(() => this.context.reportProgress(snapshot))
      .catch((error: unknown) =>
        this.context.logger.warn({ err: error }, 'could not report progress'),
      );
  }
}
