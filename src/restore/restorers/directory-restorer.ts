import { spawn } from 'node:child_process';
import type { Stats } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { compareTreeFigures } from '../../backup/directory-figures.ts';
import type { ManifestComponent } from '../../backup/manifest.ts';
import {
  childExit,
  StderrTail,
  toolVersionLine,
} from '../../backup/sources/child-process-output.ts';
import { gnuTarVersion } from '../../backup/sources/directory-source.ts';
import { LifeboatError, RestoreError } from '../../core/errors.ts';
import { displayFileName, pathBytes } from '../../core/file-names.ts';
import { plural } from '../../core/format.ts';
import { type CheckedArchive, type CheckedEntry, checkTarFile } from '../../tar/archive-check.ts';
import type {
  ComponentRestorer,
  RestoreDestination,
  RestoreInput,
  RestoreResult,
  ValidationCheck,
} from '../component-restorer.ts';

export interface DirectoryRestorerOptions {
  /** The GNU tar binary. @defaultValue `tar` from the PATH */
  readonly tar?: string;
}

/**
 * Restores a directory component: the staged tar is checked entry by entry first (nothing that
 * could land outside the destination, see `checkTarFile`), then GNU tar extracts it into the
 * destination path, keeping modes and mtimes.
 *
 * The destination is created when missing. When it exists, the backup's entries are written
 * over it and everything else in it is left as it is: a restore brings back what the backup
 * holds, it does not delete files the backup never knew (a stray upload is cheaper to remove
 * by hand than a deleted one is to get back). Existing symlinks on the way to an entry are
 * refused rather than followed.
 *
 * Owners: tar's own rule. Run as root, files get the numeric owners they had (so the service
 * that owns them can read them again); run as anyone else, they belong to that user.
 */
export class DirectoryRestorer implements ComponentRestorer {
  readonly kind = 'directory';
  private readonly tar: string;

  constructor(options: DirectoryRestorerOptions = {}) {
    this.tar = options.tar ?? 'tar';
  }

  describe(component: ManifestComponent, destination: RestoreDestination): string[] {
    const path = destinationPath(destination);
    const source = component.source.kind === 'directory' ? component.source : undefined;
    const what = source
      ? `${plural(source.files, 'file')} and ${plural(source.directories, 'directory', 'directories')}`
      : 'the archived files';
    return [
      `extract ${what} into ${path} (created if missing)`,
      'files in the backup replace those at the same paths; other files there are left as they are',
      'refused before anything is written if an entry would land outside the destination',
    ];
  }

  async restore(input: RestoreInput): Promise<RestoreResult> {
    const { component, destination, signal } = input;
    const root = destinationPath(destination);
    signal.throwIfAborted();
    const tarVersion = gnuTarVersion(await toolVersionLine('tar', this.tar));

    input.onProgress?.('checking every entry of the archive');
    const archive = await checkArchive(input.stagedFile);
    await mkdir(root, { recursive: true });
    await refuseSymlinkedAncestors(root, archive.entries);

    input.onProgress?.(`extracting ${archive.files} files into ${root}`);
    await this.extract(input.stagedFile, root, signal);

    input.onProgress?.('comparing the restored files with the manifest');
    const checks = await validate(component, root, archive);
    return { tools: { tar: tarVersion }, checks, ok: checks.every((c) => c.ok) };
  }

  private async extract(archive: string, root: string, signal: AbortSignal): Promise<void> {
    const child = spawn(
      this.tar,
      [
        '--extract',
        `--file=${archive}`,
        `--directory=${root}`,
        '--numeric-owner',
        // Modes as archived, not reduced by the worker's umask.
        '--preserve-permissions',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
    );
    const stderr = new StderrTail(child.stderr);
    const stop = () => child.kill('SIGTERM');
    signal.addEventListener('abort', stop, { once: true });
    try {
      const exit = await childExit(child, 'tar');
      signal.throwIfAborted();
      if (exit.code !== 0) {
        const why = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
        throw new RestoreError(
          'tar_extract_failed',
          `tar ${why} extracting into ${root}: ${stderr.lines(8).join('\n') || 'no output on stderr'}`,
        );
      }
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }
}

/** The staged archive's entries, checked: anything unsafe refuses the restore before it starts. */
async function checkArchive(path: string): Promise<CheckedArchive> {
  try {
    return await checkTarFile(path);
  } catch (error) {
    if (error instanceof LifeboatError && error.code === 'archive_entry_unsafe') {
      throw new RestoreError('restore_entry_unsafe', `${error.message}; nothing was extracted`, {
        cause: error,
      });
    }
    throw error;
  }
}

function destinationPath(destination: RestoreDestination): string {
  if (destination.config.kind !== 'directory') {
    throw new RestoreError(
      'restore_kind_mismatch',
      `${destination.name} is a ${destination.config.kind} target; a directory backup restores only into a directory target`,
    );
  }
  return resolve(destination.config.path);
}

/**
 * Refuses when a directory on the way to an entry is, in the destination as it is now, a
 * symlink: tar would write through it, to wherever it points.
 */
async function refuseSymlinkedAncestors(
  root: string,
  entries: readonly CheckedEntry[],
): Promise<void> {
  const seen = new Set<string>();
  for (const entry of entries) {
    const segments = entry.path.split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      const ancestor = segments.slice(0, depth).join('/');
      if (seen.has(ancestor)) continue;
      seen.add(ancestor);
      const info = await lstat(pathBytes(root, ancestor)).catch(() => undefined);
      if (info?.isSymbolicLink()) {
        throw new RestoreError(
          'restore_destination_unsafe',
          `${join(root, displayFileName(ancestor))} is a symlink, and the backup has entries beneath it ("${displayFileName(entry.path)}") that would be written wherever it points; remove it or restore into an empty directory. Nothing was extracted`,
        );
      }
    }
  }
}

/**
 * What is on disk now at the archive's paths, counted as the manifest counts (see
 * `TreeFigures`): an entry counts only when it is there with its archived kind.
 */
async function validate(
  component: ManifestComponent,
  root: string,
  archive: CheckedArchive,
): Promise<ValidationCheck[]> {
  let files = 0;
  let directories = 0;
  let bytes = 0;
  for (const entry of archive.entries) {
    const info = await lstat(pathBytes(root, entry.path)).catch(() => undefined);
    if (!info) continue;
    if (entry.type === 'directory') {
      if (entry.path !== '' && info.isDirectory()) directories++;
    } else if (hasType(info, entry.type)) {
      files++;
      if (entry.type === 'file') bytes += info.size;
    }
  }
  const found = { files, directories, bytes, hardLinkedBytes: archive.hardLinkedBytes };
  if (component.source.kind !== 'directory') {
    return [{ name: 'files', expected: archive.files, actual: files, ok: archive.files === files }];
  }
  return compareTreeFigures(component.source, found);
}

function hasType(info: Stats, type: CheckedEntry['type']): boolean {
  if (type === 'symlink') return info.isSymbolicLink();
  if (type === 'fifo') return info.isFIFO();
  return info.isFile();
}
