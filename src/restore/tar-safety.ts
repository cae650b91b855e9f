import { RestoreError } from '../core/errors.ts';
import { readTarEntries, type TarEntry, type TarEntryType } from './tar-entries.ts';

/** An entry that passed the checks, by its path relative to the destination (`docs/a.md`). */
export interface CheckedEntry {
  /** Normalised: no `./`, no trailing `/`; `''` is the destination itself. */
  readonly path: string;
  readonly type: Extract<TarEntryType, 'file' | 'hardlink' | 'symlink' | 'directory'>;
  /** A hard link's target as a normalised path; a symlink's target as written. */
  readonly linkTarget: string | null;
  readonly size: number;
  readonly mode: number;
  readonly mtime: number;
}

/** What a safe archive holds, by the figures the directory manifest records. */
export interface CheckedArchive {
  /** The last entry of each path, in archive order. */
  readonly entries: readonly CheckedEntry[];
  /** Entries that are not directories (files, links). */
  readonly files: number;
  readonly directories: number;
  /** The sizes of regular files (hard links count their target's, as on disk). */
  readonly bytes: number;
}

/** How deep symlink chains are followed before they are called a loop, as Linux does. */
const MAX_SYMLINK_HOPS = 40;

/**
 * Reads the tar file's headers and refuses the archive if extracting it could write, link or
 * point outside the destination: absolute names, `..` segments, symlinks or hard links whose
 * target is absolute or leads out (following the archive's own symlinks the way the kernel
 * would), entries placed beneath a symlink of the same archive, devices and FIFOs, sparse and
 * other entry types a restore has no business creating.
 *
 * @throws RestoreError `restore_entry_unsafe` naming the first offending entry and why;
 * `tar_invalid` when the file is not a well-formed tar archive.
 */
export async function checkTarFile(path: string): Promise<CheckedArchive> {
  const entries: TarEntry[] = [];
  for await (const entry of readTarEntries(path)) entries.push(entry);
  return checkTarEntries(entries);
}

/** The checks of {@link checkTarFile} on entries already read. */
export function checkTarEntries(entries: readonly TarEntry[]): CheckedArchive {
  const checked = new Map<string, CheckedEntry>();
  const symlinks = new Map<
    string,
    { parent: string[]; targets: readonly string[]; entry: TarEntry }
  >();

  for (const entry of entries) {
    const type = allowedType(entry);
    for (const name of entry.names) normalise(entry, name);
    const path = normalise(entry, entry.path).join('/');
    if (path === '' && type !== 'directory') {
      throw unsafe(entry, 'names the destination directory itself, but is not a directory');
    }
    if (type === 'hardlink') {
      for (const target of entry.linkTargets) {
        const segments = normaliseName(target);
        if (typeof segments === 'string') {
          throw unsafe(entry, `is a hard link to "${target}", which ${segments}`);
        }
        if (segments.length === 0) throw unsafe(entry, 'is a hard link to the destination itself');
      }
    }
    if (type === 'symlink') {
      for (const target of entry.linkTargets) {
        if (target.startsWith('/')) {
          throw unsafe(entry, `is a symlink to the absolute path "${target}"`);
        }
      }
      if (entry.linkTargets.length === 0) throw unsafe(entry, 'is a symlink with no target');
      symlinks.set(path, {
        parent: path.split('/').slice(0, -1),
        targets: entry.linkTargets,
        entry,
      });
    }
    checked.delete(path);
    const linkTarget =
      type === 'hardlink'
        ? normalise(entry, entry.linkTarget ?? '').join('/')
        : type === 'symlink'
          ? entry.linkTarget
          : null;
    checked.set(path, {
      path,
      type,
      linkTarget,
      size: entry.size,
      mode: entry.mode,
      mtime: entry.mtime,
    });
  }

  for (const entry of entries) {
    const paths = [entry.path, ...(entry.type === 'hardlink' ? entry.linkTargets : [])];
    for (const name of paths) {
      const segments = normaliseName(name);
      if (typeof segments === 'string') continue;
      for (let depth = 1; depth < segments.length; depth++) {
        const ancestor = segments.slice(0, depth).join('/');
        const link = symlinks.get(ancestor);
        if (link) {
          const what = name === entry.path ? 'lies' : `links to "${name}", which lies`;
          throw unsafe(
            entry,
            `${what} beneath "${link.entry.path}", a symlink of the same archive`,
          );
        }
      }
    }
  }

  for (const link of symlinks.values()) {
    for (const target of link.targets) {
      const resolved = resolveWithin(link.parent, target, symlinks, 0);
      if (resolved === 'loops') {
        throw unsafe(link.entry, `is a symlink to "${target}" that loops through other symlinks`);
      }
      if (resolved === 'escapes') {
        throw unsafe(
          link.entry,
          `is a symlink to "${target}", which leads outside the destination`,
        );
      }
    }
  }

  const kept = [...checked.values()];
  return {
    entries: kept,
    files: kept.filter((e) => e.type !== 'directory').length,
    directories: kept.filter((e) => e.type === 'directory' && e.path !== '').length,
    bytes: regularBytes(kept),
  };
}

