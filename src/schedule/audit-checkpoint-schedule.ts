import type { LifeboatConfig } from '../config/schema.ts';
import { parseDuration } from '../core/duration.ts';
import { JOB_RETENTION, type JobQueue } from '../jobs/queue.ts';

/** The one job scheduler of audit checkpoints, shared by every process. */
export const AUDIT_CHECKPOINT_SCHEDULER = 'audit-checkpoint';

/**
 * Makes the queue's audit checkpoint scheduler fire every `audit.checkpointEvery`: one BullMQ
 * job scheduler shared by every replica, so a checkpoint is taken once per tick however many
 * processes run.
 */
export async function syncAuditCheckpointSchedule(
  queue: JobQueue,
  config: LifeboatConfig,
): Promise<{ everyMs: number }> {
  const everyMs = parseDuration(config.audit.checkpointEvery);
  await queue.queue.upsertJobScheduler(
    AUDIT_CHECKPOINT_SCHEDULER,
    { every: everyMs },
    {
      name: 'audit-checkpoint',
      data: { kind: 'audit-checkpoint' },
      opts: { attempts: 1, ...JOB_RETENTION },
    },
  );
  return { everyMs };
}
