import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, pipeline as stdoutPipeline, finished as streamFinished } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DirectoryTargetConfig } from '../../config/schema.ts';
import { childEnvironment } from '../../core/child-env.ts';
import { BackupError } from '../../core/errors.ts';
import { displayFileName, encodeFileName } from '../../core/file-names.ts';
import { refusedEntryBecause, TAR_ATTRIBUTE_OPTIONS } from '../../tar/entry-kinds.ts';
import { tarEntryTap } from '../../tar/tar-entries.ts';
import { TreeFigureCounter } from '../../tar/tree-figures.ts';
import type { ComponentWarning } from '../manifest.ts';
import type { BackupSource, OpenedSource, SourceResult } from './backup-source.ts';
import { cancelledError, childExit, toolStream, toolVersionLine } from './child-process-output.ts';
import { prunesDirectory, selectEntries } from './directory-selection.ts';
import { type WalkedEntry, walkTree } from './directory-walk.ts';
import { TarComplaintLog } from './tar-complaints.ts';

export interface DirectorySourceOptions {
  /** The GNU tar binary. @defaultValue `tar` from the PATH */
  readonly tar?: string;
}

const NUL = Buffer.of(0);
const TAR_BLOCK = 512;
const TAR_RECORD = 10_240;

/**
 * A directory tree as a tar stream. The tree is walked here (symlinks kept as links, never
 * followed) so include/exclude globs decide exactly which entries go in; GNU tar then archives
 * that list, keeping modes, mtimes, numeric owners, extended attributes and ACLs.
 */
export class DirectorySource implements BackupSource {
  readonly kind = 'directory';
  readonly objectSuffix = 'tar';
  private readonly config: DirectoryTargetConfig;
  private readonly tar: string;

  constructor(config: DirectoryTargetConfig, options: DirectorySourceOptions = {}) {
    this.config = config;
    this.tar = options.tar ?? 'tar';
  }

