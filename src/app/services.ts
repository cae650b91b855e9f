import type { Approvals } from '../approvals/approvals-service.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Manifest } from '../backup/manifest.ts';
import type { ComponentProgress } from '../backup/progress.ts';
import type { RestorePlan } from '../restore/plan-restore.ts';
import type { RestoreCheckReport } from '../restore/restore-checks.ts';
import type { RestoreAuthorization, RestoreRecord } from '../restore/restore-record.ts';
import type { PruneReport } from '../retention/prune.ts';
import type { Runbooks } from '../runbook/run-record.ts';
import type { VerificationLevel, VerificationRecord } from '../verify/verification.ts';

/** `pruned`: retention deleted its objects; the record stays for its history, never restorable. */
export type BackupStatus = 'queued' | 'running' | 'completed' | 'failed' | 'pruned';

/** A backup as the catalog knows it. */
export interface BackupRecord {
  readonly id: string;
  readonly profile: string;
  readonly status: BackupStatus;
  readonly note: string | null;
  readonly requestedBy: string;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** Stored bytes over all components, once completed. */
  readonly bytes: number | null;
  readonly error: string | null;
  /** The primary store's location of the backup (a directory or an s3:// URL). */
  readonly location: string | null;
  /**
   * The catalog's copy of the manifest, present once the backup completed (null, too, when the
   * copy no longer validates). Storage holds the truth: readers compare it with `manifest.json`.
   */
  readonly manifest: Manifest | null;
  /** The components the profile named when the backup was queued. */
  readonly targets: readonly string[];
  /** When retention deleted it, and why (status `pruned`). */
  readonly prunedAt?: Date | null;
  readonly prunedReason?: string | null;
  /** Its copies in the replica stores (`storage.replicas`), by store name. */
  readonly replicas?: readonly BackupReplica[];
}

/** `running` while the copy is under way; a `failed` copy leaves the backup completed. */
export type ReplicaStatus = 'running' | 'completed' | 'failed';

/** A backup's copy in one replica store. */
export interface BackupReplica {
  /** The store's name in the config: `s3`, `local`. */
  readonly store: string;
  /** Where the copy lives (a directory or an s3:// URL). */
  readonly location: string;
  readonly status: ReplicaStatus;
  /** Why the copy failed, naming the object. */
  readonly error: string | null;
  readonly bytes: number | null;
  readonly finishedAt: Date | null;
}

export interface BackupListFilter {
  readonly profile?: string;
  readonly limit: number;
  /** List pruned backups too. @defaultValue false: only backups whose objects exist */
  readonly includePruned?: boolean;
}

/** Read access to the backups in the catalog. */
export interface BackupCatalogView {
  list(filter: BackupListFilter): Promise<BackupRecord[]>;
  get(id: string): Promise<BackupRecord | undefined>;
}

export interface BackupRequest {
  readonly profile: string;
  readonly note: string | null;
  /** `platform:id` of the person or schedule asking. */
  readonly requestedBy: string;
  readonly replicate: boolean;
  /**
   * The backup's id, chosen by the caller to make the request idempotent: asking again with the
   * same id queues nothing new. @defaultValue a new id
   */
  readonly id?: string;
}

export type BackupOutcome =
  | { readonly status: 'completed'; readonly backup: BackupRecord }
  | { readonly status: 'failed'; readonly backup: BackupRecord; readonly error: string };

/** Queues backups and follows them to the end. */
export interface BackupJobs {
  /** Records the backup as queued in the catalog and puts its job on the queue. */
  enqueue(request: BackupRequest): Promise<{ readonly backupId: string; readonly jobId: string }>;
  /**
   * Resolves when the backup ends, calling `onProgress` with every component's latest progress
   * whenever one advances.
   */
  follow(
    backupId: string,
    onProgress: (components: readonly ComponentProgress[]) => void,
  ): Promise<BackupOutcome>;
}

