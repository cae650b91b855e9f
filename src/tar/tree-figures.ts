import type { TarEntry } from './tar-parser.ts';

/**
 * The figures a directory manifest records and every check compares, counted one way
 * everywhere (the backup from tar's output, level 2 from the stored archive, a restore from
 * what it extracted):
 * - `directories`: directory entries, the tree's root excepted;
 * - `files`: every other entry (files, symlinks, hard links, FIFOs);
 * - `bytes`: the sizes of the regular files the archive holds data for (a sparse file's real
 *   size); a hard link adds nothing, as it shares its target's data.
 */
export interface TreeFigures {
  readonly files: number;
  readonly directories: number;
  readonly bytes: number;
}

/** Adds up {@link TreeFigures} one entry at a time, holding nothing per entry. */
export class TreeFigureCounter {
  private files = 0;
  private directories = 0;
  private bytes = 0;

  add(entry: Pick<TarEntry, 'type' | 'path' | 'size'>): void {
    if (entry.type === 'directory') {
      if (!isTreeRoot(entry.path)) this.directories++;
      return;
    }
    this.files++;
    if (entry.type === 'file') this.bytes += entry.size;
  }

  get figures(): TreeFigures {
    return { files: this.files, directories: this.directories, bytes: this.bytes };
  }
}

/** `''`, `.`, `./`: the directory the archive is extracted into. */
export function isTreeRoot(path: string): boolean {
  return path.split('/').every((segment) => segment === '' || segment === '.');
}
