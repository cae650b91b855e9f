import type { Readable } from 'node:stream';
import { displayFileName } from '../../core/file-names.ts';
import type { CheckedEntry } from '../../tar/archive-check.ts';
import type { Placement } from './place-tree.ts';

/** One attribute GNU tar could not set while extracting, as it said (in the C locale). */
export interface AttributeNotSet {
  /** `security.capability`; null for an entry's POSIX ACLs. */
  readonly xattr: string | null;
  /** The entry's path as tar printed it, without its leading `./`. */
  readonly path: string;
  /** The system's reason: `Operation not permitted`. */
  readonly reason: string;
}

/** `setxattrat: Cannot set 'security.capability' extended attribute for file './a': Operation not permitted` */
const XATTR = /^[\w]+: Cannot set '(.+)' extended attribute for file '(.+)'(?:: (.+))?$/;
/** `acl_set_file_at: Cannot set POSIX ACLs for file './a': Operation not supported` */
const ACL = /^[\w]+: Cannot set POSIX ACLs for file '(.+)'(?:: (.+))?$/;
/** `./a: Cannot acl_from_text: Invalid argument` */
const ACL_TEXT = /^(.+): Cannot acl_from_text(?:: (.+))?$/;

/** Notes kept of each kind; the rest are counted. */
const KEPT = 20;

/**
 * Reads the stderr of `tar --extract` for the attributes it could not set: tar warns and goes
 * on (exit 0), so without this they would be dropped quietly. Every such line is counted, the
 * first {@link KEPT} kept.
 */
export class TarAttributeComplaints {
  readonly kept: AttributeNotSet[] = [];
  count = 0;

  /** Reads `stream` to its end, line by line. */
  read(stream: Readable | null): Promise<void> {
    if (!stream) return Promise.resolve();
    let rest = '';
    return new Promise((resolve) => {
      stream.on('data', (chunk: Buffer | string) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) this.add(line);
      });
      stream.on('close', () => {
        if (rest) this.add(rest);
        resolve();
      });
    });
  }

  /** Reads one line of tar's stderr. */
  add(line: string): void {
    const text = line.replace(/^tar: /, '').trimEnd();
    const found = attributeNotSet(text);
    if (!found) return;
    this.count++;
    if (this.kept.length < KEPT) this.kept.push(found);
  }
}

function attributeNotSet(text: string): AttributeNotSet | null {
  const xattr = XATTR.exec(text);
  if (xattr) return { xattr: xattr[1] ?? '', path: relative(xattr[2]), reason: xattr[3] ?? '' };
  const acl = ACL.exec(text) ?? ACL_TEXT.exec(text);
  if (acl) return { xattr: null, path: relative(acl[1]), reason: acl[2] ?? '' };
  return null;
}

function relative(path: string | undefined): string {
  const stripped = (path ?? '').replace(/^(?:\.\/)+/, '');
  return stripped === '' || stripped === '.' ? '.' : stripped;
}

/**
 * The notes of a directory restore about attributes the backup holds and the destination did
 * not get, one line each, all starting `not restored:` — never dropped quietly:
 * - what tar said it could not set (a file capability, `trusted.*`, when not run as root; any
 *   attribute where the file system does not take it);
 * - the attributes of directories that existed and were merged (only their mode, owner and
 *   times are set), and of the destination directory itself (the restore fills it; it is not
 *   one of the entries it places).
 */
export function attributesNotSet(
  complaints: TarAttributeComplaints,
  entries: readonly CheckedEntry[],
  placements: readonly Placement[],
): string[] {
  const notes = complaints.kept.map((c) => {
    const what =
      c.xattr === null
        ? `the POSIX ACLs of ${c.path}`
        : `the extended attribute ${c.xattr} of ${c.path}`;
    return `not restored: ${what}${c.reason ? ` (${c.reason})` : ''}`;
  });
  const rest = complaints.count - complaints.kept.length;
  if (rest > 0) notes.push(`not restored: ${rest} more attributes tar could not set`);

  const merged = new Set(placements.filter((p) => p.kind === 'merge').map((p) => p.path));
  for (const entry of entries) {
    const { xattrs, acl } = entry.attributes;
    if (xattrs.length === 0 && !acl) continue;
    const held = [...xattrs, ...(acl ? ['a POSIX ACL'] : [])].join(', ');
    if (entry.path === '') {
      notes.push(
        `not restored: the extended attributes and ACLs of the destination directory itself (${held}); what it holds is restored`,
      );
    } else if (merged.has(entry.path)) {
      notes.push(
        `not restored: the extended attributes and ACLs of the directory ${displayFileName(entry.path)}, which existed in the destination and was merged (${held}); its mode, owner and times are the backup's`,
      );
    }
  }
  return notes;
}
