import { createHash } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  truncate,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import { type BackupTarget, runBackup } from '../../src/backup/run-backup.ts';
import { configSchema, type LifeboatConfig } from '../../src/config/schema.ts';
import { generateAgeIdentity, parseAgeIdentity } from '../../src/crypto/age/index.ts';
import { planRestore, type RestoreSelection } from '../../src/restore/plan-restore.ts';
import { restorerFor } from '../../src/restore/restorers/index.ts';
import { type RestoreResults, runRestore } from '../../src/restore/run-restore.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import {
  createPgbenchDatabase,
  databaseExists,
  databaseUrl,
  dropDatabase,
  sql,
  tableChecksums,
  uniqueName,
} from '../support/databases.ts';

/** Tables of every common type, NULLs included, next to pgbench's. */
const VARIED_SCHEMA = `
  create schema "Odd Schema";
  create table "Odd Schema"."Mixed ""Quoted"" Table" (
    id serial primary key,
    label text,
    doc jsonb,
    blob bytea,
    amount numeric(20, 6),
    at timestamptz,
    tags text[],
    scores int[],
    flag boolean,
    day date,
    uid uuid
  );
  insert into "Odd Schema"."Mixed ""Quoted"" Table"
    (label, doc, blob, amount, at, tags, scores, flag, day, uid)
  select
    case when i % 7 = 0 then null else 'row ' || i || E' with \\t tab, ''quote'' and ünïcödé' end,
    case when i % 5 = 0 then null else jsonb_build_object('i', i, 'nested', jsonb_build_array(i, 'x', null)) end,
    case when i % 3 = 0 then null else decode(md5(i::text), 'hex') end,
    case when i % 4 = 0 then null else i * 1234.567891 end,
    case when i % 6 = 0 then null else timestamptz '2026-01-01 00:00:00+00' + i * interval '37 minutes' end,
    case when i % 8 = 0 then null else array['a' || i, null, 'c'] end,
    array[i, -i, 0],
    case when i % 2 = 0 then null else i % 3 = 0 end,
    date '2026-01-01' + i,
    md5(i::text)::uuid
  from generate_series(1, 2000) i;
  create table "Odd Schema".empty (id int);
  create table public.skipped_audit (id int);
  insert into public.skipped_audit select generate_series(1, 50);
  create view public.account_totals as select bid, sum(abalance) as total from pgbench_accounts group by bid;
`;

interface TreeEntry {
  readonly type: 'file' | 'dir' | 'link';
  readonly mode: number;
  readonly mtimeMs: number;
  readonly content: string;
}

/** Every entry under `root`: type, mode, mtime (to the second) and content or link target. */
async function describeTree(root: string): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {};
  const visit = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const info = await lstat(path);
      const key = relative(root, path);
      const base = { mode: info.mode & 0o7777, mtimeMs: Math.floor(info.mtimeMs / 1000) * 1000 };
      if (info.isSymbolicLink())
        out[key] = { type: 'link', ...base, content: await readlink(path) };
      else if (info.isDirectory()) {
        out[key] = { type: 'dir', ...base, content: '' };
        await visit(path);
      } else {
        const bytes = await readFile(path);
        out[key] = {
          type: 'file',
          ...base,
          content: createHash('sha256').update(bytes).digest('hex'),
        };
      }
    }
  };
  await visit(root);
  return out;
}

/** The error `work` rejects with; fails the test when it resolves. */
async function failure(work: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the restore to be refused, and it ran');
}

