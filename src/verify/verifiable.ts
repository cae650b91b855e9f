import type { BackupRecord } from '../app/services.ts';
import { formatTimestamp } from '../core/format.ts';

/**
 * Why a backup cannot be verified, for people, or null when it can: only a completed backup
 * has objects and a manifest to check. A pruned one is never verified (its objects are
 * deleted, and a pass would claim what is not true), nor one that failed or has not finished.
 */
export function whyNotVerifiable(
  backup: Pick<BackupRecord, 'id' | 'status' | 'error' | 'prunedAt' | 'prunedReason'>,
): string | null {
  switch (backup.status) {
    case 'completed':
      return null;
    case 'pruned': {
      const when = backup.prunedAt ? ` ${formatTimestamp(backup.prunedAt)}` : '';
      const why = backup.prunedReason ? ` (${backup.prunedReason})` : '';
      return `backup ${backup.id} was pruned${when}${why}: its objects are deleted, so there is nothing to verify; \`/backup list\` shows the backups that can be`;
    }
    case 'failed':
      return `backup ${backup.id} failed${backup.error ? ` (${backup.error})` : ''}: it never completed, so there is nothing to verify`;
    case 'queued':
    case 'running':
      return `backup ${backup.id} is ${backup.status}: verify it once it has completed`;
  }
}
