import { type PruneDeps, type PruneReport, prune } from '../../retention/prune.ts';
import type { JobProcessor } from '../worker.ts';

/**
 * Runs one prune job: applies the retention policy of the payload's profile (or of every
 * profile) and returns the report, which the catalog keeps as the job's result. Safe to run
 * again: a second run plans from the catalog as the first left it.
 */
export function createPruneProcessor(
  deps: Omit<PruneDeps, 'onDeleted' | 'signal'>,
): JobProcessor<'prune'> {
  return async (payload, context): Promise<PruneReport> => {
    const report = await prune(
      {
        ...deps,
        signal: context.signal,
        onDeleted: (profile, backupId, error) => {
          if (error) context.logger.warn({ profile, backupId, error }, 'prune: backup not deleted');
          else context.logger.info({ profile, backupId }, 'prune: backup deleted');
        },
      },
      { profile: payload.profile, requestedBy: payload.requestedBy, dryRun: false },
    );
    const deleted = report.profiles.reduce((sum, p) => sum + p.deleted.length, 0);
    const failed = report.profiles.reduce((sum, p) => sum + p.failures.length, 0);
    context.logger.info({ deleted, failed }, 'prune done');
    return report;
  };
}
