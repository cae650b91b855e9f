import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { newBackupId } from '../src/core/ids.ts';
import type { LifeboatBackupOutcome } from './children/lifeboat-backup.ts';
import { ensureTree, removeTree } from './directory-tree.ts';
import { type BenchAgeKey, lifeboatLabel, measureLifeboatBackup } from './lifeboat-children.ts';
import { type Measurement, measureShell, shellQuote } from './measure.ts';
import { type BenchRow, row } from './results.ts';

export interface DirectoryRunsOptions {
  readonly bytes: number;
  /** Where the generated tree lives (kept with `keep`). */
  readonly treeDirectory: string;
  readonly work: string;
  readonly age: BenchAgeKey;
  readonly repeat: number;
  readonly keep: boolean;
  readonly fresh: boolean;
  readonly log: (line: string) => void;
}

export interface DirectoryRuns {
  readonly rows: BenchRow[];
  readonly files: number;
  readonly bytes: number;
}

/** `tar -cf - DIR | zstd -3 > file` against Lifeboat's directory backup, in turns. */
export async function runDirectory(options: DirectoryRunsOptions): Promise<DirectoryRuns> {
  const { log, work, age } = options;
  log(`directory tree of about ${(options.bytes / 1e6).toFixed(0)} MB…`);
  const tree = await ensureTree(
    join(options.treeDirectory, `tree-${options.bytes}`),
    options.bytes,
    options.fresh,
  );
  const tarFile = join(work, 'tree.tar.zst');
  const storeRoot = join(work, 'directory-store');
  const tarRuns: Measurement[] = [];
  const lifeboatRuns: Measurement[] = [];
  let tarBytes = 0;
  let lifeboat: LifeboatBackupOutcome | undefined;
  try {
    for (let round = 1; round <= options.repeat; round++) {
      log(`directory backups, round ${round} of ${options.repeat}…`);
      tarRuns.push(
        await measureShell(
          `tar -cf - -C ${shellQuote(tree.path)} . | zstd -3 -q > ${shellQuote(tarFile)}`,
          { label: 'tar | zstd' },
        ),
      );
      tarBytes = (await stat(tarFile)).size;
      await rm(tarFile, { force: true });
      const run = await measureLifeboatBackup(
        {
          id: newBackupId('bench-files'),
          target: {
            name: 'bench-files',
            config: {
              kind: 'directory',
              path: tree.path,
              include: [],
              exclude: [],
              environment: 'scratch',
            },
          },
          store: { kind: 'local', root: storeRoot },
          recipient: age.recipient,
        },
        age,
      );
      lifeboat = run.outcome;
      lifeboatRuns.push(run.measured);
      await rm(storeRoot, { recursive: true, force: true });
    }
  } finally {
    await rm(tarFile, { force: true });
    await rm(storeRoot, { recursive: true, force: true });
    if (!options.keep) await removeTree(tree.path);
  }
  if (!lifeboat) throw new Error('no Lifeboat directory backup was taken');
  return {
    files: tree.files,
    bytes: tree.bytes,
    rows: [
      row('directory_tar_zstd', 'tar -cf - DIR | zstd -3 > file', tree.bytes, tarBytes, tarRuns),
      row(
        'directory_lifeboat',
        lifeboatLabel(lifeboat, 'directory → local'),
        tree.bytes,
        lifeboat.bytes,
        lifeboatRuns,
      ),
    ],
  };
}
