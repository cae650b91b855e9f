import type { Block, ChatMessage } from '../../chat/message.ts';
import type { RetentionConfig } from '../../config/schema.ts';
import { formatBytes, plural, withoutMentionMarkers } from '../../core/format.ts';
import type { ProfilePruneReport, PruneBackupLine, PruneReport } from '../../retention/prune.ts';

/** Lines listed per profile and action before the rest are counted; chat messages stay short. */
export const MAX_LISTED_BACKUPS = 25;

const POLICY_ORDER: readonly (keyof RetentionConfig)[] = [
  'keepLast',
  'hourly',
  'daily',
  'weekly',
  'monthly',
  'yearly',
  'minKeep',
  'maxSize',
];

/** `daily 7, weekly 4, minKeep 3`. */
export function describePolicy(policy: RetentionConfig): string {
  const parts = POLICY_ORDER.filter((key) => policy[key] !== undefined).map(
    (key) => `${key} ${policy[key]}`,
  );
  return parts.length ? parts.join(', ') : 'empty (keeps everything)';
}

/** One row of cells per listed backup, and a line counting the ones not listed. */
function backupRows(action: 'DELETE' | 'KEEP', lines: readonly PruneBackupLine[]): string[][] {
  const shown = lines.slice(0, MAX_LISTED_BACKUPS);
  const rows = shown.map((line) => [
    action,
    line.id,
    line.createdAt.slice(0, 16).replace('T', ' '),
    formatBytes(line.bytes),
    line.reasons.map((r) => r.replace(/^(keep|delete): /, '')).join(', '),
  ]);
  const rest = lines.length - shown.length;
  if (rest > 0) rows.push([action, `… and ${plural(rest, 'more backup')}`]);
  return rows;
}

/** `DELETE  bk_…  2026-11-14 02:00  10.0 MiB  no rule keeps it`, columns aligned. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(0, ...rows.filter((r) => r.length > i + 1).map((r) => r[i]?.length ?? 0)),
  );
  return rows
    .map((row) =>
      row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  '),
    )
    .join('\n');
}

function profileBlocks(report: ProfilePruneReport, dryRun: boolean): Block[] {
  if (!report.policy) {
    return [
      {
        type: 'section',
        text: `${report.profile}: no retention policy, so every backup is kept (${plural(report.kept.length, 'backup')}). Give the profile \`retention\` in the config to prune it.`,
      },
    ];
  }
  const verb = dryRun ? 'would delete' : 'deleted';
  const summary =
    `${report.profile} (${describePolicy(report.policy)}): ${verb} ` +
    `${plural(report.deleted.length, 'backup')} (${formatBytes(report.freedBytes)}), ` +
    `keeps ${plural(report.kept.length, 'backup')} (${formatBytes(report.keptBytes)}).`;
  const blocks: Block[] = [{ type: 'section', text: summary }];
  const rows = [...backupRows('DELETE', report.deleted), ...backupRows('KEEP', report.kept)];
  if (rows.length) blocks.push({ type: 'code', text: table(rows) });
  for (const note of report.notes) blocks.push({ type: 'callout', tone: 'warning', text: note });
  if (report.elsewhere.length > 0) {
    const listed = report.elsewhere
      .slice(0, MAX_LISTED_BACKUPS)
      .map((e) => `${e.id} (${e.location})`)
      .join(', ');
    const more =
      report.elsewhere.length > MAX_LISTED_BACKUPS
        ? `, and ${report.elsewhere.length - MAX_LISTED_BACKUPS} more`
        : '';
    blocks.push({
      type: 'callout',
      tone: 'info',
      text: `Left alone: ${plural(report.elsewhere.length, 'backup')} of ${report.profile} recorded in another store (is another config using this catalog?): ${listed}${more}.`,
    });
  }
  if (report.inUse.length > 0) {
    blocks.push({
      type: 'callout',
      tone: 'warning',
      text: `Left for the next prune: ${report.inUse.map((u) => `${u.id} (in use by ${u.heldBy.join(', ')})`).join(', ')}.`,
    });
  }
  for (const failure of report.failures) {
    blocks.push({
      type: 'callout',
      tone: 'danger',
      text: `Could not delete ${failure.id}: ${withoutMentionMarkers(failure.error)}`,
    });
  }
  return blocks;
}

/**
 * `/backup prune [--dry-run]`: per profile what goes and why, what stays and why, and the bytes
 * freed. A dry run says that nothing was deleted and how to do it for real.
 */
export function prunePlanMessage(report: PruneReport): ChatMessage {
  const deleted = report.profiles.reduce((sum, p) => sum + p.deleted.length, 0);
  const freed = report.profiles.reduce((sum, p) => sum + p.freedBytes, 0);
  const failures = report.profiles.reduce((sum, p) => sum + p.failures.length, 0);
  const title = report.dryRun ? 'Prune plan (dry run)' : 'Prune';
  const blocks: Block[] = [{ type: 'header', text: title }];
  for (const profile of report.profiles) blocks.push(...profileBlocks(profile, report.dryRun));
  if (report.profiles.length === 0) {
    blocks.push({ type: 'section', text: 'No profiles to prune.' });
  }
  const total = `${plural(deleted, 'backup')}, ${formatBytes(freed)}`;
  const footer = report.dryRun
    ? `Dry run: nothing was deleted. It would delete ${total}. Run the same command without --dry-run to delete them.`
    : `Deleted ${total}${failures ? `; ${plural(failures, 'backup')} could not be deleted` : ''}. Requested by ${report.requestedBy}.`;
  blocks.push({ type: 'context', text: footer });
  const text = report.dryRun
    ? `Prune plan (dry run): would delete ${total}`
    : `Pruned: deleted ${total}${failures ? `, ${failures} failed` : ''}`;
  return { text, blocks };
}

/** Posted when a real prune is queued; replaced by {@link prunePlanMessage} when it is done. */
export function pruneRunningMessage(profile: string | undefined): ChatMessage {
  const what = profile ? `the backups of ${profile}` : 'the backups of every profile';
  const text = `Pruning ${what} by their retention policies…`;
  return { text, blocks: [{ type: 'section', text }] };
}
