import type { BackupRecord } from '../../app/services.ts';
import { isIncomplete } from '../../backup/component-warnings.ts';
import type { Block, ChatMessage } from '../../chat/message.ts';
import { formatAge, formatBytes, printable } from '../../core/format.ts';
import {
  type VerificationRecord,
  verificationEnded,
  verificationStatusText,
} from '../../verify/verification.ts';
import { onCommandLine } from './full-result.ts';

export interface BackupListOptions {
  readonly now: Date;
  readonly profile?: string;
  readonly limit: number;
  /** Each backup's most recent verification, by backup id. @defaultValue none shown */
  readonly verifications?: ReadonlyMap<string, VerificationRecord>;
}

/** `passed (L2)`, `failed (L1)`, `could not verify (L3)`, `running`, or `—` when never verified. */
function verifiedCell(record: VerificationRecord | undefined): string {
  if (!record) return '—';
  const status = verificationStatusText(record.status);
  return verificationEnded(record) ? `${status} (L${record.level})` : status;
}

const NOTE_WIDTH = 40;

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** Rows of cells as aligned columns; the last column is not padded. */
function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `/backup list`: newest first, one line per backup in a monospaced table. */
export function backupListMessage(
  backups: readonly BackupRecord[],
  options: BackupListOptions,
): ChatMessage {
  const title = options.profile ? `Backups of ${options.profile}` : 'Backups';
  if (backups.length === 0) {
    const create = options.profile ? `/backup create ${options.profile}` : '/backup create';
    const text = `${options.profile ? `No backups of ${options.profile}` : 'No backups'} yet. Run \`${create}\` to take one.`;
    return {
      text,
      blocks: [
        { type: 'header', text: title },
        { type: 'section', text },
      ],
    };
  }
  const newestFirst = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const rows = [
    ['ID', 'PROFILE', 'STATUS', 'SIZE', 'VERIFIED', 'AGE', 'NOTE'],
    ...newestFirst.map((b) => [
      b.id,
      b.profile,
      b.status === 'completed' && isIncomplete(b.manifest) ? 'completed, incomplete' : b.status,
      b.bytes === null ? '—' : formatBytes(b.bytes),
      verifiedCell(options.verifications?.get(b.id)),
      formatAge(b.createdAt, options.now),
      truncate(printable(b.note ?? ''), NOTE_WIDTH),
    ]),
  ];
  const more =
    backups.length >= options.limit
      ? ` Showing the newest ${options.limit}; \`--limit N\` shows more.`
      : '';
  const blocks: Block[] = [
    { type: 'header', text: title },
    { type: 'code', text: columns(rows) },
    { type: 'context', text: `\`/backup show ID\` shows one in full.${more}` },
  ];
  const listed = `backup list${options.profile ? ` --profile ${options.profile}` : ''} --limit ${options.limit}`;
  return {
    text: `${title}: ${newestFirst.map((b) => `${b.id} (${b.status})`).join(', ')}`,
    blocks,
    fullResult: onCommandLine(listed),
  };
}
