import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { BackupError, LifeboatError } from '../core/errors.ts';
import { PRIVATE_FILE_MODE } from '../core/private-modes.ts';
import { type AgeIdentity, createAgeDecryptStream } from '../crypto/age/index.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { backupObjectKey, objectNameProblem } from '../storage/object-key.ts';
import type { ManifestComponent } from './manifest.ts';

export interface OpenComponentOptions {
  readonly store: BackupStore;
  readonly backupId: string;
  readonly component: ManifestComponent;
  /** Needed when the component is encrypted; any one matching identity opens it. */
  readonly identities: readonly AgeIdentity[];
  readonly signal?: AbortSignal;
}

/**
 * Where a component's stored object lives: `<backup-id>/<object>`. Throws `invalid_object_key`
 * for a name that is not one safe segment (see `backupObjectKey`).
 */
export function componentKey(backupId: string, component: ManifestComponent): string {
  return backupObjectKey(backupId, component.object);
}

/**
 * The raw bytes a component's source produced (the pg_dump archive, the tar, the RDB), read
 * back from the store: stored bytes → size and sha256 check → age decryption → decompression.
 *
 * The stream never ends cleanly unless every check passed: a missing, truncated, corrupted or
 * undecryptable object errors it with a `BackupError` naming the component and the key. Age
 * releases plaintext one authenticated chunk at a time, but the sha256 of the whole object is
 * only known at its end, so a caller that must not act on bad data stages it first
 * ({@link stageComponent}).
 */
export async function openComponent(options: OpenComponentOptions): Promise<Readable> {
  const { store, backupId, component } = options;
  const key = componentKey(backupId, component);
  const context = `component ${component.name} (${store.describe(key)})`;
  if (component.encryption && options.identities.length === 0) {
    throw new BackupError(
      'age_no_identity',
      `${context} is encrypted to ${component.encryption.recipients.join(', ')}, and no identity is configured to open it: set LIFEBOAT_AGE_IDENTITY to the AGE-SECRET-KEY-1… line, or LIFEBOAT_AGE_IDENTITY_FILE to an age identity file`,
    );
  }
  let stored: Readable;
  try {
    stored = await store.get(key);
  } catch (error) {
    throw named(context, error);
  }
  const stages: NodeJS.ReadWriteStream[] = [checkStoredBytes(context, component)];
  if (component.encryption) stages.push(createAgeDecryptStream(options.identities));
  const decompressor = createDecompressor(component.compression);
  if (decompressor) stages.push(decompressor);

  const streams = [stored, ...stages] as const;
  const last = streams[streams.length - 1] as NodeJS.ReadableStream;
  const flowing = pipeline(
    streams as unknown as Parameters<typeof pipeline>[0][],
    ...(options.signal ? [{ signal: options.signal }] : []),
  );
  // The pipeline's own promise is observed through the iterator below; keep it from going
  // unhandled when the consumer stops early.
  const settled = Promise.resolve(flowing).catch(() => {});
  async function* raw(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of last as AsyncIterable<Buffer>) yield chunk;
      await flowing;
    } catch (error) {
      throw named(context, error);
    } finally {
      for (const stream of streams) (stream as Readable).destroy?.();
      await settled;
    }
  }
  return Readable.from(raw(), { objectMode: false });
}

export interface StagedComponent {
  /** The raw bytes on local disk. */
  readonly path: string;
  readonly rawBytes: number;
}

/**
 * Writes a component's raw bytes to a file in `directory`, having checked all of the stored
 * object on the way: a restore touches its destination only after this resolved. On failure the
 * file is removed and the error names the component.
 */
export async function stageComponent(
  options: OpenComponentOptions & { readonly directory: string },
): Promise<StagedComponent> {
  const path = join(options.directory, stagedName(options.component));
  let out: WriteStream | undefined;
  try {
    const raw = await openComponent(options);
    // Opened only now, and handed to the pipeline at once: a file that cannot be created is
    // an error of this call, never an 'error' event nobody listens to.
    out = createWriteStream(path, { flags: 'wx', mode: PRIVATE_FILE_MODE });
    await pipeline(raw, out, ...(options.signal ? [{ signal: options.signal }] : []));
    if (out.bytesWritten !== options.component.rawBytes) {
      throw new BackupError(
        'object_size_mismatch',
        `component ${options.component.name}: ${out.bytesWritten} bytes after decompression, the manifest says ${options.component.rawBytes}`,
      );
    }
    return { path, rawBytes: out.bytesWritten };
  } catch (error) {
    out?.destroy();
    if (out) await rm(path, { force: true });
    if (error instanceof LifeboatError) throw error;
    throw new BackupError(
      'staging_failed',
      `component ${options.component.name} could not be staged in ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/**
 * `app-db.dump`, `uploads.tar`, `cache.rdb`: the object's name without storage suffixes. Throws
 * `invalid_object_key` for a name that is not one safe segment, which would lead outside the
 * staging directory.
 */
export function stagedName(component: ManifestComponent): string {
  const name = component.object.replace(/(\.zst|\.gz)?(\.age)?$/, '');
  const problem = objectNameProblem(name);
  if (problem) {
    throw new BackupError(
      'invalid_object_key',
      `component ${component.name} cannot be staged as "${name}": ${problem}`,
    );
  }
  return name;
}

function createDecompressor(compression: ManifestComponent['compression']): Transform | undefined {
  if (compression === 'zstd') return zlib.createZstdDecompress({ chunkSize: 256 * 1024 });
  if (compression === 'gzip') return zlib.createGunzip({ chunkSize: 256 * 1024 });
  return undefined;
}

/** Counts and hashes the stored bytes; errors instead of ending when they differ from the manifest. */
function checkStoredBytes(context: string, component: ManifestComponent): Transform {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > component.bytes) {
        callback(
          new BackupError(
            'object_size_mismatch',
            `${context} holds more than the ${component.bytes} bytes the manifest records`,
          ),
        );
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      if (bytes < component.bytes) {
        callback(
          new BackupError(
            'object_truncated',
            `${context} is truncated: ${bytes} of the ${component.bytes} bytes the manifest records`,
          ),
        );
        return;
      }
      const actual = hash.digest('hex');
      if (actual !== component.sha256) {
        callback(
          new BackupError(
            'object_checksum_mismatch',
            `${context} is corrupted: its sha256 is ${actual}, the manifest records ${component.sha256}`,
          ),
        );
        return;
      }
      callback();
    },
  });
}

/** The error with the component named in front, keeping its code. */
function named(context: string, error: unknown): LifeboatError {
  if (error instanceof LifeboatError && error.message.startsWith(context)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code =
    error instanceof LifeboatError
      ? error.code
      : isZlibError(error)
        ? 'object_corrupt'
        : 'object_read_failed';
  const why = code === 'object_corrupt' ? `does not decompress (${message})` : message;
  return new BackupError(code, `${context}: ${why}`, { cause: error });
}

function isZlibError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  return (
    code.startsWith('Z_') || code.startsWith('ZSTD_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED'
  );
}
