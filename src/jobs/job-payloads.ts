import { z } from 'zod';

/** The queue every Lifeboat job goes through; job names say what kind of job it is. */
export const QUEUE_NAME = 'lifeboat';

export const backupJobSchema = z.strictObject({
  kind: z.literal('backup'),
  backupId: z.string().regex(/^bk_[A-Za-z0-9_-]+$/),
  profile: z.string().min(1),
  note: z.string().nullable(),
  requestedBy: z.string().min(1),
  replicate: z.boolean(),
});

/** Fired by a profile's schedule: queues a backup of that profile when it fires. */
export const scheduledBackupJobSchema = z.strictObject({
  kind: z.literal('scheduled-backup'),
  profile: z.string().min(1),
});

/** Verifies a stored backup at a level (1 checksums, 2 structure, 3 restore test). */
export const verifyJobSchema = z.strictObject({
  kind: z.literal('verify'),
  verificationId: z.string().regex(/^vf_[A-Za-z0-9_-]+$/),
  backupId: z.string().regex(/^bk_[A-Za-z0-9_-]+$/),
  level: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  /** `level` is the default, not asked for: it may run at 1 when no key opens the backup. */
  defaultLevel: z.boolean().optional(),
  requestedBy: z.string().min(1),
});

/** Applies the retention policy of one profile, or of every profile when `profile` is null. */
export const pruneJobSchema = z.strictObject({
  kind: z.literal('prune'),
  profile: z.string().min(1).nullable(),
  requestedBy: z.string().min(1),
});

/** Carries out a restore whose plan the catalog holds (`restores.plan`). */
export const restoreJobSchema = z.strictObject({
  kind: z.literal('restore'),
  restoreId: z.string().regex(/^rs_[A-Za-z0-9_-]+$/),
  requestedBy: z.string().min(1),
});

/**
 * Gathers, on the worker that takes it, the facts a restore of these components into these
 * destinations needs (see `gatherRestoreFacts`), for a plan being made elsewhere: a short job
 * whose result the planner waits for a bounded time.
 */
export const restoreCheckJobSchema = z.strictObject({
  kind: z.literal('restore-check'),
  checkId: z.string().regex(/^rc_[A-Za-z0-9_-]+$/),
  backupId: z.string().regex(/^bk_[A-Za-z0-9_-]+$/),
  components: z
    .array(z.strictObject({ component: z.string().min(1), destination: z.string().min(1) }))
    .min(1),
  requestedBy: z.string().min(1),
});

/**
 * Fired by the audit checkpoint schedule (`audit.checkpointEvery`): writes the checkpoint of the
 * audit log's head into every store, once per tick however many processes run.
 */
export const auditCheckpointJobSchema = z.strictObject({
  kind: z.literal('audit-checkpoint'),
});

export const jobPayloadSchema = z.discriminatedUnion('kind', [
  backupJobSchema,
  scheduledBackupJobSchema,
  verifyJobSchema,
  pruneJobSchema,
  restoreJobSchema,
  restoreCheckJobSchema,
  auditCheckpointJobSchema,
]);

export type BackupJob = z.infer<typeof backupJobSchema>;
export type ScheduledBackupJob = z.infer<typeof scheduledBackupJobSchema>;
export type VerifyJob = z.infer<typeof verifyJobSchema>;
export type PruneJob = z.infer<typeof pruneJobSchema>;
export type RestoreJob = z.infer<typeof restoreJobSchema>;
export type RestoreCheckJob = z.infer<typeof restoreCheckJobSchema>;
export type AuditCheckpointJob = z.infer<typeof auditCheckpointJobSchema>;
export type JobPayload = z.infer<typeof jobPayloadSchema>;
export type JobKind = JobPayload['kind'];

/** What a backup job returns when it completes (stored by BullMQ and the catalog). */
export interface BackupJobResult {
  readonly backupId: string;
  readonly bytes: number;
  readonly durationMs: number;
  readonly location: string;
  /** How the copies to `storage.replicas` went; a failed one leaves the backup completed. */
  readonly replicas?: readonly ReplicaResult[];
}

/** One replica store's copy of a backup, as a backup job reports it. */
export interface ReplicaResult {
  readonly store: string;
  readonly status: 'completed' | 'failed';
  readonly location: string;
  readonly error?: string;
}

/**
 * What a restore-check job returns: the worker that gathered the facts, and the facts (no
 * secret: identities are the recipients they open). Validated where it arrives, the planner.
 */
export const restoreCheckResultSchema = z.strictObject({
  worker: z.string().min(1),
  facts: z.strictObject({
    identities: z.union([z.array(z.string()), z.strictObject({ error: z.string() })]),
    tools: z.record(z.string(), z.boolean()),
    destinations: z.record(z.string(), z.string().nullable()),
    refusals: z.record(z.string(), z.string().nullable()),
    staging: z.strictObject({ directory: z.string(), freeBytes: z.number().nullable() }),
    directories: z
      .record(
        z.string(),
        z.strictObject({
          at: z.string(),
          freeBytes: z.number().nullable(),
          sharesStaging: z.boolean(),
          checked: z.string(),
        }),
      )
      .optional(),
  }),
});

export type RestoreCheckResult = z.infer<typeof restoreCheckResultSchema>;
