import { UnrecoverableError } from 'bullmq';
import { readCataloguedManifest } from '../../backup/stored-manifest.ts';
import type { BackupRepository } from '../../catalog/backup-repository.ts';
import type { LifeboatConfig } from '../../config/schema.ts';
import { planRestore } from '../../restore/plan-restore.ts';
import type { RestoreFacts } from '../../restore/restore-checks.ts';
import { gatherRestoreFacts } from '../../restore/restore-facts.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import type { JobProcessor } from '../worker.ts';

/** What a restore-check job returns (see `restoreCheckResultSchema`). */
export interface RestoreCheckAnswer {
  readonly worker: string;
  readonly facts: RestoreFacts;
}

export interface RestoreCheckProcessorDeps {
  readonly config: Pick<LifeboatConfig, 'targets' | 'policies'>;
  readonly backups: Pick<BackupRepository, 'get'>;
  /** The config's stores, the primary first: the manifest is read as a restore reads it. */
  readonly stores: readonly [BackupStore, ...BackupStore[]];
  /** This worker's environment: where its age identities come from, as a restore reads them. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The catalog's URL: a restore into the catalog's database is refused. @defaultValue none */
  readonly catalogUrl?: string;
  /** The staging root's file system, for the space free. @defaultValue the temporary directory */
  readonly stagingDirectory?: string;
  /** Who reports the facts (see `workerName`). */
  readonly worker: string;
}

/**
 * Gathers, on this worker, the facts a restore needs (see `gatherRestoreFacts`) for a plan made
 * in another process: the worker is where the restore will run, so its identities, tools,
 * staging space and view of the destinations are the ones that count. Plans the components
 * into their destinations with this worker's config, reads the manifest as the restore will,
 * and returns the facts — never a secret: identities are the recipients they open.
 */
export function createRestoreCheckProcessor(
  deps: RestoreCheckProcessorDeps,
): JobProcessor<'restore-check'> {
  return async (payload): Promise<RestoreCheckAnswer> => {
    const backup = await deps.backups.get(payload.backupId);
    if (!backup) throw new UnrecoverableError(`backup ${payload.backupId} is not in the catalog`);
    const manifest = await readCataloguedManifest(deps.stores, backup);
    const plan = planRestore({
      manifest,
      config: deps.config,
      selection: {
        components: payload.components.map((c) => c.component),
        into: Object.fromEntries(payload.components.map((c) => [c.component, c.destination])),
      },
    });
    const facts = await gatherRestoreFacts(plan, {
      config: deps.config,
      manifest,
      env: deps.env,
      ...(deps.catalogUrl === undefined ? {} : { catalogUrl: deps.catalogUrl }),
      ...(deps.stagingDirectory === undefined ? {} : { stagingDirectory: deps.stagingDirectory }),
    });
    return { worker: deps.worker, facts };
  };
}
