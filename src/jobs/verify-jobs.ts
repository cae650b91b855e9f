import type { BackupRecord, VerificationRequest, Verifications } from '../app/services.ts';
import type { ComponentProgress } from '../backup/progress.ts';
import type { BackupRepository } from '../catalog/backup-repository.ts';
import type { JobRepository } from '../catalog/job-repository.ts';
import type { VerificationRepository } from '../catalog/verification-repository.ts';
import { resolveProfile } from '../config/profiles.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { CommandError } from '../core/errors.ts';
import { newVerificationId } from '../core/ids.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { whyNotVerifiable } from '../verify/verifiable.ts';
import {
  DEFAULT_VERIFICATION_LEVEL,
  type VerificationRecord,
  verificationEnded,
} from '../verify/verification.ts';
import { followJob } from './follow-job.ts';
import type { VerifyJob } from './job-payloads.ts';
import { latestInStores } from './latest-backup.ts';
import type { JobQueue } from './queue.ts';

export interface VerificationJobsDeps {
  readonly config: LifeboatConfig;
  readonly queue: JobQueue;
  readonly backups: Pick<BackupRepository, 'get' | 'latestCompleted' | 'list'>;
  /** The config's stores, primary first: `latest` is the newest backup that lives in them. */
  readonly stores: readonly BackupStore[];
  readonly verifications: VerificationRepository;
  readonly jobs: JobRepository;
}

/** Queues verifications on BullMQ and follows them through queue events and the catalog. */
export function createVerificationJobs(deps: VerificationJobsDeps): Verifications {
  return {
    async enqueue(request: VerificationRequest) {
      const backup = await resolveBackup(deps, request);
      const verificationId = newVerificationId();
      const level = request.level ?? DEFAULT_VERIFICATION_LEVEL;
      const payload: VerifyJob = {
        kind: 'verify',
        verificationId,
        backupId: backup.id,
        level,
        ...(request.level === undefined ? { defaultLevel: true } : {}),
        requestedBy: request.requestedBy,
      };
      await deps.verifications.create({
        id: verificationId,
        backupId: backup.id,
        level,
        requestedBy: request.requestedBy,
      });
      await deps.jobs.record({
        id: verificationId,
        kind: 'verify',
        payload,
        requestedBy: request.requestedBy,
        backupId: backup.id,
      });
      await deps.queue.add(payload, verificationId);
      return { verificationId, backup };
    },

    follow(verificationId, onProgress) {
      return followVerification(deps, verificationId, onProgress);
    },

    latestFor(backupId) {
      return deps.verifications.latestFor(backupId);
    },

    latestForEach(backupIds) {
      return deps.verifications.latestForEach(backupIds);
    },
  };
}

/** The completed backup a request names; a user-facing error when there is none. */
async function resolveBackup(
  deps: VerificationJobsDeps,
  request: VerificationRequest,
): Promise<BackupRecord> {
  if (request.backup === 'latest') {
    const profile = resolveProfile(deps.config, request.profile);
    const latest = await latestInStores(deps.backups, profile, deps.stores);
    if (!latest) {
      throw new CommandError(
        'backup_not_found',
        `profile ${profile} has no completed backup to verify yet; \`/backup create ${profile}\` takes one`,
      );
    }
    return latest;
  }
  const backup = await deps.backups.get(request.backup);
  if (!backup) {
    throw new CommandError(
      'backup_not_found',
      `There is no backup \`${request.backup}\` in the catalog. \`/backup list\` shows the recent ones.`,
    );
  }
  const refusal = whyNotVerifiable(backup);
  if (refusal !== null) {
    throw new CommandError(
      backup.status === 'pruned' ? 'backup_pruned' : 'backup_not_completed',
      refusal,
    );
  }
  return backup;
}

function followVerification(
  deps: VerificationJobsDeps,
  verificationId: string,
  onProgress: (components: readonly ComponentProgress[]) => void,
): Promise<VerificationRecord> {
  return followJob({
    events: deps.queue.events,
    jobId: verificationId,
    onProgress: (data) => {
      const components = (data as { components?: ComponentProgress[] } | null)?.components;
      if (Array.isArray(components)) onProgress(components);
    },
    check: async () => {
      const record = await deps.verifications.get(verificationId);
      if (!record) throw new Error(`verification ${verificationId} is not in the catalog`);
      return verificationEnded(record) ? record : undefined;
    },
  });
}
