import type { ManifestComponent } from '../backup/manifest.ts';
import type { TargetConfig } from '../config/schema.ts';
import { RestoreError } from '../core/errors.ts';

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
}

/** One figure compared after a restore: a table's rows, a file count, a key count. */
export interface ValidationCheck {
  readonly name: string;
  readonly expected: number;
  readonly actual: number;
  readonly ok: boolean;
}

/**
 * What a restore left in its destination:
 * - `validated`: the backup's data, checked against the manifest;
 * - `unchanged`: exactly as it was before (the restore failed or did not match, and put back
 *   or never touched what was there);
 * - `unknown`: written to, and neither validated nor put back: someone must look at it.
 */
export type DestinationState = 'validated' | 'unchanged' | 'unknown';

export interface RestoreResult {
  readonly tools: Record<string, string>;
  /** Row counts per table / file count / key count. */
  readonly checks: readonly ValidationCheck[];
  /** Every check ok. */
  readonly ok: boolean;
  /**
   * What the restore left in the destination, when the restorer knows.
   * @defaultValue `validated` when ok, else `unknown`
   */
  readonly destinationState?: DestinationState;
}

/**
 * A restore that failed and left its destination exactly as it was: it never touched it, or
 * put back everything it had changed. Its message says so.
 */
export class DestinationUnchangedError extends RestoreError {}

/** Restores the components of one kind; one implementation per source kind. */
export interface ComponentRestorer {
  readonly kind: 'postgres' | 'directory' | 'redis';
  /** Human lines for --dry-run: what this restore would do to the destination. */
  describe(component: ManifestComponent, destination: RestoreDestination): string[];
  restore(input: RestoreInput): Promise<RestoreResult>;
}
