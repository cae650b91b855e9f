import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceResult } from '../../src/backup/sources/backup-source.ts';
import {
  DirectorySource,
  type DirectorySourceOptions,
} from '../../src/backup/sources/directory-source.ts';
import type { DirectoryTargetConfig } from '../../src/config/schema.ts';
import { unprivilegedTar } from '../support/unprivileged-tar.ts';

describe('the directory source (real GNU tar)', () => {
  let work: string;
  let tree: string;
  let count = 0;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'lifeboat-dir-source-'));
    // tar runs as nobody in some tests: everything on the way must be reachable by others.
    await chmod(work, 0o755);
    tree = join(work, 'tree');
    await mkdir(join(tree, 'docs'), { recursive: true, mode: 0o755 });
    await writeFile(join(tree, 'a.txt'), 'alpha\n', { mode: 0o644 });
    await writeFile(join(tree, 'docs/guide.md'), '# Guide\n', { mode: 0o644 });
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const config = (extra: Partial<DirectoryTargetConfig> = {}): DirectoryTargetConfig => ({
    kind: 'directory',
    path: tree,
    include: [],
    exclude: [],
    environment: 'staging',
    ...extra,
  });

  /** Runs the source to its end, the tar stream written to a file; rejects as the stream does. */
  async function archive(
    options: DirectorySourceOptions = {},
    extra: Partial<DirectoryTargetConfig> = {},
  ): Promise<SourceResult & { tar: string }> {
    const source = new DirectorySource(config(extra), options);
    const opened = await source.open(new AbortController().signal);
    const tar = join(work, `archive-${++count}.tar`);
    try {
      await pipeline(opened.stream, createWriteStream(tar));
    } finally {
      await opened.finished.catch(() => {});
    }
    return { ...(await opened.finished), tar };
  }

  describe('files it cannot read', () => {
    it('fails naming a file the backup user may not read, never skipping it', async () => {
      await writeFile(join(tree, 'docs/secret.key'), 'k', { mode: 0o600 });
      const tar = await unprivilegedTar(work);
      const error = await archive({ tar }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'tar_failed' });
      expect((error as Error).message).toContain('docs/secret.key');
      expect((error as Error).message).toMatch(/Permission denied/);
    });

    it('fails naming a directory whose files the backup user may not reach', async () => {
      await mkdir(join(tree, 'private'), { mode: 0o700 });
      await writeFile(join(tree, 'private/notes.txt'), 'n', { mode: 0o644 });
      const tar = await unprivilegedTar(work);
      const error = await archive({ tar }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'tar_failed' });
      expect((error as Error).message).toContain('private/notes.txt');
      expect((error as Error).message).toMatch(/Permission denied/);
    });

    it('archives a tree the backup user may read in full with the same unprivileged tar', async () => {
      const tar = await unprivilegedTar(work);
      const result = await archive({ tar });
      expect(result.source).toMatchObject({ kind: 'directory', files: 2, directories: 1 });
    });
  });

  it('fails when tar archives a kind a restore would refuse, rather than store it', async () => {
    // A tar that archives /dev/null whatever it is asked: what a path that turned into a
    // device between the walk and tar would give.
    const tar = join(work, 'tar-archiving-a-device');
    await writeFile(
      tar,
      '#!/bin/sh\nif [ "$1" = --version ]; then exec tar --version; fi\ncat > /dev/null\nexec tar --create --file=- --format=posix -C /dev null\n',
      { mode: 0o755 },
    );
    const error = await archive({ tar }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'tar_entry_refused',
      message: expect.stringMatching(/tar archived "null", which is a character device/),
    });
  });
});
