import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  appendFile,
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MANIFEST_FORMAT,
  MANIFEST_OBJECT,
  type Manifest,
  manifestSchema,
} from '../../src/backup/manifest.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import {
  type Compression,
  configSchema,
  type DirectoryTargetConfig,
} from '../../src/config/schema.ts';
import {
  RestoreJournal,
  recoverInterruptedRestores,
  saveAttributes,
  WORK_PREFIX,
} from '../../src/restore/directory/restore-journal.ts';
import { planRestore } from '../../src/restore/plan-restore.ts';
import { DirectoryRestorer } from '../../src/restore/restorers/directory-restorer.ts';
import { restorerFor } from '../../src/restore/restorers/index.ts';
import { type RestoreResults, runRestore } from '../../src/restore/run-restore.ts';
import type { BackupStore } from '../../src/storage/backup-store.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import type { VerificationLevel, VerificationReport } from '../../src/verify/verification.ts';
import { verifyBackup } from '../../src/verify/verify-backup.ts';
import { withFirstChunkHook } from '../doubles/first-chunk-hook-store.ts';
import { tarArchive, tarMember } from '../support/tar-builder.ts';

const run = promisify(execFile);

/**
 * What a directory backup takes, a restore gives back: each test builds a tree, backs it up
 * with the real pipeline (GNU tar, zstd), verifies it at levels 2 and 3 and restores it.
 */
