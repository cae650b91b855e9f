import type { LifeboatBackupJob, LifeboatBackupOutcome } from './children/lifeboat-backup.ts';
import type { LifeboatRestoreJob, LifeboatRestoreOutcome } from './children/lifeboat-restore.ts';
import { type Measurement, measure } from './measure.ts';

/** The age key of one bench run: backups are encrypted to it, restores open them with it. */
export interface BenchAgeKey {
  readonly identity: string;
  readonly recipient: string;
}

const CHILDREN = new URL('./children/', import.meta.url);

/** A Lifeboat backup in its own Node process (`children/lifeboat-backup.ts`), measured. */
export async function measureLifeboatBackup(
  job: LifeboatBackupJob,
  age: BenchAgeKey,
): Promise<{ measured: Measurement; outcome: LifeboatBackupOutcome }> {
  const measured = await measure(
    process.execPath,
    [new URL('lifeboat-backup.ts', CHILDREN).pathname, JSON.stringify(job)],
    { label: `Lifeboat backup ${job.id}`, env: childEnv(age) },
  );
  const outcome = JSON.parse(measured.stdout) as LifeboatBackupOutcome;
  return { measured: inWorker(measured, outcome.seconds), outcome };
}

/** A Lifeboat restore in its own Node process (`children/lifeboat-restore.ts`), measured. */
export async function measureLifeboatRestore(
  job: LifeboatRestoreJob,
  age: BenchAgeKey,
): Promise<{ measured: Measurement; outcome: LifeboatRestoreOutcome }> {
  const measured = await measure(
    process.execPath,
    [new URL('lifeboat-restore.ts', CHILDREN).pathname, JSON.stringify(job)],
    { label: `Lifeboat restore of ${job.backupId}`, env: childEnv(age) },
  );
  const outcome = JSON.parse(measured.stdout) as LifeboatRestoreOutcome;
  return { measured: inWorker(measured, outcome.seconds), outcome };
}

/**
 * A worker runs for days and takes many backups: its time for one is that of the work itself,
 * without the bench child's start-up (Node and module loading, about 0.5 s here). Memory and CPU
 * stay those of the whole process.
 */
function inWorker(measured: Measurement, seconds: number): Measurement {
  return { ...measured, wallSeconds: seconds };
}

/** The identity reaches the children through the environment, as it does in production. */
function childEnv(age: BenchAgeKey): NodeJS.ProcessEnv {
  return { ...process.env, LIFEBOAT_AGE_IDENTITY: age.identity };
}

/** `zstd-3 + age + sha256 → where`, saying so when the backup was not encrypted. */
export function lifeboatLabel(outcome: LifeboatBackupOutcome, what: string): string {
  return `Lifeboat ${what}: zstd-3${outcome.encrypted ? ' + age' : ' (NOT encrypted)'} + sha256`;
}
