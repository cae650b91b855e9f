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

/**
 * The codes of failures that say nothing about the backup: the check could not run (the store
 * did not answer, no key opens it, the scratch server or a tool is missing). Everything else a
 * component fails with is a verdict: the backup was read and found bad.
 */
const COULD_NOT_CHECK = new Set([
  'object_read_failed',
  'store_unreachable',
  'age_no_identity',
  'tool_missing',
  'redis_server_missing',
  'redis_server_failed',
  'scratch_unavailable',
  'scratch_drop_failed',
  'verify_no_scratch',
  'verify_not_run',
  'service_unavailable',
  'staging_failed',
  'staging_unsafe',
  'file_system_full',
  'file_system_read_only',
  'file_system_permission_denied',
  'pg_restore_too_old',
  'postgres_version_unknown',
  'restore_privilege_missing',
]);

/** Whether a component's failure is one of those that could not check (see above). */
export function couldNotCheck(failure: Pick<VerificationFailure, 'code'>): boolean {
  return COULD_NOT_CHECK.has(failure.code);
}

/**
 * How a verification ended: `passed` (checked, sound), `failed` (checked, and something is
 * bad: a verdict on the backup), or `error` (it could not check: nothing is known either way).
 * A verdict that a component is bad wins over others that could not be checked.
 */
export type VerificationOutcome = 'passed' | 'failed' | 'error';

/** The outcome of components as checked (see {@link VerificationOutcome}). */
export function outcomeOf(
  components: readonly Pick<ComponentVerification, 'error'>[],
): VerificationOutcome {
  const failures = components.flatMap((c) => (c.error ? [c.error] : []));
  if (failures.length === 0) return 'passed';
  return failures.every(couldNotCheck) ? 'error' : 'failed';
}

/** How a verification that could not check begins its reason: `could not verify: …`. */
export const COULD_NOT_VERIFY = 'could not verify: ';

/** `could not verify: <why>`, once. */
export function couldNotVerify(why: string): string {
  return why.startsWith(COULD_NOT_VERIFY) ? why : `${COULD_NOT_VERIFY}${why}`;
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
  /** True only when it passed. */
  readonly ok: boolean;
  /** Passed, failed (a verdict: the backup is bad) or error (it could not check). */
  readonly outcome: VerificationOutcome;
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
 * of interrupted work); then for good `passed`, `failed` (the backup was checked and something
 * is bad) or `error` (it could not check — store unreachable, no key, no scratch server, a tool
 * missing, its worker gone — so nothing is known about the backup). Catalogs from before 0.4
 * hold no `queued` ones: theirs were recorded `running` from the start; nor `error` ones before
 * migration 0010: theirs were recorded `failed`.
 */
export type VerificationStatus = 'queued' | 'running' | VerificationOutcome;

/** Whether a verification has ended: it will not run (again). */
export function verificationEnded(record: Pick<VerificationRecord, 'status'>): boolean {
  return record.status === 'passed' || record.status === 'failed' || record.status === 'error';
}

/** The status for people: `passed`, `failed`, `could not verify`, `queued`, `running`. */
export function verificationStatusText(status: VerificationStatus): string {
  return status === 'error' ? 'could not verify' : status;
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
  /** Present once it ended (absent when it ended before reading anything). */
  readonly results: VerificationResults | null;
  /**
   * Why it failed, naming the component and the object, or why it could not verify
   * (`could not verify: …`); null when it passed.
   */
  readonly error: string | null;
}
