import type { BackupRecord } from '../../app/services.ts';
import { backupWarnings } from '../../backup/component-warnings.ts';
import type { ComponentProgress } from '../../backup/progress.ts';
import type { Block, Button, ChatMessage, Field } from '../../chat/message.ts';
import {
  formatBytes,
  formatDuration,
  formatRate,
  plural,
  shortSha,
  withoutMentionMarkers,
} from '../../core/format.ts';
import { backupWarningBlocks, incompleteSummary } from './backup-warnings.ts';
import { componentProgressBlocks } from './component-progress.ts';
import { failedReplicaBlocks, replicaValue } from './replicas.ts';

/** What the live message of one `/backup create` knows from the start. */
export interface BackupRun {
  readonly id: string;
  readonly profile: string;
  readonly components: readonly string[];
  readonly requestedBy: string;
  readonly note: string | null;
  readonly replicate: boolean;
}

function runFields(run: BackupRun, status: string): Field[] {
  const fields: Field[] = [
    { label: 'Status', value: status },
    { label: 'Profile', value: run.profile },
    { label: 'Components', value: run.components.join(', ') },
    { label: 'Requested by', value: run.requestedBy },
    { label: 'Id', value: run.id },
  ];
  if (run.note) fields.push({ label: 'Note', value: withoutMentionMarkers(run.note) });
  if (!run.replicate) fields.push({ label: 'Replicas', value: 'skipped (--no-replicate)' });
  return fields;
}

function progressDetail(p: ComponentProgress): string {
  switch (p.phase) {
    case 'waiting':
      return 'waiting';
    case 'done':
      return `done · ${formatBytes(p.rawBytes)} read, ${formatBytes(p.storedBytes)} stored`;
    case 'failed':
      return p.message ? `failed: ${p.message}` : 'failed';
    case 'running': {
      const read =
        p.expectedBytes !== null && p.expectedBytes > 0
          ? `${formatBytes(p.rawBytes)} of ${formatBytes(p.expectedBytes)}`
          : formatBytes(p.rawBytes);
      return `${read} · ${formatRate(p.bytesPerSecond)}`;
    }
  }
}

/** One progress block per component, in the profile's order; unreported ones wait. */
function progressBlocks(run: BackupRun, progress: readonly ComponentProgress[]): Block[] {
  return componentProgressBlocks(run.components, progress, progressDetail);
}

/** Posted right after the backup is queued. */
export function backupQueuedMessage(run: BackupRun): ChatMessage {
  return {
    text: `Backup ${run.id} of ${run.profile} queued`,
    blocks: [
      { type: 'header', text: `Backup of ${run.profile}: queued` },
      { type: 'fields', fields: runFields(run, 'queued') },
      ...progressBlocks(run, []),
    ],
  };
}

/** The live message while the backup runs. */
export function backupProgressMessage(
  run: BackupRun,
  progress: readonly ComponentProgress[],
): ChatMessage {
  const done = progress.filter((p) => p.phase === 'done').length;
  return {
    text: `Backup ${run.id} of ${run.profile} running (${done}/${run.components.length} components done)`,
    blocks: [
      { type: 'header', text: `Backup of ${run.profile}: running` },
      { type: 'fields', fields: runFields(run, 'running') },
      ...progressBlocks(run, progress),
    ],
  };
}

