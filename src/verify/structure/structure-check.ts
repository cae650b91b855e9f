import type { ManifestComponent } from '../../backup/manifest.ts';
import type { StructureFigures } from '../verification.ts';

/** What a structure check is given: a component's raw bytes (decrypted and decompressed). */
export interface StructureCheckInput {
  readonly raw: AsyncIterable<Buffer>;
  /** The same bytes already staged on local disk, when they are (level 3). */
  readonly stagedFile?: string;
  readonly component: ManifestComponent;
  /** How messages name the component: `component app-db (/backups/bk_…/app-db.dump.zst)`. */
  readonly context: string;
  readonly signal?: AbortSignal;
  /** Called with the raw bytes read so far. */
  readonly onBytes?: (bytes: number) => void;
}

/** What a structure check found, having read the raw bytes to their end. */
export interface StructureCheck {
  /** What held, for people: `pg_restore --list: 4 tables listed`. */
  readonly checked: readonly string[];
  readonly notChecked: readonly string[];
  readonly figures: StructureFigures | null;
  readonly rawBytes: number;
}

/**
 * Checks that a component's raw bytes are what its kind should be; throws a `BackupError`
 * naming the component when they are not.
 */
export type StructureChecker = (input: StructureCheckInput) => Promise<StructureCheck>;

/** How a tool's exit reads in a message: `exited with code 1`, `was killed by SIGTERM`. */
export function describeExit(exit: {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
