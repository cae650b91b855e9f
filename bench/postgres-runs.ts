import { spawn } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { newBackupId } from '../src/core/ids.ts';
import { urlForDatabase, withDefaultUser } from '../src/postgres/connection-url.ts';
import { type BenchStoreSpec, openBenchStore } from './children/bench-store.ts';
import type { LifeboatBackupOutcome } from './children/lifeboat-backup.ts';
import {
  type BenchAgeKey,
  lifeboatLabel,
  measureLifeboatBackup,
  measureLifeboatRestore,
} from './lifeboat-children.ts';
import { type Measurement, measure, measureShell, shellQuote } from './measure.ts';
import { type BenchDatabase, countRows, createDatabase, dropDatabase } from './pgbench-database.ts';
import { type BenchRow, row } from './results.ts';

export interface PostgresRunsOptions {
  readonly db: BenchDatabase;
  readonly serverUrl: string;
  /** Scratch directory: the plain dump, the local store, staged files. */
  readonly work: string;
  readonly s3?: BenchStoreSpec;
  readonly age: BenchAgeKey;
  readonly repeat: number;
  readonly log: (line: string) => void;
}

export interface PostgresRuns {
  readonly rows: BenchRow[];
  /** Bytes of `pg_dump -Fc -Z0`: the raw bytes every postgres row is counted in. */
  readonly dumpBytes: number;
}

/**
 * The backups (ceiling, plain pg_dump, Lifeboat to local disk and to S3) taken in turns, one
 * of each per round, so a slow spell on a shared machine hits them alike; then the restores of
 * the plain dump and of Lifeboat's local backup, each into a fresh database and checked by row
 * counts.
 */
export async function runPostgres(options: PostgresRunsOptions): Promise<PostgresRuns> {
  const { db, log, work, age } = options;
  const url = withDefaultUser(db.url);
  // Also warms the page cache and PostgreSQL's buffers before anything is measured.
  log(`${db.name}: measuring the raw dump size (and warming the cache)…`);
  const raw = await countOutputBytes('pg_dump', ['-Fc', '-Z0', '-d', url]);

  const target = {
    name: 'bench-db',
    config: {
      kind: 'postgres' as const,
      url: db.url,
      environment: 'scratch' as const,
      pgDumpArgs: [],
    },
  };
  const localStore: BenchStoreSpec = { kind: 'local', root: join(work, 'store') };
  const plainDump = join(work, 'plain.dump');
  const runs: Record<string, Measurement[]> = { ceiling: [], plain: [], local: [], s3: [] };
  let local: LifeboatBackupOutcome | undefined;
  let s3: LifeboatBackupOutcome | undefined;
  for (let round = 1; round <= options.repeat; round++) {
    log(`postgres backups, round ${round} of ${options.repeat}…`);
    runs.ceiling?.push(
      await measureShell(`pg_dump -Fc -Z0 -d ${shellQuote(url)} > /dev/null`, {
        label: 'pg_dump -Z0',
      }),
    );
    await rm(plainDump, { force: true });
    runs.plain?.push(
      await measureShell(`pg_dump -Fc -d ${shellQuote(url)} > ${shellQuote(plainDump)}`, {
        label: 'pg_dump -Fc',
      }),
    );
    if (local) await rm(join(localStore.root, local.id), { recursive: true, force: true });
    const localRun = await measureLifeboatBackup(
      { id: newBackupId('bench-local'), target, store: localStore, recipient: age.recipient },
      age,
    );
    local = localRun.outcome;
    runs.local?.push(localRun.measured);
    if (options.s3) {
      const s3Run = await measureLifeboatBackup(
        { id: newBackupId('bench-s3'), target, store: options.s3, recipient: age.recipient },
        age,
      );
      s3 = s3Run.outcome;
      runs.s3?.push(s3Run.measured);
      await openBenchStore(options.s3).deleteAll(`${s3.id}/`);
    }
  }
  if (!local) throw new Error('no Lifeboat backup was taken');
  const rows: BenchRow[] = [
    row('pg_dump_ceiling', 'pg_dump -Fc -Z0 > /dev/null', raw, raw, runs.ceiling ?? []),
    row('pg_dump_gzip', 'pg_dump -Fc > file', raw, (await stat(plainDump)).size, runs.plain ?? []),
    row(
      'lifeboat_local',
      lifeboatLabel(local, 'backup → local'),
      raw,
      local.bytes,
      runs.local ?? [],
    ),
  ];
  if (s3)
    rows.push(row('lifeboat_s3', lifeboatLabel(s3, 'backup → S3'), raw, s3.bytes, runs.s3 ?? []));

  const expected = await countRows(db.url);
  const restores: Record<string, Measurement[]> = { plain: [], lifeboat: [] };
  const scratch = `${db.name}_restore`;
  try {
    for (let round = 1; round <= options.repeat; round++) {
      log(`restores, round ${round} of ${options.repeat}: pg_restore -j 2 of the plain dump…`);
      const plainUrl = await freshDatabase(options.serverUrl, scratch);
      restores.plain?.push(
        await measure('pg_restore', ['-j', '2', '--no-owner', '-d', plainUrl, plainDump], {
          label: 'pg_restore',
        }),
      );
      await assertRestored(plainUrl, expected, 'pg_restore of the plain dump');

      log(`restores, round ${round} of ${options.repeat}: Lifeboat restore…`);
      // The restorer creates the database itself, as it does for a restore into a new target.
      await dropDatabase(options.serverUrl, scratch);
      const lifeboatUrl = withDefaultUser(urlForDatabase(options.serverUrl, scratch));
      const restored = await measureLifeboatRestore(
        { backupId: local.id, store: localStore, destinationUrl: lifeboatUrl, stagingRoot: work },
        age,
      );
      restores.lifeboat?.push(restored.measured);
      await assertRestored(lifeboatUrl, expected, 'the Lifeboat restore');
    }
  } finally {
    await dropDatabase(options.serverUrl, scratch);
  }
  rows.push(
    row('restore_pg_restore', 'pg_restore -j 2 < pg_dump file', raw, raw, restores.plain ?? []),
    row(
      'restore_lifeboat',
      'Lifeboat restore: stage (sha256, age, zstd) + restorer (pg_restore -j, row counts)',
      raw,
      raw,
      restores.lifeboat ?? [],
    ),
  );
  return { rows, dumpBytes: raw };
}

/** Drops and recreates `name`: an empty database to restore into. */
async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  await dropDatabase(serverUrl, name);
  return withDefaultUser(await createDatabase(serverUrl, name));
}

/** Runs a command and counts its stdout without keeping it. */
function countOutputBytes(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(bytes) : reject(new Error(`${command} exited with code ${code}`)),
    );
  });
}

async function assertRestored(
  url: string,
  expected: Record<string, number>,
  what: string,
): Promise<void> {
  const actual = await countRows(url);
  for (const [table, rows] of Object.entries(expected)) {
    if (actual[table] !== rows) {
      throw new Error(`${what} has ${actual[table]} rows in ${table}, the source ${rows}`);
    }
  }
}
