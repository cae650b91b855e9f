import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchStoreSpec } from './children/bench-store.ts';
import { runDirectory } from './directory-runs.ts';
import type { BenchAgeKey } from './lifeboat-children.ts';
import { dropDatabase, ensurePgbenchDatabase, scaleFor } from './pgbench-database.ts';
import { runPostgres } from './postgres-runs.ts';
import type { SizeResult } from './results.ts';

export interface RunSizeOptions {
  readonly bytes: number;
  readonly serverUrl: string;
  readonly namespace: string;
  readonly keep: boolean;
  readonly fresh: boolean;
  readonly repeat: number;
  /** Scratch space: dumps, backups, staged files; removed after. */
  readonly workDirectory: string;
  /** Where generated directory trees live (kept with `keep`). */
  readonly treeDirectory: string;
  /** The S3 store to back up to, or undefined to leave that run out. */
  readonly s3?: BenchStoreSpec;
  readonly age: BenchAgeKey;
  readonly log: (line: string) => void;
}

/**
 * Every measured run at one size: the PostgreSQL runs on `<namespace>_<scale>`, then the
 * directory runs on a generated tree of the same size. One run at a time, so none competes with
 * another for CPU or disk.
 */
export async function runSize(options: RunSizeOptions): Promise<SizeResult> {
  const scale = scaleFor(options.bytes);
  options.log(`pgbench database at scale ${scale} (about ${(options.bytes / 1e6).toFixed(0)} MB)…`);
  const db = await ensurePgbenchDatabase(
    options.serverUrl,
    options.namespace,
    scale,
    options.fresh,
  );
  options.log(
    `${db.name}: pg_database_size ${(db.databaseBytes / 1e6).toFixed(0)} MB${db.created ? '' : ' (kept from an earlier run)'}`,
  );
  const work = join(options.workDirectory, `size-${scale}`);
  await mkdir(work, { recursive: true });
  try {
    const postgres = await runPostgres({ ...options, db, work });
    const directory = await runDirectory({ ...options, work });
    return {
      requestedBytes: options.bytes,
      database: db.name,
      scale,
      databaseBytes: db.databaseBytes,
      dumpBytes: postgres.dumpBytes,
      directoryFiles: directory.files,
      directoryBytes: directory.bytes,
      rows: [...postgres.rows, ...directory.rows],
    };
  } finally {
    await rm(work, { recursive: true, force: true });
    if (!options.keep) await dropDatabase(options.serverUrl, db.name).catch(() => {});
  }
}
