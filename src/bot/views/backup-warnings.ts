import type { BackupWarning } from '../../backup/component-warnings.ts';
import type { Block } from '../../chat/message.ts';
import { plural, printable } from '../../core/format.ts';

/** Warnings listed one by one in a message before the rest are counted. */
export const LISTED_WARNINGS = 10;

/** `3 things are not in it, or not whole`, for the warnings that say a backup is incomplete. */
export function incompleteSummary(warnings: readonly BackupWarning[]): string {
  const count = warnings.filter((w) => w.kind === 'incomplete').length;
  return `${plural(count, 'thing')} ${count === 1 ? 'is' : 'are'} not in it, or not whole`;
}

/**
 * What a backup has to say beyond its figures, loud where it matters: a warning callout and
 * the list of what is not in the backup, then what the tools noted.
 */
export function backupWarningBlocks(warnings: readonly BackupWarning[], id: string): Block[] {
  const incomplete = warnings.filter((w) => w.kind === 'incomplete');
  const notices = warnings.filter((w) => w.kind === 'notice');
  const blocks: Block[] = [];
  if (incomplete.length > 0) {
    blocks.push({
      type: 'callout',
      tone: 'warning',
      text: `Incomplete: ${incompleteSummary(warnings)}. What the backup holds restores as usual; what is listed here does not come back from it.`,
    });
    blocks.push({ type: 'section', text: listed(incomplete, id) });
  }
  if (notices.length > 0) {
    blocks.push({ type: 'context', text: `Noted by the tools:\n${listed(notices, id)}` });
  }
  return blocks;
}

function listed(warnings: readonly BackupWarning[], id: string): string {
  const lines = warnings
    .slice(0, LISTED_WARNINGS)
    .map((w) => `• \`${printable(w.component)}\`: ${printable(w.message)}`);
  const rest = warnings.length - LISTED_WARNINGS;
  if (rest > 0) lines.push(`… and ${rest} more: \`/backup show ${id}\` lists them`);
  return lines.join('\n');
}
