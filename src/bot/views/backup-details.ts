import type { BackupRecord } from '../../app/services.ts';
import { backupWarnings, warningsOf } from '../../backup/component-warnings.ts';
import type { ManifestComponent } from '../../backup/manifest.ts';
import type { Block, ChatMessage, Field } from '../../chat/message.ts';
import {
  formatAge,
  formatBytes,
  formatCount,
  formatDuration,
  formatTimestamp,
  plural,
  printable,
  withoutMentionMarkers,
} from '../../core/format.ts';
import type { VerificationRecord } from '../../verify/verification.ts';
import { backupWarningBlocks } from './backup-warnings.ts';
import { onCommandLine } from './full-result.ts';
import { failedReplicaBlocks, replicaValue } from './replicas.ts';
import { lastVerificationText } from './verify-result.ts';

/** Tables listed one by one before the rest are summed up. */
export const MAX_LISTED_TABLES = 10;

function sourceLines(component: ManifestComponent): string[] {
  const source = component.source;
  switch (source.kind) {
    case 'postgres': {
      const total = source.tables.reduce((sum, t) => sum + t.rows, 0);
      const biggest = [...source.tables].sort((a, b) => b.rows - a.rows);
      const listed = biggest
        .slice(0, MAX_LISTED_TABLES)
        .map((t) => `    ${t.schema}.${t.table}: ${formatCount(t.rows)}`);
      const rest = biggest.length - listed.length;
      return [
        `  database ${source.database} (PostgreSQL ${source.serverVersion}), ${plural(total, 'row')} in ${plural(source.tables.length, 'table')}`,
        ...listed,
        ...(rest > 0 ? [`    … and ${plural(rest, 'more table')}`] : []),
      ];
    }
    case 'directory':
      return [
        `  ${source.path}: ${plural(source.files, 'file')}, ${plural(source.directories, 'directory', 'directories')}, ${formatBytes(source.bytes)}`,
      ];
    case 'redis':
      return [`  ${source.url}: ${plural(source.keys, 'key')}`];
  }
}

function componentText(component: ManifestComponent): string {
  const tools = Object.entries(component.tools)
    .map(([tool, version]) => `${tool} ${version}`)
    .join(', ');
  const encryption = component.encryption
    ? `age, ${plural(component.encryption.recipients.length, 'recipient')}`
    : 'none';
  return [
    `${component.name} (${component.kind}) → ${component.object}`,
    `  stored ${formatBytes(component.bytes)} from ${formatBytes(component.rawBytes)} raw · ${component.compression} · encryption ${encryption} · ${formatDuration(component.durationMs)}`,
    `  sha256 ${component.sha256}`,
    ...(tools ? [`  tools: ${tools}`] : []),
    ...sourceLines(component),
    ...warningsOf(component).map((w) =>
      w.kind === 'incomplete'
        ? `  not in this backup, or not whole: ${w.message}`
        : `  noted: ${withoutMentionMarkers(w.message)}`,
    ),
  ]
    .map(printable)
    .join('\n');
}

/**
 * `/backup show ID`: everything the catalog and the manifest say about one backup, and its last
 * verification when there is one.
 */
export function backupDetailsMessage(
  backup: BackupRecord,
  now: Date,
  lastVerification?: VerificationRecord,
): ChatMessage {
  const manifest = backup.manifest;
  const fields: Field[] = [
    { label: 'Status', value: backup.status },
    { label: 'Profile', value: backup.profile },
    { label: 'Requested by', value: printable(backup.requestedBy) },
    {
      label: 'Created',
      value: `${formatTimestamp(backup.createdAt)} (${formatAge(backup.createdAt, now)})`,
    },
  ];
  if (backup.finishedAt) {
    const start = backup.startedAt ?? backup.createdAt;
    fields.push({ label: 'Finished', value: formatTimestamp(backup.finishedAt) });
    fields.push({
      label: 'Duration',
      value: formatDuration(manifest?.durationMs ?? backup.finishedAt.getTime() - start.getTime()),
    });
  }
  if (backup.bytes !== null) fields.push({ label: 'Size', value: formatBytes(backup.bytes) });
  if (backup.location) fields.push({ label: 'Stored at', value: printable(backup.location) });
  for (const replica of backup.replicas ?? []) {
    fields.push({ label: `Replica (${replica.store})`, value: replicaValue(replica) });
  }
  if (backup.note) fields.push({ label: 'Note', value: printable(backup.note) });
  if (lastVerification) {
    const when = formatTimestamp(lastVerification.finishedAt ?? lastVerification.startedAt);
    fields.push({
      label: 'Last verified',
      value: lastVerificationText(lastVerification, when),
    });
  }

  const blocks: Block[] = [{ type: 'header', text: `Backup ${backup.id}` }];
  if (backup.status === 'failed') {
    blocks.push({
      type: 'callout',
      tone: 'danger',
      text: `Failed: ${withoutMentionMarkers(backup.error ?? 'no error recorded')}`,
    });
  }
  if (backup.status === 'pruned') {
    const when = backup.prunedAt ? ` ${formatTimestamp(backup.prunedAt)}` : '';
    blocks.push({
      type: 'callout',
      tone: 'info',
      text: `Pruned${when}: ${withoutMentionMarkers(backup.prunedReason ?? 'no reason recorded')}. Its objects are deleted; it cannot be restored.`,
    });
  }
  const warnings = backupWarnings(manifest);
  if (warnings.some((w) => w.kind === 'incomplete')) {
    blocks.push(...backupWarningBlocks(warnings, backup.id).filter((b) => b.type === 'callout'));
  }
  blocks.push({ type: 'fields', fields });
  if (backup.status === 'completed') blocks.push(...failedReplicaBlocks(backup.replicas));
  if (manifest) {
    blocks.push({ type: 'code', text: manifest.components.map(componentText).join('\n\n') });
  } else {
    blocks.push({
      type: 'context',
      text: `Components: ${backup.targets.join(', ')}. No manifest yet: checksums and row counts appear once the backup completes.`,
    });
  }
  return {
    text: `Backup ${backup.id} (${backup.profile}): ${backup.status}`,
    blocks,
    fullResult: onCommandLine(`backup show ${backup.id}`),
  };
}
