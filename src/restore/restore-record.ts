import type { RestorePlan } from './plan-restore.ts';
import type { RestoreResults } from './run-restore.ts';
import type { UndoEntry } from './undo-journal.ts';

/**
 * `refused`: recorded but never run by version 0.2, which refused restores into production
 * outright. Nothing records it any more (such a restore becomes an approval request), but
 * catalogs from 0.2 hold it, so it is still read and still counts as ended.
 */
export type RestoreStatus = 'queued' | 'running' | 'completed' | 'failed' | 'refused';

/** The statuses a restore never leaves. */
export const ENDED_RESTORE_STATUSES: readonly RestoreStatus[] = ['completed', 'failed', 'refused'];

/** Whether the restore has ended: it will not run (again). */
export function hasEnded(restore: Pick<RestoreRecord, 'status'>): boolean {
  return ENDED_RESTORE_STATUSES.includes(restore.status);
}

/**
 * What allows a restore into destinations that need a second person: the approval request that
 * was approved and who approved it, or break glass (one person, with a reason, reviewed after).
 * The worker runs a restore that needs approval only with one of these on record.
 */
export type RestoreAuthorization =
  | {
      readonly kind: 'approval';
      /** The approval request (`apr_…`). */
      readonly request: string;
      /** `platform:id` of every approver. */
      readonly approvedBy: readonly string[];
    }
  | {
      readonly kind: 'break-glass';
      /** The review request (`apr_…`) a second person acknowledges afterwards. */
      readonly request: string;
      readonly by: string;
      readonly reason: string;
    };

/** A restore as the catalog knows it. */
export interface RestoreRecord {
  /** `rs_20261122T120000Z_7q3k9x`. */
  readonly id: string;
  readonly backupId: string;
  readonly profile: string;
  readonly requestedBy: string;
  readonly status: RestoreStatus;
  readonly plan: RestorePlan;
  /** Why it may run into destinations that need approval; null when none of them does. */
  readonly authorization: RestoreAuthorization | null;
  /**
   * The backup (`bk_…`, profile `safety`) of the production destinations taken just before
   * they were overwritten; null when there was none (no production destination, or none that
   * existed yet).
   */
  readonly safetyBackupId: string | null;
  /**
   * Per component that began writing its destination: where it keeps what puts it back, and
   * what it left there once it knew (see `UndoJournal`). @defaultValue none
   */
  readonly undo?: readonly UndoEntry[];
  /** Per component: restored or not, the checks against the manifest; once it ran. */
  readonly results: RestoreResults | null;
  /** Why it failed or was refused. */
  readonly error: string | null;
  /** Attempts the queue made at it (0 until a worker claims it). */
  readonly attempts?: number;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}
