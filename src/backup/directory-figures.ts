import type { AttributeFigures, TreeFigures } from '../tar/tree-figures.ts';
import type { ComponentSource } from './manifest.ts';

type DirectoryManifestSource = Extract<ComponentSource, { kind: 'directory' }>;

/** One figure compared with a directory manifest: `files`, `directories`, `bytes`. */
export interface TreeFigureCheck {
  readonly name: 'files' | 'directories' | 'bytes' | keyof AttributeFigures;
  readonly expected: number;
  readonly actual: number;
  readonly ok: boolean;
}

/** Figures found in an archive or a restored tree, with what older manifests counted too. */
export interface FoundTreeFigures extends TreeFigures {
  /** What hard links add when each counts its target's size (see `CheckedArchive`). */
  readonly hardLinkedBytes: number;
  /**
   * The entries carrying extended attributes and ACLs, when the figures come from an archive
   * (a restored tree's attributes are not read back).
   */
  readonly attributes?: AttributeFigures;
}

/**
 * Compares what level 2 or a restore found with the manifest's figures, the one place that
 * knows how each manifest counted:
 * - `counts: 'archive'` (0.4 on): counted from tar's output as it was stored, so every figure
 *   must match exactly;
 * - `counts: 'walk'` (before 0.4): counted by walking the tree before tar ran, hard links with
 *   their target's bytes. A file deleted meanwhile was counted but not archived, and one that
 *   grew was archived at another size, so when tar reported such files (the manifest's
 *   warnings) files and directories may fall short by at most that many, and bytes are only
 *   compared when there were none.
 */
export function compareTreeFigures(
  source: DirectoryManifestSource,
  found: FoundTreeFigures,
): TreeFigureCheck[] {
  if (source.counts === 'archive') {
    return [
      exact('files', source.files, found.files),
      exact('directories', source.directories, found.directories),
      exact('bytes', source.bytes, found.bytes),
      ...attributeChecks(source, found.attributes),
    ];
  }
  const tolerance = source.warnings?.length ?? 0;
  const within = (name: 'files' | 'directories', expected: number, actual: number) => ({
    name,
    expected,
    actual,
    ok: actual <= expected && expected - actual <= tolerance,
  });
  const bytes = found.bytes + found.hardLinkedBytes;
  return [
    within('files', source.files, found.files),
    within('directories', source.directories, found.directories),
    {
      name: 'bytes',
      expected: source.bytes,
      actual: bytes,
      ok: tolerance > 0 || bytes === source.bytes,
    },
  ];
}

function exact(name: TreeFigureCheck['name'], expected: number, actual: number): TreeFigureCheck {
  return { name, expected, actual, ok: expected === actual };
}

/**
 * The attribute figures, compared exactly, when the manifest records them (it does since
 * Lifeboat archives attributes) and they were found in an archive.
 */
function attributeChecks(
  source: DirectoryManifestSource,
  found: AttributeFigures | undefined,
): TreeFigureCheck[] {
  if (!found) return [];
  const names = ['xattrs', 'acls', 'privilegedXattrs'] as const;
  return names.flatMap((name) => {
    const expected = source[name];
    return expected === undefined ? [] : [exact(name, expected, found[name])];
  });
}
