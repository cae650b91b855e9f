import { LifeboatError } from '../core/errors.ts';
import { displayFileName } from '../core/file-names.ts';
import { attributesOf, type EntryAttributes, refusedEntryBecause } from './entry-kinds.ts';
import { readAllTarEntries } from './tar-entries.ts';
import type { TarEntry } from './tar-parser.ts';
import { type AttributeFigures, TreeFigureCounter, type TreeFigures } from './tree-figures.ts';

/** An entry that passed the checks, by its path relative to the destination (`docs/a.md`). */
export interface CheckedEntry {
  /** Normalised: no `./`, no trailing `/`; `''` is the destination itself. */
  readonly path: string;
  readonly type: 'file' | 'hardlink' | 'symlink' | 'directory' | 'fifo';
  /** A hard link's target as a normalised path; a symlink's target as written. */
  readonly linkTarget: string | null;
  readonly size: number;
  readonly mode: number;
  readonly mtime: number;
  /** Its extended attributes and ACLs, which tar sets when it creates the entry. */
  readonly attributes: EntryAttributes;
}

/** What a sound archive holds: its entries and the figures the manifest records. */
export interface CheckedArchive extends TreeFigures {
  /** In archive order. */
  readonly entries: readonly CheckedEntry[];
  /**
   * The bytes hard links would add if each counted its target's size, as manifests written
   * before Lifeboat counted from the archive did.
   */
  readonly hardLinkedBytes: number;
  /** The entries that carry extended attributes and ACLs. */
  readonly attributes: AttributeFigures;
}

/**
 * Checks the entries of a directory backup's archive and refuses it if extracting it could
 * write outside the destination, or create what a directory backup never holds:
 * - names: absolute, `..` segments, the same path twice, a non-directory for the destination
 *   itself — on every name the archive gives an entry, so no reader can be fooled;
 * - symlinks may point anywhere (the link is created, never followed), but no entry may lie
 *   beneath a symlink of the archive, so nothing is ever written through one;
 * - a hard link must link to a file the archive holds before it, by a path that passes the
 *   same checks (a link through a symlink would reach outside);
 * - kinds: only those of `entry-kinds.ts` (no devices, no unknown types).
 *
 * @throws LifeboatError `archive_entry_unsafe` naming the first offending entry and why.
 */
export function checkTarEntries(entries: readonly TarEntry[]): CheckedArchive {
  const checked: CheckedEntry[] = [];
  const byPath = new Map<string, CheckedEntry>();
  const symlinks = new Map<string, TarEntry>();
  const counter = new TreeFigureCounter();
  let hardLinkedBytes = 0;

  for (const entry of entries) {
    const refused = refusedEntryBecause(entry);
    if (refused) throw unsafe(entry, refused);
    const type = entry.type as CheckedEntry['type'];
    for (const name of entry.names) segmentsOf(entry, name);
    const path = segmentsOf(entry, entry.path).join('/');
    if (path === '' && type !== 'directory') {
      throw unsafe(entry, 'names the destination directory itself, but is not a directory');
    }
    if (byPath.has(path)) {
      throw unsafe(entry, 'appears twice in the archive; a directory backup holds each path once');
    }
    let linkTarget: string | null = null;
    if (type === 'hardlink') {
      for (const target of entry.linkTargets) {
        const segments = normaliseName(target);
        if (typeof segments === 'string') {
          throw unsafe(entry, `is a hard link to "${displayFileName(target)}", which ${segments}`);
        }
      }
      linkTarget = segmentsOf(entry, entry.linkTarget ?? '').join('/');
      const target = byPath.get(linkTarget);
      if (target?.type !== 'file') {
        throw unsafe(
          entry,
          `is a hard link to "${displayFileName(entry.linkTarget ?? '')}", which is not a file the archive holds before it`,
        );
      }
      hardLinkedBytes += target.size;
    }
    if (type === 'symlink') {
      if (entry.linkTargets.length === 0) throw unsafe(entry, 'is a symlink with no target');
      linkTarget = entry.linkTarget;
      symlinks.set(path, entry);
    }
    const kept: CheckedEntry = {
      path,
      type,
      linkTarget,
      size: entry.size,
      mode: entry.mode,
      mtime: entry.mtime,
      attributes: attributesOf(entry),
    };
    checked.push(kept);
    byPath.set(path, kept);
    counter.add({ type, path, size: entry.size, paxKeys: entry.paxKeys });
  }

  for (const entry of entries) {
    const paths = [entry.path, ...(entry.type === 'hardlink' ? entry.linkTargets : [])];
    for (const name of paths) {
      const segments = normaliseName(name);
      if (typeof segments === 'string') continue;
      for (let depth = 1; depth < segments.length; depth++) {
        const link = symlinks.get(segments.slice(0, depth).join('/'));
        if (link) {
          const what =
            name === entry.path ? 'lies' : `links to "${displayFileName(name)}", which lies`;
          throw unsafe(
            entry,
            `${what} beneath "${displayFileName(link.path)}", a symlink of the same archive`,
          );
        }
      }
    }
  }

  return { entries: checked, ...counter.figures, hardLinkedBytes, attributes: counter.attributes };
}

/** The path's segments, or throws naming why it is unsafe. */
function segmentsOf(entry: TarEntry, name: string): string[] {
  const segments = normaliseName(name);
  if (typeof segments === 'string') throw unsafe(entry, segments);
  return segments;
}

/** The segments of an archive path without `.` and empty ones, or why the path is unsafe. */
function normaliseName(name: string): string[] | string {
  if (name.startsWith('/')) return 'is an absolute path';
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return 'has a ".." segment';
  return segments;
}

function unsafe(entry: TarEntry, why: string): LifeboatError {
  return new LifeboatError(
    'archive_entry_unsafe',
    `the archive entry "${displayFileName(entry.path)}" ${why}`,
  );
}

/** {@link checkTarEntries} on the tar file at `path`, read header by header. */
export async function checkTarFile(path: string): Promise<CheckedArchive> {
  return checkTarEntries(await readAllTarEntries(path));
}
