import { BackupError } from '../../core/errors.ts';
import { plural } from '../../core/format.ts';
import { feedTool } from '../feed-tool.ts';
import { describeExit, type StructureCheck, type StructureCheckInput } from './structure-check.ts';

/**
 * A directory component: GNU tar lists the archive from the raw stream, and its entries must
 * number what the manifest recorded — directories, and files (symlinks and the like counted as
 * files, as the backup counts them). Files that vanished while the backup ran are in the
 * manifest's count and its warnings but not in the archive, so the listing may fall short of the
 * count by at most that many warnings.
 */
export async function checkTarArchive(input: StructureCheckInput): Promise<StructureCheck> {
  const { component, context } = input;
  let files = 0;
  let directories = 0;
  const fed = await feedTool({
    input: input.raw,
    command: 'tar',
    args: ['--list', '--verbose', '--numeric-owner', '--file=-'],
    onLine: (line) => {
      if (line.length === 0) return;
      if (line.startsWith('d')) directories++;
      else files++;
    },
    ...(input.onBytes ? { onBytes: input.onBytes } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  if (fed.code !== 0) {
    throw new BackupError(
      'tar_list_failed',
      `${context}: tar --list ${describeExit(fed)}: ${fed.stderr.join(' ') || 'no output on stderr'}`,
    );
  }
  const source = component.source;
  if (source.kind === 'directory') {
    const shortBy = source.files - files;
    const filesOk = shortBy === 0 || (shortBy > 0 && shortBy <= source.warnings.length);
    if (!filesOk || directories !== source.directories) {
      throw new BackupError(
        'archive_entries_mismatch',
        `${context}: the tar listing has ${plural(files, 'file')} and ${plural(directories, 'directory', 'directories')}, the manifest records ${plural(source.files, 'file')} and ${plural(source.directories, 'directory', 'directories')}`,
      );
    }
  }
  return {
    checked: [
      `tar listing: ${plural(files, 'file')}, ${plural(directories, 'directory', 'directories')}`,
    ],
    notChecked: [],
    figures: { files, directories },
    rawBytes: fed.inputBytes,
  };
}
