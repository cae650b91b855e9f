import { createHash } from 'node:crypto';
import { type Duplex, PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { Compression } from '../config/schema.ts';
import { BackupError } from '../core/errors.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { createZstdProcess } from './zstd-process.ts';

/**
 * Output chunk size of Node's gzip: each chunk is one trip to libuv's thread pool, and Node's
 * 16 KiB default holds a compressor to a third of its speed.
 */
const COMPRESSOR_CHUNK_BYTES = 256 * 1024;

/** Progress reports are sent at most this often while bytes flow, plus once at the end. */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * A transform applied to the compressed bytes before they are hashed and stored. Encryption
 * plugs in here: `{ name: 'age', create: () => createAgeEncryptStream(recipients) }`.
 */
export interface PipelineStage {
  readonly name: string;
  create(): Transform;
}

/** Bytes seen so far at both ends of the pipeline. */
export interface PipelineCounts {
  /** Bytes read from the source (before compression). */
  readonly rawBytes: number;
  /** Bytes handed to the store (after compression and any other stage). */
  readonly storedBytes: number;
}

export interface StreamToStoreOptions {
  readonly source: Readable;
  readonly store: BackupStore;
  readonly key: string;
  readonly compression: Compression;
  /** Stages after compression, in order. @defaultValue none */
  readonly stages?: readonly PipelineStage[];
  readonly signal?: AbortSignal;
  /** Called every `progressIntervalMs` while bytes flow and once with the final counts. */
  readonly onProgress?: (counts: PipelineCounts) => void;
  /** @defaultValue {@link PROGRESS_INTERVAL_MS} */
  readonly progressIntervalMs?: number;
}

/** What was stored: the counts and the sha256 of the stored bytes, hex. */
export interface StoredStream extends PipelineCounts {
  readonly key: string;
  readonly sha256: string;
}

/** The file-name extension a compression adds: `.zst`, `.gz`, or nothing. */
export function compressionExtension(compression: Compression): string {
  if (compression === 'zstd') return '.zst';
  if (compression === 'gzip') return '.gz';
  return '';
}

/** A streaming compressor, or undefined for `none`. zstd runs as a `zstd` process. */
export function createCompressor(compression: Compression): Duplex | undefined {
  if (compression === 'zstd') return createZstdProcess();
  if (compression === 'gzip')
    return zlib.createGzip({ level: 6, chunkSize: COMPRESSOR_CHUNK_BYTES });
  return undefined;
}

/**
 * Streams `source` → count → compress → stages → sha256 + count → `store.put(key)`, with
 * constant memory whatever the size. Any stage failing (the source included) fails the whole
 * pipeline and the store's atomic `put` leaves nothing under the key.
 */
export async function streamToStore(options: StreamToStoreOptions): Promise<StoredStream> {
  const { source, store, key, signal, onProgress } = options;
  const raw = counter();
  const sha256 = createHash('sha256');
  const stored = counter(sha256);
  const compressor = createCompressor(options.compression);
  const body = new PassThrough();
  const streams = [
    source,
    raw.stream,
    ...(compressor ? [compressor] : []),
    ...(options.stages ?? []).map((stage) => stage.create()),
    stored.stream,
    body,
  ];
  const report = () => onProgress?.({ rawBytes: raw.bytes, storedBytes: stored.bytes });
  const timer = onProgress
    ? setInterval(report, options.progressIntervalMs ?? PROGRESS_INTERVAL_MS)
    : undefined;
  timer?.unref();

  try {
    const flowing = pipeline(streams, signal ? { signal } : {});
    const storing = store.put(key, body, signal ? { signal } : {});
    // A store that fails without reading its body must still stop the flow.
    storing.catch((error: unknown) => body.destroy(error as Error));
    const [flow, put] = await Promise.allSettled([flowing, storing]);
    if (
      put.status === 'rejected' &&
      (flow.status === 'fulfilled' || isTeardown(flow.reason) || causedBy(put.reason, flow.reason))
    ) {
      throw put.reason;
    }
    if (flow.status === 'rejected') throw flow.reason;
    if (put.status === 'rejected') throw put.reason;
    if (put.value.bytes !== stored.bytes) {
      throw new BackupError(
        'store_size_mismatch',
        `the store kept ${put.value.bytes} bytes of ${key} but ${stored.bytes} were sent`,
      );
    }
  } finally {
    clearInterval(timer);
  }
  report();
  return {
    key,
    rawBytes: raw.bytes,
    storedBytes: stored.bytes,
    sha256: sha256.digest('hex'),
  };
}

/** A pass-through that counts bytes and optionally feeds a hash. */
function counter(hash?: ReturnType<typeof createHash>) {
  const state = {
    bytes: 0,
    stream: new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        state.bytes += chunk.length;
        hash?.update(chunk);
        callback(null, chunk);
      },
    }),
  };
  return state;
}

/**
 * True when `outer` (the store's error) was made from `inner` (what the flow saw): the store's
 * file failed (ENOSPC), its put explained why, and the same error tore the flow down.
 */
function causedBy(outer: unknown, inner: unknown): boolean {
  return outer instanceof Error && outer.cause !== undefined && outer.cause === inner;
}

/** How the flow fails when the store gave up first and tore its body down. */
function isTeardown(error: unknown): boolean {
  const { code, name } = (error ?? {}) as NodeJS.ErrnoException;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || name === 'AbortError';
}
