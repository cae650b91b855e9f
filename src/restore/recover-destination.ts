import type { TargetConfig } from '../config/schema.ts';
import { messageOf } from '../core/errors.ts';
import { recoverWorkDirectory } from './directory/restore-journal.ts';
import type { RestoreRecord } from './restore-record.ts';
import {
  type ComponentRestoreResult,
  describeDestinationState,
  type RestoreResults,
} from './run-restore.ts';
import type { RecoveredDestination, UndoEntry } from './undo-journal.ts';

/**
 * Puts back, from its journal, the destination of one component of a restore whose process
 * died (the caller holds the restore's attempt lock, so no attempt at it runs), and says what
 * the destination now is. A component that had recorded its state is left as it said. Never
 * throws: what could not be put back is `changed` or `unknown`, with the reason.
 *
 * `target` is the destination's configuration now (for credentials); undefined when the
 * config no longer names it.
 */
export async function recoverDestination(
  entry: UndoEntry,
  target: TargetConfig | undefined,
): Promise<RecoveredDestination> {
  if (entry.state) return { state: entry.state, note: 'as the restore left it' };
  const { journal } = entry;
  try {
    switch (journal.kind) {
      case 'directory':
        return await recoverDirectory(journal.workDirectory);
      case 'redis':
      case 'postgres':
        void target;
        return { state: 'unknown', note: 'not looked at' };
    }
  } catch (error) {
    return {
      state: journal.kind === 'directory' ? 'changed' : 'unknown',
      note: `putting it back failed: ${messageOf(error)}`,
    };
  }
}

async function recoverDirectory(workDirectory: string): Promise<RecoveredDestination> {
  try {
    switch (await recoverWorkDirectory(workDirectory)) {
      case 'rolled back':
        return { state: 'unchanged', note: 'put back as it was, from the restore’s journal' };
      case 'cleaned up':
        return {
          state: 'restored',
          note: 'every file had been moved into place and checked before the restore stopped',
        };
      case 'gone':
        return { state: 'unchanged', note: 'the restore had put it back before it stopped' };
      case 'running':
        return {
          state: 'unknown',
          note: `a process on this machine is still writing it (journal in ${workDirectory})`,
        };
    }
  } catch (error) {
    return {
      state: 'changed',
      note: `putting it back from the journal failed (${messageOf(error)}): it is partly restored; what the restore moved aside is kept in ${workDirectory}, and the next restore into it tries again`,
    };
  }
}

/** The first words of the error of a restore whose process died. */
export const INTERRUPTED_RESTORE_PREFIX =
  'the worker running it stopped (killed, crashed or cut off from the catalog) before it ended';

/**
 * Puts back every destination of a restore whose process died, from the journals it recorded,
 * and says what each is now: the error to record and the results, one per planned component.
 * A component with no journal recorded never wrote its destination: `unchanged`.
 */
export async function recoverInterruptedRestore(
  restore: Pick<RestoreRecord, 'plan' | 'undo'>,
  recover: (entry: UndoEntry) => Promise<RecoveredDestination>,
): Promise<{ error: string; results: RestoreResults }> {
  const components: ComponentRestoreResult[] = [];
  const told: string[] = [];
  for (const planned of restore.plan.components) {
    const entry = restore.undo?.find((e) => e.component === planned.component);
    const recovered: RecoveredDestination = entry
      ? await recover(entry)
      : { state: 'unchanged', note: 'not started' };
    const error = `${INTERRUPTED_RESTORE_PREFIX}; ${recovered.note}`;
    components.push({
      component: planned.component,
      destination: planned.destination,
      status: recovered.state === 'restored' ? 'restored' : entry ? 'failed' : 'skipped',
      destinationState: recovered.state,
      checks: [],
      tools: {},
      ok: false,
      error,
      durationMs: 0,
    });
    const state = describeDestinationState(planned.destination, recovered.state);
    told.push(
      entry ? `${state} (${recovered.note})` : `${planned.destination}: not started, unchanged`,
    );
  }
  const anyChanged = components.some(
    (c) => c.destinationState === 'changed' || c.destinationState === 'unknown',
  );
  const advice = anyChanged
    ? 'check the destinations named above, then restore again'
    : 'restore again when ready';
  const error = `${INTERRUPTED_RESTORE_PREFIX}, so it is not run again automatically; a worker's sweep looked at its destinations. ${told.join('; ')}. Nothing else is left to clean up: ${advice}`;
  return { error, results: { components, ok: false, error, durationMs: 0 } };
}
