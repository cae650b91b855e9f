import { describe, expect, it } from 'vitest';
import { compareTreeFigures } from '../../../src/backup/directory-figures.ts';
import { type ComponentSource, componentSourceSchema } from '../../../src/backup/manifest.ts';

type DirectorySource = Extract<ComponentSource, { kind: 'directory' }>;

const source = (extra: Partial<DirectorySource>): DirectorySource => ({
  kind: 'directory',
  path: '/srv/uploads',
  include: [],
  exclude: [],
  counts: 'archive',
  files: 10,
  directories: 3,
  bytes: 1000,
  warnings: [],
  ...extra,
});

const found = { files: 10, directories: 3, bytes: 1000, hardLinkedBytes: 0 };

describe('comparing what was found with a directory manifest', () => {
  it('requires every figure to match exactly when the manifest counted the archive', () => {
    expect(compareTreeFigures(source({}), found).every((c) => c.ok)).toBe(true);
    const short = compareTreeFigures(source({ warnings: ['a: File removed before we read it'] }), {
      ...found,
      files: 9,
    });
    expect(short.find((c) => c.name === 'files')).toEqual({
      name: 'files',
      expected: 10,
      actual: 9,
      ok: false,
    });
  });

  it('compares the entries carrying attributes when the manifest records them and an archive was read', () => {
    const withAttributes = source({ xattrs: 3, acls: 2, privilegedXattrs: 1 });
    const attributes = { xattrs: 3, acls: 1, privilegedXattrs: 1 };
    const checks = compareTreeFigures(withAttributes, { ...found, attributes });
    expect(checks.filter((c) => !c.ok)).toEqual([
      { name: 'acls', expected: 2, actual: 1, ok: false },
    ]);
    // A restored tree's attributes are not read back; a manifest without them compares none.
    expect(compareTreeFigures(withAttributes, found).map((c) => c.name)).toEqual([
      'files',
      'directories',
      'bytes',
    ]);
    expect(compareTreeFigures(source({}), { ...found, attributes }).every((c) => c.ok)).toBe(true);
  });

  it('reads a manifest from before 0.4 (counted by a walk) with its own rules', () => {
    const legacy = source({ counts: 'walk', bytes: 1500 });
    // Hard links counted their target's bytes again.
    expect(compareTreeFigures(legacy, { ...found, hardLinkedBytes: 500 }).every((c) => c.ok)).toBe(
      true,
    );
    expect(compareTreeFigures(legacy, { ...found, files: 9 }).find((c) => !c.ok)?.name).toBe(
      'files',
    );
    // Files that vanished were counted but not archived: at most one per warning.
    const vanished = source({ counts: 'walk', warnings: ['x: Cannot stat: No such file'] });
    const checks = compareTreeFigures(vanished, { ...found, files: 9, bytes: 990 });
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(compareTreeFigures(vanished, { ...found, files: 8 }).some((c) => !c.ok)).toBe(true);
  });

  it('takes a stored manifest without `counts` as one counted by a walk', () => {
    const { counts: _counts, ...old } = source({});
    expect(componentSourceSchema.parse(old)).toMatchObject({ counts: 'walk' });
  });
});