export interface ServiceHealth {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ProfileStatus {
  readonly profile: string;
  readonly schedule: string | null;
  readonly lastSuccess: BackupRecord | null;
  readonly lastFailure: BackupRecord | null;
  /**
   * The most recent verification of one of its recent backups: passed, failed (the backup was
   * found bad) or error (it could not check). Absent when not looked up, null when none.
   */
  readonly lastVerification?: VerificationRecord | null;
}

/**
 * What `/status`, `/readyz` and `/metrics` report. What could not be known because the service
 * it needs is down (workers and queue counts without Redis, profiles without the catalog) is
 * null, never a guess.
 */
export interface StatusReport {
  readonly services: readonly ServiceHealth[];
  readonly workers: number | null;
  readonly queue: {
    readonly waiting: number;
    readonly active: number;
    readonly failed: number;
  } | null;
  readonly profiles: readonly ProfileStatus[] | null;
  /**
   * Backups the primary store holds that the catalog does not know (from a bounded look at the
   * store); absent or null when not looked at or not known.
   */
  readonly unknownBackups?: {
    readonly store: string;
    readonly ids: readonly string[];
    /** The look stopped before the end of the store: there may be more. */
    readonly partial: boolean;
  } | null;
}

/** `/backup verify ID|latest`: which backup and how deep. */
export interface VerificationRequest {
  /** A backup id, or `latest` for the newest completed backup of `profile`. */
  readonly backup: string;
  /** The profile `latest` refers to. @defaultValue the config's default profile */
  readonly profile?: string;
  /**
   * The level asked for. @defaultValue level 2, or level 1 with a note when the backup is
   * encrypted and the worker has no identity to open it
   */
  readonly level?: VerificationLevel;
  /** `platform:id` of the person asking. */
  readonly requestedBy: string;
}

/** Queues verifications of stored backups and follows them to the end. */
export interface Verifications {
  /**
   * Records a running verification of the backup and queues its job. Throws a user-facing
   * `CommandError` when there is no such completed backup.
   */
  enqueue(
    request: VerificationRequest,
  ): Promise<{ readonly verificationId: string; readonly backup: BackupRecord }>;
  /**
   * Resolves with the record once the verification ended (passed, failed or error), calling
   * `onProgress` with every component's latest progress whenever one advances.
   */
  follow(
    verificationId: string,
    onProgress: (components: readonly ComponentProgress[]) => void,
  ): Promise<VerificationRecord>;
  /** The backup's most recent verification, if any. */
  latestFor(backupId: string): Promise<VerificationRecord | undefined>;
  /** The most recent verification of each backup that has one, by backup id. */
  latestForEach(backupIds: readonly string[]): Promise<ReadonlyMap<string, VerificationRecord>>;
}

/** `/backup prune`: the profiles' retention policies, planned or applied. */
export interface Retention {
  /** What a prune would do now, from the catalog as it is; changes nothing. */
  plan(request: { readonly profile?: string; readonly requestedBy: string }): Promise<PruneReport>;
  /** Queues a prune job and resolves with its report once it ran. */
  prune(request: { readonly profile?: string; readonly requestedBy: string }): Promise<PruneReport>;
}

/** `/restore ID|latest [--profile P] [--components A,B] [--into A=B]`: what to restore where. */
export interface RestoreRequest {
  /** A backup id, or `latest` for the newest completed backup of `profile`. */
  readonly backup: string;
  /** The profile `latest` refers to. @defaultValue the config's default profile */
  readonly profile?: string;
  readonly components?: readonly string[];
  readonly into?: Readonly<Record<string, string>>;
  /** `platform:id` of the person asking. */
  readonly requestedBy: string;
}

/** A restore worked out, before anything is recorded or run. */
export interface PlannedRestore {
  readonly plan: RestorePlan;
  /**
   * What would make it fail, found before anything runs where restores run (an encrypted
   * component no identity there opens, a missing tool, a destination that does not answer or
   * refuses its role, too little staging space), or why that could not be checked.
   */
  readonly check: RestoreCheckReport;
}

export type RestoreOutcome =
  | { readonly status: 'completed'; readonly restore: RestoreRecord }
  | { readonly status: 'failed'; readonly restore: RestoreRecord; readonly error: string };

/** How a restore is queued: under a known id, and with what allows it. */
export interface RestoreEnqueueOptions {
  /** The restore's id. @defaultValue a new `rs_…` id */
  readonly id?: string;
  /** The approval or break glass that allows destinations that need approval. @defaultValue none */
  readonly authorization?: RestoreAuthorization;
}

/** Plans restores, queues them and follows them to the end. */
export interface Restores {
  /**
   * Finds the backup and plans the restore; changes nothing. Throws a user-facing
   * `CommandError` for a backup that is not there or not completed, and for components or
   * targets that do not fit (see `planRestore`).
   */
  plan(request: RestoreRequest): Promise<PlannedRestore>;
  /**
   * Records the restore as queued and puts its job on the queue. A plan that needs approval is
   * refused (`PolicyError`) unless `authorization` says what allows it. With `id` (an approval's
   * execution id) it is idempotent: the same id again is the same restore and the same job.
   */
  enqueue(
    plan: RestorePlan,
    requestedBy: string,
    options?: RestoreEnqueueOptions,
  ): Promise<{ readonly restoreId: string }>;
  /**
   * Resolves when the restore ends, calling `onProgress` with every component's latest
   * progress (staging, restoring, checking) whenever one advances.
   */
  follow(
    restoreId: string,
    onProgress: (components: readonly ComponentProgress[]) => void,
  ): Promise<RestoreOutcome>;
}

/** What `/status` reports. */
export interface SystemStatus {
  report(): Promise<StatusReport>;
}

/** Everything command handlers may use. Later issues add runbooks and drills. */
export interface Services {
  /** The two-person rule: policies, approval requests, votes and break-glass reviews. */
  readonly approvals: Approvals;
  /** Where every command, request, vote, refusal and outcome is recorded. */
  readonly audit: AuditLog;
  readonly backups: BackupCatalogView;
  readonly backupJobs: BackupJobs;
  readonly status: SystemStatus;
  readonly retention: Retention;
  readonly verifications: Verifications;
  readonly restores: Restores;
  /** The runbooks under `runbooks.path`, and their runs in the catalog. */
  readonly runbooks: Runbooks;
}
