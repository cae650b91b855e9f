/**
 * What one line GNU tar wrote on stderr while archiving means (tar runs in the C locale):
 * - `vanished`: the path was deleted (or its directory replaced) between the walk and tar
 *   reaching it, so it is not in the archive; routine in a live tree;
 * - `changed`: the file changed while tar read it; the archive holds the size tar saw first;
 * - `summary`: tar's closing "Exiting with failure status", which says nothing new;
 * - `error`: anything else (a permission error, an I/O error), which fails the backup.
 */
export type TarComplaintKind = 'vanished' | 'changed' | 'summary' | 'error';

export interface TarComplaint {
  readonly kind: TarComplaintKind;
  /** The path tar named, as tar printed it (non-ASCII bytes as `\ooo` escapes). */
  readonly path: string | null;
  /** The line without its `tar: ` prefix. */
  readonly text: string;
}

/** ENOENT and ENOTDIR: the path is gone, not unreadable. */
const GONE =
  /^(.+): Cannot (?:stat|open|readlink|read): (?:No such file or directory|Not a directory)$/;
const REMOVED = /^(.+): File removed before we read it$/;
const CHANGED =
  /^(.+): (?:file changed as we read it|File shrank by \d+ bytes?; padding with zeros)$/;
const SUMMARY = /^Exiting with failure status due to previous errors$/;
const NAMED = /^(.+?): /;

/** Classifies one stderr line of `tar --create` (see {@link TarComplaintKind}). */
export function classifyTarComplaint(line: string): TarComplaint {
  const text = line.replace(/^tar: /, '');
  if (SUMMARY.test(text)) return { kind: 'summary', path: null, text };
  const gone = GONE.exec(text) ?? REMOVED.exec(text);
  if (gone) return { kind: 'vanished', path: gone[1] ?? null, text };
  const changed = CHANGED.exec(text);
  if (changed) return { kind: 'changed', path: changed[1] ?? null, text };
  return { kind: 'error', path: NAMED.exec(text)?.[1] ?? null, text };
}
