import type { RestorePlan } from './plan-restore.ts';
import type { RestoreResults } from './run-restore.ts';

/**
 * `refused`: recorded but never run, because a destination needs an approval this version
 * cannot collect.
 */
export type RestoreStatus = 'queued' | 'running' | 'completed' | 'failed' | 'refused';

/** A restore as the catalog knows it. */
export interface RestoreRecord {
  /** `rs_20261122T120000Z_7q3k9x`. */
  readonly id: string;
  readonly backupId: string;
  readonly profile: string;
  readonly requestedBy: string;
  readonly status: RestoreStatus;
  readonly plan: RestorePlan;
  /** Per component: restored or not, the checks against the manifest; once it ran. */
  readonly results: RestoreResults | null;
  /** Why it failed or was refused. */
  readonly error: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}
