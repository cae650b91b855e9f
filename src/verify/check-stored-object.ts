import { createHash } from 'node:crypto';
import type { ManifestComponent } from '../backup/manifest.ts';
import { BackupError, LifeboatError } from '../core/errors.ts';
import type { BackupStore } from '../storage/backup-store.ts';

/** The stored object as read back: its size and the sha256 of its bytes. */
export interface StoredObjectFigures {
  readonly bytes: number;
  readonly sha256: string;
}

export interface CheckStoredObjectOptions {
  readonly store: BackupStore;
  readonly key: string;
  readonly component: ManifestComponent;
  readonly signal?: AbortSignal;
  /** Called with the bytes read so far as they arrive. */
  readonly onBytes?: (bytes: number) => void;
}

/**
 * Level 1 for one component: reads the whole stored object and compares its size and sha256
 * with the manifest. Throws a `BackupError` naming the component and where the object lives:
 * `object_not_found`, `object_truncated`, `object_size_mismatch`, or `object_checksum_mismatch`
 * with both hashes.
 */
export async function checkStoredObject(
  options: CheckStoredObjectOptions,
): Promise<StoredObjectFigures> {
  const { store, key, component } = options;
  const context = `component ${component.name} (${store.describe(key)})`;
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const stream = await store.get(key);
    const stop = () => stream.destroy(options.signal?.reason);
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const chunk of stream) {
        bytes += (chunk as Buffer).length;
        hash.update(chunk as Buffer);
        options.onBytes?.(bytes);
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
    }
  } catch (error) {
    options.signal?.throwIfAborted();
    if (error instanceof LifeboatError && error.code === 'object_not_found') {
      throw new BackupError(
        'object_not_found',
        `${context} is missing: the store has no object under ${key}`,
        { cause: error },
      );
    }
    const why = error instanceof Error ? error.message : String(error);
    throw new BackupError('object_read_failed', `${context} could not be read: ${why}`, {
      cause: error,
    });
  }
  const sha256 = hash.digest('hex');
  if (bytes < component.bytes) {
    throw new BackupError(
      'object_truncated',
      `${context} is truncated: ${bytes} of the ${component.bytes} bytes the manifest records (sha256 ${sha256}, the manifest records ${component.sha256})`,
    );
  }
  if (bytes > component.bytes) {
    throw new BackupError(
      'object_size_mismatch',
      `${context} holds ${bytes} bytes, more than the ${component.bytes} the manifest records (sha256 ${sha256}, the manifest records ${component.sha256})`,
    );
  }
  if (sha256 !== component.sha256) {
    throw new BackupError(
      'object_checksum_mismatch',
      `${context} is corrupted: its sha256 is ${sha256}, the manifest records ${component.sha256}`,
    );
  }
  return { bytes, sha256 };
}