describe('restoring backups (real PostgreSQL, tar, staging)', () => {
  let dir: string;
  let store: LocalBackupStore;
  const sourceDb = uniqueName('lb_rs_src');
  const freshDb = uniqueName('lb_rs_fresh');
  const untouchedDb = uniqueName('lb_rs_untouched');
  const prodDb = uniqueName('lb_rs_prod');
  const databases = [sourceDb, freshDb, untouchedDb, prodDb];
  let config: LifeboatConfig;
  let manifest: Manifest;
  let sourceSums: Record<string, string>;
  let sourceTree: Record<string, TreeEntry>;

  const backupTargets = (): BackupTarget[] =>
    ['app-db', 'files'].map((name) => ({
      name,
      config: config.targets[name] ?? (undefined as never),
    }));

  const restore = async (
    selection: RestoreSelection,
    backup: Manifest = manifest,
    extra: Partial<Parameters<typeof runRestore>[0]> = {},
  ): Promise<RestoreResults> => {
    const plan = planRestore({
      manifest: backup,
      config,
      selection,
      describe: (c, d) => restorerFor(c.kind).describe(c, d),
    });
    return runRestore({
      restoreId: 'rs_test',
      plan,
      manifest: backup,
      config,
      store,
      identities: [],
      stagingDirectory: join(dir, 'staging'),
      ...extra,
    });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-restore-'));
    await mkdir(join(dir, 'staging'));
    store = new LocalBackupStore({ root: join(dir, 'store') });
    await createPgbenchDatabase(sourceDb, 1);
    await sql(VARIED_SCHEMA, sourceDb);

    const files = join(dir, 'files');
    await mkdir(join(files, 'nested/deeper'), { recursive: true });
    await writeFile(join(files, 'a.txt'), 'alpha\n');
    await writeFile(join(files, 'nested/b.bin'), Buffer.alloc(200_000, 7));
    await writeFile(join(files, 'nested/deeper/secret.key'), 'k', { mode: 0o600 });
    await writeFile(join(files, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    await symlink('nested/b.bin', join(files, 'latest'));
    await chmod(join(files, 'nested/deeper'), 0o750);
    const old = new Date('2024-02-29T12:34:56Z');
    for (const path of ['a.txt', 'nested/b.bin', 'run.sh', 'nested/deeper/secret.key']) {
      await utimes(join(files, path), old, old);
    }
    await utimes(join(files, 'nested/deeper'), old, old);

    config = configSchema.parse({
      targets: {
        'app-db': {
          kind: 'postgres',
          url: databaseUrl(sourceDb),
          environment: 'staging',
          pgDumpArgs: ['--exclude-table=public.skipped_audit'],
        },
        files: { kind: 'directory', path: files, environment: 'staging' },
        'fresh-db': { kind: 'postgres', url: databaseUrl(freshDb), environment: 'staging' },
        'untouched-db': { kind: 'postgres', url: databaseUrl(untouchedDb), environment: 'scratch' },
        'prod-db': { kind: 'postgres', url: databaseUrl(prodDb), environment: 'production' },
        'restored-files': {
          kind: 'directory',
          path: join(dir, 'restored-files'),
          environment: 'development',
        },
        'untouched-files': {
          kind: 'directory',
          path: join(dir, 'untouched-files'),
          environment: 'development',
        },
      },
      profiles: { both: { targets: ['app-db', 'files'] } },
    });
    manifest = await runBackup({
      id: 'bk_20261122T020000Z_both_rs01',
      profile: 'both',
      note: null,
      requestedBy: 'console:alice',
      targets: backupTargets(),
      compression: 'zstd',
      store,
    });
    sourceSums = await tableChecksums(sourceDb);
    sourceTree = await describeTree(files);
  }, 120_000);

  afterAll(async () => {
    for (const db of databases) await dropDatabase(db);
    await rm(dir, { recursive: true, force: true });
  });

  it('restores a database into a fresh one with identical contents, table by table', async () => {
    expect(await databaseExists(freshDb)).toBe(false);
    const results = await restore({ components: ['app-db'], into: { 'app-db': 'fresh-db' } });

    expect(results.error).toBeNull();
    expect(results.ok).toBe(true);
    const [db] = results.components;
    expect(db).toMatchObject({ component: 'app-db', destination: 'fresh-db', status: 'restored' });
    expect(db?.tools.pg_restore).toMatch(/^\d+\.\d+/);

    const restoredSums = await tableChecksums(freshDb);
    const { 'public.skipped_audit': skipped, ...expected } = sourceSums;
    expect(skipped).toMatch(/^50 rows,/);
    expect(restoredSums).toEqual(expected);
    expect(Object.keys(restoredSums)).toContain('Odd Schema.Mixed "Quoted" Table');
    const views = await sql('select 1 from pg_views where viewname = $1', freshDb, [
      'account_totals',
    ]);
    expect(views).toHaveLength(1);
  });

  it('checks exact row counts of the tables the dump holds, and only those', async () => {
    const results = await restore({ components: ['app-db'], into: { 'app-db': 'fresh-db' } });
    const checks = results.components[0]?.checks ?? [];
    const names = checks.map((c) => c.name);
    expect(names).toContain('public.pgbench_accounts rows');
    expect(names).toContain('Odd Schema.Mixed "Quoted" Table rows');
    expect(names).toContain('Odd Schema.empty rows');
    expect(names).not.toContain('public.skipped_audit rows');
    expect(checks.find((c) => c.name === 'public.pgbench_accounts rows')).toEqual({
      name: 'public.pgbench_accounts rows',
      expected: 100_000,
      actual: 100_000,
      ok: true,
    });
    expect(checks.every((c) => c.ok)).toBe(true);
  });

  it('restores over an existing database, replacing changed rows and dropped tables', async () => {
    await sql(
      'delete from pgbench_accounts where aid <= 500; drop table "Odd Schema".empty; update pgbench_branches set bbalance = 99',
      freshDb,
    );
    const results = await restore({ components: ['app-db'], into: { 'app-db': 'fresh-db' } });
    expect(results.ok).toBe(true);
    const { 'public.skipped_audit': _skipped, ...expected } = sourceSums;
    expect(await tableChecksums(freshDb)).toEqual(expected);
  });

  it('reports a count that does not match the manifest as a failed check', async () => {
    const tampered: Manifest = {
      ...manifest,
      components: manifest.components.map((c) =>
        c.source.kind === 'postgres'
          ? {
              ...c,
              source: {
                ...c.source,
                tables: c.source.tables.map((t) =>
                  t.table === 'pgbench_tellers' ? { ...t, rows: t.rows + 1 } : t,
                ),
              },
            }
          : c,
      ),
    };
    const results = await restore(
      { components: ['app-db'], into: { 'app-db': 'fresh-db' } },
      tampered,
    );
    expect(results.ok).toBe(false);
    expect(results.error).toContain('public.pgbench_tellers rows: 11 expected, 10 found');
    expect(results.components[0]?.checks.find((c) => !c.ok)?.name).toBe(
      'public.pgbench_tellers rows',
    );
  });

  it('restores a directory with its contents, modes, mtimes and links', async () => {
    const results = await restore({
      components: ['files'],
      into: { files: 'restored-files' },
    });
    expect(results.error).toBeNull();
    const restored = await describeTree(join(dir, 'restored-files'));
    expect(restored).toEqual(sourceTree);
    expect(restored['nested/deeper/secret.key']?.mode).toBe(0o600);
    expect(restored['run.sh']?.mode).toBe(0o755);
    expect(restored['nested/deeper']?.mode).toBe(0o750);
    expect(restored['a.txt']?.mtimeMs).toBe(Date.parse('2024-02-29T12:34:56Z'));
    const checks = results.components[0]?.checks ?? [];
    expect(checks.map((c) => [c.name, c.expected, c.actual])).toEqual([
      ['files', 5, 5],
      ['directories', 2, 2],
      ['bytes', 6 + 200_000 + 1 + 18, 6 + 200_000 + 1 + 18],
    ]);
  });

  it('restores over a non-empty directory: backed-up files replaced, others left', async () => {
    const target = join(dir, 'restored-files');
    await writeFile(join(target, 'a.txt'), 'changed since the backup\n');
    await writeFile(join(target, 'new-upload.jpg'), 'not in the backup');
    const outside = join(dir, 'outside.txt');
    await writeFile(outside, 'must stay');
    await unlink(join(target, 'run.sh'));
    await symlink(outside, join(target, 'run.sh'));

    const results = await restore({ components: ['files'], into: { files: 'restored-files' } });
    expect(results.ok).toBe(true);
    expect(await readFile(join(target, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(await readFile(join(target, 'new-upload.jpg'), 'utf8')).toBe('not in the backup');
    expect((await lstat(join(target, 'run.sh'))).isFile()).toBe(true);
    expect(await readFile(outside, 'utf8')).toBe('must stay');
  });

  it('refuses to write through a symlink the destination holds on the way to an entry', async () => {
    const target = join(dir, 'symlinked-dest');
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(target);
    await mkdir(elsewhere);
    await symlink(elsewhere, join(target, 'nested'));
    config = configSchema.parse({
      ...config,
      targets: {
        ...config.targets,
        'symlinked-files': { kind: 'directory', path: target, environment: 'scratch' },
      },
    });
    const results = await restore({ components: ['files'], into: { files: 'symlinked-files' } });
    expect(results.ok).toBe(false);
    expect(results.error).toMatch(/nested is a symlink where the backup has a directory/);
    expect(results.components[0]?.destinationState).toBe('unchanged');
    expect(await readdir(elsewhere)).toEqual([]);
    expect(await readdir(target)).toEqual(['nested']);
  });

  describe('a damaged backup is refused before any destination is touched', () => {
    let damaged: Manifest;
    let filesObject: string;

    beforeAll(async () => {
      damaged = await runBackup({
        id: 'bk_20261122T030000Z_both_rs02',
        profile: 'both',
        note: null,
        requestedBy: 'console:alice',
        targets: backupTargets(),
        compression: 'zstd',
        store,
      });
      const files = damaged.components.find((c) => c.name === 'files');
      filesObject = join(dir, 'store', damaged.id, files?.object ?? '');
      await mkdir(join(dir, 'untouched-files'));
      await writeFile(join(dir, 'untouched-files', 'keep.txt'), 'as it was');
    }, 60_000);

    // The database comes first in the plan and the corrupted directory second: staging all of it
    // before restoring any of it is what keeps the database from being created.
    const attempt = () =>
      failure(restore({ into: { 'app-db': 'untouched-db', files: 'untouched-files' } }, damaged));

    const untouched = async () => {
      expect(await databaseExists(untouchedDb)).toBe(false);
      expect(await readdir(join(dir, 'untouched-files'))).toEqual(['keep.txt']);
      expect(await readdir(join(dir, 'staging'))).toEqual([]);
    };

    it('refuses an object with one byte flipped', async () => {
      const original = await readFile(filesObject);
      const flipped = Buffer.from(original);
      const middle = Math.floor(flipped.length / 2);
      flipped[middle] = (flipped[middle] ?? 0) ^ 0x01;
      await writeFile(filesObject, flipped);
      const error = await attempt();
      await writeFile(filesObject, original);
      expect(error).toBeInstanceOf(Error);
      // zstd's frame checksum or the sha256 of the whole object, whichever notices first.
      expect(error.message).toMatch(
        /component files \(.*files\.tar\.zst\).*(is corrupted: its sha256 is|does not decompress)/,
      );
      expect(error.message).toContain('nothing was changed');
      await untouched();
    });

    it('refuses a truncated object', async () => {
      const original = await readFile(filesObject);
      await truncate(filesObject, Math.floor(original.length / 2));
      const error = await attempt();
      await writeFile(filesObject, original);
      expect(error.message).toMatch(/component files .* is truncated/);
      expect(error.message).toContain('nothing was changed');
      await untouched();
    });

    it('refuses a deleted object', async () => {
      const original = await readFile(filesObject);
      await unlink(filesObject);
      const error = await attempt();
      await writeFile(filesObject, original);
      expect(error.message).toMatch(/component files/);
      expect(error).toMatchObject({ code: expect.stringMatching(/not_found|missing/) });
      expect(error.message).toContain('nothing was changed');
      await untouched();
    });

    it('restores the same backup once the object is whole again', async () => {
      const results = await restore(
        { into: { 'app-db': 'untouched-db' }, components: ['app-db'] },
        damaged,
      );
      expect(results.ok).toBe(true);
      expect(await databaseExists(untouchedDb)).toBe(true);
    });
  });

  it('refuses a production destination, changing nothing', async () => {
    const plan = planRestore({
      manifest,
      config,
      selection: { components: ['app-db'], into: { 'app-db': 'prod-db' } },
    });
    expect(plan.needsApproval).toBe(true);
    const error = await runRestore({
      restoreId: 'rs_test',
      plan,
      manifest,
      config,
      store,
      identities: [],
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'restore_needs_approval',
      message: expect.stringContaining('prod-db (production)'),
    });
    expect((error as Error).message).toContain('`/restore` again: it opens an approval request');
    expect(await databaseExists(prodDb)).toBe(false);
  });

  it('restores into a production destination when an approval or break glass authorises it', async () => {
    const results = await restore(
      { components: ['app-db'], into: { 'app-db': 'prod-db' } },
      manifest,
      { authorized: true },
    );
    expect(results.ok).toBe(true);
    const { 'public.skipped_audit': _skipped, ...expected } = sourceSums;
    expect(await tableChecksums(prodDb)).toEqual(expected);
  });

  it('asks for an age identity by its variables when the backup is encrypted and none is set', async () => {
    const key = generateAgeIdentity();
    const encrypted = await runBackup({
      id: 'bk_20261122T040000Z_both_rs03',
      profile: 'both',
      note: null,
      requestedBy: 'console:alice',
      targets: backupTargets().slice(1),
      compression: 'zstd',
      encryption: { recipients: [key.recipient] },
      store,
    });
    const selection = { into: { files: 'untouched-files' } };
    const error = await failure(restore(selection, encrypted));
    expect(error.message).toMatch(/files is encrypted, and no age identity is configured/);
    expect(error.message).toContain('LIFEBOAT_AGE_IDENTITY');
    expect(error.message).toContain('LIFEBOAT_AGE_IDENTITY_FILE');

    const target = join(dir, 'decrypted-files');
    config = configSchema.parse({
      ...config,
      targets: {
        ...config.targets,
        'decrypted-files': { kind: 'directory', path: target, environment: 'scratch' },
      },
    });
    const results = await restore({ into: { files: 'decrypted-files' } }, encrypted, {
      identities: [parseAgeIdentity(key.identity)],
    });
    expect(results.ok).toBe(true);
    expect(await readFile(join(target, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect((await stat(join(target, 'nested/b.bin'))).size).toBe(200_000);
  });
});
