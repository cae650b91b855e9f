import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupError } from '../../core/errors.ts';
import { plural } from '../../core/format.ts';
import { PRIVATE_FILE_MODE } from '../../core/private-modes.ts';
import { checkRdbFile } from '../../redis/rdb-file.ts';
import { createStagingDirectory } from '../../staging/staging-area.ts';
import type { StructureCheck, StructureCheckInput } from './structure-check.ts';

/**
 * A redis component: `redis-check-rdb` reads the whole RDB (every object and the trailing
 * CRC64), and it must hold at least the keys the manifest recorded. The checker reads a
 * file, so the raw stream is written to a temporary one first unless it is already staged.
 */
export async function checkRdbSnapshot(input: StructureCheckInput): Promise<StructureCheck> {
  const { component, context, signal } = input;
  let directory: string | undefined;
  try {
    let path = input.stagedFile;
    let rawBytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        rawBytes += chunk.length;
        input.onBytes?.(rawBytes);
        callback(null, chunk);
      },
    });
    if (path === undefined) {
      directory = await createStagingDirectory('verify');
      path = join(directory, 'snapshot.rdb');
      await pipeline(
        input.raw,
        counter,
        createWriteStream(path, { flags: 'wx', mode: PRIVATE_FILE_MODE }),
        signal ? { signal } : {},
      );
    } else {
      // Already on disk: the bytes are only counted.
      for await (const chunk of input.raw) {
        rawBytes += chunk.length;
        input.onBytes?.(rawBytes);
      }
    }
    let found: Awaited<ReturnType<typeof checkRdbFile>>;
    try {
      found = await checkRdbFile(path, signal ? { signal } : {});
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new BackupError('rdb_corrupt', `${context}: ${why}`, { cause: error });
    }
    // The manifest counts the keys of the target's database that were live when the snapshot
    // loaded; the file holds every database, and keys that had expired by then: at least as many.
    const source = component.source;
    if (
      source.kind === 'redis' &&
      (found.keys < source.keys || (source.keys > 0 && !found.databases.includes(source.db)))
    ) {
      throw new BackupError(
        'rdb_keys_mismatch',
        `${context}: the snapshot holds ${plural(found.keys, 'key')} in databases ${found.databases.join(', ') || 'none'}, fewer than the ${source.keys} of database ${source.db} the manifest records`,
      );
    }
    return {
      checked: [
        `redis-check-rdb: ${plural(found.keys, 'key')} in ${plural(found.databases.length, 'database')}`,
      ],
      notChecked: [],
      figures: { keys: found.keys },
      rawBytes,
    };
  } finally {
    if (directory) await rm(directory, { recursive: true, force: true });
  }
}
