import { readManifest } from '../../../src/backup/read-manifest.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { planRestore } from '../../../src/restore/plan-restore.ts';
import { runRestore } from '../../../src/restore/run-restore.ts';
import { LocalBackupStore } from '../../../src/storage/local-backup-store.ts';

/**
 * A restore in a process of its own, so a test can kill it with SIGKILL as a dying worker would
 * be: argv[2] is a JSON {@link RestoreChildJob}. Each progress message goes to stdout, one a line.
 */
export interface RestoreChildJob {
  readonly storeRoot: string;
  readonly backupId: string;
  readonly component: string;
  readonly destinationUrl: string;
  readonly stagingDirectory: string;
}

const job = JSON.parse(process.argv[2] ?? '{}') as RestoreChildJob;
const store = new LocalBackupStore({ root: job.storeRoot });
const manifest = await readManifest(store, job.backupId);
const config = configSchema.parse({
  targets: {
    [job.component]: {
      kind: 'postgres',
      url: 'postgres://127.0.0.1:5432/unused',
      environment: 'staging',
    },
    destination: { kind: 'postgres', url: job.destinationUrl, environment: 'staging' },
  },
  profiles: { any: { targets: [job.component] } },
});
const plan = planRestore({
  manifest,
  config,
  selection: { components: [job.component], into: { [job.component]: 'destination' } },
});
const results = await runRestore({
  restoreId: 'rs_child',
  plan,
  manifest,
  config,
  store,
  identities: [],
  stagingDirectory: job.stagingDirectory,
  onProgress: (p) => process.stdout.write(`${p.message ?? p.phase}\n`),
});
process.stdout.write(`${JSON.stringify({ ok: results.ok, error: results.error })}\n`);
