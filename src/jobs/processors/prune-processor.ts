import type { AuditLog } from '../../audit/audit-log.ts';
import { auditEvent, recordAudit } from '../../audit/audit-recorder.ts';
import { type PruneDeps, type PruneReport, prune } from '../../retention/prune.ts';
import type { JobProcessor } from '../worker.ts';

/**
 * Runs one prune job: applies the retention policy of the payload's profile (or of every
 * profile) and returns the report, which the catalog keeps as the job's result. Safe to run
 * again: a second run plans from the catalog as the first left it. Each backup deleted (or that
 * could not be) is recorded in the audit log (`backup.pruned`) as the job's requester: the
 * catalog's own record of it can be rewritten by whoever owns the database, the log cannot.
 */
export function createPruneProcessor(
  deps: Omit<PruneDeps, 'onDeleted' | 'signal'> & { readonly audit?: AuditLog },
): JobProcessor<'prune'> {
  return async (payload, context): Promise<PruneReport> => {
    const audited: Promise<void>[] = [];
    const report = await prune(
      {
        ...deps,
        signal: context.signal,
        onDeleted: (profile, backupId, error) => {
          if (error) context.logger.warn({ profile, backupId, error }, 'prune: backup not deleted');
          else context.logger.info({ profile, backupId }, 'prune: backup deleted');
          if (deps.audit) {
            audited.push(
              recordAudit(
                deps.audit,
                auditEvent({
                  identity: payload.requestedBy,
                  platform: 'worker',
                  action: 'backup.pruned',
                  outcome: error ? 'failed' : 'deleted',
                  args: { profile, backupId },
                  detail: error ? { jobId: context.jobId, error } : { jobId: context.jobId },
                }),
                context.logger,
              ),
            );
          }
        },
      },
      { profile: payload.profile, requestedBy: payload.requestedBy, dryRun: false },
    );
    await Promise.all(audited);
    const deleted = report.profiles.reduce((sum, p) => sum + p.deleted.length, 0);
    const failed = report.profiles.reduce((sum, p) => sum + p.failures.length, 0);
    context.logger.info({ deleted, failed }, 'prune done');
    return report;
  };
}
