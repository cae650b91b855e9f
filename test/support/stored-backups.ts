import { createHash, randomBytes } from 'node:crypto';
import { MANIFEST_FORMAT, MANIFEST_OBJECT, type Manifest } from '../../src/backup/manifest.ts';
import type { Catalog } from '../../src/catalog/open-catalog.ts';
import { backupIdFor } from '../../src/core/ids.ts';
import type { BackupStore } from '../../src/storage/backup-store.ts';
import { sql } from './databases.ts';

/** A small backup that really is in a store and (unless told otherwise) in the catalog. */
export interface StoredBackup {
  readonly id: string;
  readonly createdAt: Date;
  readonly manifest: Manifest;
  /** Stored bytes over its objects (the catalog's `bytes`). */
  readonly bytes: number;
}

/**
 * Writes a backup of one `files` directory component (`bytes` random bytes) and its manifest
 * under an id of time `at`, then records it completed in the catalog with `created_at` = `at`.
 */
export async function storeBackup(options: {
  readonly store: BackupStore;
  readonly catalog?: Pick<Catalog, 'backups'>;
  /** The catalog's database name, to set `created_at`. */
  readonly database?: string;
  readonly profile: string;
  readonly at: Date;
  readonly bytes?: number;
  readonly requestedBy?: string;
  /** Stores that get a copy of every object, as replicas do. */
  readonly replicas?: readonly BackupStore[];
}): Promise<StoredBackup> {
  const { store, profile, at } = options;
  const id = backupIdFor(profile, at, `${profile}:${at.toISOString()}:${Math.random()}`);
  const body = randomBytes(options.bytes ?? 1024);
  const object = 'files.tar.zst';
  const stores = [store, ...(options.replicas ?? [])];
  for (const each of stores) await each.putBytes(`${id}/${object}`, body);
  const iso = at.toISOString();
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id,
    profile,
    note: null,
    requestedBy: options.requestedBy ?? 'console:alice',
    lifeboatVersion: '0.1.0',
    startedAt: iso,
    finishedAt: iso,
    durationMs: 0,
    storage: [{ store: store.name, location: store.describe(id) }],
    components: [
      {
        name: 'files',
        kind: 'directory',
        object,
        bytes: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
        rawBytes: body.length,
        compression: 'zstd',
        encryption: null,
        tools: { tar: '1.35' },
        startedAt: iso,
        finishedAt: iso,
        durationMs: 0,
        source: {
          kind: 'directory',
          path: '/srv/files',
          include: [],
          exclude: [],
          counts: 'archive',
          files: 1,
          directories: 0,
          bytes: body.length,
          warnings: [],
        },
      },
    ],
  };
  for (const each of stores) {
    await each.putBytes(`${id}/${MANIFEST_OBJECT}`, Buffer.from(JSON.stringify(manifest)));
  }
  if (options.catalog && options.database) {
    await options.catalog.backups.createQueued({
      id,
      profile,
      note: null,
      requestedBy: manifest.requestedBy,
      targets: ['files'],
    });
    await options.catalog.backups.markCompleted(id, manifest, store.describe(id));
    await sql('UPDATE backups SET created_at = $2 WHERE id = $1', options.database, [id, at]);
  }
  return { id, createdAt: at, manifest, bytes: body.length };
}

/** Records a passed verification of the backup (`backup_verifications`, migration 0002). */
export async function markVerified(database: string, backupId: string): Promise<void> {
  await recordVerification(database, backupId, 'passed', new Date());
}

/** Records a verification of the backup that ended `status` at `finishedAt`. */
export async function recordVerification(
  database: string,
  backupId: string,
  status: 'passed' | 'failed' | 'error',
  finishedAt: Date,
): Promise<void> {
  await sql(
    `INSERT INTO backup_verifications
       (id, backup_id, level, status, requested_by, started_at, finished_at, error)
     VALUES ($1, $2, 1, $3, 'console:alice', $4, $4, $5)`,
    database,
    [
      `vf_${randomBytes(6).toString('hex')}`,
      backupId,
      status,
      finishedAt,
      status === 'failed'
        ? 'component files is corrupted'
        : status === 'error'
          ? 'could not verify: the store did not answer'
          : null,
    ],
  );
}

/** The keys under `<id>/` in the store. */
export async function keysOf(store: BackupStore, id: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(`${id}/`)) keys.push(object.key);
  return keys;
}
