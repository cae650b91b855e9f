import { runBackup } from '../../src/backup/run-backup.ts';
import type { TargetConfig } from '../../src/config/schema.ts';
import { type BenchStoreSpec, openBenchStore } from './bench-store.ts';

/**
 * One Lifeboat backup, run by the bench as its own process so its memory is measured alone:
 * the real `runBackup` with zstd, age encryption and sha256 into the given store. Reads its
 * job as JSON from argv, prints what it stored as JSON.
 */
export interface LifeboatBackupJob {
  readonly id: string;
  readonly target: { readonly name: string; readonly config: TargetConfig };
  readonly store: BenchStoreSpec;
  /** The age recipient (`age1…`) to encrypt to. */
  readonly recipient: string;
}

export interface LifeboatBackupOutcome {
  readonly id: string;
  readonly rawBytes: number;
  readonly bytes: number;
  readonly encrypted: boolean;
  /** Seconds of `runBackup` itself: what a running worker spends on the backup. */
  readonly seconds: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as LifeboatBackupJob;
const started = performance.now();
const manifest = await runBackup({
  id: job.id,
  profile: 'bench',
  note: null,
  requestedBy: 'bench',
  targets: [job.target],
  compression: 'zstd',
  encryption: { recipients: [job.recipient] },
  store: openBenchStore(job.store),
});
const component = manifest.components[0];
if (!component) throw new Error('the backup has no component');
const outcome: LifeboatBackupOutcome = {
  seconds: (performance.now() - started) / 1000,
  id: manifest.id,
  rawBytes: component.rawBytes,
  bytes: component.bytes,
  encrypted: component.encryption !== null,
};
process.stdout.write(`${JSON.stringify(outcome)}\n`);
