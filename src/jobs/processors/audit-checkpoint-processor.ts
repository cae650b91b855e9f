import type { AuditKeyring } from '../../audit/audit-keys.ts';
import type { AuditEntry } from '../../audit/audit-log.ts';
import { type CheckpointWrite, takeCheckpoint } from '../../audit/checkpoint-store.ts';
import { describeCheckpoint } from '../../audit/describe-checkpoint.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import type { JobProcessor } from '../worker.ts';

export interface AuditCheckpointProcessorDeps {
  /** The audit log: its last entry and the keys it is chained with. */
  readonly audit: { head(): Promise<AuditEntry | null>; readonly keys: AuditKeyring };
  /** The primary store first, then the replicas: each keeps a copy of every checkpoint. */
  readonly stores: readonly BackupStore[];
  readonly now?: () => Date;
}

/** What the job returns: the checkpoint, as the bot posts it to the alerts channel. */
export interface AuditCheckpointJobResult {
  /** `taken` (written to at least one store now), `unchanged` (the head was already checkpointed), `empty`. */
  readonly status: 'taken' | 'unchanged' | 'empty';
  /** The checkpoint in one line, for the alerts channel; absent for an empty log. */
  readonly text?: string;
  readonly seq?: number;
  readonly stores?: readonly CheckpointWrite[];
}

/**
 * The audit checkpoint schedule fired: write the checkpoint of the log's head into every store
 * that does not hold it yet (an idle log is not checkpointed twice), and say so in the log as an
 * alert line. A store that could not take it is an alert; when none could, the job fails.
 */
export function createAuditCheckpointProcessor(
  deps: AuditCheckpointProcessorDeps,
): JobProcessor<'audit-checkpoint'> {
  const now = deps.now ?? (() => new Date());
  return async (_payload, context): Promise<AuditCheckpointJobResult> => {
    const outcome = await takeCheckpoint({
      head: await deps.audit.head(),
      keys: deps.audit.keys,
      stores: deps.stores,
      now: now(),
    });
    if (outcome.status === 'empty') return { status: 'empty' };
    const text = describeCheckpoint(outcome.checkpoint);
    const failed = outcome.stores.filter((store) => store.status === 'failed');
    for (const store of failed) {
      context.logger.warn(
        { alert: 'audit_checkpoint_failed', store: store.store, seq: outcome.checkpoint.seq },
        `ALERT: the audit checkpoint of entry ${outcome.checkpoint.seq} could not be written to the ${store.store} store: ${store.error}`,
      );
    }
    if (failed.length === outcome.stores.length) {
      throw new Error(
        `the audit checkpoint of entry ${outcome.checkpoint.seq} could not be written to any store`,
      );
    }
    const written = outcome.stores.some((store) => store.status === 'written');
    if (written)
      context.logger.info({ alert: 'audit_checkpoint', seq: outcome.checkpoint.seq }, text);
    return {
      status: written ? 'taken' : 'unchanged',
      text,
      seq: outcome.checkpoint.seq,
      stores: outcome.stores,
    };
  };
}
