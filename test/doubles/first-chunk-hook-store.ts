import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BackupStore } from '../../src/storage/backup-store.ts';

/**
 * Wraps a store so that the first `put` whose key matches holds its first chunk until `hook`
 * has run. With back-pressure, the source is then stalled mid-stream — the moment a test kills
 * pg_dump, removes a directory or aborts, deterministically.
 */
export function withFirstChunkHook(
  store: BackupStore,
  matches: (key: string) => boolean,
  hook: (key: string) => Promise<void> | void,
): BackupStore & { readonly hookRan: () => boolean } {
  let ran = false;
  return {
    name: store.name,
    hookRan: () => ran,
    put(key, body, options) {
      if (ran || !matches(key)) return store.put(key, body, options);
      ran = true;
      let first = true;
      const held = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          if (!first) return callback(null, chunk);
          first = false;
          Promise.resolve(hook(key)).then(
            () => callback(null, chunk),
            (error: unknown) => callback(error as Error),
          );
        },
      });
      pipeline(body, held).catch(() => {});
      return store.put(key, held as Readable, options);
    },
    putBytes: (key, bytes) => store.putBytes(key, bytes),
    get: (key) => store.get(key),
    stat: (key) => store.stat(key),
    list: (prefix) => store.list(prefix),
    delete: (key) => store.delete(key),
    deleteAll: (prefix) => store.deleteAll(prefix),
    describe: (key) => store.describe(key),
  };
}
