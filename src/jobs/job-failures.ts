import type { BackupRepository } from '../catalog/backup-repository.ts';
import type { JobPayload } from './job-payloads.ts';

/** BullMQ's reason for a job whose workers stopped mid-job more often than it allows. */
const STALLED_REASON = 'job stalled more than allowable limit';

/**
 * Records in the catalog the jobs that the queue failed for good. A processor records its own
 * failures; this covers the jobs that fail without their processor running to the end — a backup
 * whose worker died mid-backup more often than allowed — which would otherwise stay `running`
 * in the catalog, and keep `follow` waiting, for ever. A backup that already ended is left as is.
 */
export function createJobFailureRecorder(deps: {
  readonly backups: Pick<BackupRepository, 'get' | 'markFailed'>;
}): (payload: JobPayload, reason: string) => Promise<void> {
  return async (payload, reason) => {
    if (payload.kind !== 'backup') return;
    const record = await deps.backups.get(payload.backupId);
    if (!record || record.status === 'completed' || record.status === 'failed') return;
    await deps.backups.markFailed(payload.backupId, describeQueueFailure(reason));
  };
}

function describeQueueFailure(reason: string): string {
  if (reason === STALLED_REASON) {
    return `the queue gave up on it: the workers running it stopped mid-job too many times (crashed, killed or cut off from Redis) (${reason})`;
  }
  return `the queue failed its job: ${reason}`;
}
