import { z } from 'zod';
import type { Retention } from '../app/services.ts';
import type { BackupClaims } from '../catalog/backup-claims.ts';
import type { JobRepository } from '../catalog/job-repository.ts';
import type { RetentionRepository } from '../catalog/retention-repository.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { LifeboatError } from '../core/errors.ts';
import { compactTimestamp, randomSuffix } from '../core/ids.ts';
import { type PruneReport, prune } from '../retention/prune.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { followJob } from './follow-job.ts';
import type { BackupJob } from './job-payloads.ts';
import type { JobQueue } from './queue.ts';

export interface RetentionDeps {
  readonly config: LifeboatConfig;
  readonly queue: JobQueue;
  readonly jobs: JobRepository;
  readonly retention: RetentionRepository;
  /** The config's stores, primary first: a dry run plans only the backups that live in them. */
  readonly stores: readonly BackupStore[];
  /** Only a real prune takes claims; the dry run is given them for the deps' shape. */
  readonly claims: BackupClaims;
}

/** {@link Retention} over the job queue, plus the prune that follows a scheduled backup. */
export interface RetentionJobs extends Retention {
  /**
   * Queues a prune of the backup's profile when a schedule asked for the backup and the profile
   * has a retention policy; returns the prune job's id, or undefined when none is due. The job
   * id comes from the backup's, so a backup job that completes twice queues one prune.
   */
  afterBackup(backup: BackupJob): Promise<string | undefined>;
}

/** True for backups that a schedule asked for (`scheduler:cron`, `schedule:full`). */
export function isScheduledRequest(requestedBy: string): boolean {
  return requestedBy.startsWith('scheduler:') || requestedBy.startsWith('schedule:');
}

export function createRetentionJobs(deps: RetentionDeps): RetentionJobs {
  const enqueue = async (id: string, profile: string | null, requestedBy: string) => {
    const payload = { kind: 'prune' as const, profile, requestedBy };
    await deps.jobs.record({ id, kind: 'prune', payload, requestedBy });
    await deps.queue.add(payload, id);
    return id;
  };
  return {
    plan(request) {
      // A dry run reads the catalog and touches no store.
      return prune(
        {
          config: deps.config,
          retention: deps.retention,
          stores: deps.stores,
          claims: deps.claims,
        },
        { profile: request.profile ?? null, requestedBy: request.requestedBy, dryRun: true },
      );
    },

    async prune(request) {
      const id = `pr_${compactTimestamp(new Date())}_${randomSuffix()}`;
      await enqueue(id, request.profile ?? null, request.requestedBy);
      return followPrune(deps, id);
    },

    async afterBackup(backup) {
      if (!isScheduledRequest(backup.requestedBy)) return undefined;
      if (!deps.config.profiles[backup.profile]?.retention) return undefined;
      return enqueue(`pr_after_${backup.backupId}`, backup.profile, backup.requestedBy);
    },
  };
}

const reportSchema = z.object({
  dryRun: z.boolean(),
  requestedBy: z.string(),
  profiles: z.array(
    z.object({
      profile: z.string(),
      policy: z.record(z.string(), z.union([z.number(), z.string()])).nullable(),
      kept: z.array(z.unknown()),
      deleted: z.array(z.unknown()),
      keptBytes: z.number(),
      freedBytes: z.number(),
      notes: z.array(z.string()),
      failures: z.array(z.object({ id: z.string(), error: z.string() })),
      elsewhere: z.array(z.object({ id: z.string(), location: z.string() })),
      inUse: z.array(z.object({ id: z.string(), heldBy: z.array(z.string()) })),
    }),
  ),
});

/** Resolves with the prune job's report once the catalog has it completed. */
function followPrune(deps: RetentionDeps, jobId: string): Promise<PruneReport> {
  return followJob({
    events: deps.queue.events,
    jobId,
    onProgress: () => {},
    check: async () => {
      const job = await deps.jobs.get(jobId);
      if (job?.status === 'failed') {
        throw new LifeboatError('prune_failed', `prune job ${jobId} failed: ${job.error}`);
      }
      if (job?.status !== 'completed') return undefined;
      if (!reportSchema.safeParse(job.result).success) {
        throw new LifeboatError('prune_failed', `prune job ${jobId} returned no report`);
      }
      return job.result as PruneReport;
    },
  });
}
