import type { Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { compareTreeFigures, type TreeFigureCheck } from '../../backup/directory-figures.ts';
import type { ManifestComponent } from '../../backup/manifest.ts';
import { encodeFileName, pathBytes } from '../../core/file-names.ts';
import { mapConcurrently } from '../../core/map-concurrently.ts';
import type { CheckedArchive, CheckedEntry } from '../../tar/archive-check.ts';

/** lstat calls in flight while a tree is checked. */
const LSTATS_IN_FLIGHT = 32;

/**
 * What is on disk under `root` at the archive's paths, counted as the manifest counts (see
 * `TreeFigures`): an entry counts only when it is there with its archived kind (a hard link as
 * the file it is, a symlink pointing where it did). Compared with the manifest's figures.
 */
export async function checkTreeOnDisk(
  component: ManifestComponent,
  root: string,
  archive: CheckedArchive,
): Promise<TreeFigureCheck[]> {
  let files = 0;
  let directories = 0;
  let bytes = 0;
  const entries = archive.entries.filter((entry) => entry.path !== '');
  const found = await mapConcurrently(entries, LSTATS_IN_FLIGHT, async (entry) => {
    const path = pathBytes(root, entry.path);
    const info = await lstat(path).catch(() => undefined);
    if (!info || !hasKind(info, entry.type)) return null;
    if (entry.type === 'symlink' && !(await pointsTo(path, entry.linkTarget))) return null;
    return info;
  });
  for (const [index, info] of found.entries()) {
    const entry = entries[index] as CheckedEntry;
    if (!info) continue;
    if (entry.type === 'directory') directories++;
    else files++;
    if (entry.type === 'file') bytes += info.size;
  }
  const figures = { files, directories, bytes, hardLinkedBytes: archive.hardLinkedBytes };
  if (component.source.kind !== 'directory') {
    return [{ name: 'files', expected: archive.files, actual: files, ok: archive.files === files }];
  }
  return compareTreeFigures(component.source, figures);
}

async function pointsTo(path: Buffer, target: string | null): Promise<boolean> {
  const actual = await readlink(path, { encoding: 'buffer' }).catch(() => undefined);
  return actual !== undefined && target !== null && actual.equals(encodeFileName(target));
}

function hasKind(info: Stats, type: CheckedEntry['type']): boolean {
  switch (type) {
    case 'directory':
      return info.isDirectory();
    case 'symlink':
      return info.isSymbolicLink();
    case 'fifo':
      return info.isFIFO();
    default:
      return info.isFile();
  }
}
