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

export const jobPayloadSchema = z.discriminatedUnion('kind', [
  backupJobSchema,
  scheduledBackupJobSchema,
]);

export type BackupJob = z.infer<typeof backupJobSchema>;
export type ScheduledBackupJob = z.infer<typeof scheduledBackupJobSchema>;
export type JobPayload = z.infer<typeof jobPayloadSchema>;
export type JobKind = JobPayload['kind'];

/** What a backup job returns when it completes (stored by BullMQ and the catalog). */
export interface BackupJobResult {
  readonly backupId: string;
  readonly bytes: number;
  readonly durationMs: number;
  readonly location: string;
}