/**
 * Sizes of regular files. A hard link is a regular file on disk, and the backup counted it as
 * one, but tar records its size on the entry it links to only.
 */
function regularBytes(entries: readonly CheckedEntry[]): number {
  const sizes = new Map(entries.filter((e) => e.type === 'file').map((e) => [e.path, e.size]));
  let total = 0;
  for (const entry of entries) {
    if (entry.type === 'file') total += entry.size;
    else if (entry.type === 'hardlink') total += sizes.get(entry.linkTarget ?? '') ?? 0;
  }
  return total;
}

function allowedType(entry: TarEntry): CheckedEntry['type'] {
  if (entry.paxKeys.some((key) => key.startsWith('GNU.sparse'))) {
    throw unsafe(entry, 'is a sparse file, which Lifeboat backups never hold');
  }
  switch (entry.type) {
    case 'file':
    case 'hardlink':
    case 'symlink':
    case 'directory':
      return entry.type;
    case 'character-device':
    case 'block-device':
    case 'fifo':
      throw unsafe(
        entry,
        `is a ${entry.type.replace('-', ' ')}; a restore creates only files, directories and links`,
      );
    case 'unsupported':
      throw unsafe(
        entry,
        `has the entry type "${printable(entry.typeFlag)}", which a restore does not create`,
      );
  }
}

/** The path's segments, or throws naming why it is unsafe. */
function normalise(entry: TarEntry, name: string): string[] {
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

/**
 * Where `target`, read from the directory `from`, ends up inside the destination when the
 * archive's symlinks are followed as the kernel follows them; 'escapes' when it leaves it.
 */
function resolveWithin(
  from: readonly string[],
  target: string,
  symlinks: ReadonlyMap<string, { parent: string[]; targets: readonly string[] }>,
  hops: number,
): string[] | 'escapes' | 'loops' {
  if (target.startsWith('/')) return 'escapes';
  if (hops > MAX_SYMLINK_HOPS) return 'loops';
  let stack = [...from];
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (stack.length === 0) return 'escapes';
      stack.pop();
      continue;
    }
    stack.push(segment);
    const link = symlinks.get(stack.join('/'));
    if (link) {
      // Every target the archive gives the link must stay inside; the first is the one followed.
      let next: string[] | undefined;
      for (const linkTarget of link.targets) {
        const resolved = resolveWithin(link.parent, linkTarget, symlinks, hops + 1);
        if (typeof resolved === 'string') return resolved;
        next ??= resolved;
      }
      stack = next ?? stack;
    }
  }
  return stack;
}

function printable(flag: string): string {
  return flag === '\0' ? 'NUL' : flag;
}

function unsafe(entry: TarEntry, why: string): RestoreError {
  return new RestoreError(
    'restore_entry_unsafe',
    `the archive entry "${entry.path}" ${why}; nothing was extracted`,
  );
}
