import { compareTreeFigures } from '../../backup/directory-figures.ts';
import { BackupError, LifeboatError } from '../../core/errors.ts';
import { plural } from '../../core/format.ts';
import { type CheckedArchive, checkTarEntries } from '../../tar/archive-check.ts';
import { type TarEntry, TarParser } from '../../tar/tar-parser.ts';
import { feedTool } from '../feed-tool.ts';
import { describeExit, type StructureCheck, type StructureCheckInput } from './structure-check.ts';

/**
 * A directory component, read twice as it streams by: GNU tar lists it (so a real tar accepts
 * it), and Lifeboat's own reader checks every entry with the rules a restore applies (so level 2
 * passes only what a restore would extract). Both must see the same entries, and their figures
 * must be those the manifest records.
 */
export async function checkTarArchive(input: StructureCheckInput): Promise<StructureCheck> {
  const { component, context } = input;
  let listed = 0;
  const parser = new TarParser();
  const entries: TarEntry[] = [];
  const tapped = async function* () {
    for await (const chunk of input.raw) {
      if (!parser.done) entries.push(...parser.push(chunk));
      yield chunk;
    }
    parser.end();
  };
  let fed: Awaited<ReturnType<typeof feedTool>>;
  try {
    fed = await feedTool({
      input: tapped(),
      command: 'tar',
      args: ['--list', '--verbose', '--numeric-owner', '--file=-'],
      onLine: (line) => {
        if (line.length > 0) listed++;
      },
      ...(input.onBytes ? { onBytes: input.onBytes } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
  } catch (error) {
    throw archiveError(context, error);
  }
  if (fed.code !== 0) {
    throw new BackupError(
      'tar_list_failed',
      `${context}: tar --list ${describeExit(fed)}: ${fed.stderr.join(' ') || 'no output on stderr'}`,
    );
  }
  if (listed !== entries.length) {
    throw new BackupError(
      'archive_entries_mismatch',
      `${context}: GNU tar lists ${plural(listed, 'entry', 'entries')} and Lifeboat reads ${entries.length}; the archive is read differently by different tools`,
    );
  }
  let figures: ReturnType<typeof checkTarEntries>;
  try {
    figures = checkTarEntries(entries);
  } catch (error) {
    throw archiveError(context, error);
  }
  const { files, directories, bytes, attributes } = figures;
  const source = component.source;
  if (source.kind === 'directory') {
    const mismatches = compareTreeFigures(source, figures).filter((check) => !check.ok);
    if (mismatches.length > 0) {
      const named = mismatches.map(
        (c) => `${c.name}: the manifest records ${c.expected}, the archive holds ${c.actual}`,
      );
      throw new BackupError(
        'archive_entries_mismatch',
        `${context}: the archive does not match the manifest (${named.join('; ')})`,
      );
    }
  }
  return {
    checked: [
      `tar listing: ${plural(files, 'file')}, ${plural(directories, 'directory', 'directories')}`,
      'every entry is one a restore extracts',
      ...(attributes.xattrs + attributes.acls > 0 ? [attributeLine(attributes)] : []),
    ],
    notChecked: [],
    figures: { files, directories, bytes },
    rawBytes: fed.inputBytes,
  };
}

/** `3 entries with extended attributes (1 only root can set back), 2 with POSIX ACLs`. */
function attributeLine(attributes: CheckedArchive['attributes']): string {
  const privileged =
    attributes.privilegedXattrs > 0
      ? ` (${attributes.privilegedXattrs} only root can set back)`
      : '';
  return `${plural(attributes.xattrs, 'entry', 'entries')} with extended attributes${privileged}, ${attributes.acls} with POSIX ACLs`;
}

/** A malformed or unsafe archive, named with its component. */
function archiveError(context: string, error: unknown): unknown {
  if (!(error instanceof LifeboatError)) return error;
  if (error.code === 'archive_entry_unsafe') {
    return new BackupError(error.code, `${context}: a restore would refuse it: ${error.message}`, {
      cause: error,
    });
  }
  if (error.code === 'tar_invalid') {
    return new BackupError(error.code, `${context}: ${error.message}`, { cause: error });
  }
  return error;
}
