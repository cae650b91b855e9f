import type { QueueEvents } from 'bullmq';

/**
 * How often a follower re-reads the catalog while it waits, in case a queue event was lost
 * (Redis reconnects drop pub/sub messages).
 */
const FOLLOW_POLL_MS = 2_000;

export interface FollowJobOptions<Outcome> {
  readonly events: QueueEvents;
  readonly jobId: string;
  /** Reads the catalog: the outcome once the job's work ended, undefined while it runs. */
  readonly check: () => Promise<Outcome | undefined>;
  /** Called with the data of each progress event of the job. */
  readonly onProgress: (data: unknown) => void;
  /** @defaultValue 2000 */
  readonly pollMs?: number;
}

/**
 * Resolves with the outcome of a queued job, whatever its kind: the catalog is the truth, read
 * when the queue says the job ended and every `pollMs` besides; progress comes from the queue's
 * events. Rejects only when `check` throws.
 */
export function followJob<Outcome>(options: FollowJobOptions<Outcome>): Promise<Outcome> {
  const { events, jobId } = options;
  return new Promise<Outcome>((resolve, reject) => {
    let settled = false;
    const onProgressEvent = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
      if (id !== jobId || settled) return;
      try {
        options.onProgress(data);
      } catch {
        // A listener's failure is its own problem, never the follower's.
      }
    };
    const onEnded = ({ jobId: id }: { jobId: string }) => {
      if (id === jobId) void check();
    };
    const timer = setInterval(() => void check(), options.pollMs ?? FOLLOW_POLL_MS);
    const finish = (outcome: { value: Outcome } | { error: Error }) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      events.off('progress', onProgressEvent);
      events.off('completed', onEnded);
      events.off('failed', onEnded);
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.value);
    };
    const check = async () => {
      try {
        const outcome = await options.check();
        if (outcome !== undefined) finish({ value: outcome });
      } catch (error) {
        finish({ error: error instanceof Error ? error : new Error(String(error)) });
      }
    };
    events.on('progress', onProgressEvent);
    events.on('completed', onEnded);
    events.on('failed', onEnded);
    void check();
  });
}