describe('directory round trips: backup, verify and restore agree', () => {
  let work: string;
  let tree: string;
  let store: LocalBackupStore;
  let count = 0;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lifeboat-dir-round-trip-'));
    tree = join(work, 'tree');
    await mkdir(tree);
    store = new LocalBackupStore({ root: join(work, 'store') });
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const target = (path: string, extra: Partial<DirectoryTargetConfig> = {}) => ({
    kind: 'directory' as const,
    path,
    include: [],
    exclude: [],
    environment: 'staging' as const,
    ...extra,
  });

  async function backup(
    extra: Partial<DirectoryTargetConfig> = {},
    options: { store?: BackupStore; compression?: Compression } = {},
  ): Promise<Manifest> {
    return runBackup({
      id: `bk_20261122T020000Z_files_${String(++count).padStart(4, '0')}`,
      profile: 'files',
      note: null,
      requestedBy: 'console:alice',
      targets: [{ name: 'tree', config: target(tree, extra) }],
      compression: options.compression ?? 'zstd',
      store: options.store ?? store,
    });
  }

  function verify(manifest: Manifest, level: VerificationLevel): Promise<VerificationReport> {
    return verifyBackup({
      store,
      backupId: manifest.id,
      level,
      restoreTest: { postgresUrl: 'postgres://127.0.0.1:5432/postgres', directory: work },
    });
  }

  async function restore(
    manifest: Manifest,
    destination: string,
    options: { tar?: string; into?: Partial<DirectoryTargetConfig> } = {},
  ): Promise<RestoreResults> {
    const config = configSchema.parse({
      targets: { tree: target(tree), restored: target(destination, options.into) },
      profiles: { files: { targets: ['tree'] } },
    });
    const plan = planRestore({
      manifest,
      config,
      selection: { into: { tree: 'restored' } },
      describe: (c, d) => restorerFor(c.kind).describe(c, d),
    });
    await mkdir(join(work, 'staging'), { recursive: true });
    return runRestore({
      restoreId: `rs_test_${count}`,
      plan,
      manifest,
      config,
      store,
      identities: [],
      stagingDirectory: join(work, 'staging'),
      ...(options.tar
        ? { restorerFor: () => new DirectoryRestorer(options.tar ? { tar: options.tar } : {}) }
        : {}),
    });
  }

  /** Stores `archive` (an uncompressed tar) as a one-component backup whose manifest claims `figures`. */
  async function storeCrafted(
    archive: Buffer,
    figures: { files: number; directories: number; bytes: number },
  ): Promise<Manifest> {
    const id = `bk_20261122T030000Z_files_${String(++count).padStart(4, '0')}`;
    const at = new Date().toISOString();
    const manifest = manifestSchema.parse({
      format: MANIFEST_FORMAT,
      id,
      profile: 'files',
      note: null,
      requestedBy: 'console:alice',
      lifeboatVersion: '0.3.0',
      startedAt: at,
      finishedAt: at,
      durationMs: 0,
      storage: [{ store: store.name, location: store.describe(id) }],
      components: [
        {
          name: 'tree',
          kind: 'directory',
          object: 'tree.tar',
          bytes: archive.length,
          sha256: createHash('sha256').update(archive).digest('hex'),
          rawBytes: archive.length,
          compression: 'none',
          encryption: null,
          tools: { tar: 'GNU tar 1.34' },
          startedAt: at,
          finishedAt: at,
          durationMs: 0,
          source: { kind: 'directory', path: tree, include: [], exclude: [], ...figures },
        },
      ],
    });
    await store.putBytes(`${id}/tree.tar`, archive);
    await store.putBytes(`${id}/${MANIFEST_OBJECT}`, Buffer.from(JSON.stringify(manifest)));
    return manifest;
  }

  /** Backs the tree up, verifies it at levels 2 and 3, restores it into `restored`. */
  async function roundTrip(
    extra: Partial<DirectoryTargetConfig> = {},
    options: Parameters<typeof backup>[1] = {},
    into = 'restored',
  ) {
    const manifest = await backup(extra, options);
    const level2 = await verify(manifest, 2);
    expect(level2.error).toBeNull();
    const level3 = await verify(manifest, 3);
    expect(level3.error).toBeNull();
    const restored = join(work, into);
    const results = await restore(manifest, restored);
    expect(results.error).toBeNull();
    expect(results.ok).toBe(true);
    return { manifest, restored, results };
  }

  describe('a restore leaves its destination restored and validated, or exactly as it was', () => {
    let destination: string;
    let before: Record<string, string>;

    beforeEach(async () => {
      await writeFile(join(tree, 'a.txt'), 'alpha from the backup\n');
      await writeFile(join(tree, 'b-big.bin'), randomBytes(1024 * 1024));
      await mkdir(join(tree, 'c'));
      await writeFile(join(tree, 'c/c.txt'), 'gamma\n');
      destination = join(work, 'live');
      await mkdir(join(destination, 'c'), { recursive: true });
      await writeFile(join(destination, 'a.txt'), 'alpha, changed since the backup\n');
      await writeFile(join(destination, 'c/c.txt'), 'gamma, changed\n');
      await writeFile(join(destination, 'new-upload.jpg'), 'not in the backup');
      before = await snapshot(destination);
    });

    it('restores into an existing tree: what the backup holds replaces, the rest stays', async () => {
      const manifest = await backup();
      const results = await restore(manifest, destination);
      expect(results.ok).toBe(true);
      expect(results.components[0]?.destinationState).toBe('restored');
      expect(await readFile(join(destination, 'a.txt'), 'utf8')).toBe('alpha from the backup\n');
      expect(await readFile(join(destination, 'c/c.txt'), 'utf8')).toBe('gamma\n');
      expect(await readFile(join(destination, 'new-upload.jpg'), 'utf8')).toBe('not in the backup');
      // A directory that was there already gets the backup's mode and times, as tar would set.
      const mtime = async (root: string) => Math.floor((await lstat(join(root, 'c'))).mtimeMs);
      expect(await mtime(destination)).toBe(await mtime(tree));
      // Nothing of the restore's own is left behind.
      expect((await readdir(destination)).sort()).toEqual([
        'a.txt',
        'b-big.bin',
        'c',
        'new-upload.jpg',
      ]);
    });

    it('changes nothing when tar fails half way through, and says so', async () => {
      const manifest = await backup();
      // A real tar that may not write files past 64 KiB: it extracts a.txt, then fails on b-big.bin.
      const tar = join(work, 'tar-with-small-files');
      await writeFile(tar, '#!/bin/sh\nulimit -f 128\nexec tar "$@"\n', { mode: 0o755 });
      const results = await restore(manifest, destination, { tar });
      expect(results.ok).toBe(false);
      expect(results.components[0]).toMatchObject({
        status: 'failed',
        destinationState: 'unchanged',
        error: expect.stringMatching(/tar .*extracting.*the destination is unchanged/s),
      });
      expect(await snapshot(destination)).toEqual(before);
    });

    it('changes nothing when what was extracted does not match the manifest, and says so', async () => {
      const manifest = await backup();
      const component = manifest.components[0] as Manifest['components'][number];
      const source = component.source as Extract<typeof component.source, { kind: 'directory' }>;
      const tampered: Manifest = {
        ...manifest,
        components: [{ ...component, source: { ...source, files: source.files + 1 } }],
      };
      const results = await restore(tampered, destination);
      expect(results.ok).toBe(false);
      expect(results.components[0]).toMatchObject({ destinationState: 'unchanged' });
      expect(results.error).toMatch(/files: 4 expected, 3 found/);
      expect(await snapshot(destination)).toEqual(before);
    });

    it('puts everything back when moving into place fails part way', async () => {
      const manifest = await backup();
      // The first entry moves in, then c/c.txt cannot be moved aside: an immutable file.
      await run('chattr', ['+i', join(destination, 'c/c.txt')]);
      try {
        const results = await restore(manifest, destination);
        expect(results.ok).toBe(false);
        expect(results.components[0]).toMatchObject({
          destinationState: 'unchanged',
          error: expect.stringMatching(/c\/c\.txt.*the destination is unchanged/s),
        });
      } finally {
        await run('chattr', ['-i', join(destination, 'c/c.txt')]);
      }
      expect(await snapshot(destination)).toEqual(before);
    });

    it('refuses, changing nothing, to put a file where the destination has a directory of other files', async () => {
      await writeFile(join(tree, 'reports'), 'a file in the backup\n');
      await mkdir(join(destination, 'reports'));
      await writeFile(join(destination, 'reports/q3.pdf'), 'only in the destination');
      before = await snapshot(destination);
      const results = await restore(await backup(), destination);
      expect(results.components[0]).toMatchObject({
        status: 'failed',
        destinationState: 'unchanged',
        error: expect.stringMatching(
          /reports is a directory holding files the backup does not have/,
        ),
      });
      expect(await snapshot(destination)).toEqual(before);
    });

    it('rolls back what a restore killed half way left, before anything else touches the destination', async () => {
      // What a worker killed while moving entries into place leaves: a journal without its
      // commit, a.txt displaced and replaced, and a new file placed.
      const rootBefore = await saveAttributes(destination);
      const work = join(destination, `${WORK_PREFIX}killed`);
      await mkdir(join(work, 'old'), { recursive: true });
      await mkdir(join(work, 'new'), { recursive: true });
      const journal = RestoreJournal.create(work);
      journal.record({ op: 'attributes', path: '', before: rootBefore });
      journal.record({ op: 'displaced', path: 'a.txt' });
      await rename(join(destination, 'a.txt'), join(work, 'old/a.txt'));
      await writeFile(join(work, 'new/a.txt'), 'alpha from the backup\n');
      journal.record({ op: 'placed', path: 'a.txt' });
      await rename(join(work, 'new/a.txt'), join(destination, 'a.txt'));
      await writeFile(join(work, 'new/b-big.bin'), 'half');
      journal.record({ op: 'placed', path: 'b-big.bin' });
      await rename(join(work, 'new/b-big.bin'), join(destination, 'b-big.bin'));
      // Killed: the journal stays as it was, and the process that wrote it is gone.
      journal.close();
      journal.finished();

      expect(await recoverInterruptedRestores(destination)).toEqual([
        { workDirectory: work, outcome: 'rolled back' },
      ]);
      expect(await snapshot(destination)).toEqual(before);
    });

    it('leaves alone the work of a restore still running in another process', async () => {
      const other = spawn('sleep', ['60']);
      try {
        const work = join(destination, `${WORK_PREFIX}running`);
        await mkdir(work);
        await writeFile(
          join(work, 'journal'),
          `lifeboat directory restore journal v1\n${JSON.stringify({ op: 'started', pid: other.pid, host: hostname() })}\n`,
        );
        expect(await recoverInterruptedRestores(destination)).toEqual([]);
        expect((await readdir(destination)).filter((n) => n.startsWith(WORK_PREFIX))).toEqual([
          `${WORK_PREFIX}running`,
        ]);
      } finally {
        other.kill();
      }
    });

    it('starts a restore by rolling back what an earlier, killed one left', async () => {
      const work = join(destination, `${WORK_PREFIX}killed`);
      await mkdir(join(work, 'old'), { recursive: true });
      const journal = RestoreJournal.create(work);
      journal.record({ op: 'displaced', path: 'new-upload.jpg' });
      await rename(join(destination, 'new-upload.jpg'), join(work, 'old/new-upload.jpg'));
      journal.close();
      journal.finished();

      const results = await restore(await backup(), destination);
      expect(results.ok).toBe(true);
      // The upload the killed restore had moved aside is back; the work directory is gone.
      expect(await readFile(join(destination, 'new-upload.jpg'), 'utf8')).toBe('not in the backup');
      expect((await readdir(destination)).filter((n) => n.startsWith(WORK_PREFIX))).toEqual([]);
    });

    it('restores into a mount point, staging on its own file system', async () => {
      const mounted = join(work, 'mounted');
      await mkdir(mounted);
      await run('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mounted]);
      try {
        const results = await restore(await backup(), mounted);
        expect(results.error).toBeNull();
        expect((await readdir(mounted)).sort()).toEqual(['a.txt', 'b-big.bin', 'c']);
      } finally {
        await run('umount', [mounted]);
      }
    });

    it('creates a missing destination only once everything in it is validated', async () => {
      const fresh = join(work, 'not-yet', 'uploads');
      const tar = join(work, 'tar-with-small-files');
      await writeFile(tar, '#!/bin/sh\nulimit -f 128\nexec tar "$@"\n', { mode: 0o755 });
      const manifest = await backup();
      const failed = await restore(manifest, fresh, { tar });
      expect(failed.components[0]?.destinationState).toBe('unchanged');
      await expect(lstat(join(work, 'not-yet'))).rejects.toMatchObject({ code: 'ENOENT' });
      const results = await restore(manifest, fresh);
      expect(results.ok).toBe(true);
      expect((await readdir(fresh)).sort()).toEqual(['a.txt', 'b-big.bin', 'c']);
    });
  });

  describe('times and holes', () => {
    it('gives back mtimes to the nanosecond, of files, directories and symlinks', async () => {
      await mkdir(join(tree, 'docs'));
      await writeFile(join(tree, 'docs/a.txt'), 'alpha\n');
      await symlink('docs/a.txt', join(tree, 'latest'));
      for (const [path, time] of [
        ['docs/a.txt', '2024-01-01 00:00:00.123456789'],
        ['latest', '2023-06-30 23:59:59.000000001'],
        ['docs', '2022-02-02 02:02:02.987654321'],
      ] as const) {
        await run('touch', ['--no-dereference', '--date', `${time} UTC`, join(tree, path)]);
      }
      const mtimes = async (root: string) => ({
        file: (await lstat(join(root, 'docs/a.txt'), { bigint: true })).mtimeNs,
        link: (await lstat(join(root, 'latest'), { bigint: true })).mtimeNs,
        dir: (await lstat(join(root, 'docs'), { bigint: true })).mtimeNs,
      });
      const original = await mtimes(tree);
      expect(original.file % 1_000_000_000n).toBe(123_456_789n);
      const { restored } = await roundTrip();
      expect(await mtimes(restored)).toEqual(original);
    });

    it('gives back a sparse file sparse: same bytes, its holes not allocated', async () => {
      const sparse = join(tree, 'disk.img');
      await writeFile(sparse, '');
      await truncate(sparse, 64 * 1024 * 1024);
      const handle = await open(sparse, 'r+');
      await handle.write(Buffer.alloc(4096, 7), 0, 4096, 40 * 1024 * 1024);
      await handle.close();
      const original = await stat(sparse);
      expect(original.blocks * 512).toBeLessThan(1024 * 1024);

      const { restored, manifest } = await roundTrip();
      const copy = await stat(join(restored, 'disk.img'));
      expect(copy.size).toBe(64 * 1024 * 1024);
      expect(copy.blocks * 512).toBeLessThan(1024 * 1024);
      expect(await sha256Of(join(restored, 'disk.img'))).toBe(await sha256Of(sparse));
      expect(manifest.components[0]?.source).toMatchObject({ bytes: 64 * 1024 * 1024 });
      // The archive holds the data, not the holes.
      expect(manifest.components[0]?.rawBytes).toBeLessThan(1024 * 1024);
    });
  });

  describe('names that are bytes, not UTF-8', () => {
    const name = (...parts: (string | number[])[]) =>
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const at = (root: string, ...names: Buffer[]) =>
      Buffer.concat([Buffer.from(root), ...names.flatMap((n) => [Buffer.from('/'), n])]);
    const latin1 = name('caf', [0xe9], '.txt');
    const latin1Tmp = name('br', [0xfb], 'l', [0xe9], '.tmp');
    const ffDirectory = name('d', [0xff]);
    const replacement = name('ok\uFFFDname.txt');
    const newline = name('line\nbreak.txt');

    beforeEach(async () => {
      await writeFile(at(tree, latin1), 'latin-1 named\n');
      await writeFile(at(tree, latin1Tmp), 'scratch\n');
      await mkdir(at(tree, ffDirectory));
      await writeFile(at(tree, ffDirectory, latin1), 'inside \\xff\n');
      await symlink(at('.', ffDirectory, latin1), at(tree, name('to-', [0xe9])));
      await writeFile(at(tree, replacement), 'U+FFFD named\n');
      await writeFile(at(tree, newline), 'newline named\n');
    });

    /** Every name under `root` as hex (bytes as they are), with its content or link target. */
    async function byteTree(root: Buffer): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      const visit = async (dir: Buffer, prefix: string) => {
        for (const entry of await readdir(dir, { encoding: 'buffer' })) {
          const path = Buffer.concat([dir, Buffer.from('/'), entry]);
          const key = `${prefix}${entry.toString('hex')}`;
          const info = await lstat(path);
          if (info.isDirectory()) {
            out[key] = 'dir';
            await visit(path, `${key}/`);
          } else if (info.isSymbolicLink()) {
            out[key] = `-> ${(await readlink(path, { encoding: 'buffer' })).toString('hex')}`;
          } else out[key] = (await readFile(path)).toString('hex');
        }
      };
      await visit(root, '');
      return out;
    }

    it('archives, verifies and restores every name byte for byte', async () => {
      const original = await byteTree(Buffer.from(tree));
      const { manifest, restored } = await roundTrip();
      expect(manifest.components[0]?.source).toMatchObject({ files: 6, directories: 1 });
      expect(manifest.components[0]?.warnings).toEqual([]);
      expect(await byteTree(Buffer.from(restored))).toEqual(original);
      // Again over what is there: each name is merged or replaced by its bytes.
      await writeFile(at(restored, ffDirectory, latin1), 'changed since\n');
      const again = await restore(manifest, restored);
      expect(again.error).toBeNull();
      expect(await byteTree(Buffer.from(restored))).toEqual(original);
    });

    it('matches include and exclude globs against such names', async () => {
      const { restored } = await roundTrip({ exclude: ['*.tmp', 'line*'] });
      const names = Object.keys(await byteTree(Buffer.from(restored)));
      expect(names).toContain(latin1.toString('hex'));
      expect(names).toContain(`${ffDirectory.toString('hex')}/${latin1.toString('hex')}`);
      expect(names).not.toContain(latin1Tmp.toString('hex'));
      expect(names).not.toContain(newline.toString('hex'));
      const only = await roundTrip({ include: ['d?/'] }, {}, 'only-included');
      expect(Object.keys(await byteTree(Buffer.from(only.restored)))).toEqual(
        expect.arrayContaining([ffDirectory.toString('hex')]),
      );
    });
  });

  describe('a tree that changes while tar archives it', () => {
    /**
     * Holds the stored stream at its first chunk, so tar stalls part way into `aaa-big.bin`,
     * the first entry, and mutates the tree then: what tar has not reached yet, and the file
     * it is reading.
     */
    const mutatingStore = (mutate: () => Promise<void>) =>
      withFirstChunkHook(store, (key) => key.endsWith('/tree.tar'), mutate);

    beforeEach(async () => {
      // Random, so it stays 8 MiB through the pipeline whatever compresses it.
      await writeFile(join(tree, 'aaa-big.bin'), randomBytes(8 * 1024 * 1024));
      await mkdir(join(tree, 'zz-dir'));
      await writeFile(join(tree, 'zz-dir/one.txt'), 'one\n');
      await writeFile(join(tree, 'zz-dir/two.txt'), 'two\n');
      await writeFile(join(tree, 'zz-gone.txt'), 'deleted midway\n');
      await writeFile(join(tree, 'zz-grow.log'), 'line 1\n');
    });

    it('completes when files are deleted and grow meanwhile; the manifest describes the archive, and restore and level 3 agree', async () => {
      const hooked = mutatingStore(async () => {
        await rm(join(tree, 'zz-gone.txt'));
        await rm(join(tree, 'zz-dir'), { recursive: true });
        await appendFile(join(tree, 'zz-grow.log'), 'line 2, written while tar ran\n');
        await appendFile(join(tree, 'aaa-big.bin'), randomBytes(4096));
      });
      const { manifest, restored } = await roundTrip({}, { store: hooked, compression: 'none' });
      expect(hooked.hookRan()).toBe(true);
      const source = manifest.components[0]?.source;
      // What the archive holds: the deleted files are not counted; the grown log is, at its new size.
      expect(source).toMatchObject({
        counts: 'archive',
        files: 2,
        directories: 0,
        bytes: 8 * 1024 * 1024 + 'line 1\nline 2, written while tar ran\n'.length,
      });
      const warnings = manifest.components[0]?.warnings ?? [];
      expect(warnings.every((w) => w.kind === 'incomplete')).toBe(true);
      expect(warnings.map((w) => w.message)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^zz-gone\.txt: .*: not in this backup \(deleted while the backup ran\)$/,
          ),
          expect.stringContaining('zz-dir/one.txt'),
          expect.stringMatching(
            /^aaa-big\.bin: file changed as we read it: in this backup as tar read it while it changed/,
          ),
        ]),
      );
      expect((await stat(join(restored, 'aaa-big.bin'))).size).toBe(8 * 1024 * 1024);
      expect(await readFile(join(restored, 'zz-grow.log'), 'utf8')).toBe(
        'line 1\nline 2, written while tar ran\n',
      );
      await expect(lstat(join(restored, 'zz-dir'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(lstat(join(restored, 'zz-gone.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  describe('extended attributes, POSIX ACLs and file capabilities', () => {
    /** `path name=value` of every attribute of every entry under `root`, values in hex, sorted. */
    async function attributesOf(root: string): Promise<string[]> {
      const { stdout } = await run(
        'getfattr',
        [
          '--recursive',
          '--physical',
          '--no-dereference',
          '--dump',
          '--match=-',
          '--encoding=hex',
          '.',
        ],
        { cwd: root },
      );
      let file = '';
      const attributes: string[] = [];
      for (const line of stdout.split('\n')) {
        if (line.startsWith('# file: ')) file = line.slice('# file: '.length);
        else if (line !== '') attributes.push(`${file} ${line}`);
      }
      return attributes.sort();
    }

    async function buildTree(): Promise<void> {
      await writeFile(join(tree, 'labelled.txt'), 'alpha\n');
      await run('setfattr', ['-n', 'user.color', '-v', 'blue', join(tree, 'labelled.txt')]);
      await run('setfattr', ['-n', 'user.empty', join(tree, 'labelled.txt')]);
      await writeFile(join(tree, 'shared.txt'), 'beta\n');
      await run('setfacl', ['-m', 'u:1234:rw,g:2345:r', join(tree, 'shared.txt')]);
      await mkdir(join(tree, 'inbox'));
      await run('setfacl', ['-d', '-m', 'u:1234:rwx', join(tree, 'inbox')]);
      await run('setfattr', ['-n', 'user.purpose', '-v', 'uploads', join(tree, 'inbox')]);
      await writeFile(join(tree, 'inbox/tool'), '#!/bin/sh\n', { mode: 0o755 });
      await run('setcap', ['cap_net_bind_service+ep', join(tree, 'inbox/tool')]);
    }

    it('gives back user xattrs, access and default ACLs and file capabilities, and counts them', async () => {
      await buildTree();
      const original = await attributesOf(tree);
      expect(original).toContainEqual(expect.stringMatching(/^inbox\/tool security\.capability=/));
      expect(original).toContainEqual(expect.stringMatching(/^inbox system\.posix_acl_default=/));

      const { manifest, restored, results } = await roundTrip();
      expect(manifest.components[0]?.source).toMatchObject({
        files: 3,
        directories: 1,
        xattrs: 3,
        // inbox/tool inherits inbox's default ACL.
        acls: 3,
        privilegedXattrs: 1,
      });
      expect(await attributesOf(restored)).toEqual(original);
      const { stdout: caps } = await run('getcap', [join(restored, 'inbox/tool')]);
      expect(caps).toContain('cap_net_bind_service=ep');
      expect(results.components[0]?.notes).toEqual([]);
      const level2 = await verify(manifest, 2);
      expect(level2.components[0]?.checked).toContainEqual(
        '3 entries with extended attributes (1 only root can set back), 3 with POSIX ACLs',
      );
    });

    it('says which attributes it could not set back when the restore lacks the privilege, and gives back the rest', async () => {
      await buildTree();
      const manifest = await backup();
      const restored = join(work, 'restored');
      // A tar that may not set file capabilities, as a worker that does not run as root.
      const tar = join(work, 'tar-without-setfcap');
      await writeFile(tar, '#!/bin/sh\nexec setpriv --bounding-set=-setfcap -- tar "$@"\n', {
        mode: 0o755,
      });
      const results = await restore(manifest, restored, { tar });
      expect(results.ok).toBe(true);
      expect(results.components[0]?.notes).toEqual([
        expect.stringMatching(
          /^not restored: the extended attribute security\.capability of inbox\/tool \(Operation not permitted\)/,
        ),
      ]);
      const { stdout } = await run('getfattr', [
        '-n',
        'user.color',
        join(restored, 'labelled.txt'),
      ]);
      expect(stdout).toContain('user.color="blue"');
    });

    it("says so when a directory that already exists does not take the backup's attributes", async () => {
      await buildTree();
      const manifest = await backup();
      const restored = join(work, 'restored');
      await mkdir(join(restored, 'inbox'), { recursive: true });
      const results = await restore(manifest, restored);
      expect(results.ok).toBe(true);
      expect(results.components[0]?.notes).toContainEqual(
        expect.stringMatching(
          /^not restored: the extended attributes and ACLs of the directory inbox, which existed in the destination/,
        ),
      );
    });
  });

  describe('setuid and setgid bits', () => {
    beforeEach(async () => {
      await mkdir(join(tree, 'bin'));
      await writeFile(join(tree, 'bin/su-like'), '#!/bin/sh\n', { mode: 0o755 });
      await chmod(join(tree, 'bin/su-like'), 0o4755);
      await writeFile(join(tree, 'bin/group-tool'), '#!/bin/sh\n');
      await chmod(join(tree, 'bin/group-tool'), 0o2750);
      await writeFile(join(tree, 'plain.txt'), 'plain\n');
      await chmod(join(tree, 'plain.txt'), 0o640);
      await mkdir(join(tree, 'shared'));
      await chmod(join(tree, 'shared'), 0o2775);
    });

    const modeOf = async (path: string) => (await lstat(path)).mode & 0o7777;

    it('removes them from restored files unless the target keeps them, and says so', async () => {
      const manifest = await backup();
      const restored = join(work, 'restored');
      const results = await restore(manifest, restored);
      expect(results.ok).toBe(true);
      expect(await modeOf(join(restored, 'bin/su-like'))).toBe(0o755);
      expect(await modeOf(join(restored, 'bin/group-tool'))).toBe(0o750);
      expect(await modeOf(join(restored, 'plain.txt'))).toBe(0o640);
      // A directory's setgid bit only makes new files take its group; it stays.
      expect(await modeOf(join(restored, 'shared'))).toBe(0o2775);
      expect(results.components[0]?.notes).toContainEqual(
        expect.stringMatching(
          /^setuid and setgid bits removed from 2 files \(bin\/(su-like|group-tool) among them\)/,
        ),
      );
    });

    it('keeps them with keepSetuid on the destination target, saying nothing', async () => {
      const manifest = await backup();
      const restored = join(work, 'restored');
      const results = await restore(manifest, restored, { into: { keepSetuid: true } });
      expect(results.ok).toBe(true);
      expect(await modeOf(join(restored, 'bin/su-like'))).toBe(0o4755);
      expect(await modeOf(join(restored, 'bin/group-tool'))).toBe(0o2750);
      expect(results.components[0]?.notes ?? []).not.toContainEqual(
        expect.stringMatching(/setuid/),
      );
    });
  });

  describe('crafted archives and symlinks already in the destination', () => {
    const file = (name: string, data = 'x') => tarMember({ name, data });
    const hardLink = (name: string, target: string) =>
      tarMember({ name, type: '1', linkName: target });
    const link = (name: string, target: string) => tarMember({ name, type: '2', linkName: target });
    const directory = (name: string) => tarMember({ name, type: '5', mode: 0o755 });

    const cases: { case: string; parts: () => Buffer[]; why: RegExp }[] = [
      {
        case: 'a hard link whose target passes through the symlink',
        parts: () => [hardLink('stolen', 'escape/secret')],
        why: /"stolen" is a hard link to "escape\/secret", which is not a file the archive holds/,
      },
      {
        case: 'a file through the symlink, then a hard link to it',
        parts: () => [file('escape/secret'), hardLink('stolen', 'escape/secret')],
        why: /escape is a symlink where the backup has a directory/,
      },
      {
        case: 'a hard link with ".." in its target',
        parts: () => [file('inside'), hardLink('stolen', 'sub/../../outside/secret')],
        why: /hard link to "sub\/\.\.\/\.\.\/outside\/secret", which has a "\.\." segment/,
      },
      {
        case: 'a hard link to an absolute path',
        parts: () => [hardLink('stolen', '/etc/hostname')],
        why: /hard link to "\/etc\/hostname", which is an absolute path/,
      },
      {
        case: 'a symlink of the archive, then a file through it',
        parts: () => [link('own', '../outside'), file('own/secret', 'overwritten')],
        why: /"own\/secret" lies beneath "own", a symlink of the same archive/,
      },
      {
        case: 'a symlink of the archive, then a hard link through it',
        parts: () => [file('inside'), link('own', '../outside'), hardLink('stolen', 'own/secret')],
        why: /hard link to "own\/secret", which is not a file the archive holds before it/,
      },
      {
        case: 'a directory entry where the destination has the symlink',
        parts: () => [directory('escape/'), file('escape/planted', 'planted')],
        why: /escape is a symlink where the backup has a directory/,
      },
    ];

    it.each(cases)(
      'refuses $case, touching neither the destination nor what lies outside',
      async ({ parts, why }) => {
        const outside = join(work, 'outside');
        await mkdir(outside);
        await writeFile(join(outside, 'secret'), 'outside\n');
        const destination = join(work, 'live');
        await mkdir(destination);
        await writeFile(join(destination, 'kept.txt'), 'kept\n');
        await symlink(outside, join(destination, 'escape'));
        const before = await snapshot(destination);
        const outsideBefore = await snapshot(outside);

        const manifest = await storeCrafted(tarArchive(...parts()), {
          files: 2,
          directories: 0,
          bytes: 1,
        });
        const results = await restore(manifest, destination);
        expect(results.ok).toBe(false);
        expect(results.components[0]).toMatchObject({
          status: 'failed',
          destinationState: 'unchanged',
          error: expect.stringMatching(why),
        });
        expect(await snapshot(destination)).toEqual(before);
        expect(await snapshot(outside)).toEqual(outsideBefore);
        expect((await lstat(join(outside, 'secret'))).nlink).toBe(1);
        expect(await readlink(join(destination, 'escape'))).toBe(outside);
      },
    );
  });

  describe('FIFOs and symlinks that point outside the tree', () => {
    it('gives back a FIFO and symlinks to outside paths, as links, writing nothing through them', async () => {
      const outside = join(work, 'outside');
      await mkdir(outside);
      await writeFile(join(outside, 'kept.txt'), 'outside\n');
      await writeFile(join(tree, 'a.txt'), 'alpha\n');
      await run('mkfifo', ['-m', '0640', join(tree, 'pipe')]);
      await symlink(join(outside, 'kept.txt'), join(tree, 'absolute-link'));
      await symlink('../outside', join(tree, 'climbing-link'));
      await symlink('/nonexistent/target', join(tree, 'dangling-link'));

      const { restored, manifest } = await roundTrip();
      expect(manifest.components[0]?.source).toMatchObject({ files: 5, directories: 0 });
      const pipe = await lstat(join(restored, 'pipe'));
      expect(pipe.isFIFO()).toBe(true);
      expect(pipe.mode & 0o777).toBe(0o640);
      expect(await readlink(join(restored, 'absolute-link'))).toBe(join(outside, 'kept.txt'));
      expect(await readlink(join(restored, 'climbing-link'))).toBe('../outside');
      expect(await readlink(join(restored, 'dangling-link'))).toBe('/nonexistent/target');
      expect(await readFile(join(outside, 'kept.txt'), 'utf8')).toBe('outside\n');
    });

    it('fails level 2 on an archive holding a device, which a restore would refuse', async () => {
      const manifest = await storeCrafted(
        tarArchive(
          tarMember({ name: 'a.txt', data: 'alpha' }),
          tarMember({ name: 'disk', type: '4' }),
        ),
        { files: 2, directories: 0, bytes: 5 },
      );
      const report = await verify(manifest, 2);
      expect(report.ok).toBe(false);
      expect(report.components[0]?.error).toMatchObject({
        code: 'archive_entry_unsafe',
        message: expect.stringMatching(
          /component tree .*: a restore would refuse it: the archive entry "disk" is a block device/,
        ),
      });
    });

    it('leaves sockets and devices out, saying each is not in this backup, unless excluded', async () => {
      await writeFile(join(tree, 'a.txt'), 'alpha\n');
      await mkdir(join(tree, 'run'));
      await listenOn(join(tree, 'run/app.sock'));
      await listenOn(join(tree, 'ignored.sock'));
      await run('mknod', [join(tree, 'null-device'), 'c', '1', '3']);

      const { manifest, restored } = await roundTrip({ exclude: ['ignored.sock'] });
      // A restore's plan says the backup is incomplete before anyone approves it.
      const component = manifest.components[0] as Manifest['components'][number];
      expect(
        new DirectoryRestorer().describe(component, {
          name: 'restored',
          config: target(restored),
        }),
      ).toContainEqual(
        expect.stringMatching(
          /^this backup is incomplete: 2 things the directory held are not in it/,
        ),
      );
      const source = manifest.components[0]?.source;
      expect(source).toMatchObject({ files: 1, directories: 1 });
      expect(manifest.components[0]?.warnings).toEqual([
        {
          kind: 'incomplete',
          message: expect.stringMatching(
            /^null-device: not in this backup: it is a character device/,
          ),
        },
        {
          kind: 'incomplete',
          message: expect.stringMatching(/^run\/app\.sock: not in this backup: it is a socket/),
        },
      ]);
      expect((await lstat(join(restored, 'run'))).isDirectory()).toBe(true);
      await expect(lstat(join(restored, 'run/app.sock'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(lstat(join(restored, 'null-device'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});

/**
 * Every path under `root` (and `root` itself) with its kind, mode, mtime to the millisecond
 * and content, to tell whether anything changed.
 */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of ['', ...(await readdir(root, { recursive: true })).sort()]) {
    const path = join(root, entry);
    const info = await lstat(path);
    const common = `${(info.mode & 0o7777).toString(8)} ${Math.floor(info.mtimeMs)}`;
    out[entry] = info.isDirectory()
      ? `dir ${common}`
      : info.isSymbolicLink()
        ? `symlink ${common} ${await readlink(path)}`
        : `${common} ${await sha256Of(path)}`;
  }
  return out;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** Leaves a unix socket file at `path`, as a server that stopped without cleaning up does. */
async function listenOn(path: string): Promise<void> {
  const server = createServer();
  const bound = `${path}.bound`;
  await new Promise<void>((resolve) => server.listen(bound, resolve));
  // Closing a server unlinks the name it bound, so the socket moves away first.
  await rename(bound, path);
  await new Promise((resolve) => server.close(resolve));
}
