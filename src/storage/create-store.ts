import { resolve } from 'node:path';
import type { LifeboatConfig } from '../config/schema.ts';
import { ConfigError } from '../core/errors.ts';
import type { BackupStore } from './backup-store.ts';
import { LocalBackupStore } from './local-backup-store.ts';

/** The store backups are written to first (`storage.primary`). */
export function createPrimaryStore(config: LifeboatConfig, cwd = process.cwd()): BackupStore {
  if (config.storage.primary === 's3') {
    throw new ConfigError(
      'storage.primary: s3 is not available in this version of Lifeboat yet; use "local"',
      ['storage.primary: s3 is not available yet; valid now: local'],
    );
  }
  return new LocalBackupStore({ root: resolve(cwd, config.storage.local.path) });
}
