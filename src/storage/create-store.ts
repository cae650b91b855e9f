import { resolve } from 'node:path';
import type { LifeboatConfig } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import type { BackupStore } from './backup-store.ts';
import { LocalBackupStore } from './local-backup-store.ts';
import { S3BackupStore, type S3BackupStoreOptions } from './s3-backup-store.ts';

/** The stores of one config: where backups are written first, and where they are copied. */
export interface Stores {
  /** `storage.primary`: every backup is written here. */
  readonly primary: BackupStore;
  /** `storage.replicas`, in the config's order: copies made after the primary succeeded. */
  readonly replicas: readonly BackupStore[];
}

export interface CreateStoresOptions {
  /** Tuning for S3 stores (part size, timeouts, attempts); the defaults fit production. */
  readonly s3?: Omit<S3BackupStoreOptions, 'config'>;
  /**
   * The environment S3 credentials are read from when it holds AWS_ACCESS_KEY_ID and
   * AWS_SECRET_ACCESS_KEY; otherwise the AWS SDK's default chain (process environment,
   * AWS_PROFILE, instance roles) applies. @defaultValue the default chain only
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

type StoreKind = LifeboatConfig['storage']['primary'];

/**
 * Builds the primary store and the replicas `storage` names. A store named without its section
 * (`s3` without `storage.s3`) or a replica that is the primary is a `ConfigError`.
 *
 * @param cwd what a relative `storage.local.path` is resolved against
 */
export function createStores(
  config: LifeboatConfig,
  cwd = process.cwd(),
  options: CreateStoresOptions = {},
): Stores {
  const { storage } = config;
  const build = (kind: StoreKind, path: string): BackupStore => {
    if (kind === 'local') return new LocalBackupStore({ root: resolve(cwd, storage.local.path) });
    if (!storage.s3) {
      throw new ConfigError(
        `${path} is s3, but the config has no storage.s3 section: add storage.s3 with at least a bucket (see lifeboat.example.yaml), or use "local"`,
        [`${path}: s3 needs a storage.s3 section (bucket, and endpoint for MinIO)`],
      );
    }
    const credentials = options.s3?.credentials ?? credentialsIn(options.env ?? {});
    return new S3BackupStore({
      ...options.s3,
      ...(credentials ? { credentials } : {}),
      config: storage.s3,
    });
  };

  const primary = build(storage.primary, 'storage.primary');
  const replicas: BackupStore[] = [];
  storage.replicas.forEach((kind, index) => {
    const path = `storage.replicas[${index}]`;
    if (kind === storage.primary) {
      throw new ConfigError(
        `${path} is "${kind}", which is already the primary store; a replica must be another store (${kind === 'local' ? 's3' : 'local'})`,
        [`${path}: "${kind}" is already the primary store`],
      );
    }
    if (storage.replicas.indexOf(kind) !== index) {
      throw new ConfigError(`${path}: "${kind}" is listed twice in storage.replicas`, [
        `${path}: "${kind}" is listed twice`,
      ]);
    }
    replicas.push(build(kind, path));
  });
  return { primary, replicas };
}

function credentialsIn(env: Readonly<Record<string, string | undefined>>) {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
}

/** The store backups are written to first (`storage.primary`). */
export function createPrimaryStore(config: LifeboatConfig, cwd = process.cwd()): BackupStore {
  return createStores(config, cwd).primary;
}

/**
 * Checks at start-up that every S3 store's bucket answers, so a wrong endpoint, bucket or key
 * stops start-up with a how-to-fix message instead of failing the first backup.
 */
export async function checkStores(stores: Stores): Promise<void> {
  for (const store of [stores.primary, ...stores.replicas]) {
    if (store instanceof S3BackupStore) await store.checkBucket();
  }
}

/** Closes the connections of the stores that hold any. */
export function closeStores(stores: Stores): void {
  for (const store of [stores.primary, ...stores.replicas]) {
    if (store instanceof S3BackupStore) store.close();
  }
}
