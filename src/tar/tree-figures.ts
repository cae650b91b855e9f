import { attributesOf, isPrivilegedXattr } from './entry-kinds.ts';
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

/**
 * The entries of an archive that carry attributes beside their data, the tree's root included
 * (see `attributesOf`):
 * - `xattrs`: entries with extended attributes, ACLs aside;
 * - `acls`: entries with a POSIX ACL (access or default);
 * - `privilegedXattrs`: of `xattrs`, entries with one only root can set back (a file
 *   capability, `trusted.*`).
 */
export interface AttributeFigures {
  readonly xattrs: number;
  readonly acls: number;
  readonly privilegedXattrs: number;
}

/** Adds up {@link TreeFigures} one entry at a time, holding nothing per entry. */
export class TreeFigureCounter {
  private files = 0;
  private directories = 0;
  private bytes = 0;
  private xattrs = 0;
  private acls = 0;
  private privilegedXattrs = 0;

  add(entry: Pick<TarEntry, 'type' | 'path' | 'size'> & Partial<Pick<TarEntry, 'paxKeys'>>): void {
    if (entry.paxKeys) {
      const attributes = attributesOf({ paxKeys: entry.paxKeys });
      if (attributes.xattrs.length > 0) this.xattrs++;
      if (attributes.xattrs.some(isPrivilegedXattr)) this.privilegedXattrs++;
      if (attributes.acl) this.acls++;
    }
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

  /** The attribute figures; counted only of entries added with their pax keys. */
  get attributes(): AttributeFigures {
    return { xattrs: this.xattrs, acls: this.acls, privilegedXattrs: this.privilegedXattrs };
  }
}

/** `''`, `.`, `./`: the directory the archive is extracted into. */
export function isTreeRoot(path: string): boolean {
  return path.split('/').every((segment) => segment === '' || segment === '.');
}
