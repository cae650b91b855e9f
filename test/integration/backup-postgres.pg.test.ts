import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest, TableRowCount } from '../../src/backup/manifest.ts';
import type { ComponentProgress } from '../../src/backup/progress.ts';
import { readManifest } from '../../src/backup/read-manifest.ts';
import { type BackupTarget, runBackup } from '../../src/backup/run-backup.ts';
import { PostgresSource } from '../../src/backup/sources/postgres-source.ts';
import type { Compression } from '../../src/config/schema.ts';
import type { BackupStore } from '../../src/storage/backup-store.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { withFirstChunkHook } from '../doubles/first-chunk-hook-store.ts';
import { filesUnder, keysOf, rejection } from '../support/backup-outcomes.ts';
import {
  createPgbenchDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';

const run = promisify(execFile);

/** The tables the fixture database holds, in the order the manifest lists them. */
const EXPECTED_TABLES: readonly { schema: string; table: string }[] = [
  { schema: 'Odd Schema', table: 'Mixed "Quoted" Table' },
  { schema: 'Odd Schema', table: 'empty' },
  { schema: 'public', table: 'events_2025' },
  { schema: 'public', table: 'events_2026' },
  { schema: 'public', table: 'pgbench_accounts' },
  { schema: 'public', table: 'pgbench_branches' },
  { schema: 'public', table: 'pgbench_history' },
  { schema: 'public', table: 'pgbench_tellers' },
];

function quoted(schema: string, table: string): string {
  const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
  return `${ident(schema)}.${ident(table)}`;
}

async function liveCounts(database: string): Promise<TableRowCount[]> {
  const counts: TableRowCount[] = [];
  for (const { schema, table } of EXPECTED_TABLES) {
    const rows = await sql<{ n: string }>(
      `select count(*) as n from only ${quoted(schema, table)}`,
      database,
    );
    counts.push({ schema, table, rows: Number(rows[0]?.n) });
  }
  return counts;
}

/** Waits until no session of `database` runs under `application` (they end asynchronously). */
async function sessionsGone(database: string, application: string): Promise<number> {
  let left = 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    const rows = await sql<{ n: string }>(
      'select count(*) as n from pg_stat_activity where datname = $1 and application_name like $2',
      'postgres',
      [database, application],
    );
    left = Number(rows[0]?.n);
    if (left === 0) return 0;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return left;
}

describe('backing up a PostgreSQL database', () => {
  const database = uniqueName('lb_pgsrc');
  const restored = uniqueName('lb_pgrst');
  let work: string;
  let store: LocalBackupStore;
  let storeRoot: string;
  let zstdManifest: Manifest;
  let backupNumber = 0;
  /** The URL carries a password: trust auth ignores it, and it must never reach the manifest. */
  let url: string;

  const appDb = (overrides: { url?: string; pgDumpArgs?: string[] } = {}): BackupTarget => ({
    name: 'app-db',
    config: {
      kind: 'postgres',
      url: overrides.url ?? url,
      environment: 'production',
      pgDumpArgs: overrides.pgDumpArgs ?? [],
    },
  });

  const backup = (
    targets: BackupTarget[],
    options: {
      compression?: Compression;
      store?: BackupStore;
      signal?: AbortSignal;
      onProgress?: (p: ComponentProgress) => void;
    } = {},
  ) =>
    runBackup({
      id: `bk_20261122T020000Z_db_${String(++backupNumber).padStart(4, '0')}`,
      profile: 'db',
      note: 'before the migration',
      requestedBy: 'console:alice',
      targets,
      compression: options.compression ?? 'zstd',
      store: options.store ?? store,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });

  /** The component's dump, decompressed into a file pg_restore can read. */
  const dumpFile = async (manifest: Manifest): Promise<string> => {
    const component = manifest.components[0];
    if (!component) throw new Error('no component');
    const stored = join(storeRoot, manifest.id, component.object);
    const out = join(work, `${manifest.id}.dump`);
    if (component.compression === 'zstd') await run('zstd', ['-d', '-q', '-f', stored, '-o', out]);
    else if (component.compression === 'gzip')
      await run('sh', ['-c', 'gzip -dc "$0" > "$1"', stored, out]);
    else return stored;
    return out;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'lifeboat-pg-backup-'));
    storeRoot = join(work, 'store');
    store = new LocalBackupStore({ root: storeRoot });
    await createPgbenchDatabase(database, 2);
    await sql(
      `create schema "Odd Schema";
       create table "Odd Schema"."Mixed ""Quoted"" Table" ("Id" int primary key, "Some Text" text);
       insert into "Odd Schema"."Mixed ""Quoted"" Table" select g, 'row ' || g from generate_series(1, 37) g;
       create table "Odd Schema".empty (id int);
       create table events (at date not null, what text) partition by range (at);
       create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
       create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01');
       insert into events select date '2025-06-01' + g, 'e' from generate_series(0, 299) g;
       create temporary table scratch (id int);`,
      database,
    );
    const parsed = new URL(databaseUrl(database));
    parsed.username = 'root';
    parsed.password = 'hunter2';
    url = parsed.toString();
    zstdManifest = await backup([appDb()]);
  });

  afterAll(async () => {
    await dropDatabase(database);
    await dropDatabase(restored);
    await rm(work, { recursive: true, force: true });
  });

  it('records the exact row count of every user table, partitions as their leaves', async () => {
    const source = zstdManifest.components[0]?.source;
    if (source?.kind !== 'postgres') throw new Error('expected a postgres source');
    expect(source.tables).toEqual(await liveCounts(database));
    expect(source.tables.find((t) => t.table === 'pgbench_accounts')?.rows).toBe(200_000);
    expect(source.tables.find((t) => t.table === 'Mixed "Quoted" Table')?.rows).toBe(37);
    expect(source.tables.map((t) => t.table)).not.toContain('events');
  });

  it('describes the source without the password', async () => {
    const component = zstdManifest.components[0];
    expect(component?.source).toMatchObject({
      kind: 'postgres',
      url: `postgres://root@127.0.0.1:5432/${database}`,
      database,
      serverVersion: expect.stringMatching(/^15\.\d+$/),
      format: 'custom',
      snapshot: expect.stringMatching(/^[0-9A-F]+-[0-9A-F]+-\d+$/),
    });
    expect(component?.tools).toEqual({ pg_dump: expect.stringMatching(/^15\.\d+$/) });
    const stored = await readFile(join(storeRoot, zstdManifest.id, 'manifest.json'), 'utf8');
    expect(stored).not.toContain('hunter2');
  });

  it('stores the dump with the sha256 and size the manifest names, manifest last', async () => {
    const component = zstdManifest.components[0];
    expect(component?.object).toBe('app-db.dump.zst');
    const stored = await readFile(join(storeRoot, zstdManifest.id, 'app-db.dump.zst'));
    expect(component?.bytes).toBe(stored.length);
    expect(component?.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
    expect(component?.rawBytes).toBeGreaterThan(stored.length);
    expect(await keysOf(store, `${zstdManifest.id}/`)).toEqual([
      `${zstdManifest.id}/app-db.dump.zst`,
      `${zstdManifest.id}/manifest.json`,
    ]);
    expect(await readManifest(store, zstdManifest.id)).toEqual(zstdManifest);
    expect(zstdManifest).toMatchObject({
      profile: 'db',
      note: 'before the migration',
      requestedBy: 'console:alice',
      storage: [{ store: 'local', location: join(storeRoot, zstdManifest.id) }],
    });
  });

  it('produces a zstd dump that pg_restore --list accepts after zstd -d', async () => {
    const { stdout } = await run('pg_restore', ['--list', await dumpFile(zstdManifest)]);
    for (const table of [
      'pgbench_accounts',
      'pgbench_branches',
      'pgbench_tellers',
      'pgbench_history',
    ]) {
      expect(stdout).toMatch(new RegExp(`TABLE DATA public ${table} `));
    }
    expect(stdout).toContain('TABLE DATA Odd Schema Mixed "Quoted" Table');
  });

  it.each(['gzip', 'none'] as const)(
    'produces a %s dump that pg_restore --list accepts',
    async (compression) => {
      const manifest = await backup([appDb()], { compression });
      const object = manifest.components[0]?.object;
      expect(object).toBe(compression === 'gzip' ? 'app-db.dump.gz' : 'app-db.dump');
      const { stdout } = await run('pg_restore', ['--list', await dumpFile(manifest)]);
      expect(stdout).toMatch(/TABLE DATA public pgbench_accounts /);
    },
  );

  it('counts rows in the dump snapshot: rows written while the dump streams are in neither', async () => {
    const hooked = withFirstChunkHook(
      store,
      (key) => key.endsWith('.dump'),
      () =>
        sql(
          `insert into pgbench_history (tid, bid, aid, delta, mtime) select 1, 1, g, 0, now() from generate_series(1, 500) g`,
          database,
        ).then(() => {}),
    );
    const manifest = await backup([appDb()], { compression: 'none', store: hooked });
    expect(hooked.hookRan()).toBe(true);
    const source = manifest.components[0]?.source;
    if (source?.kind !== 'postgres') throw new Error('expected a postgres source');
    const history = (await liveCounts(database)).find((t) => t.table === 'pgbench_history');
    expect(history?.rows).toBe(500);
    expect(source.tables.find((t) => t.table === 'pgbench_history')?.rows).toBe(0);

    await sql(`create database ${restored}`);
    await run('pg_restore', [
      '--no-owner',
      `--dbname=${databaseUrl(restored)}`,
      await dumpFile(manifest),
    ]);
    expect(await liveCounts(restored)).toEqual(source.tables);
  });

  it('reports progress for the component, ending with done', async () => {
    const reports: ComponentProgress[] = [];
    const manifest = await backup([appDb()], { onProgress: (p) => reports.push(p) });
    expect(reports.map((p) => p.phase)).toContain('running');
    expect(reports.at(-1)).toMatchObject({
      component: 'app-db',
      phase: 'done',
      rawBytes: manifest.components[0]?.rawBytes,
      storedBytes: manifest.components[0]?.bytes,
    });
  });

  describe('when it fails', () => {
    it('names the component and the database when the database does not exist', async () => {
      const before = await filesUnder(storeRoot);
      const error = await rejection(backup([appDb({ url: databaseUrl('lb_no_such_database') })]));
      expect(error.code).toBe('postgres_unreachable');
      expect(error.message).toMatch(/^backup of app-db failed: /);
      expect(error.message).toContain('database "lb_no_such_database" does not exist');
      expect(await filesUnder(storeRoot)).toEqual(before);
    });

    it('reports pg_dump failing with the end of its stderr', async () => {
      const id = `bk_20261122T020000Z_db_${String(backupNumber + 1).padStart(4, '0')}`;
      const error = await rejection(backup([appDb({ pgDumpArgs: ['--table=no_such_table'] })]));
      expect(error.code).toBe('pg_dump_failed');
      expect(error.message).toMatch(/^backup of app-db failed: pg_dump exited with code 1: /);
      expect(error.message).toContain('no matching tables were found');
      expect(await keysOf(store, `${id}/`)).toEqual([]);
    });

    it('leaves nothing when pg_dump is killed mid-stream', async () => {
      const id = `bk_20261122T020000Z_db_${String(backupNumber + 1).padStart(4, '0')}`;
      const terminated: number[] = [];
      const hooked = withFirstChunkHook(
        store,
        (key) => key.endsWith('.dump'),
        async () => {
          const rows = await sql<{ ok: boolean }>(
            `select pg_terminate_backend(pid) as ok from pg_stat_activity
             where datname = $1 and application_name = 'pg_dump'`,
            'postgres',
            [database],
          );
          terminated.push(rows.length);
        },
      );
      const error = await rejection(backup([appDb()], { compression: 'none', store: hooked }));
      expect(terminated).toEqual([1]);
      expect(error.code).toBe('pg_dump_failed');
      expect(error.message).toMatch(/^backup of app-db failed: pg_dump exited with code 1: /);
      expect(await keysOf(store, `${id}/`)).toEqual([]);
      expect((await filesUnder(join(storeRoot))).filter((f) => f.includes(id))).toEqual([]);
      expect(await sessionsGone(database, 'lifeboat backup %')).toBe(0);
    });

    it('deletes the first component when the second one fails', async () => {
      const files = join(work, 'files');
      await mkdir(files, { recursive: true });
      await writeFile(join(files, 'a.txt'), 'alpha\n');
      const id = `bk_20261122T020000Z_db_${String(backupNumber + 1).padStart(4, '0')}`;
      const done: string[] = [];
      const error = await rejection(
        backup(
          [
            {
              name: 'uploads',
              config: {
                kind: 'directory',
                path: files,
                include: [],
                exclude: [],
                environment: 'production',
              },
            },
            appDb({ pgDumpArgs: ['--table=no_such_table'] }),
          ],
          { onProgress: (p) => p.phase === 'done' && done.push(p.component) },
        ),
      );
      expect(done).toEqual(['uploads']);
      expect(error.message).toMatch(/^backup of app-db failed: /);
      expect(await keysOf(store, `${id}/`)).toEqual([]);
      expect((await filesUnder(storeRoot)).filter((f) => f.includes(id))).toEqual([]);
    });

    it('leaves nothing and ends the dump when aborted mid-stream', async () => {
      const id = `bk_20261122T020000Z_db_${String(backupNumber + 1).padStart(4, '0')}`;
      const controller = new AbortController();
      const hooked = withFirstChunkHook(
        store,
        (key) => key.endsWith('.dump.zst'),
        () => controller.abort(new Error('cancelled by console:bob')),
      );
      const error = await rejection(
        backup([appDb()], { store: hooked, signal: controller.signal }),
      );
      expect(hooked.hookRan()).toBe(true);
      expect(error.code).toBe('backup_aborted');
      expect(error.message).toBe('backup of app-db was cancelled: cancelled by console:bob');
      expect(await keysOf(store, `${id}/`)).toEqual([]);
      expect((await filesUnder(storeRoot)).filter((f) => f.includes(id))).toEqual([]);
      expect(await sessionsGone(database, 'pg_dump')).toBe(0);
      expect(await sessionsGone(database, 'lifeboat backup %')).toBe(0);
    });

    it('refuses a pg_dump older than the server, naming both versions', async () => {
      const fake = join(work, 'pg_dump_14');
      await writeFile(fake, '#!/bin/sh\necho "pg_dump (PostgreSQL) 14.9 (Debian 14.9-1)"\n');
      await chmod(fake, 0o755);
      const source = new PostgresSource('app-db', appDb().config as never, { pgDump: fake });
      const error = await rejection(source.open(new AbortController().signal));
      expect(error.code).toBe('pg_dump_too_old');
      expect(error.message).toMatch(
        /^pg_dump 14\.9 is older than the server \(PostgreSQL 15\.\d+\)/,
      );
      expect(await sessionsGone(database, 'lifeboat backup %')).toBe(0);
    });
  });
});
