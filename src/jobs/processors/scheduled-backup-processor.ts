import type { BackupJobs } from '../../bot/services.ts';
import type { JobProcessor } from '../worker.ts';

/** A profile's schedule fired: queue a backup of it, as the scheduler identity. */
export function createScheduledBackupProcessor(
  backupJobs: Pick<BackupJobs, 'enqueue'>,
): JobProcessor<'scheduled-backup'> {
  return async (payload, context) => {
    const queued = await backupJobs.enqueue({
      profile: payload.profile,
      note: 'scheduled',
      requestedBy: 'scheduler:cron',
      replicate: true,
    });
    context.logger.info({ backupId: queued.backupId }, 'scheduled backup queued');
    return queued;
  };
}
