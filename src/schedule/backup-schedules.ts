import type { LifeboatConfig } from '../config/schema.ts';
import { JOB_RETENTION, type JobQueue } from '../jobs/queue.ts';

const SCHEDULER_PREFIX = 'backup-schedule:';

/**
 * Makes the queue's job schedulers match the profiles' `schedule`s: one BullMQ job scheduler per
 * scheduled profile, shared by every replica, so a schedule fires once however many run. Times
 * are UTC. Schedulers of profiles that lost their schedule are removed.
 */
export async function syncBackupSchedules(
  queue: JobQueue,
  config: LifeboatConfig,
): Promise<{ scheduled: string[]; removed: string[] }> {
  const wanted = new Map<string, string>();
  for (const [profile, settings] of Object.entries(config.profiles)) {
    if (settings.schedule) wanted.set(`${SCHEDULER_PREFIX}${profile}`, settings.schedule);
  }
  const removed: string[] = [];
  for (const scheduler of await queue.queue.getJobSchedulers()) {
    const key = scheduler.key;
    if (key.startsWith(SCHEDULER_PREFIX) && !wanted.has(key)) {
      await queue.queue.removeJobScheduler(key);
      removed.push(key.slice(SCHEDULER_PREFIX.length));
    }
  }
  for (const [key, pattern] of wanted) {
    const profile = key.slice(SCHEDULER_PREFIX.length);
    await queue.queue.upsertJobScheduler(
      key,
      { pattern, tz: 'UTC' },
      {
        name: 'scheduled-backup',
        data: { kind: 'scheduled-backup', profile },
        // Without these, every firing's job would stay in Redis for good.
        opts: { attempts: 1, ...JOB_RETENTION },
      },
    );
  }
  return { scheduled: [...wanted.keys()].map((k) => k.slice(SCHEDULER_PREFIX.length)), removed };
}
