import type { BackupJobs, BackupOutcome, BackupRecord, BackupRequest } from '../app/services.ts';
import type { ComponentProgress } from '../backup/progress.ts';
import type { BackupRepository } from '../catalog/backup-repository.ts';
import type { JobRepository } from '../catalog/job-repository.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { newBackupId } from '../core/ids.ts';
import type { JobQueue } from './queue.ts';

/**
 * How often `follow` re-reads the catalog while it waits, in case a queue event was lost
 * (Redis reconnects drop pub/sub messages).
 */
const FOLLOW_POLL_MS = 2_000;

export interface BackupJobsDeps {
  readonly config: LifeboatConfig;
  readonly queue: JobQueue;
  readonly backups: BackupRepository;
  readonly jobs: JobRepository;
}

/** Queues backups on BullMQ and follows them through queue events and the catalog. */
export function createBackupJobs(deps: BackupJobsDeps): BackupJobs {
  return {
    async enqueue(request: BackupRequest) {
      const profile = deps.config.profiles[request.profile];
      if (!profile) throw new Error(`unknown profile "${request.profile}"`);
      const backupId = request.id ?? newBackupId(request.profile);
      const payload = {
        kind: 'backup' as const,
        backupId,
        profile: request.profile,
        note: request.note,
        requestedBy: request.requestedBy,
        replicate: request.replicate,
      };
      await deps.backups.createQueued({
        id: backupId,
        profile: request.profile,
        note: request.note,
        requestedBy: request.requestedBy,
        targets: profile.targets,
        jobId: backupId,
      });
      await deps.jobs.record({
        id: backupId,
        kind: 'backup',
        payload,
        requestedBy: request.requestedBy,
        backupId,
      });
      await deps.queue.add(payload, backupId);
      return { backupId, jobId: backupId };
    },

    follow(backupId, onProgress) {
      return followBackup(deps, backupId, onProgress);
    },
  };
}

function followBackup(
  deps: BackupJobsDeps,
  backupId: string,
  onProgress: (components: readonly ComponentProgress[]) => void,
): Promise<BackupOutcome> {
  const { events } = deps.queue;
  return new Promise<BackupOutcome>((resolve, reject) => {
    let settled = false;
    const onProgressEvent = ({ jobId, data }: { jobId: string; data: unknown }) => {
      if (jobId !== backupId || settled) return;
      const components = (data as { components?: ComponentProgress[] } | null)?.components;
      if (Array.isArray(components)) onProgress(components);
    };
    const onEnded = ({ jobId }: { jobId: string }) => {
      if (jobId === backupId) void check(true);
    };
    const timer = setInterval(() => void check(), FOLLOW_POLL_MS);
    const finish = (outcome: BackupOutcome | Error) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      events.off('progress', onProgressEvent);
      events.off('completed', onEnded);
      events.off('failed', onEnded);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const check = async (jobEnded = false) => {
      try {
        const record = await deps.backups.get(backupId);
        if (!record) return finish(new Error(`backup ${backupId} is not in the catalog`));
        const outcome = outcomeOf(record, jobEnded);
        if (outcome) finish(outcome);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    };
    events.on('progress', onProgressEvent);
    events.on('completed', onEnded);
    events.on('failed', onEnded);
    void check();
  });
}

function outcomeOf(record: BackupRecord, jobEnded: boolean): BackupOutcome | undefined {
  if (record.status === 'completed') {
    // The job copies a completed backup to the replicas before it ends: wait for the copies,
    // so that the outcome says where they went.
    if (!jobEnded && record.replicas?.some((r) => r.status === 'running')) return undefined;
    return { status: 'completed', backup: record };
  }
  if (record.status === 'failed') {
    return { status: 'failed', backup: record, error: record.error ?? 'unknown error' };
  }
  return undefined;
}
