import type { DestinationState } from './component-restorer.ts';

/**
 * Where a restorer keeps what it needs to put its destination back, recorded in the catalog
 * before it writes anything, so that a sweep can do it when the process running the restore is
 * killed half way (see `recoverDestination`):
 * - `directory`: the work directory inside the destination and its write-ahead journal
 *   (`RestoreJournal`);
 * - `redis`: a file of the keys about to be written, outside staging (the staging sweep must
 *   not remove it before it is replayed);
 * - `postgres`: the restore's token (the side database `lifeboat_restore_<token>_…`) and the
 *   destination database's oid before the restore (null when it did not exist): a different
 *   oid under the destination's name means the swap committed.
 */
export type UndoJournal =
  | { readonly kind: 'directory'; readonly workDirectory: string }
  | { readonly kind: 'redis'; readonly file: string }
  | {
      readonly kind: 'postgres';
      readonly token: string;
      readonly database: string;
      readonly oidBefore: number | null;
    };

/** One component's journal as the catalog keeps it, with its state once the restore knew it. */
export interface UndoEntry {
  readonly component: string;
  readonly destination: string;
  readonly journal: UndoJournal;
  /** What the restore left in the destination; absent while it runs. */
  readonly state?: DestinationState;
}

/**
 * How a restorer tells the catalog about its journal: `started` before its first write (awaited:
 * nothing is written until the catalog has it), `ended` with what it left, before it removes
 * the journal that would tell.
 */
export interface UndoRecorder {
  started(journal: UndoJournal): Promise<void>;
  ended(state: DestinationState): Promise<void>;
}

/** A recorder that records nothing: restores run outside a worker (tests, tools). */
export const NO_UNDO_RECORDER: UndoRecorder = {
  started: async () => {},
  ended: async () => {},
};

/** What a sweep found in, and did to, one destination of a restore whose process died. */
export interface RecoveredDestination {
  readonly state: DestinationState;
  /** For people: what was put back, or what is left and where. */
  readonly note: string;
}
