import type { BackupRepository } from '../catalog/backup-repository.ts';
import type { JobRepository } from '../catalog/job-repository.ts';
import type { RestoreRepository } from '../catalog/restore-repository.ts';
import type { VerificationRepository } from '../catalog/verification-repository.ts';
import { createJobFailureRecorder } from './job-failures.ts';
import type { JobPayload } from './job-payloads.ts';

/** Where a worker reports the life of each job; the catalog keeps it after Redis forgets. */
export interface JobJournal {
  started(jobId: string, payload: JobPayload, attempt: number): Promise<void>;
  completed(jobId: string, result: unknown): Promise<void>;
  /**
   * The queue failed the job for good (no retry follows). It is the only word of a job that
   * fails without its processor running to the end: one that stalled more times than allowed
   * fails when a worker next takes it, without running.
   */
  failed(jobId: string, payload: JobPayload, reason: string): Promise<void>;
  /**
   * The job's worker is gone (killed, crashed) and left its restore or verification running:
   * the job ends failed, the restore failed and the verification `error` (it could not check),
   * with `reason`. A record that ended stays as is.
   */
  interrupted(jobId: string, payload: JobPayload, reason: string): Promise<void>;
}

/** Who a job runs for: the person (or schedule) its payload names, else the scheduler. */
function requesterOf(payload: JobPayload): string {
  return 'requestedBy' in payload ? payload.requestedBy : 'scheduler:cron';
}

/**
 * Records every job in the catalog's `jobs` table, and fails backups and verifications whose
 * job died (they would otherwise stay running in the catalog for ever).
 */
export function createJobJournal(deps: {
  readonly jobs: JobRepository;
  readonly backups: Pick<BackupRepository, 'get' | 'markFailed'>;
  readonly verifications?: Pick<VerificationRepository, 'markError'>;
  readonly restores?: Pick<RestoreRepository, 'markFailed'>;
}): JobJournal {
  const recordBackupFailure = createJobFailureRecorder({ backups: deps.backups });
  // Jobs fired by a schedule were never queued through the catalog: record them first (an
  // already recorded job stays as it is).
  const record = (jobId: string, payload: JobPayload) =>
    deps.jobs.record({
      id: jobId,
      kind: payload.kind,
      payload,
      requestedBy: requesterOf(payload),
      backupId: payload.kind === 'backup' ? payload.backupId : undefined,
    });
  // A verification or restore its processor ended already stays as it ended.
  const endRecord = async (payload: JobPayload, error: string) => {
    if (payload.kind === 'verify') {
      // The job died, not the backup: nothing is known about it.
      await deps.verifications?.markError(payload.verificationId, error, null);
    }
    if (payload.kind === 'restore') await deps.restores?.markFailed(payload.restoreId, error);
  };
  return {
    async started(jobId, payload, attempt) {
      await record(jobId, payload);
      await deps.jobs.markActive(jobId, attempt);
    },
    async completed(jobId, result) {
      await deps.jobs.markCompleted(jobId, result);
    },
    async failed(jobId, payload, reason) {
      await record(jobId, payload);
      await deps.jobs.markFailed(jobId, reason);
      await recordBackupFailure(payload, reason);
      await endRecord(payload, `the queue failed its job: ${reason}`);
    },
    async interrupted(jobId, payload, reason) {
      await record(jobId, payload);
      await deps.jobs.markFailed(jobId, reason);
      await endRecord(payload, reason);
    },
  };
}
