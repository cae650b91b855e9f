import { lstat, mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { RestoreError } from '../../core/errors.ts';
import { displayFileName, pathBytes } from '../../core/file-names.ts';
import { mapConcurrently } from '../../core/map-concurrently.ts';
import { PRIVATE_DIRECTORY_MODE } from '../../core/private-modes.ts';
import type { CheckedEntry } from '../../tar/archive-check.ts';
import {
  applyAttributes,
  DISPLACED,
  EXTRACTED,
  type RestoreJournal,
  type SavedAttributes,
  saveAttributes,
} from './restore-journal.ts';

/** lstat calls in flight while the destination is looked at. */
const LSTATS_IN_FLIGHT = 32;

/**
 * How one path of the backup gets into the destination:
 * - `place`: nothing is there; the extracted entry moves in, a directory with all it holds;
 * - `replace`: something the backup replaces is there (a file, a link, an empty directory); it
 *   moves aside first;
 * - `merge`: a directory is there and the backup has one; its entries are placed one by one,
 *   then the backup's mode, owner and times are set on it.
 */
export interface Placement {
  readonly kind: 'place' | 'replace' | 'merge';
  readonly path: string;
}

/**
 * Decides, from what the destination holds now, how each path of the backup goes in. Files in
 * the backup replace those at the same paths; other files of the destination stay. Refused,
 * before anything is changed, where that would lose or redirect what is there: a directory
 * holding files the backup does not have where the backup has a file, and a symlink where the
 * backup has a directory (someone pointed it elsewhere on purpose; writing into it would write
 * through it).
 *
 * @throws RestoreError `restore_destination_conflict` naming the path.
 */
export async function planPlacement(
  root: string,
  entries: readonly CheckedEntry[],
): Promise<Placement[]> {
  const types = new Map<string, CheckedEntry['type']>();
  for (const entry of entries) {
    if (entry.path === '') continue;
    types.set(entry.path, entry.type);
    // tar makes the parents an archive leaves out; they are placed like archived directories.
    for (let at = entry.path.indexOf('/'); at !== -1; at = entry.path.indexOf('/', at + 1)) {
      const parent = entry.path.slice(0, at);
      if (!types.has(parent)) types.set(parent, 'directory');
    }
  }
  const paths = [...types.keys()].sort((a, b) => depth(a) - depth(b));
  // What is there now, looked up all at once; the walk below only reads it.
  const states = await mapConcurrently(paths, LSTATS_IN_FLIGHT, (path) =>
    lstat(pathBytes(root, path)).catch(() => undefined),
  );
  const covered = new Set<string>();
  const out: Placement[] = [];
  for (const [index, path] of paths.entries()) {
    const parent = parentOf(path);
    if (parent !== '' && covered.has(parent)) {
      covered.add(path);
      continue;
    }
    const type = types.get(path);
    const there = states[index];
    if (!there) {
      out.push({ kind: 'place', path });
      covered.add(path);
    } else if (type === 'directory' && there.isDirectory()) {
      out.push({ kind: 'merge', path });
    } else if (type === 'directory' && there.isSymbolicLink()) {
      throw conflict(
        root,
        path,
        'is a symlink where the backup has a directory; remove it (or restore elsewhere) so nothing is written through it',
      );
    } else if (there.isDirectory() && (await readdir(pathBytes(root, path))).length > 0) {
      throw conflict(
        root,
        path,
        'is a directory holding files the backup does not have, where the backup has a file; move it away first',
      );
    } else {
      out.push({ kind: 'replace', path });
      covered.add(path);
    }
  }
  return out;
}

/**
 * Moves the extracted tree (`<work>/new`) into the destination by `placements`, recording each
 * step in `journal` before taking it, then sets the backup's attributes on merged directories
 * (deepest first: moving entries in changed their times). Throws at the first step that fails;
 * the journal then holds what to undo.
 */
export async function placeTree(
  root: string,
  workDirectory: string,
  placements: readonly Placement[],
  journal: RestoreJournal,
): Promise<void> {
  const extracted = (path: string) => pathBytes(join(workDirectory, EXTRACTED), path);
  const displaced = (path: string) => pathBytes(join(workDirectory, DISPLACED), path);
  const touched = new Set<string>();
  const displacedParents = new Set<string>();
  // A directory's times change when an entry moves in or out: they are saved first.
  const touch = async (path: string) => {
    const directory = parentOf(path);
    if (touched.has(directory)) return;
    touched.add(directory);
    journal.record({
      op: 'attributes',
      path: directory,
      before: await saveAttributes(pathBytes(root, directory)),
    });
  };
  // The backup's attributes of merged directories, read before moving entries out of them.
  const merged = placements.filter((p) => p.kind === 'merge').reverse();
  const backupAttributes = new Map<string, SavedAttributes>();
  for (const { path } of merged) backupAttributes.set(path, await saveAttributes(extracted(path)));
  for (const { kind, path } of placements) {
    if (kind === 'merge') continue;
    await touch(path);
    try {
      if (kind === 'replace') {
        const parent = parentOf(path);
        if (!displacedParents.has(parent)) {
          await mkdir(displaced(parent), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
          displacedParents.add(parent);
        }
        journal.record({ op: 'displaced', path });
        await rename(pathBytes(root, path), displaced(path));
      }
      journal.record({ op: 'placed', path });
      await rename(extracted(path), pathBytes(root, path));
    } catch (error) {
      throw moveError(root, path, error);
    }
  }
  for (const { path } of merged) {
    if (!touched.has(path)) {
      touched.add(path);
      journal.record({
        op: 'attributes',
        path,
        before: await saveAttributes(pathBytes(root, path)),
      });
    }
    await applyAttributes(pathBytes(root, path), backupAttributes.get(path) as SavedAttributes);
  }
}

/** `a/b/c` → `a/b`; `a` → `''` (the destination). */
function parentOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
}

function depth(path: string): number {
  let count = 0;
  for (const char of path) if (char === '/') count++;
  return count;
}

function conflict(root: string, path: string, why: string): RestoreError {
  return new RestoreError(
    'restore_destination_conflict',
    `${join(root, displayFileName(path))} ${why}`,
  );
}

function moveError(root: string, path: string, error: unknown): RestoreError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  const why =
    code === 'EXDEV' || code === 'EBUSY'
      ? `${code}: it is on another file system (a mount point inside the destination), which a restore cannot move into atomically`
      : code;
  return new RestoreError(
    'restore_move_failed',
    `moving ${join(root, displayFileName(path))} into place failed (${why})`,
    { cause: error },
  );
}
