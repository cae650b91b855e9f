import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import type { ComponentProgress } from '../../src/backup/progress.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import { configSchema, type LifeboatConfig } from '../../src/config/schema.ts';
import { planRestore } from '../../src/restore/plan-restore.ts';
import { restorerFor } from '../../src/restore/restorers/index.ts';
import { type RestoreResults, runRestore } from '../../src/restore/run-restore.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { verifyBackup } from '../../src/verify/verify-backup.ts';
import {
  createDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';

/** 63 bytes: the longest name PostgreSQL keeps whole. */
const LONG_NAME = `t${'x'.repeat(61)}y`;

/**
 * Tables whose names and shapes have each tripped a row check: inheritance (a parent's
 * `count(*)` includes its children), a newline in a name (`pg_restore --list` prints it as a
 * space), quotes, spaces, dots, unicode, upper case and a 63-byte name, partitions.
 */
const SCHEMA = `
  create table vehicles (id int, name text);
  create table cars (doors int) inherits (vehicles);
  create table sports_cars (top_speed int) inherits (cars);
  insert into vehicles select i, 'v' || i from generate_series(1, 10) i;
  insert into cars select i, 'c' || i, 4 from generate_series(1, 20) i;
  insert into sports_cars select i, 's' || i, 2, 300 from generate_series(1, 5) i;

  create table "line
break" (id int);
  insert into "line
break" select generate_series(1, 3);
  create table "line break" (id int);
  insert into "line break" select generate_series(1, 4);

  create schema "Odd ""Schema"".x";
  create table "Odd ""Schema"".x"."Mixed Case ""quoted"". dotted" (id int);
  insert into "Odd ""Schema"".x"."Mixed Case ""quoted"". dotted" select generate_series(1, 6);
  create table "Odd ""Schema"".x"."ünïcødé ✓ 表" (id int);
  insert into "Odd ""Schema"".x"."ünïcødé ✓ 表" select generate_series(1, 7);
  create table "${LONG_NAME}" (id int);
  insert into "${LONG_NAME}" select generate_series(1, 8);

  create table events (id int, at date not null) partition by range (at);
  create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
  create table events_rest partition of events default;
  insert into events select i, date '2025-06-01' + i from generate_series(1, 400) i;
`;

/** Each table with data and its own rows (not its children's). */
const OWN_ROWS: Record<string, number> = {
  'public.vehicles': 10,
  'public.cars': 20,
  'public.sports_cars': 5,
  'public.line\nbreak': 3,
  'public.line break': 4,
  'Odd "Schema".x.Mixed Case "quoted". dotted': 6,
  'Odd "Schema".x.ünïcødé ✓ 表': 7,
  [`public.${LONG_NAME}`]: 8,
  'public.events_2025': 213,
  'public.events_rest': 187,
};

describe('row checks of postgres backups (inheritance, odd names, progress)', () => {
  const sourceDb = uniqueName('lb_rows_src');
  const restoredDb = uniqueName('lb_rows_dst');
  let dir: string;
  let store: LocalBackupStore;
  let config: LifeboatConfig;
  let manifest: Manifest;

  const backup = (id: string, pgDumpArgs: string[] = []) =>
    runBackup({
      id,
      profile: 'rows',
      note: null,
      requestedBy: 'console:alice',
      targets: [
        {
          name: 'app-db',
          config: {
            kind: 'postgres',
            url: databaseUrl(sourceDb),
            environment: 'staging',
            pgDumpArgs,
          },
        },
      ],
      compression: 'zstd',
      store,
    });

  const restore = async (
    onProgress?: (p: ComponentProgress) => void,
    backup: Manifest = manifest,
  ): Promise<RestoreResults> => {
    const plan = planRestore({
      manifest: backup,
      config,
      selection: { into: { 'app-db': 'restored-db' } },
      describe: (c, d) => restorerFor(c.kind).describe(c, d),
    });
    return runRestore({
      restoreId: 'rs_rows',
      plan,
      manifest: backup,
      config,
      store,
      identities: [],
      stagingDirectory: join(dir, 'staging'),
      ...(onProgress ? { onProgress } : {}),
    });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-rows-'));
    await mkdir(join(dir, 'staging'));
    store = new LocalBackupStore({ root: join(dir, 'store') });
    await createDatabase(sourceDb);
    await sql(SCHEMA, sourceDb);
    config = configSchema.parse({
      targets: {
        'app-db': { kind: 'postgres', url: databaseUrl(sourceDb), environment: 'staging' },
        'restored-db': { kind: 'postgres', url: databaseUrl(restoredDb), environment: 'staging' },
      },
      profiles: { rows: { targets: ['app-db'] } },
    });
    manifest = await backup('bk_20261122T020000Z_rows_rc01');
  }, 60_000);

  afterAll(async () => {
    await dropDatabase(sourceDb);
    await dropDatabase(restoredDb);
    await rm(dir, { recursive: true, force: true });
  });

  const manifestRows = (backup: Manifest) => {
    const source = backup.components[0]?.source;
    if (source?.kind !== 'postgres') throw new Error('not a postgres component');
    return Object.fromEntries(source.tables.map((t) => [`${t.schema}.${t.table}`, t.rows]));
  };

  it("records each table's own rows in the manifest, children apart", () => {
    expect(manifestRows(manifest)).toEqual(OWN_ROWS);
  });

  it("counts each table's own rows when the fallback counts in the snapshot (--inserts)", async () => {
    const inserts = await backup('bk_20261122T030000Z_rows_rc02', ['--inserts']);
    expect(manifestRows(inserts)).toEqual(OWN_ROWS);
  });

  it("restores and checks every table's own rows, a parent's children apart", async () => {
    const results = await restore();
    expect(results.error).toBeNull();
    expect(results.ok).toBe(true);
    const checks = results.components[0]?.checks ?? [];
    expect(checks.find((c) => c.name === 'public.vehicles rows')).toEqual({
      name: 'public.vehicles rows',
      expected: 10,
      actual: 10,
      ok: true,
    });
  });

  it('checks every table the manifest lists, odd names included, each once', async () => {
    const results = await restore();
    const checks = results.components[0]?.checks ?? [];
    expect(checks.map((c) => c.name).sort()).toEqual(
      Object.keys(OWN_ROWS)
        .map((name) => `${name} rows`)
        .sort(),
    );
    expect(checks.find((c) => c.name === 'public.line\nbreak rows')).toMatchObject({
      expected: 3,
      actual: 3,
      ok: true,
    });
  });

  it('names a table the manifest lists and the dump holds no data for, instead of skipping it', async () => {
    const tampered: Manifest = {
      ...manifest,
      components: manifest.components.map((c) =>
        c.source.kind === 'postgres'
          ? {
              ...c,
              source: {
                ...c.source,
                tables: [...c.source.tables, { schema: 'public', table: 'ghost', rows: 12 }],
              },
            }
          : c,
      ),
    };
    const results = await restore(undefined, tampered);
    expect(results.ok).toBe(true);
    expect(results.components[0]?.checks).toHaveLength(total());
    expect(results.components[0]?.notChecked).toEqual([
      'public.ghost: the dump holds no data for it, though the manifest counted 12 rows',
    ]);
  });

  it('reports progress as tables restored of the tables the dump holds, ending at all of them', async () => {
    const messages: string[] = [];
    const results = await restore((p) => {
      if (p.message) messages.push(p.message);
    });
    expect(results.ok).toBe(true);
    const counts = messages.flatMap((m) => {
      const match = /restored the data of (\d+) of (\d+) tables/.exec(m);
      return match ? [[Number(match[1]), Number(match[2])] as const] : [];
    });
    const total = Object.keys(OWN_ROWS).length;
    expect(counts.length).toBeGreaterThan(0);
    expect(counts.every(([done, of]) => of === total && done <= of)).toBe(true);
    expect(counts.at(-1)).toEqual([total, total]);
  });

  it('passes level 2: every table of the manifest is in the archive, a newline too', async () => {
    const report = await verifyBackup({ store, backupId: manifest.id, level: 2 });
    expect(report.error).toBeNull();
    expect(report.components[0]?.structure).toEqual({ tables: total() });
  });

  it('passes level 3: the test restore counts each table on its own', async () => {
    const report = await verifyBackup({
      store,
      backupId: manifest.id,
      level: 3,
      restoreTest: { postgresUrl: databaseUrl('postgres') },
    });
    expect(report.error).toBeNull();
    expect(report.ok).toBe(true);
    expect(report.components[0]?.restoreChecks).toHaveLength(total());
  });
});

function total(): number {
  return Object.keys(OWN_ROWS).length;
}
