import type { BackupJobs } from '../../app/services.ts';
import { backupIdFor } from '../../core/ids.ts';
import type { JobProcessor } from '../worker.ts';

/** When a schedule fired: BullMQ names its jobs `repeat:<scheduler>:<epoch ms>`. */
function firedAt(jobId: string): Date {
  const millis = /:(\d{10,})$/.exec(jobId)?.[1];
  return millis ? new Date(Number(millis)) : new Date();
}

/**
 * A profile's schedule fired: queue a backup of it, as the scheduler identity. The backup's id
 * comes from the job's, so the job running twice queues one backup.
 */
export function createScheduledBackupProcessor(
  backupJobs: Pick<BackupJobs, 'enqueue'>,
): JobProcessor<'scheduled-backup'> {
  return async (payload, context) => {
    const queued = await backupJobs.enqueue({
      profile: payload.profile,
      note: 'scheduled',
      requestedBy: 'scheduler:cron',
      replicate: true,
      id: backupIdFor(payload.profile, firedAt(context.jobId), context.jobId),
    });
    context.logger.info({ backupId: queued.backupId }, 'scheduled backup queued');
    return queued;
  };
}
