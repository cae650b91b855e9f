import { Redis } from 'ioredis';
import type { TargetConfig } from '../config/schema.ts';
import { messageOf } from '../core/errors.ts';
import { redactPasswords } from '../postgres/connection-url.ts';
import { oneShotRedisOptions, parseRedisUrl } from '../redis/redis-url.ts';
import { recoverWorkDirectory } from './directory/restore-journal.ts';
import type { RestoreRecord } from './restore-record.ts';
import { parseDestination } from './restorers/postgres/destination.ts';
import { replacedName, restoringName } from './restorers/postgres/replacement-names.ts';
import { RestoreServer } from './restorers/postgres/restore-server.ts';
import { replayRedisJournal } from './restorers/redis-journal.ts';
import {
  type ComponentRestoreResult,
  describeDestinationState,
  type RestoreResults,
} from './run-restore.ts';
import type { RecoveredDestination, UndoEntry, UndoJournal } from './undo-journal.ts';

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
        return await recoverRedis(journal.file, entry.destination, target);
      case 'postgres':
        return await recoverPostgres(journal, entry.destination, target);
    }
  } catch (error) {
    return { state: 'unknown', note: `putting it back failed: ${messageOf(error)}` };
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

/**
 * Takes back the keys a killed redis restore wrote, from its journal (see
 * `replayRedisJournal`): the destination was an empty database, and is again but for keys
 * others wrote.
 */
async function recoverRedis(
  file: string,
  name: string,
  target: TargetConfig | undefined,
): Promise<RecoveredDestination> {
  if (target?.kind !== 'redis') {
    return {
      state: 'unknown',
      note: `the redis target ${name} is no longer in the configuration, so the keys it had written were not taken back; its journal is ${file}`,
    };
  }
  const url = parseRedisUrl(target.url);
  const writer = new Redis(oneShotRedisOptions(url, 'lifeboat restore sweep'));
  writer.on('error', () => {});
  try {
    await writer.connect();
    const replay = await replayRedisJournal(file, writer);
    switch (replay.outcome) {
      case 'gone':
        return {
          state: 'unknown',
          note: `its journal ${file} is gone, so what it had written could not be taken back: check db ${url.db}`,
        };
      case 'running':
        return {
          state: 'unknown',
          note: `process ${replay.owner.split('.')[0]} is still writing it (journal ${file})`,
        };
      case 'replayed':
        return replay.different === 0
          ? {
              state: 'unchanged',
              note: `the ${replay.removed} keys it had written were removed again`,
            }
          : {
              state: 'unknown',
              note: `the ${replay.removed} keys it had written were removed again; ${replay.different} keys it was writing hold other values (written by something else, or by a redis of another version) and were left: check db ${url.db}`,
            };
    }
  } catch (error) {
    return {
      state: 'unknown',
      note: `taking back the keys it had written failed (${redactPasswords(messageOf(error), url.password)}); its journal is ${file}`,
    };
  } finally {
    writer.disconnect();
  }
}

/**
 * Ends a killed postgres restore: its side database is dropped (the destination was never
 * touched), unless the swap had committed — the destination's name then holds another
 * database than before, the restored one, checked before the swap.
 */
async function recoverPostgres(
  journal: Extract<UndoJournal, { kind: 'postgres' }>,
  name: string,
  target: TargetConfig | undefined,
): Promise<RecoveredDestination> {
  const restoring = restoringName(journal.token, journal.database);
  const replaced = replacedName(journal.token, journal.database);
  if (target?.kind !== 'postgres') {
    return {
      state: 'unchanged',
      note: `the swap is one transaction, so ${journal.database} is either as it was or restored; the postgres target ${name} is no longer in the configuration, so ${restoring} was not looked for`,
    };
  }
  const destination = parseDestination({ name, config: target });
  const server = await RestoreServer.open(destination, null);
  try {
    if (await server.restoreRuns(journal.token)) {
      return {
        state: 'unknown',
        note: `a session of the restore (lifeboat restore ${journal.token}) is still connected to ${destination.server}`,
      };
    }
    if (await server.exists(restoring)) {
      const dropError = await server.drop(restoring);
      return {
        state: 'unchanged',
        note: dropError
          ? `the swap had not happened; its unfinished copy ${restoring} could not be dropped (${destination.redact(messageOf(dropError))})`
          : `the swap had not happened; its unfinished copy ${restoring} was dropped`,
      };
    }
    const now = await server.oid(journal.database);
    if (now !== null && now !== journal.oidBefore) {
      const dropError = (await server.exists(replaced)) ? await server.drop(replaced) : undefined;
      return {
        state: 'restored',
        note: `every check had passed and the restored database was swapped in before the restore stopped${dropError ? `; ${replaced} could not be dropped` : ''}`,
      };
    }
    return { state: 'unchanged', note: 'nothing of it was swapped in' };
  } finally {
    await server.close();
  }
}
