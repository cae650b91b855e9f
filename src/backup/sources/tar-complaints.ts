import type { ComponentWarning } from '../manifest.ts';

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

/** Lines of each kind kept for messages and the manifest; the rest are counted. */
const KEPT_LINES = 100;

/**
 * Every complaint tar made during one run, classified as the lines arrive, so that an error
 * is never lost behind thousands of "file removed" lines: all are counted, the first
 * {@link KEPT_LINES} of each kind are kept.
 */
export class TarComplaintLog {
  private readonly kept: { warning: TarComplaint[]; error: TarComplaint[] } = {
    warning: [],
    error: [],
  };
  private readonly counts = { warning: 0, error: 0 };

  /** Reads one line of tar's stderr. */
  add(line: string): void {
    if (line.trim() === '') return;
    const complaint = classifyTarComplaint(line);
    if (complaint.kind === 'summary') return;
    const kind = complaint.kind === 'error' ? 'error' : 'warning';
    this.counts[kind]++;
    if (this.kept[kind].length < KEPT_LINES) this.kept[kind].push(complaint);
  }

  /** True when tar complained of anything that is not a vanished or changed file. */
  get failed(): boolean {
    return this.counts.error > 0;
  }

  /** The errors as tar said them, the last line counting those not kept. */
  errors(): string[] {
    const lines = this.kept.error.map((c) => c.text);
    return withRest(lines, this.counts.error, 'error');
  }

  /**
   * The files that vanished or changed, each saying what it means for the backup, the last
   * counting those not kept; all of them `incomplete`.
   */
  warnings(): ComponentWarning[] {
    const lines = this.kept.warning.map((c) =>
      c.kind === 'vanished'
        ? `${c.text}: not in this backup (deleted while the backup ran)`
        : `${c.text}: in this backup as tar read it while it changed, which may not be a consistent copy`,
    );
    return withRest(lines, this.counts.warning, 'file').map((message) => ({
      kind: 'incomplete',
      message,
    }));
  }
}

function withRest(kept: readonly string[], count: number, what: string): string[] {
  const rest = count - kept.length;
  if (rest <= 0) return [...kept];
  return [...kept, `… and ${rest} more ${what}${rest === 1 ? '' : 's'} like these`];
}
