import type { ExecutionLookup } from '../approvals/settle-executions.ts';
import { hasEnded, type RestoreRecord } from '../restore/restore-record.ts';
import { restoreOutcomeLine } from './views/restore-run.ts';

/**
 * What became of approved restores, from their catalog records: the restore id is the request's
 * execution id. Other approved actions (commands run again in the bot) leave no record here.
 */
export function restoreExecutions(
  get: (restoreId: string) => Promise<RestoreRecord | undefined>,
): ExecutionLookup {
  return async (request) => {
    if (request.payload.type !== 'restore' || !request.executionId) return { state: 'untracked' };
    const restore = await get(request.executionId);
    if (!restore) return { state: 'missing' };
    if (!hasEnded(restore)) return { state: 'running' };
    return {
      state: 'ended',
      status: restore.status === 'completed' ? 'executed' : 'failed',
      outcome: restoreOutcomeLine(restore.id, {
        status: restore.status,
        durationMs: restore.results?.durationMs,
        error: restore.error,
      }),
    };
  };
}
