import { describe, expect, it } from 'vitest';
import {
  type SelectionRules,
  selectEntries,
  type TreeEntry,
} from '../../../../src/backup/sources/directory-selection.ts';

/** A tree in walk order: directories end with `/`, symlinks with `@`. */
function tree(...paths: string[]): TreeEntry[] {
  return paths.map((path) => {
    if (path.endsWith('/')) return { path: path.slice(0, -1), type: 'directory' };
    if (path.endsWith('@')) return { path: path.slice(0, -1), type: 'symlink' };
    return { path, type: 'file' };
  });
}

const TREE = tree(
  '.env',
  'a.txt',
  'b.tmp',
  'cache/',
  'cache/blob',
  'cache/deep/',
  'cache/deep/x',
  'docs/',
  'docs/.hidden.tmp',
  'docs/guide.md',
  'docs/deep/',
  'docs/deep/x.bin',
  'docs/deep/y.md',
  'empty/',
  'latest@',
  'logs/',
  'logs/app.log',
  'logs/app.log.gz',
  'logs/cache/',
  'logs/cache/z',
  'photos/',
  'photos/2024/',
  'photos/2024/a.jpg',
  'photos/2024/b.tmp',
);

function selected(rules: Partial<SelectionRules>): string[] {
  return selectEntries(TREE, { include: [], exclude: [], ...rules }).map((e) =>
    e.type === 'directory' ? `${e.path}/` : e.path,
  );
}

describe('choosing what a directory backup keeps', () => {
  it('keeps every entry when there are no globs', () => {
    expect(selected({})).toHaveLength(TREE.length);
  });

  it.each<[string, Partial<SelectionRules>, string[]]>([
    [
      'a pattern without a slash excludes matching names at any depth, dotfiles too',
      { exclude: ['*.tmp'] },
      ['b.tmp', 'docs/.hidden.tmp', 'photos/2024/b.tmp'],
    ],
    [
      'an excluded directory name takes its whole subtree along, wherever it is',
      { exclude: ['cache'] },
      ['cache/', 'cache/blob', 'cache/deep/', 'cache/deep/x', 'logs/cache/', 'logs/cache/z'],
    ],
    [
      'a pattern with a slash matches the path from the root',
      { exclude: ['logs/*.gz'] },
      ['logs/app.log.gz'],
    ],
    [
      'a leading slash anchors a name to the root',
      { exclude: ['/cache'] },
      ['cache/', 'cache/blob', 'cache/deep/', 'cache/deep/x'],
    ],
    [
      'a trailing slash matches directories only',
      { exclude: ['latest/', 'deep/'] },
      ['cache/deep/', 'cache/deep/x', 'docs/deep/', 'docs/deep/x.bin', 'docs/deep/y.md'],
    ],
    ['a dotfile matches a star', { exclude: ['.*'] }, ['.env', 'docs/.hidden.tmp']],
    ['a symlink is matched by its own name', { exclude: ['latest'] }, ['latest']],
    [
      'a globstar pattern excludes at any depth under a directory',
      { exclude: ['docs/**/*.md'] },
      ['docs/guide.md', 'docs/deep/y.md'],
    ],
  ])('%s', (_name, rules, left) => {
    expect(selected(rules)).toEqual(selected({}).filter((path) => !left.includes(path)));
  });

  it.each<[string, Partial<SelectionRules>, string[]]>([
    [
      'an include keeps only matching files plus the directories that hold them',
      { include: ['**/*.bin'] },
      ['docs/', 'docs/deep/', 'docs/deep/x.bin'],
    ],
    [
      'an included directory brings its whole subtree',
      { include: ['photos'] },
      ['photos/', 'photos/2024/', 'photos/2024/a.jpg', 'photos/2024/b.tmp'],
    ],
    [
      'include and exclude together: exclude wins inside what is included',
      { include: ['photos', '*.md'], exclude: ['*.tmp'] },
      [
        'docs/',
        'docs/guide.md',
        'docs/deep/',
        'docs/deep/y.md',
        'photos/',
        'photos/2024/',
        'photos/2024/a.jpg',
      ],
    ],
    [
      'an excluded directory is not brought back by an include below it',
      { include: ['*.bin'], exclude: ['deep'] },
      [],
    ],
    ['a root-level include by path', { include: ['a.txt'] }, ['a.txt']],
    ['an include that matches nothing keeps nothing', { include: ['*.nothing'] }, []],
    [
      'an include of a path pattern keeps empty directories it matches',
      { include: ['empty'] },
      ['empty/'],
    ],
  ])('%s', (_name, rules, kept) => {
    expect(selected(rules)).toEqual(kept);
  });
});
