import type { Readable } from 'node:stream';

/** What a store knows about one stored object. */
export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
}

/**
 * The port every storage backend implements (local disk, S3). Keys are relative to the store's
 * own root or prefix: `<backup-id>/<object>`.
 *
 * `put` is atomic: an object is visible under its key only once all of its bytes are stored; a
 * failed or aborted `put` leaves nothing under the key.
 */
export interface BackupStore {
  /** `local` or `s3`: the name used in config and manifests. */
  readonly name: string;
  /** Stores the stream under `key`, returning the number of bytes stored. */
  put(key: string, body: Readable, options?: { signal?: AbortSignal }): Promise<StoredObject>;
  /** Stores a small object from memory (manifests). */
  putBytes(key: string, body: Uint8Array): Promise<StoredObject>;
  /** A readable stream of the object; throws a `LifeboatError` with code `object_not_found`. */
  get(key: string): Promise<Readable>;
  /** The object's size, or undefined if it does not exist. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Deletes one object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Deletes every object under `prefix` and whatever an interrupted writer left there
   * (temporary files, unfinished uploads); returns how many complete objects it deleted.
   */
  deleteAll(prefix: string): Promise<number>;
  /** Where a key lives, for people: a file path or an `s3://bucket/key` URL. */
  describe(key: string): string;
}
