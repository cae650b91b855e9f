import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stageComponent } from '../../src/backup/read-component.ts';
import { readManifest } from '../../src/backup/read-manifest.ts';
import { loadAgeIdentities } from '../../src/crypto/age-identities.ts';
import { restorerFor } from '../../src/restore/restorers/index.ts';
import { type BenchStoreSpec, openBenchStore } from './bench-store.ts';

/**
 * One Lifeboat restore of a postgres component, run by the bench as its own process: the
 * manifest read back, the object staged (size and sha256 checked, age decrypted, zstd
 * decompressed), then the production postgres restorer (`pg_restore -j`, row counts compared
 * with the manifest). The identity comes from LIFEBOAT_AGE_IDENTITY, as in production.
 */
export interface LifeboatRestoreJob {
  readonly backupId: string;
  readonly store: BenchStoreSpec;
  /** The database to restore into; the restorer creates it. */
  readonly destinationUrl: string;
  /** Where the staged dump is written (and removed after). */
  readonly stagingRoot: string;
}

export interface LifeboatRestoreOutcome {
  readonly rawBytes: number;
  /** Tables whose row count matched the manifest. */
  readonly checkedTables: number;
  /** Seconds of the restore itself, from reading the manifest to the last check. */
  readonly seconds: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as LifeboatRestoreJob;
const started = performance.now();
const store = openBenchStore(job.store);
const manifest = await readManifest(store, job.backupId);
const component = manifest.components[0];
if (!component) throw new Error(`backup ${job.backupId} has no component`);
const directory = await mkdtemp(join(job.stagingRoot, 'stage-'));
try {
  const staged = await stageComponent({
    store,
    backupId: job.backupId,
    component,
    identities: loadAgeIdentities(),
    directory,
  });
  const result = await restorerFor(component.kind).restore({
    component,
    stagedFile: staged.path,
    destination: {
      name: 'bench-restore',
      config: { kind: 'postgres', url: job.destinationUrl, environment: 'scratch', pgDumpArgs: [] },
    },
    signal: new AbortController().signal,
  });
  if (!result.ok) {
    const failed = result.checks
      .filter((c) => !c.ok)
      .map((c) => `${c.name}: ${c.actual} of ${c.expected}`);
    throw new Error(`the restore's checks failed: ${failed.join(', ')}`);
  }
  const outcome: LifeboatRestoreOutcome = {
    seconds: (performance.now() - started) / 1000,
    rawBytes: staged.rawBytes,
    checkedTables: result.checks.length,
  };
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
} finally {
  await rm(directory, { recursive: true, force: true });
}
