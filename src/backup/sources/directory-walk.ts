import { lstat, readdir } from 'node:fs/promises';
import { BackupError } from '../../core/errors.ts';
import { decodeFileName, displayFileName, pathBytes } from '../../core/file-names.ts';
import { fileKindOf, leftOutBecause } from '../../tar/entry-kinds.ts';
import type { TreeEntry } from './directory-selection.ts';

/** One entry of a walked tree, by its path relative to the root (names as `decodeFileName` makes them). */
export interface WalkedEntry extends TreeEntry {
  /**
   * The data bytes tar will read of a regular file when the walk saw it (a sparse file's
   * allocated bytes, not its holes); 0 for everything else. Progress only.
   */
  readonly size: number;
  /** Why a backup leaves this entry out (a socket, a device); null for what it archives. */
  readonly leftOut: string | null;
}

/**
 * Every entry under `root`, parents first and names in byte order, without following symlinks
 * and without descending into directories `prunes` says to skip. Names are read as bytes, so
 * every name comes back, whatever its encoding (see `decodeFileName`). An entry deleted while
 * the walk runs is passed over; one the walk may not read fails it, naming the path.
 */
export async function walkTree(
  root: string,
  prunes: (path: string) => boolean,
  signal: AbortSignal,
): Promise<WalkedEntry[]> {
  const out: WalkedEntry[] = [];
  const visit = async (relative: string): Promise<void> => {
    signal.throwIfAborted();
    let names: Buffer[];
    try {
      names = (await readdir(pathBytes(root, relative), { encoding: 'buffer' })).sort(
        Buffer.compare,
      );
    } catch (error) {
      if (relative !== '' && isVanished(error)) return;
      throw unreadable(root, relative, error);
    }
    for (const name of names) {
      const decoded = decodeFileName(name);
      const path = relative === '' ? decoded : `${relative}/${decoded}`;
      let info: Awaited<ReturnType<typeof lstat>>;
      try {
        info = await lstat(pathBytes(root, path));
      } catch (error) {
        if (isVanished(error)) continue;
        throw unreadable(root, path, error);
      }
      const kind = fileKindOf(info);
      if (kind === 'directory') {
        if (prunes(path)) continue;
        out.push({ path, type: 'directory', size: 0, leftOut: null });
        await visit(path);
        continue;
      }
      const type = kind === 'file' || kind === 'symlink' ? kind : 'other';
      out.push({
        path,
        type,
        size: kind === 'file' ? info.size : 0,
        leftOut: leftOutBecause(kind),
      });
    }
  };
  await visit('');
  return out;
}

function isVanished(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function unreadable(root: string, relative: string, error: unknown): BackupError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  const path = relative === '' ? root : `${root}/${displayFileName(relative)}`;
  return new BackupError('source_path_unreadable', `cannot read ${path}: ${code}`, {
    cause: error,
  });
}
