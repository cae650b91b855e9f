import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentOwner, ownerIsAlive } from '../../../src/staging/process-owner.ts';
import {
  createStagingDirectory,
  defaultStagingRoot,
  sweepStaging,
} from '../../../src/staging/staging-area.ts';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  if (!child.pid) throw new Error('no child process');
  return child.pid;
}

describe('the staging area', () => {
  let base: string;
  let root: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'lifeboat-staging-test-'));
    root = join(base, 'staging');
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('is one root per user under TMPDIR', () => {
    expect(defaultStagingRoot()).toBe(
      join(tmpdir(), `lifeboat-staging-${process.getuid?.() ?? ''}`),
    );
  });

  it('makes private directories named after this process, in a private root', async () => {
    const made = await createStagingDirectory('restore', root);
    expect(made.startsWith(join(root, `${currentOwner()}.restore-`))).toBe(true);
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    expect((await stat(made)).mode & 0o777).toBe(0o700);
  });

  it('makes every level of a missing root private (0700), whatever the umask', async () => {
    const deep = join(base, 'var', 'lib', 'lifeboat', 'staging');
    const umask = process.umask(0o022);
    try {
      await createStagingDirectory('snapshot', deep);
    } finally {
      process.umask(umask);
    }
    for (const level of ['var', 'var/lib', 'var/lib/lifeboat', 'var/lib/lifeboat/staging']) {
      expect(((await stat(join(base, level))).mode & 0o777).toString(8)).toBe('700');
    }
  });

  it('makes an existing root private again', async () => {
    await mkdir(root, { mode: 0o755 });
    await chmod(root, 0o755);
    await createStagingDirectory('verify', root);
    expect((await stat(root)).mode & 0o777).toBe(0o700);
  });

  it('refuses a root that is a symbolic link, saying what to do', async () => {
    await mkdir(join(base, 'elsewhere'));
    await symlink(join(base, 'elsewhere'), root);
    await expect(createStagingDirectory('restore', root)).rejects.toMatchObject({
      code: 'staging_unsafe',
      message: expect.stringContaining('set TMPDIR'),
    });
  });

  it('sweeps the directories of processes that are gone, and only those', async () => {
    const mine = await createStagingDirectory('restore', root);
    await writeFile(join(mine, 'app-db.dump'), 'still in use');
    const dead = join(root, `${deadPid()}.x.restore-abc123`);
    await mkdir(dead);
    await writeFile(join(dead, 'app-db.dump'), 'decrypted, left behind');
    // The pid of this process, but another process start: the pid was reused.
    const reused = join(root, `${process.pid}.1.verify-def456`);
    await mkdir(reused);
    const unrelated = join(root, 'notes.txt');
    await writeFile(unrelated, 'not a staging directory');

    const swept = await sweepStaging(root);
    expect(swept.map((s) => s.path).sort()).toEqual([dead, reused].sort());
    expect((await readdir(root)).sort()).toEqual([mine.slice(root.length + 1), 'notes.txt'].sort());
    expect(await sweepStaging(join(base, 'missing'))).toEqual([]);
  });

  it('tells a live owner from a dead one', () => {
    expect(ownerIsAlive(currentOwner())).toBe(true);
    expect(ownerIsAlive(`${deadPid()}.x`)).toBe(false);
  });
});
