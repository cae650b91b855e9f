import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { BackupError, messageOf } from '../core/errors.ts';
import type { BackupStore } from './backup-store.ts';
import { backupObjectKey, backupPrefix } from './object-key.ts';

/** One object of a backup as its manifest lists it (a manifest component fits). */
export interface BackupObject {
  /** The key relative to the backup: `app-db.dump.zst`. */
  readonly object: string;
  readonly bytes: number;
  /** sha256 of the stored bytes, hex. */
  readonly sha256: string;
}

export interface ReplicateBackupOptions {
  readonly backupId: string;
  /** Every object of the backup but the last one, as the manifest lists them. */
  readonly objects: readonly BackupObject[];
  /** The object copied last, once every other one is in place: `manifest.json`. */
  readonly last: string;
  readonly from: BackupStore;
  readonly to: BackupStore;
  readonly signal?: AbortSignal;
}

export interface ReplicatedBackup {
  /** The replica store's name. */
  readonly store: string;
  /** Where the copy lives in the replica store. */
  readonly location: string;
  /** Bytes of every object of the copy, the last one included. */
  readonly bytes: number;
  /** Objects found already copied by an earlier try (same size) and left as they were. */
  readonly skipped: number;
}

/**
 * Copies a completed backup from one store to another: each object streamed and checked on the
 * way (its size and sha256 must match the manifest, or the put fails and stores nothing), then
 * the manifest, last, so that the copy counts as complete only once every object is there.
 *
 * Safe to run again: objects an earlier try copied whole are kept. When the copy fails,
 * whatever it wrote is deleted (best effort) and a `BackupError` names the object and the store.
 */
export async function replicateBackup(options: ReplicateBackupOptions): Promise<ReplicatedBackup> {
  const { backupId, from, to, signal } = options;
  const location = to.describe(backupId);
  let bytes = 0;
  let skipped = 0;
  let current = '';
  try {
    for (const object of options.objects) {
      current = backupObjectKey(backupId, object.object);
      signal?.throwIfAborted();
      const existing = await to.stat(current);
      if (existing?.bytes === object.bytes) {
        skipped += 1;
      } else {
        await copyObject(from, to, current, object, signal);
      }
      bytes += object.bytes;
    }
    current = backupObjectKey(backupId, options.last);
    signal?.throwIfAborted();
    const last = await readAll(await from.get(current));
    await to.putBytes(current, last);
    bytes += last.length;
    return { store: to.name, location, bytes, skipped };
  } catch (error) {
    let message = `copying backup ${backupId} to the ${to.name} store (${location}) failed at ${current}: ${messageOf(error)}`;
    await Promise.resolve()
      .then(() => to.deleteAll(backupPrefix(backupId)))
      .catch((cleanupError: unknown) => {
        message += ` (removing the partial copy failed too: ${messageOf(cleanupError)})`;
      });
    throw new BackupError('replica_failed', message, { cause: error });
  }
}

/** Streams one object across, failing the put (nothing stored) when it does not match. */
async function copyObject(
  from: BackupStore,
  to: BackupStore,
  key: string,
  expected: BackupObject,
  signal: AbortSignal | undefined,
): Promise<void> {
  const source = await from.get(key);
  const hash = createHash('sha256');
  let seen = 0;
  const checked = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const sha256 = hash.digest('hex');
      if (seen !== expected.bytes || sha256 !== expected.sha256) {
        callback(
          new BackupError(
            'replica_source_mismatch',
            `${key} in the ${from.name} store does not match the manifest: ${seen} bytes with sha256 ${sha256}, expected ${expected.bytes} bytes with sha256 ${expected.sha256}`,
          ),
        );
        return;
      }
      callback();
    },
  });
  source.on('error', (error) => checked.destroy(error));
  checked.on('close', () => source.destroy());
  source.pipe(checked);
  const stored = await to.put(key, checked, signal ? { signal } : {});
  if (stored.bytes !== expected.bytes) {
    await to.delete(key);
    throw new BackupError(
      'replica_size_mismatch',
      `the ${to.name} store kept ${stored.bytes} bytes of ${key}, expected ${expected.bytes}`,
    );
  }
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
