import type { BackupStore } from '../../src/storage/backup-store.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { S3BackupStore, type S3StorageConfig } from '../../src/storage/s3-backup-store.ts';

/** Where a measured Lifeboat run keeps its backup: passed from the bench to its children. */
export type BenchStoreSpec =
  | { readonly kind: 'local'; readonly root: string }
  | {
      readonly kind: 's3';
      readonly config: S3StorageConfig;
      /** Fixed credentials (s3rver's); undefined: the AWS SDK's default chain. */
      readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
    };

/** The real store for a spec. */
export function openBenchStore(spec: BenchStoreSpec): BackupStore {
  if (spec.kind === 'local') return new LocalBackupStore({ root: spec.root });
  return new S3BackupStore({
    config: spec.config,
    ...(spec.credentials ? { credentials: spec.credentials } : {}),
  });
}