/** The final message of a completed backup: sizes, checksums, duration and where it is. */
export function backupCompletedMessage(backup: BackupRecord): ChatMessage {
  const manifest = backup.manifest;
  const components = manifest?.components ?? [];
  const bytes = backup.bytes ?? components.reduce((sum, c) => sum + c.bytes, 0);
  const durationMs = manifest?.durationMs ?? elapsed(backup);
  const location = backup.location ?? manifest?.storage[0]?.location ?? 'unknown';
  const replicas = backup.replicas ?? [];
  const copies = replicas.filter((r) => r.status !== 'failed');

  const warnings = backupWarnings(manifest);
  const incomplete = warnings.some((w) => w.kind === 'incomplete');
  const fields: Field[] = [
    { label: 'Status', value: incomplete ? 'completed, incomplete' : 'completed' },
    { label: 'Profile', value: backup.profile },
    { label: 'Total size', value: formatBytes(bytes) },
    { label: 'Duration', value: durationMs === null ? '—' : formatDuration(durationMs) },
    { label: 'Stored at', value: location },
    { label: 'Requested by', value: backup.requestedBy },
    { label: 'Id', value: backup.id },
  ];
  if (copies.length > 0) {
    fields.push({ label: 'Replicas', value: copies.map(replicaValue).join(', ') });
  }
  if (backup.note) fields.push({ label: 'Note', value: withoutMentionMarkers(backup.note) });

  const lines = components.map(
    (c) =>
      `• \`${c.name}\` (${c.kind}) ${formatBytes(c.bytes)} · sha256 \`${shortSha(c.sha256)}\` · ${formatDuration(c.durationMs)}`,
  );
  const summary = `${plural(components.length, 'component')}, ${formatBytes(bytes)}${durationMs === null ? '' : ` in ${formatDuration(durationMs)}`}`;
  const headline = incomplete
    ? `Backup \`${backup.id}\` completed (${summary}), but ${incompleteSummary(warnings)}.`
    : `Backup \`${backup.id}\` completed: ${summary}.`;
  const blocks: Block[] = [
    {
      type: 'header',
      text: `Backup of ${backup.profile}: ${incomplete ? 'completed, incomplete' : 'completed'}`,
    },
    { type: 'callout', tone: incomplete ? 'warning' : 'success', text: headline },
    ...backupWarningBlocks(warnings, backup.id).filter((b) => b.type !== 'callout'),
    ...failedReplicaBlocks(replicas),
    { type: 'fields', fields },
  ];
  if (lines.length > 0) blocks.push({ type: 'section', text: lines.join('\n') });
  blocks.push({
    type: 'context',
    text: `\`/backup show ${backup.id}\` shows row counts, tools and full checksums.`,
  });
  const text = incomplete
    ? `Backup ${backup.id} of ${backup.profile} completed (${summary}), but ${incompleteSummary(warnings)}`
    : `Backup ${backup.id} of ${backup.profile} completed: ${summary}`;
  return { text, blocks, fullResult: `/backup show ${backup.id}` };
}

/** The alert of a failed backup, with a Retry button when one fits. */
export function backupFailedMessage(
  run: BackupRun,
  error: string,
  progress: readonly ComponentProgress[],
  retry: Button | undefined,
): ChatMessage {
  const blocks: Block[] = [
    { type: 'header', text: `Backup of ${run.profile}: failed` },
    {
      type: 'callout',
      tone: 'danger',
      text: `Backup \`${run.id}\` failed: ${withoutMentionMarkers(error)}`,
    },
    { type: 'fields', fields: runFields(run, 'failed') },
    ...progressBlocks(run, progress),
  ];
  if (retry) blocks.push({ type: 'buttons', buttons: [retry] });
  return {
    text: `Backup ${run.id} of ${run.profile} failed: ${withoutMentionMarkers(error)}`,
    blocks,
  };
}

function elapsed(backup: BackupRecord): number | null {
  const start = backup.startedAt ?? backup.createdAt;
  return backup.finishedAt ? backup.finishedAt.getTime() - start.getTime() : null;
}

/** The live message when following the backup broke off (the job itself may still run). */
export function backupLostMessage(run: BackupRun, error: string): ChatMessage {
  const text = `Lost track of backup \`${run.id}\`: ${withoutMentionMarkers(error)}. It may still be running; \`/backup show ${run.id}\` shows where it stands.`;
  return {
    text,
    blocks: [
      { type: 'header', text: `Backup of ${run.profile}: unknown` },
      { type: 'callout', tone: 'warning', text },
      { type: 'fields', fields: runFields(run, 'unknown') },
    ],
  };
}
