import pg from 'pg';
import type { ApprovalRepository } from '../approvals/approval-request.ts';
import type { AuditKeyring } from '../audit/audit-keys.ts';
import { withDefaultUser } from '../postgres/connection-url.ts';
import type { RunbookRunRepository } from '../runbook/run-record.ts';
import { createApprovalRepository } from './approval-repository.ts';
import { type AuditRepository, createAuditRepository } from './audit-repository.ts';
import { type BackupClaims, createBackupClaims } from './backup-claims.ts';
import { type BackupRepository, createBackupRepository } from './backup-repository.ts';
import { poolDatabase } from './database.ts';
import { databaseName, ensureDatabase } from './ensure-database.ts';
import { createInventoryRepository, type InventoryRepository } from './inventory-repository.ts';
import { createJobRepository, type JobRepository } from './job-repository.ts';
import { applyMigrations, loadMigrations } from './migrate.ts';
import { createReplicaRepository, type ReplicaRepository } from './replica-repository.ts';
import { createRestoreRepository, type RestoreRepository } from './restore-repository.ts';
import { createRetentionRepository, type RetentionRepository } from './retention-repository.ts';
import { createRunbookRunRepository } from './runbook-run-repository.ts';
import { createTargetLocks, type TargetLocks } from './target-locks.ts';
import {
  createVerificationRepository,
  type VerificationRepository,
} from './verification-repository.ts';

/** The catalog in PostgreSQL: backups, jobs and target locks. */
export interface Catalog {
  readonly backups: BackupRepository;
  readonly jobs: JobRepository;
  readonly targetLocks: TargetLocks;
  /** Shared claims of a backup's readers, which prune respects. */
  readonly backupClaims: BackupClaims;
  /** Completed backups with their verification state; marking backups pruned. */
  readonly retention: RetentionRepository;
  /** The catalog as `lifeboat catalog rebuild` compares it with storage. */
  readonly inventory: InventoryRepository;
  readonly verifications: VerificationRepository;
  /** Where each backup was copied besides its primary store, and how the copy went. */
  readonly replicas: ReplicaRepository;
  /** Restores: their plans, how each component went, and refused requests. */
  readonly restores: RestoreRepository;
  /** Approval requests and their votes: the two-person rule, held under row locks. */
  readonly approvals: ApprovalRepository;
  /** The append-only, hash-chained audit log: who did what, where, when, and how it ended. */
  readonly audit: AuditRepository;
  /** Runbook runs and their timelines; every transition conditional on the run's version. */
  readonly runbookRuns: RunbookRunRepository;
  /** Applies the migrations not applied yet; returns their names (`0001_initial`). */
  migrate(): Promise<string[]>;
  /** Resolves when the catalog database answers a query. */
  ping(): Promise<void>;
  /** Releases any target locks still held and closes every connection. */
  close(): Promise<void>;
}

export interface OpenCatalogOptions {
  /** Create the database when it does not exist. @defaultValue true */
  readonly createIfMissing?: boolean;
  /** Shown in `pg_stat_activity`. @defaultValue `lifeboat` */
  readonly applicationName?: string;
  /** Connections in the pool (target locks have their own). @defaultValue 10 */
  readonly poolSize?: number;
  /** The keys the audit log is chained and checked with. @defaultValue none (plain sha256) */
  readonly auditKeys?: AuditKeyring;
}

/** A connection attempt that gets no answer fails after this long instead of hanging start-up. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens the catalog at `url`, creating its database first when it does not exist. Nothing else
 * runs implicitly: call `migrate()` before using the repositories on a new database.
 */
export async function openCatalog(
  catalogUrl: string,
  options: OpenCatalogOptions = {},
): Promise<Catalog> {
  const url = withDefaultUser(catalogUrl);
  const applicationName = options.applicationName ?? 'lifeboat';
  if (options.createIfMissing ?? true) await ensureDatabase(url);

  const pool = new pg.Pool({
    connectionString: url,
    application_name: applicationName,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // An idle connection that breaks (server restart) is dropped by the pool; the next query
  // reports the problem. Without a listener the error would crash the process.
  pool.on('error', () => undefined);
  const db = poolDatabase(pool);
  const targetLocks = createTargetLocks({
    url,
    database: databaseName(url),
    applicationName: `${applicationName} target lock`,
  });

  try {
    await db.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }

  let closed: Promise<void> | undefined;
  return {
    backups: createBackupRepository(db),
    jobs: createJobRepository(db),
    targetLocks,
    backupClaims: createBackupClaims(targetLocks),
    retention: createRetentionRepository(db),
    inventory: createInventoryRepository(db),
    verifications: createVerificationRepository(db),
    replicas: createReplicaRepository(db),
    restores: createRestoreRepository(db),
    approvals: createApprovalRepository(db),
    audit: createAuditRepository(db, options.auditKeys ? { keys: options.auditKeys } : {}),
    runbookRuns: createRunbookRunRepository(db),
    async migrate() {
      return applyMigrations(db, await loadMigrations());
    },
    async ping() {
      await db.query('SELECT 1');
    },
    close() {
      closed ??= targetLocks.releaseAll().then(() => pool.end());
      return closed;
    },
  };
}
