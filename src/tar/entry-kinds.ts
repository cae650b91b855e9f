import type { TarEntry } from './tar-parser.ts';

/**
 * The one rule set of what a directory backup holds, which every step follows: the backup's
 * walk hands tar only these kinds and leaves the others out with a "not in this backup"
 * warning; the backup fails if tar's output holds anything else; level 2 and a restore refuse
 * an archive that does. So whatever a backup takes, a restore gives back.
 *
 * - kept: regular files (sparse ones stay sparse), directories, symlinks (whatever they point
 *   at: a restore creates the link and never writes through it), hard links between files of
 *   the tree, FIFOs (a name and a mode, no data);
 * - left out: sockets (tar cannot archive one; the process that listens creates it again) and
 *   character and block devices (a restore that creates device nodes in a data directory would
 *   hand raw hardware access to whoever can reach it, from a backup or a tampered archive).
 *
 * With every entry go its extended attributes of every namespace (`user.*`, and those only root
 * can set back: file capabilities in `security.capability`, `trusted.*`) and its POSIX ACLs,
 * access and default (see {@link TAR_ATTRIBUTE_OPTIONS}).
 */
export type FileKind =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'fifo'
  | 'socket'
  | 'character-device'
  | 'block-device';

/** The kinds the walk hands to tar. */
export const ARCHIVED_KINDS: readonly FileKind[] = ['file', 'directory', 'symlink', 'fifo'];

/** The kinds of tar entry a backup holds and a restore creates. */
export const ARCHIVE_ENTRY_TYPES: readonly TarEntry['type'][] = [
  'file',
  'hardlink',
  'symlink',
  'directory',
  'fifo',
];

/** The subset of `fs.Stats` (from `lstat`) that tells a file's kind. */
export interface KindStats {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/** The kind of a file, from `lstat` (symlinks are not followed). */
export function fileKindOf(stats: KindStats): FileKind {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character-device';
  return 'block-device';
}

/** Why the walk leaves a file of this kind out, for its "not in this backup" warning; null when kept. */
export function leftOutBecause(kind: FileKind): string | null {
  switch (kind) {
    case 'socket':
      return 'it is a socket, which tar cannot archive (the process listening on it makes it again)';
    case 'character-device':
    case 'block-device':
      return `it is a ${kind.replace('-', ' ')}, and a restore never creates device nodes`;
    default:
      return null;
  }
}

/**
 * Why a backup, level 2 and a restore refuse this tar entry; null when it is one a directory
 * backup holds (see the module comment).
 */
export function refusedEntryBecause(entry: TarEntry): string | null {
  const sparseKeys = entry.paxKeys.some((key) => key.startsWith('GNU.sparse.'));
  if (sparseKeys && !entry.sparse) {
    return 'is a sparse file in a format other than GNU pax 1.0, which Lifeboat never writes';
  }
  if (ARCHIVE_ENTRY_TYPES.includes(entry.type)) return null;
  if (entry.type === 'character-device' || entry.type === 'block-device') {
    return `is a ${entry.type.replace('-', ' ')}; a directory backup leaves devices out and a restore never creates one`;
  }
  const flag = entry.typeFlag === '\0' ? 'NUL' : entry.typeFlag;
  return `has the entry type "${flag}", which a directory backup never holds`;
}

/**
 * The GNU tar options that archive, and extract, an entry's extended attributes and POSIX ACLs:
 * every xattr namespace (tar extracts only `user.*` unless told otherwise), and ACLs as the text
 * `--acls` stores rather than again as their raw `system.posix_acl_*` xattrs. A backup and a
 * restore pass the same options, so whatever one takes the other gives back.
 */
export const TAR_ATTRIBUTE_OPTIONS: readonly string[] = [
  '--xattrs',
  '--xattrs-include=*',
  '--xattrs-exclude=system.posix_acl_*',
  '--acls',
];

/** The pax keys GNU tar stores an entry's attributes under. */
const XATTR_KEY = 'SCHILY.xattr.';
const ACL_KEYS = ['SCHILY.acl.access', 'SCHILY.acl.default'];
const ACL_XATTRS = ['system.posix_acl_access', 'system.posix_acl_default'];

/** The extended attributes and ACLs an archive entry carries. */
export interface EntryAttributes {
  /** Names of its extended attributes, ACLs aside: `user.color`, `security.capability`. */
  readonly xattrs: readonly string[];
  /** It carries a POSIX ACL (access or default). */
  readonly acl: boolean;
}

/** What {@link EntryAttributes} an entry carries, from its pax keys. */
export function attributesOf(entry: Pick<TarEntry, 'paxKeys'>): EntryAttributes {
  const xattrs: string[] = [];
  let acl = false;
  for (const key of entry.paxKeys) {
    if (ACL_KEYS.includes(key)) acl = true;
    else if (key.startsWith(XATTR_KEY)) {
      const name = key.slice(XATTR_KEY.length);
      if (ACL_XATTRS.includes(name)) acl = true;
      else xattrs.push(name);
    }
  }
  return { xattrs, acl };
}

/** True for an attribute only root can set back (outside `user.*`: a file capability, `trusted.*`). */
export function isPrivilegedXattr(name: string): boolean {
  return !name.startsWith('user.');
}
