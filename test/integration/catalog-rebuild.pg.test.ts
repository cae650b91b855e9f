import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/run-backup.ts';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import {
  describeRebuild,
  MISSING_REASON,
  type RebuildReport,
  rebuildCatalog,
} from '../../src/catalog/rebuild-catalog.ts';
import { configSchema } from '../../src/config/schema.ts';
import { newBackupId } from '../../src/core/ids.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { keysOf, storeBackup } from '../support/stored-backups.ts';

const config = (dir: string) =>
  configSchema.parse({
    storage: { local: { path: join(dir, 'backups') } },
    targets: { files: { kind: 'directory', path: join(dir, 'files'), environment: 'staging' } },
    profiles: { files: { targets: ['files'] } },
  });

/** The catalog's backups and components, as comparable rows (timestamps of the run left out). */
async function catalogRows(database: string) {
  const backups = await sql(
    `SELECT id, profile, status, note, requested_by, targets, bytes, location, manifest, error
       FROM backups ORDER BY id`,
    database,
  );
  const components = await sql(
    'SELECT * FROM backup_components ORDER BY backup_id, name',
    database,
  );
  return { backups, components };
}

describe('lifeboat catalog rebuild', () => {
  const database = uniqueName('lb_rebuild');
  let dir: string;
  let catalog: Catalog;
  let store: LocalBackupStore;
  const taken: string[] = [];

  const rebuild = (cleanIncomplete = false): Promise<RebuildReport> =>
    rebuildCatalog({ store, inventory: catalog.inventory, cleanIncomplete });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-rebuild-'));
    await mkdir(join(dir, 'files/nested'), { recursive: true });
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    await writeFile(join(dir, 'files/nested/b.bin'), Buffer.alloc(32_000, 7));
    store = new LocalBackupStore({ root: join(dir, 'backups') });
    catalog = await openCatalog(databaseUrl(database));
    await catalog.migrate();
    const files = config(dir).targets.files;
    if (!files) throw new Error('no files target');
    for (const day of ['01', '02', '03']) {
      const id = newBackupId('files', new Date(`2026-10-${day}T02:00:00Z`));
      await catalog.backups.createQueued({
        id,
        profile: 'files',
        note: `day ${day}`,
        requestedBy: 'console:alice',
        targets: ['files'],
      });
      await catalog.backups.markRunning(id, { attempt: 1 });
      const manifest = await runBackup({
        id,
        profile: 'files',
        note: `day ${day}`,
        requestedBy: 'console:alice',
        targets: [{ name: 'files', config: files }],
        compression: 'zstd',
        store,
      });
      await catalog.backups.markCompleted(id, manifest, store.describe(id));
      taken.push(id);
    }
  });

  afterAll(async () => {
    await catalog?.close();
    await dropDatabase(database);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('puts back every backup and component from the manifests after the rows are gone', async () => {
    const before = await catalogRows(database);
    expect(before.backups).toHaveLength(3);
    expect(before.components).toHaveLength(3);
    await sql('DELETE FROM backups', database);
    expect((await catalogRows(database)).backups).toEqual([]);

    const report = await rebuild();
    expect(report.recorded.map((r) => [r.id, r.outcome])).toEqual(
      taken.map((id) => [id, 'inserted']),
    );
    expect(report).toMatchObject({ missing: [], incomplete: [], invalid: [] });
    expect(await catalogRows(database)).toEqual(before);
    // The backups are restorable again: the latest is found.
    expect((await catalog.backups.latestCompleted('files'))?.id).toBe(taken[2]);
    const [row] = await sql<{ created_at: Date }>(
      'SELECT created_at FROM backups WHERE id = $1',
      database,
      [taken[0]],
    );
    expect(row?.created_at.toISOString()).toBe('2026-10-01T02:00:00.000Z');
  });

  it('changes nothing when run again', async () => {
    const before = await catalogRows(database);
    const report = await rebuild();
    expect(report.recorded.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(await catalogRows(database)).toEqual(before);
  });

  it('makes a pruned or failed backup whose manifest is in storage completed again', async () => {
    const [first, second] = taken as [string, string];
    await catalog.retention.markPruned(first, 'by mistake');
    await sql(
      "UPDATE backups SET status = 'failed', error = 'lost track' WHERE id = $1",
      database,
      [second],
    );
    const report = await rebuild();
    expect(report.recorded.filter((r) => r.outcome === 'updated').map((r) => r.id)).toEqual([
      first,
      second,
    ]);
    for (const id of [first, second]) {
      const record = await catalog.backups.get(id);
      expect(record).toMatchObject({ status: 'completed', error: null, prunedAt: null });
    }
  });

  it('marks a completed backup whose objects are gone as pruned, missing from storage', async () => {
    const gone = taken[0] as string;
    await store.deleteAll(`${gone}/`);
    const report = await rebuild();
    expect(report.missing).toEqual([gone]);
    expect(await catalog.backups.get(gone)).toMatchObject({
      status: 'pruned',
      prunedReason: MISSING_REASON,
    });
    expect((await rebuild()).missing).toEqual([]);
  });

  it('leaves alone a completed backup the catalog records in another store', async () => {
    const other = new LocalBackupStore({ root: join(dir, 'other-backups') });
    const files = config(dir).targets.files;
    if (!files) throw new Error('no files target');
    const id = newBackupId('files', new Date('2026-10-05T02:00:00Z'));
    await catalog.backups.createQueued({
      id,
      profile: 'files',
      note: null,
      requestedBy: 'console:tester',
      targets: ['files'],
    });
    await catalog.backups.markRunning(id, { attempt: 1 });
    const manifest = await runBackup({
      id,
      profile: 'files',
      note: null,
      requestedBy: 'console:tester',
      targets: [{ name: 'files', config: files }],
      compression: 'zstd',
      store: other,
    });
    await catalog.backups.markCompleted(id, manifest, other.describe(id));

    const report = await rebuild();
    expect(report.missing).toEqual([]);
    expect(report.elsewhere).toEqual([{ id, location: other.describe(id) }]);
    expect(describeRebuild(report, false).join('\n')).toContain('recorded in another store');
    expect(await catalog.backups.get(id)).toMatchObject({ status: 'completed' });
  });

  it('reports a corrupt manifest and goes on with the others', async () => {
    const corrupt = newBackupId('files', new Date('2026-10-05T02:00:00Z'));
    await store.putBytes(`${corrupt}/files.tar.zst`, Buffer.from('x'));
    await store.putBytes(`${corrupt}/manifest.json`, Buffer.from('{"format": "nope"'));
    const report = await rebuild(true);
    expect(report.invalid).toEqual([
      {
        id: corrupt,
        error: expect.stringContaining(`the manifest of backup ${corrupt} is invalid`),
      },
    ]);
    expect(report.recorded).toHaveLength(2);
    // Left for a person to look at, even with --clean-incomplete.
    expect(await keysOf(store, corrupt)).toHaveLength(2);
    expect(await catalog.backups.get(corrupt)).toBeUndefined();
    await store.deleteAll(`${corrupt}/`);
  });

  it('reports a manifest whose object name leads out of its backup, and records nothing of it', async () => {
    const crafted = await storeBackup({
      store,
      profile: 'files',
      at: new Date('2026-10-06T02:00:00Z'),
    });
    const [component] = crafted.manifest.components;
    await store.putBytes(
      `${crafted.id}/manifest.json`,
      Buffer.from(
        JSON.stringify({
          ...crafted.manifest,
          components: [{ ...component, object: '../bk_20261006T020000Z_files_zzzz/x' }],
        }),
      ),
    );
    const report = await rebuild();
    expect(report.invalid).toEqual([
      { id: crafted.id, error: expect.stringContaining('components.0.object') },
    ]);
    expect(await catalog.backups.get(crafted.id)).toBeUndefined();
    await store.deleteAll(`${crafted.id}/`);
  });

  it('reports incomplete backups, and cleans only the old ones nobody is writing, with the flag', async () => {
    const stale = newBackupId('files', new Date('2026-10-04T02:00:00Z'));
    const running = newBackupId('files', new Date('2026-10-04T03:00:00Z'));
    const young = newBackupId('files', new Date());
    for (const id of [stale, running, young]) {
      await store.putBytes(`${id}/files.tar.zst`, Buffer.alloc(2048, 1));
    }
    await catalog.backups.createQueued({
      id: running,
      profile: 'files',
      note: null,
      requestedBy: 'console:bob',
      targets: ['files'],
    });
    await catalog.backups.markRunning(running, { attempt: 1 });

    const reported = await rebuild(false);
    expect(reported.incomplete.map((p) => [p.id, p.action, p.objects, p.bytes])).toEqual([
      [stale, 'reported', [`${stale}/files.tar.zst`], 2048],
      [running, 'kept-active', [`${running}/files.tar.zst`], 2048],
      [young, 'kept-young', [`${young}/files.tar.zst`], 2048],
    ]);
    const text = describeRebuild(reported, false).join('\n');
    expect(text).toContain(`${stale}: 1 object(s), 2.0 KiB — kept`);
    expect(text).toContain(
      `${running}: 1 object(s), 2.0 KiB — kept, never cleaned: the catalog has it running`,
    );
    expect(text).toContain(
      `${young}: 1 object(s), 2.0 KiB — kept, never cleaned: younger than 1 h`,
    );
    expect(text).toContain('Run with --clean-incomplete');
    for (const id of [stale, running, young]) expect(await keysOf(store, id)).toHaveLength(1);

    const cleaned = await rebuild(true);
    expect(cleaned.incomplete.map((p) => [p.id, p.action])).toEqual([
      [stale, 'deleted'],
      [running, 'kept-active'],
      [young, 'kept-young'],
    ]);
    expect(await keysOf(store, stale)).toEqual([]);
    expect(await keysOf(store, running)).toHaveLength(1);
    expect(await keysOf(store, young)).toHaveLength(1);
    expect((await catalog.backups.get(running))?.status).toBe('running');
    await store.deleteAll(`${running}/`);
    await store.deleteAll(`${young}/`);
  });

  it('runs as `lifeboat catalog rebuild`, exiting 0 with the report', async () => {
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  files: { targets: [files] }
`,
    );
    const stale = newBackupId('files', new Date('2026-10-06T02:00:00Z'));
    await store.putBytes(`${stale}/files.tar.zst`, Buffer.alloc(10, 1));
    await sql('DELETE FROM backups', database);

    const result = await runLifeboat(['catalog', 'rebuild', '--clean-incomplete'], {
      cwd: dir,
      env: { DATABASE_URL: databaseUrl(database) },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Catalog rebuilt from ${store.root}`);
    expect(result.stdout).toContain(
      '2 complete backup(s) in storage: 2 added, 0 updated, 0 already right',
    );
    expect(result.stdout).toContain(`${stale}: 1 object(s), 10 B — deleted`);
    expect(await keysOf(store, stale)).toEqual([]);
    expect((await catalog.backups.list({ limit: 10 })).map((b) => b.id)).toEqual([
      taken[2],
      taken[1],
    ]);
  });
});
