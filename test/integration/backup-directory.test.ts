import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ComponentProgress } from '../../src/backup/progress.ts';
import { readManifest } from '../../src/backup/read-manifest.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import type { Compression, TargetConfig } from '../../src/config/schema.ts';
import type { BackupStore } from '../../src/storage/backup-store.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { withFirstChunkHook } from '../doubles/first-chunk-hook-store.ts';
import { filesUnder, keysOf, rejection } from '../support/backup-outcomes.ts';

const run = promisify(execFile);
const OLD = new Date('2021-03-04T05:06:07Z');

/** Runs `command` with `input` on stdin (a file path to pipe from). */
function runWithInput(command: string, args: string[], inputFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `"$0" "$@" < "${inputFile}"`, command, ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command}: ${err}`)),
    );
  });
}

describe('backing up a directory', () => {
  let work: string;
  let tree: string;
  let storeRoot: string;
  let store: LocalBackupStore;
  let backupNumber = 0;

  const backup = (
    target: Partial<Extract<TargetConfig, { kind: 'directory' }>>,
    options: {
      compression?: Compression;
      store?: BackupStore;
      signal?: AbortSignal;
      note?: string;
    } = {},
    onProgress?: (p: ComponentProgress) => void,
  ) =>
    runBackup({
      id: `bk_20261122T020000Z_files_${String(++backupNumber).padStart(4, '0')}`,
      profile: 'files',
      note: options.note ?? null,
      requestedBy: 'console:alice',
      targets: [
        {
          name: 'uploads',
          config: {
            kind: 'directory',
            path: tree,
            include: [],
            exclude: [],
            environment: 'production',
            ...target,
          },
        },
      ],
      compression: options.compression ?? 'zstd',
      store: options.store ?? store,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onProgress ? { onProgress } : {}),
    });

  /** Decompresses a stored tar into `<work>/<name>.tar` and returns its path. */
  const storedTar = async (key: string, name: string): Promise<string> => {
    const tar = join(work, `${name}.tar`);
    await run('zstd', ['-d', '-q', '-f', store.describe(key), '-o', tar]);
    return tar;
  };

  const tarListing = async (tar: string) =>
    (await run('tar', ['--list', '--quoting-style=literal', '--file', tar])).stdout
      .split('\n')
      .filter(Boolean);

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lifeboat-dir-backup-'));
    tree = join(work, 'uploads');
    storeRoot = join(work, 'store');
    store = new LocalBackupStore({ root: storeRoot });
    await mkdir(join(tree, 'docs/deep'), { recursive: true });
    await mkdir(join(tree, 'cache'), { recursive: true });
    await mkdir(join(tree, 'empty'), { recursive: true });
    await writeFile(join(tree, 'a.txt'), 'alpha\n');
    await writeFile(join(tree, 'b.tmp'), 'scratch\n');
    await writeFile(join(tree, '-rf name with spaces.txt'), 'careful\n');
    await writeFile(join(tree, 'docs/guide.md'), '# Guide\n');
    await writeFile(join(tree, 'docs/notes.tmp'), 'scratch\n');
    await writeFile(join(tree, 'docs/deep/data.bin'), Buffer.alloc(300_000, 9));
    await writeFile(join(tree, 'docs/deep/run.sh'), '#!/bin/sh\necho hi\n');
    await writeFile(join(tree, 'cache/blob'), 'cached\n');
    await symlink('a.txt', join(tree, 'latest'));
    await chmod(join(tree, 'a.txt'), 0o640);
    await chmod(join(tree, 'docs/deep/run.sh'), 0o755);
    await chmod(join(tree, 'docs/deep'), 0o750);
    for (const path of ['a.txt', 'docs/guide.md', 'docs/deep/data.bin', 'docs/deep', 'docs']) {
      await utimes(join(tree, path), OLD, OLD);
    }
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('archives the tree without excluded entries, symlinks kept as links', async () => {
    const manifest = await backup({ exclude: ['*.tmp', 'cache'] });
    const component = manifest.components[0];
    expect(component?.object).toBe('uploads.tar.zst');
    const tar = await storedTar(`${manifest.id}/uploads.tar.zst`, 'excluded');
    expect((await tarListing(tar)).sort()).toEqual(
      [
        '-rf name with spaces.txt',
        'a.txt',
        'docs/',
        'docs/deep/',
        'docs/deep/data.bin',
        'docs/deep/run.sh',
        'docs/guide.md',
        'empty/',
        'latest',
      ].sort(),
    );
    expect(component?.source).toEqual({
      kind: 'directory',
      path: tree,
      include: [],
      exclude: ['*.tmp', 'cache'],
      counts: 'archive',
      files: 6,
      directories: 3,
      bytes: 6 + 8 + 8 + 300_000 + 18,
      xattrs: 0,
      acls: 0,
      privilegedXattrs: 0,
    });
    expect(component?.warnings).toEqual([]);
    expect(component?.tools.tar).toMatch(/^GNU tar \d+\.\d+/);
  });

  it('keeps only the included files and the directories that hold them', async () => {
    const manifest = await backup({ include: ['*.md', '*.sh'], exclude: ['*.tmp'] });
    const tar = await storedTar(`${manifest.id}/uploads.tar.zst`, 'included');
    expect(await tarListing(tar)).toEqual([
      'docs/',
      'docs/deep/',
      'docs/deep/run.sh',
      'docs/guide.md',
    ]);
  });

  it('keeps modes, mtimes and symlink targets through an extract', async () => {
    const manifest = await backup({ exclude: ['*.tmp'] });
    const tar = await storedTar(`${manifest.id}/uploads.tar.zst`, 'modes');
    const out = join(work, 'extracted');
    await mkdir(out);
    await run('tar', ['--extract', '--file', tar, '--directory', out]);

    for (const path of [
      'a.txt',
      'docs',
      'docs/deep',
      'docs/deep/run.sh',
      'docs/guide.md',
      'empty',
    ]) {
      const original = await lstat(join(tree, path));
      const restored = await lstat(join(out, path));
      expect({ path, mode: restored.mode & 0o7777 }).toEqual({
        path,
        mode: original.mode & 0o7777,
      });
      expect({ path, mtime: Math.floor(restored.mtimeMs / 1000) }).toEqual({
        path,
        mtime: Math.floor(original.mtimeMs / 1000),
      });
    }
    expect((await lstat(join(out, 'docs/deep'))).mtime.toISOString()).toBe(OLD.toISOString());
    expect((await lstat(join(out, 'a.txt'))).mode & 0o777).toBe(0o640);
    expect((await lstat(join(out, 'latest'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(out, 'latest'))).toBe('a.txt');
    const [restoredData, originalData] = await Promise.all([
      readFile(join(out, 'docs/deep/data.bin')),
      readFile(join(tree, 'docs/deep/data.bin')),
    ]);
    expect(restoredData.equals(originalData)).toBe(true);
  });

  it('writes a manifest that names the stored object, its size and its sha256', async () => {
    const manifest = await backup({ exclude: ['cache'] }, { compression: 'gzip' });
    const component = manifest.components[0];
    const stored = await readFile(join(storeRoot, manifest.id, 'uploads.tar.gz'));
    expect(component).toMatchObject({
      name: 'uploads',
      kind: 'directory',
      object: 'uploads.tar.gz',
      compression: 'gzip',
      encryption: null,
      bytes: stored.length,
      sha256: createHash('sha256').update(stored).digest('hex'),
    });
    expect(await keysOf(store, `${manifest.id}/`)).toEqual([
      `${manifest.id}/manifest.json`,
      `${manifest.id}/uploads.tar.gz`,
    ]);
    expect(await readManifest(store, manifest.id)).toEqual(manifest);
    expect(manifest.storage).toEqual([{ store: 'local', location: join(storeRoot, manifest.id) }]);
    const listing = await runWithInput(
      'tar',
      ['-tz'],
      join(storeRoot, manifest.id, 'uploads.tar.gz'),
    );
    expect(listing).toContain('docs/deep/data.bin');
  });

  it('reports progress from waiting through running to done, never past 100 %', async () => {
    const reports: ComponentProgress[] = [];
    const manifest = await backup({}, { compression: 'none' }, (p) => reports.push(p));
    expect(reports[0]?.phase).toBe('waiting');
    expect(reports.some((p) => p.phase === 'running')).toBe(true);
    const last = reports.at(-1);
    expect(last).toMatchObject({
      phase: 'done',
      rawBytes: manifest.components[0]?.rawBytes,
      storedBytes: manifest.components[0]?.bytes,
    });
    for (const p of reports) {
      if (p.expectedBytes !== null) expect(p.rawBytes).toBeLessThanOrEqual(p.expectedBytes);
    }
  });

  it('fails naming the path when the directory does not exist, and writes nothing', async () => {
    const missing = join(work, 'no-such-dir');
    const error = await rejection(backup({ path: missing }));
    expect(error.code).toBe('source_path_missing');
    expect(error.message).toContain('uploads');
    expect(error.message).toContain(missing);
    expect(await filesUnder(work)).not.toContainEqual(expect.stringContaining(storeRoot));
  });

  it('fails when the path is a file, not a directory', async () => {
    const error = await rejection(backup({ path: join(tree, 'a.txt') }));
    expect(error.code).toBe('source_path_not_directory');
    expect(error.message).toContain(join(tree, 'a.txt'));
  });

  it('fails and leaves nothing when the directory is removed while it is archived', async () => {
    await writeFile(join(tree, 'docs/deep/big.bin'), Buffer.alloc(8 * 1024 * 1024, 1));
    const hooked = withFirstChunkHook(
      store,
      (key) => key.endsWith('.tar'),
      () => rm(tree, { recursive: true, force: true }),
    );
    const error = await rejection(backup({}, { compression: 'none', store: hooked }));
    expect(hooked.hookRan()).toBe(true);
    expect(error.message).toMatch(/^backup of uploads failed: /);
    expect(error.message).toContain(tree);
    expect(await keysOf(store, '')).toEqual([]);
    expect(await filesUnder(work)).toEqual([]);
  });

  it('records a file deleted while the tree is archived as a warning, not a failure', async () => {
    await writeFile(join(tree, 'docs/deep/big.bin'), Buffer.alloc(8 * 1024 * 1024, 1));
    await writeFile(join(tree, 'zz-last.txt'), 'deleted midway\n');
    const hooked = withFirstChunkHook(
      store,
      (key) => key.endsWith('.tar'),
      () => rm(join(tree, 'zz-last.txt')),
    );
    const manifest = await backup({}, { compression: 'none', store: hooked });
    expect(hooked.hookRan()).toBe(true);
    expect(manifest.components[0]?.warnings).toEqual([
      { kind: 'incomplete', message: expect.stringContaining('zz-last.txt') },
    ]);
    const listing = await tarListing(join(storeRoot, manifest.id, 'uploads.tar'));
    expect(listing).not.toContain('zz-last.txt');
    expect(listing).toContain('docs/deep/big.bin');
  });

  it('leaves nothing behind when aborted midway', async () => {
    await writeFile(join(tree, 'docs/deep/big.bin'), Buffer.alloc(8 * 1024 * 1024, 1));
    const controller = new AbortController();
    const hooked = withFirstChunkHook(
      store,
      (key) => key.endsWith('.tar.zst'),
      () => controller.abort(new Error('cancelled by console:alice')),
    );
    const error = await rejection(backup({}, { store: hooked, signal: controller.signal }));
    expect(hooked.hookRan()).toBe(true);
    expect(error.code).toBe('backup_aborted');
    expect(error.message).toBe('backup of uploads was cancelled: cancelled by console:alice');
    expect(await keysOf(store, '')).toEqual([]);
    expect(await filesUnder(storeRoot).catch(() => [])).toEqual([]);
  });

  it('reads back no manifest for a backup that never completed', async () => {
    await expect(readManifest(store, 'bk_20261122T020000Z_files_zzzz')).rejects.toMatchObject({
      code: 'manifest_not_found',
    });
  });

  it('refuses to write a manifest larger than the reader accepts, and leaves nothing behind', async () => {
    const failure = await rejection(backup({}, { note: 'n'.repeat(17 * 1024 * 1024) }));
    expect(failure.code).toBe('manifest_too_large');
    expect(failure.message).toContain('larger than a manifest may be (16 MiB)');
    expect(await keysOf(store, '')).toEqual([]);
  });
});
