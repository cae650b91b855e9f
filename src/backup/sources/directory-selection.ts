import picomatch from 'picomatch';

/** One entry of a directory tree, by its path relative to the tree's root (`docs/a.md`). */
export interface TreeEntry {
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
}

/** A directory target's globs (see `directoryTarget` in the config schema). */
export interface SelectionRules {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

type PathTest = (path: string, isDirectory: boolean) => boolean;

/**
 * Compiles globs the way `.gitignore` readers expect: a pattern without `/` matches a name at any
 * depth (`*.tmp`, `cache`); a pattern with `/` matches the path from the root (`logs/*.gz`,
 * `/build`); a trailing `/` matches directories only (`tmp/`). Dotfiles match like any file.
 */
export function compileGlobs(patterns: readonly string[]): PathTest {
  const tests = patterns.map((raw): PathTest => {
    let pattern = raw.startsWith('./') ? raw.slice(2) : raw;
    const directoriesOnly = pattern.endsWith('/');
    if (directoriesOnly) pattern = pattern.replace(/\/+$/, '');
    const anchored = pattern.includes('/');
    if (pattern.startsWith('/')) pattern = pattern.slice(1);
    const matches = picomatch(pattern, { dot: true });
    return (path, isDirectory) => {
      if (directoriesOnly && !isDirectory) return false;
      return matches(anchored ? path : basename(path));
    };
  });
  return (path, isDirectory) => tests.some((test) => test(path, isDirectory));
}

/**
 * Decides which entries a directory backup keeps, in the given order (parents before children,
 * as a walk yields them):
 * - an entry matching `exclude` is left out, and an excluded directory takes its subtree along;
 * - when `include` is non-empty, only entries matching it (or lying under a directory matching
 *   it) are kept, plus the directories needed to hold them.
 */
export function selectEntries<T extends TreeEntry>(
  entries: readonly T[],
  rules: SelectionRules,
): T[] {
  const excluded = compileGlobs(rules.exclude);
  const included = compileGlobs(rules.include);
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  const keep = new Set<string>();

  for (const entry of entries) {
    const parents = ancestors(entry.path);
    if (parents.some((dir) => excluded(dir, true))) continue;
    if (excluded(entry.path, entry.type === 'directory')) continue;
    if (rules.include.length > 0) {
      const selected =
        included(entry.path, entry.type === 'directory') ||
        parents.some((dir) => included(dir, true));
      if (!selected) continue;
      for (const dir of parents) if (byPath.has(dir)) keep.add(dir);
    }
    keep.add(entry.path);
  }
  return entries.filter((entry) => keep.has(entry.path));
}

/** True when a walk can skip the directory at `path` and everything under it. */
export function prunesDirectory(rules: SelectionRules): (path: string) => boolean {
  const excluded = compileGlobs(rules.exclude);
  return (path) => excluded(path, true);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `a/b/c` → `['a', 'a/b']`. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1))
    out.push(path.slice(0, i));
  return out;
}
