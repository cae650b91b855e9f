import type { ManifestComponent } from '../backup/manifest.ts';

/**
 * How deep a verification reads: 1 re-reads every stored object and compares its size and
 * sha256 with the manifest; 2 also decrypts and decompresses it to the end and checks its
 * structure (`pg_restore --list`, a tar listing); 3 also restores it into a scratch destination
 * and compares the restore's row counts with the manifest.
 */
export type VerificationLevel = 1 | 2 | 3;

export const VERIFICATION_LEVELS: readonly VerificationLevel[] = [1, 2, 3];

/** The level of `/backup verify` without `--level` or `--restore-test`. */
export const DEFAULT_VERIFICATION_LEVEL: VerificationLevel = 2;

/** One figure a restore test compared: a table's rows, a tree's files, a database's keys. */
export interface RestoreTestCheck {
  readonly name: string;
  readonly expected: number;
  readonly actual: number;
  readonly ok: boolean;
}

/** What the structure check counted (level 2). */
export interface StructureFigures {
  /** `TABLE DATA` entries in the `pg_restore --list` of a postgres archive. */
  readonly tables?: number;
  /** Non-directory entries in a tar listing. */
  readonly files?: number;
  /** Directory entries in a tar listing. */
  readonly directories?: number;
  /** Bytes of the regular files in a tar archive (see `TreeFigures`). */
  readonly bytes?: number;
  /** Keys in a redis snapshot, every database together. */
  readonly keys?: number;
}

/** Why a component failed: a stable code and a message naming the component and its object. */
export interface VerificationFailure {
  readonly code: string;
  readonly message: string;
}

/** What verifying one component found; stored in the catalog as part of the results. */
export interface ComponentVerification {
  readonly name: string;
  readonly kind: ManifestComponent['kind'];
  /** The object's key in the store: `bk_…/app-db.dump.zst`. */
  readonly key: string;
  readonly ok: boolean;
  /** Stored bytes read back. */
  readonly bytes: number;
  /** Raw bytes after decryption and decompression (level 2 and up). */
  readonly rawBytes: number | null;
  /** sha256 of the stored bytes as read back, when they were read to the end (level 1). */
  readonly sha256: string | null;
  /** What was checked and held, in order: `sha256 ok`, `decrypted (age)`, `4 tables listed`. */
  readonly checked: readonly string[];
  /** What this version could not check, and why; not a failure. */
  readonly notChecked: readonly string[];
  readonly structure: StructureFigures | null;
  /** Level 3: the restore's checks (row counts per table, file count, key count). */
  readonly restoreChecks: readonly RestoreTestCheck[] | null;
  readonly error: VerificationFailure | null;
  readonly durationMs: number;
}

/** The outcome of verifying one backup. */
export interface VerificationReport {
  readonly backupId: string;
  /** The level that ran (see `chooseLevel`: the default may fall back to 1 without a key). */
  readonly level: VerificationLevel;
  readonly ok: boolean;
  readonly components: readonly ComponentVerification[];
  /**
   * Why it failed, one line per failing component (or the manifest's problem when there is no
   * usable manifest); null when it passed.
   */
  readonly error: string | null;
  /** What people should know besides the checks: a lower level than the default, and why. */
  readonly notes: readonly string[];
  /** Where level 3 restored postgres components: the scratch server, without password. */
  readonly scratch: string | null;
  readonly durationMs: number;
}

/** What the catalog keeps in `backup_verifications.results`. */
export interface VerificationResults {
  readonly components: readonly ComponentVerification[];
  /** See {@link VerificationReport.notes}; absent in verifications recorded before 0.4. */
  readonly notes?: readonly string[];
  readonly scratch: string | null;
  readonly durationMs: number;
}

/** The short word for a level, for people: `checksums`, `structure`, `restore test`. */
export function levelName(level: VerificationLevel): string {
  return level === 1 ? 'checksums' : level === 2 ? 'structure' : 'restore test';
}

/**
 * `queued` until a worker starts it; `running` while a worker holds it (see the worker's sweep
 * of interrupted work); then `passed` or `failed` for good. Catalogs from before 0.4 hold no
 * `queued` ones: theirs were recorded `running` from the start.
 */
export type VerificationStatus = 'queued' | 'running' | 'passed' | 'failed';

/** Whether a verification has ended: it will not run (again). */
export function verificationEnded(record: Pick<VerificationRecord, 'status'>): boolean {
  return record.status === 'passed' || record.status === 'failed';
}

/** A verification as the catalog keeps it. */
export interface VerificationRecord {
  /** `vf_20261122T020000Z_7q3k9x`. */
  readonly id: string;
  readonly backupId: string;
  readonly level: VerificationLevel;
  readonly status: VerificationStatus;
  readonly requestedBy: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  /** Present once it ended, passed or failed (absent when it failed before reading anything). */
  readonly results: VerificationResults | null;
  /** Why it failed, naming the component and the object; null unless failed. */
  readonly error: string | null;
}
