import { createWriteStream, type Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LifeboatError } from '../core/errors.ts';
import { randomSuffix } from '../core/ids.ts';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../core/private-modes.ts';
import type { BackupStore, StoredObject } from './backup-store.ts';
import {
  diagnoseDirectory,
  explainFileSystemError,
  isFileSystemError,
} from './file-system-errors.ts';
import { assertKeyPrefix, assertObjectKey, PARTIAL_OBJECT_PATTERN } from './object-key.ts';

export interface LocalBackupStoreOptions {
  /** The directory that holds one subdirectory per backup; created on the first write. */
  readonly root: string;
}

/**
 * Backups on a local (or mounted) file system: the key `bk_…/app-db.dump.zst` is the file
 * `<root>/bk_…/app-db.dump.zst`.
 *
 * Objects are created 0600 and the directories the store makes (its root too) 0700, whatever
 * the umask: they are the backups.
 *
 * A `put` writes to `.<name>.partial-<random>` beside the final file, fsyncs it, renames it into
 * place and fsyncs the directory, so after a crash a key holds either nothing or every byte.
 */
export class LocalBackupStore implements BackupStore {
  readonly name = 'local';
  /** The absolute root directory. */
  readonly root: string;

  constructor(options: LocalBackupStoreOptions) {
    this.root = resolve(options.root);
  }

  async put(
    key: string,
    body: Readable,
    options?: { signal?: AbortSignal },
  ): Promise<StoredObject> {
    let file: string;
    try {
      file = this.pathOf(key);
    } catch (error) {
      body.destroy();
      throw error;
    }
    const directory = dirname(file);
    const temp = join(directory, `.${basename(file)}.partial-${randomSuffix(10)}`);
    try {
      const out = await this.createTempFile(temp);
      await pipeline(body, out, options?.signal ? { signal: options.signal } : {});
      await rename(temp, file);
      await syncDirectory(directory);
      return { key, bytes: out.bytesWritten };
    } catch (error) {
      body.destroy();
      await rm(temp, { force: true }).catch(() => undefined);
      await this.removeEmptyParents(directory);
      // The source's own failures go up as they are; the file system's say what it was.
      throw isFileSystemError(error) ? await this.failure('store', key, error, directory) : error;
    }
  }

  putBytes(key: string, body: Uint8Array): Promise<StoredObject> {
    return this.put(key, Readable.from([Buffer.from(body.buffer, body.byteOffset, body.length)]));
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    try {
      const handle = await open(file, 'r');
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw notFound(key);
      }
      return handle.createReadStream();
    } catch (error) {
      if (isMissing(error)) throw notFound(key, error);
      throw isFileSystemError(error) ? await this.failure('read', key, error) : error;
    }
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, bytes: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertKeyPrefix(prefix);
    // Only the directory the prefix names can hold matches; S3 would also start there.
    const slash = prefix.lastIndexOf('/');
    const startKey = slash === -1 ? '' : prefix.slice(0, slash);
    // A walk in key order, one directory at a time: a caller that stops early (a bounded look
    // at the store) never reads the rest of the tree.
    yield* this.walk(startKey, prefix, false);
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await rm(file, { force: true });
    } catch (error) {
      throw isFileSystemError(error) ? await this.failure('delete', key, error) : error;
    }
    await this.removeEmptyParents(dirname(file));
  }

  async deleteAll(prefix: string): Promise<number> {
    assertKeyPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const found: StoredObject[] = [];
    // Temporary files count too: a writer that was killed never removes its own.
    for await (const object of this.walk(
      slash === -1 ? '' : prefix.slice(0, slash),
      prefix,
      true,
    )) {
      found.push(object);
    }
    for (const object of found) {
      const file = join(this.root, ...object.key.split('/'));
      try {
        await rm(file, { force: true });
      } catch (error) {
        throw isFileSystemError(error) ? await this.failure('delete', object.key, error) : error;
      }
      await this.removeEmptyParents(dirname(file));
    }
    return found.filter((o) => !PARTIAL_OBJECT_PATTERN.test(basename(o.key))).length;
  }

  /** The absolute path of the file (or, for a backup id, the directory) behind `key`. */
  describe(key: string): string {
    const trimmed = key.endsWith('/') ? key.slice(0, -1) : key;
    return trimmed === '' ? this.root : this.pathOf(trimmed);
  }

  private pathOf(key: string): string {
    assertObjectKey(key);
    return join(this.root, ...key.split('/'));
  }

  /**
   * `cannot store bk_…/app-db.dump.zst: the store /srv/backups is read-only: …`: a file-system
   * error as its real cause, found by looking at the directories on the way to `near` when the
   * error itself does not say (see `diagnoseDirectory`).
   */
  private async failure(
    action: 'store' | 'read' | 'delete',
    key: string,
    error: unknown,
    near?: string,
  ): Promise<LifeboatError> {
    const cause = near ? await diagnoseDirectory(near, error) : undefined;
    const explained = explainFileSystemError(error, `the store ${this.root}`, cause);
    return new LifeboatError(explained.code, `cannot ${action} ${key}: ${explained.message}`, {
      cause: error,
    });
  }

  /** Creates the temporary file, retrying when a concurrent delete removed its empty directory. */
  private async createTempFile(temp: string) {
    for (let attempt = 1; ; attempt++) {
      await mkdir(dirname(temp), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
      const out = createWriteStream(temp, { flags: 'wx', flush: true, mode: PRIVATE_FILE_MODE });
      try {
        await new Promise<void>((ready, failed) => {
          out.once('ready', () => ready());
          out.once('error', failed);
        });
        return out;
      } catch (error) {
        if (!isMissing(error) || attempt >= 3) throw error;
      }
    }
  }

  /**
   * The files under `dirKey` whose keys start with `prefix`, in key order: within a directory,
   * a subdirectory sorts as its name followed by `/`, which is where its keys fall.
   */
  private async *walk(
    dirKey: string,
    prefix: string,
    withPartials: boolean,
  ): AsyncGenerator<StoredObject> {
    const directory = dirKey === '' ? this.root : join(this.root, ...dirKey.split('/'));
    let entries: Dirent[];
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      if (!isFileSystemError(error)) throw error;
      const explained = explainFileSystemError(error, `the store ${this.root}`);
      throw new LifeboatError(
        explained.code,
        `cannot list ${prefix || 'the store'}: ${explained.message}`,
        { cause: error },
      );
    }
    const sortKey = (entry: Dirent) => (entry.isDirectory() ? `${entry.name}/` : entry.name);
    entries.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
    for (const entry of entries) {
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) {
        // Descend only where keys below could still start with the prefix.
        if (
          prefix.startsWith(`${key}/`) ||
          key.startsWith(prefix) ||
          `${key}/`.startsWith(prefix)
        ) {
          yield* this.walk(key, prefix, withPartials);
        }
      } else if (entry.isFile() && key.startsWith(prefix)) {
        if (!withPartials && PARTIAL_OBJECT_PATTERN.test(entry.name)) continue;
        const info = await stat(join(directory, entry.name)).catch((error: unknown) => {
          if (isMissing(error)) return undefined;
          throw error;
        });
        if (info) yield { key, bytes: info.size };
      }
    }
  }

  /** Removes now-empty directories between `directory` and the root (a deleted backup's). */
  private async removeEmptyParents(directory: string): Promise<void> {
    let current = directory;
    while (current.startsWith(this.root + sep)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
      current = dirname(current);
    }
  }
}

function notFound(key: string, cause?: unknown): LifeboatError {
  return new LifeboatError('object_not_found', `no object stored under "${key}"`, { cause });
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