  async open(signal: AbortSignal): Promise<OpenedSource> {
    if (signal.aborted) throw cancelledError(signal);
    const root = resolve(this.config.path);
    await assertDirectory(root);
    const tarVersion = await toolVersionLine('tar', this.tar);
    const rules = { include: this.config.include, exclude: this.config.exclude };
    let walked: WalkedEntry[];
    try {
      walked = await walkTree(root, prunesDirectory(rules), signal);
    } catch (error) {
      if (signal.aborted) throw cancelledError(signal);
      throw error;
    }
    const selected = selectEntries(walked, rules);
    const entries = selected.filter((entry) => entry.leftOut === null);
    const leftOut = selected.flatMap((entry): ComponentWarning[] =>
      entry.leftOut
        ? [
            {
              kind: 'incomplete',
              message: `${displayFileName(entry.path)}: not in this backup: ${entry.leftOut}`,
            },
          ]
        : [],
    );

    const child = spawn(
      this.tar,
      [
        '--create',
        '--file=-',
        `--directory=${root}`,
        '--numeric-owner',
        // POSIX pax: mtimes to the nanosecond and names of any length or bytes; GNU tar and
        // every other modern tar extract it with a plain `tar -x`.
        '--format=posix',
        // Times and header names as they are, nothing that changes between two runs (atime,
        // the pid in pax header names), and no ctime, which no extract can set anyway.
        '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
        // Holes stay holes: only a sparse file's data is stored, and it comes back sparse.
        '--sparse',
        '--sparse-version=1.0',
        // Extended attributes of every namespace (file capabilities too) and POSIX ACLs.
        ...TAR_ATTRIBUTE_OPTIONS,
        // Positional: these must come before --files-from to apply to the names it reads.
        '--no-recursion',
        '--null',
        '--verbatim-files-from',
        '--files-from=-',
      ],
      // C locale: tar's warnings are parsed below.
      { stdio: ['pipe', 'pipe', 'pipe'], env: childEnvironment(process.env, { LC_ALL: 'C' }) },
    );
    const complaints = new TarComplaintLog();
    const stderrRead = readLines(child.stderr, (line) => complaints.add(line));
    const exited = childExit(child, 'tar');
    // tar exiting early closes its stdin; its exit status tells why.
    pipeline(
      // Names go to tar as the bytes they are, NUL-separated, whatever their encoding.
      Readable.from(entries.map((entry) => Buffer.concat([encodeFileName(entry.path), NUL]))),
      child.stdin,
    ).catch(() => {});

    // The manifest describes what is in the archive: counted from tar's output as it passes,
    // never from the walk (files vanish and grow between the two).
    const counter = new TreeFigureCounter();
    const tap = tarEntryTap((entry) => {
      const refused = refusedEntryBecause(entry);
      if (refused) {
        throw new BackupError(
          'tar_entry_refused',
          `tar archived "${displayFileName(entry.path)}", which ${refused}; it changed kind while the backup ran`,
        );
      }
      counter.add(entry);
    });
    const { stdout } = child;
    // Errors reach the consumer through `tap`; destroying it stops reading tar.
    stdoutPipeline(stdout, tap, () => {});
    const counted = new Promise<void>((resolve) => {
      streamFinished(tap, { readable: false }, () => resolve());
    });

    return toolStream(child, {
      signal,
      stop: () => child.kill('SIGTERM'),
      output: tap,
      expectedBytes: estimateTarBytes(entries),
      finish: async (): Promise<SourceResult> => {
        const [exit] = await Promise.allSettled([exited, counted, stderrRead]);
        if (signal.aborted) throw cancelledError(signal);
        if (exit.status === 'rejected') throw exit.reason;
        const { code, signal: killedBy } = exit.value;
        if (code === null || code === 2) {
          await assertDirectory(root, 'while it was being archived');
        }
        if (code === null || code > 2 || complaints.failed) {
          const why = killedBy ? `was killed by ${killedBy}` : `exited with code ${code}`;
          // A file that could not be read is never left out quietly: it fails the backup.
          const shown = complaints.failed
            ? complaints.errors()
            : complaints.warnings().map((w) => w.message);
          throw new BackupError(
            'tar_failed',
            `tar ${why} archiving ${root}: ${shown.slice(0, 8).join('\n') || 'no output on stderr'}`,
          );
        }
        return {
          source: {
            kind: 'directory',
            path: root,
            include: [...this.config.include],
            exclude: [...this.config.exclude],
            counts: 'archive',
            ...counter.figures,
            ...counter.attributes,
          },
          tools: { tar: gnuTarVersion(tarVersion) },
          warnings: [...leftOut, ...complaints.warnings()],
        };
      },
    });
  }
}

/** `tar (GNU tar) 1.34` → `GNU tar 1.34`. */
export function gnuTarVersion(printed: string): string {
  const match = /^tar \(([^)]+)\) (\S+)/.exec(printed);
  return match ? `${match[1]} ${match[2]}` : printed;
}

/**
 * About the size of the tar stream GNU tar writes for these entries: a header, a pax header
 * (sub-second mtimes) and the data of each, long names and sparse maps aside.
 */
export function estimateTarBytes(entries: readonly WalkedEntry[]): number {
  let bytes = 2 * TAR_BLOCK;
  for (const entry of entries) {
    bytes += 3 * TAR_BLOCK + Math.ceil(entry.size / TAR_BLOCK) * TAR_BLOCK;
    const nameBytes = encodeFileName(entry.path).length;
    if (nameBytes >= 100) {
      bytes += TAR_BLOCK + Math.ceil((nameBytes + 1) / TAR_BLOCK) * TAR_BLOCK;
    }
  }
  return Math.ceil(bytes / TAR_RECORD) * TAR_RECORD;
}

async function assertDirectory(root: string, when = ''): Promise<void> {
  const suffix = when ? ` ${when}` : '';
  try {
    if ((await stat(root)).isDirectory()) return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new BackupError('source_path_missing', `the directory ${root} disappeared${suffix}`, {
        cause: error,
      });
    }
    throw new BackupError('source_path_unreadable', `cannot read ${root}: ${code ?? error}`, {
      cause: error,
    });
  }
  throw new BackupError('source_path_not_directory', `${root} is not a directory${suffix}`);
}

/** Calls `onLine` with each line of `stream`; resolves once it has ended. */
async function readLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  for await (const line of createInterface({
    input: stream,
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    onLine(line);
  }
}
