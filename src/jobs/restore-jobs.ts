import type {
  BackupRecord,
  PlannedRestore,
  RestoreOutcome,
  RestoreRequest,
  Restores,
} from '../app/services.ts';
import type { Manifest } from '../backup/manifest.ts';
import type { ComponentProgress } from '../backup/progress.ts';
import { readCataloguedManifest } from '../backup/stored-manifest.ts';
import type { BackupRepository } from '../catalog/backup-repository.ts';
import type { JobRepository } from '../catalog/job-repository.ts';
import type { RestoreRepository } from '../catalog/restore-repository.ts';
import { resolveProfile } from '../config/profiles.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { CommandError, PolicyError } from '../core/errors.ts';
import { newRestoreId } from '../core/ids.ts';
import { bindDestinations } from '../restore/destination-binding.ts';
import { approvalRefusal, planRestore, type RestorePlan } from '../restore/plan-restore.ts';
import type { RestoreCheckReport } from '../restore/restore-checks.ts';
import type { RestoreRecord } from '../restore/restore-record.ts';
import { restorerFor } from '../restore/restorers/index.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { followJob } from './follow-job.ts';
import { latestInStores } from './latest-backup.ts';
import type { JobQueue } from './queue.ts';

export interface RestoreJobsDeps {
  readonly config: LifeboatConfig;
  readonly queue: JobQueue;
  readonly backups: Pick<BackupRepository, 'get' | 'latestCompleted' | 'list'>;
  readonly restores: RestoreRepository;
  readonly jobs: JobRepository;
  /**
   * The config's stores, the primary first: a plan is made from the manifest the primary holds,
   * once it agrees with the catalog's copy (storage is the truth).
   */
  readonly stores: readonly [BackupStore, ...BackupStore[]];
  /**
   * Finds what would make a planned restore fail before anything runs, where restores run, or
   * says why it could not (see `createRestoreChecks`).
   */
  readonly check: (
    plan: RestorePlan,
    manifest: Manifest,
    requestedBy: string,
  ) => Promise<RestoreCheckReport>;
  /** @defaultValue `() => new Date()` */
  readonly now?: () => Date;
}

/**
 * Plans restores from the manifests in the store, checked against the catalog, and runs them as
 * jobs on BullMQ.
 */
export function createRestoreJobs(deps: RestoreJobsDeps): Restores {
  const now = deps.now ?? (() => new Date());
  return {
    async plan(request) {
      const backup = await findBackup(deps, request);
      const manifest = await readCataloguedManifest(deps.stores, backup);
      const planned = planFor(deps.config, { ...backup, manifest }, request);
      // What each destination resolves to now goes with the plan: what runs is what was asked for.
      const plan = await bindDestinations(planned.plan, deps.config);
      return { ...planned, plan, check: await deps.check(plan, manifest, request.requestedBy) };
    },

    async enqueue(plan, requestedBy, options = {}) {
      const authorization = options.authorization ?? null;
      if (authorization === null) {
        const refusal = approvalRefusal(plan, deps.config);
        if (refusal !== null) throw new PolicyError('restore_needs_approval', refusal);
      }
      const restoreId = options.id ?? newRestoreId(now());
      const payload = { kind: 'restore' as const, restoreId, requestedBy };
      // With a given id (an approval's execution id) every step is idempotent: the record is
      // created once, the journal entry once, and BullMQ keeps one job per id.
      await deps.restores.create({ id: restoreId, plan, requestedBy, authorization });
      await deps.jobs.record({
        id: restoreId,
        kind: 'restore',
        payload,
        requestedBy,
        backupId: plan.backupId,
      });
      await deps.queue.add(payload, restoreId);
      return { restoreId };
    },

    follow(restoreId, onProgress) {
      return followJob<RestoreOutcome>({
        events: deps.queue.events,
        jobId: restoreId,
        onProgress: (data) => {
          const components = (data as { components?: ComponentProgress[] } | null)?.components;
          if (Array.isArray(components)) onProgress(components);
        },
        check: async () => {
          const record = await deps.restores.get(restoreId);
          if (!record) throw new Error(`restore ${restoreId} is not in the catalog`);
          return outcomeOf(record);
        },
      });
    },
  };
}

/** The plan of a restore of `backup`, and whether this version will run it. */
export function planFor(
  config: LifeboatConfig,
  backup: BackupRecord,
  request: Pick<RestoreRequest, 'components' | 'into'>,
): Omit<PlannedRestore, 'check'> {
  const manifest = backup.manifest;
  if (!manifest) {
    throw new CommandError(
      'restore_backup_incomplete',
      `backup ${backup.id} has no manifest in the catalog, so it cannot be restored`,
    );
  }
  const plan: RestorePlan = planRestore({
    manifest,
    config,
    selection: {
      ...(request.components ? { components: request.components } : {}),
      ...(request.into ? { into: request.into } : {}),
    },
    describe: (component, destination) =>
      restorerFor(component.kind).describe(component, destination),
  });
  return { plan };
}

/** The completed backup a request names, by id or as the latest of its profile. */
async function findBackup(deps: RestoreJobsDeps, request: RestoreRequest): Promise<BackupRecord> {
  if (request.backup === 'latest') {
    const profile = resolveProfile(deps.config, request.profile);
    const latest = await latestInStores(deps.backups, profile, deps.stores);
    if (!latest) {
      throw new CommandError(
        'restore_no_backup',
        `profile ${profile} has no completed backup to restore yet; \`/backup create ${profile}\` takes one`,
      );
    }
    return latest;
  }
  return restorableBackup(request.backup, await deps.backups.get(request.backup));
}

/**
 * The backup a restore may read: it must be in the catalog and completed.
 *
 * @throws CommandError saying why `id` cannot be restored and where to look instead.
 */
export function restorableBackup(id: string, backup: BackupRecord | undefined): BackupRecord {
  if (!backup) {
    throw new CommandError(
      'restore_no_backup',
      `there is no backup \`${id}\` in the catalog; \`/backup list\` shows the recent ones`,
    );
  }
  if (backup.status !== 'completed') {
    const why =
      backup.status === 'pruned'
        ? 'retention has deleted its objects'
        : `it is ${backup.status}, not completed`;
    throw new CommandError(
      'restore_backup_not_restorable',
      `backup ${backup.id} cannot be restored: ${why}; \`/backup list --profile ${backup.profile}\` shows completed ones`,
    );
  }
  return backup;
}

function outcomeOf(record: RestoreRecord): RestoreOutcome | undefined {
  if (record.status === 'completed') return { status: 'completed', restore: record };
  if (record.status === 'failed' || record.status === 'refused') {
    return { status: 'failed', restore: record, error: record.error ?? 'unknown error' };
  }
  return undefined;
}
