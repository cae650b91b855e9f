import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { createStores } from '../../../src/storage/create-store.ts';
import { LocalBackupStore } from '../../../src/storage/local-backup-store.ts';
import { S3BackupStore } from '../../../src/storage/s3-backup-store.ts';
import { testConfig } from '../../doubles/test-config.ts';

const s3 = { bucket: 'backups', prefix: 'lifeboat/', endpoint: 'http://127.0.0.1:9000' };

function configError(storage: Record<string, unknown>): ConfigError {
  try {
    createStores(testConfig({ storage }), '/srv/lifeboat');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('creating the stores a config names', () => {
  it('builds a local primary under the working directory and an s3 replica', () => {
    const stores = createStores(
      testConfig({ storage: { local: { path: './backups' }, s3, replicas: ['s3'] } }),
      '/srv/lifeboat',
    );
    expect(stores.primary).toBeInstanceOf(LocalBackupStore);
    expect(stores.primary.describe('bk_a')).toBe(join('/srv/lifeboat/backups', 'bk_a'));
    expect(stores.replicas).toHaveLength(1);
    expect(stores.replicas[0]).toBeInstanceOf(S3BackupStore);
    expect(stores.replicas[0]?.describe('bk_a/manifest.json')).toBe(
      's3://backups/lifeboat/bk_a/manifest.json',
    );
  });

  it('builds an s3 primary with a local replica', () => {
    const stores = createStores(
      testConfig({ storage: { s3, primary: 's3', replicas: ['local'] } }),
      '/srv/lifeboat',
    );
    expect(stores.primary.name).toBe('s3');
    expect(stores.replicas.map((r) => r.name)).toEqual(['local']);
  });

  it('refuses an s3 primary without a storage.s3 section, saying what to add', () => {
    const error = configError({ primary: 's3' });
    expect(error.message).toContain('storage.primary is s3');
    expect(error.message).toContain('add storage.s3 with at least a bucket');
    expect(error.issues).toEqual([
      'storage.primary: s3 needs a storage.s3 section (bucket, and endpoint for MinIO)',
    ]);
  });

  it('refuses an s3 replica without a storage.s3 section', () => {
    const error = configError({ replicas: ['s3'] });
    expect(error.message).toContain('storage.replicas[0] is s3');
    expect(error.message).toContain('storage.s3');
  });

  it('refuses a replica that is the primary store', () => {
    const error = configError({ s3, primary: 's3', replicas: ['s3'] });
    expect(error.message).toBe(
      'storage.replicas[0] is "s3", which is already the primary store; a replica must be another store (local)',
    );
  });

  it('refuses a replica listed twice', () => {
    const error = configError({ s3, replicas: ['s3', 's3'] });
    expect(error.message).toContain('storage.replicas[1]: "s3" is listed twice');
  });
});
