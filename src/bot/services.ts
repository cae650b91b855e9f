import type { Manifest } from '../backup/manifest.ts';
import type { ComponentProgress } from '../backup/progress.ts';

export type BackupStatus = 'queued' | 'running' | 'completed' | 'failed';

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
  /** Present once the backup completed. */
  readonly manifest: Manifest | null;
  /** The components the profile named when the backup was queued. */
  readonly targets: readonly string[];
}

export interface BackupListFilter {
  readonly profile?: string;
  readonly limit: number;
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
}

export interface StatusReport {
  readonly services: readonly ServiceHealth[];
  readonly workers: number;
  readonly queue: { readonly waiting: number; readonly active: number; readonly failed: number };
  readonly profiles: readonly ProfileStatus[];
}

/** What `/status` reports. */
export interface SystemStatus {
  report(): Promise<StatusReport>;
}

/** Everything command handlers may use. Later issues add restores, approvals, runbooks, drills. */
export interface Services {
  readonly backups: BackupCatalogView;
  readonly backupJobs: BackupJobs;
  readonly status: SystemStatus;
}
