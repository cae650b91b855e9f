import type { ManifestComponent } from '../backup/manifest.ts';
import type { TargetConfig } from '../config/schema.ts';
import type { UndoRecorder } from './undo-journal.ts';

/** The target a component is restored into, by its name in the config. */
export interface RestoreDestination {
  readonly name: string;
  readonly config: TargetConfig;
}

/** One component to restore: its manifest entry, its staged raw bytes and where they go. */
export interface RestoreInput {
  readonly component: ManifestComponent;
  /** Raw bytes on local disk (see `stageComponent`). */
  readonly stagedFile: string;
  readonly destination: RestoreDestination;
  readonly signal: AbortSignal;
  readonly onProgress?: (message: string) => void;
  /**
   * Where the restorer records its journal before its first write, and what it left once it
   * knows, so that a sweep can put the destination back if this process dies.
   * @defaultValue nothing recorded (`NO_UNDO_RECORDER`)
   */
  readonly undo?: UndoRecorder;
}

/** One figure compared after a restore: a table's rows, a file count, a key count. */
export interface ValidationCheck {
  readonly name: string;
  readonly expected: number;
  readonly actual: number;
  readonly ok: boolean;
}

/**
 * What a restore left in its destination: `restored` (restored and every check matched),
 * `unchanged` (exactly as it was), `changed` (written to, and not restored as the backup
 * holds it), `unknown`.
 */
export type DestinationState = 'restored' | 'unchanged' | 'changed' | 'unknown';

export interface RestoreResult {
  readonly tools: Record<string, string>;
  /** Row counts per table / file count / key count. */
  readonly checks: readonly ValidationCheck[];
  /**
   * What the manifest lists and the restore could not compare, one line each saying why (a
   * table the dump holds no data for). @defaultValue none
   */
  readonly notChecked?: readonly string[];
  /** Every check ok. */
  readonly ok: boolean;
  /**
   * What the restore left in the destination. @defaultValue `restored` when ok, else `changed`
   * (a restorer that writes in place and then finds a mismatch)
   */
  readonly destinationState?: DestinationState;
  /** What people should know besides the checks (settings not carried over, leftovers dropped). */
  readonly notes?: readonly string[];
}

/** Restores the components of one kind; one implementation per source kind. */
export interface ComponentRestorer {
  readonly kind: 'postgres' | 'directory' | 'redis';
  /** Human lines for --dry-run: what this restore would do to the destination. */
  describe(component: ManifestComponent, destination: RestoreDestination): string[];
  /**
   * Refuses, before anything is staged or changed, a restore it would refuse later (missing
   * privileges, a destination it must not touch). @defaultValue nothing checked
   */
  preflight?(component: ManifestComponent, destination: RestoreDestination): Promise<void>;
  restore(input: RestoreInput): Promise<RestoreResult>;
}
