import type { ComponentProgress } from '../../backup/progress.ts';
import type { Block, ChatMessage } from '../../chat/message.ts';
import {
  formatBytes,
  formatDuration,
  plural,
  printable,
  withoutMentionMarkers,
} from '../../core/format.ts';
import type { DestinationState } from '../../restore/component-restorer.ts';
import type { RestorePlan } from '../../restore/plan-restore.ts';
import type { RestoreRecord } from '../../restore/restore-record.ts';
import type { ComponentRestoreResult } from '../../restore/run-restore.ts';
import { restoreFields } from './restore-plan.ts';

/** What the live message of one `/restore` knows from the start. */
export interface RestoreRun {
  readonly id: string;
  readonly plan: RestorePlan;
  readonly requestedBy: string;
  readonly now: Date;
}

/** Checks shown one by one in the table; the rest are counted. */
const TABLE_ROWS = 20;

function label(run: RestoreRun, component: string): string {
  const planned = run.plan.components.find((c) => c.component === component);
  return printable(
    planned && planned.destination !== component
      ? `${component} → ${planned.destination}`
      : component,
  );
}

function progressBlocks(run: RestoreRun, progress: readonly ComponentProgress[]): Block[] {
  const byName = new Map(progress.map((p) => [p.component, p]));
  return run.plan.components.map((c) => {
    const p = byName.get(c.component);
    const fraction = p?.phase === 'done' ? 1 : null;
    const detail = p ? printable(p.message ?? p.phase) : 'waiting';
    return { type: 'progress', label: label(run, c.component), fraction, detail };
  });
}

/** Posted right after the restore is queued. */
export function restoreQueuedMessage(run: RestoreRun): ChatMessage {
  return {
    text: `Restore ${run.id} of ${run.plan.backupId} queued`,
    blocks: [
      { type: 'header', text: `Restore of ${run.plan.backupId}: queued` },
      {
        type: 'fields',
        fields: restoreFields(run.plan, run.now, {
          status: 'queued',
          requestedBy: run.requestedBy,
          id: run.id,
        }),
      },
      ...progressBlocks(run, []),
    ],
  };
}

/** The live message while the restore stages, restores and checks. */
export function restoreProgressMessage(
  run: RestoreRun,
  progress: readonly ComponentProgress[],
): ChatMessage {
  const done = progress.filter((p) => p.phase === 'done').length;
  return {
    text: `Restore ${run.id} running (${done}/${run.plan.components.length} components done)`,
    blocks: [
      { type: 'header', text: `Restore of ${run.plan.backupId}: running` },
      {
        type: 'fields',
        fields: restoreFields(run.plan, run.now, {
          status: 'running',
          requestedBy: run.requestedBy,
          id: run.id,
        }),
      },
      ...progressBlocks(run, progress),
    ],
  };
}

/**
 * The checks of every component as an aligned table, mismatches first; past {@link TABLE_ROWS}
 * rows the matching ones are counted instead of listed.
 */
export function checksTable(results: readonly ComponentRestoreResult[]): string | null {
  const rows = results.flatMap((r) => r.checks.map((c) => ({ ...c, where: r.destination })));
  if (rows.length === 0) return null;
  const ordered = [...rows.filter((r) => !r.ok), ...rows.filter((r) => r.ok)];
  const shown = ordered.slice(0, TABLE_ROWS);
  const header = ['destination', 'check', 'expected', 'actual', ''];
  const cells = shown.map((r) => [
    printable(r.where),
    printable(r.name),
    String(r.expected),
    String(r.actual),
    r.ok ? 'ok' : 'MISMATCH',
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) =>
        i === 2 || i === 3 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const out = [line(header), ...cells.map(line)];
  const hidden = ordered.length - shown.length;
  if (hidden > 0) out.push(`… and ${plural(hidden, 'more check')}, all ok`);
  return out.join('\n');
}

function resultLines(restore: RestoreRecord): string {
  return (restore.results?.components ?? [])
    .map((r) => {
      const route =
        r.destination === r.component
          ? `\`${printable(r.component)}\``
          : `\`${printable(r.component)}\` → \`${r.destination}\``;
      const state = r.destinationState;
      const what =
        r.status === 'skipped'
          ? 'not started'
          : r.status === 'failed'
            ? `failed: ${withoutMentionMarkers(withoutUnchanged(r.error))}`
            : r.ok
              ? `${state ? 'restored and validated' : 'restored'} in ${formatDuration(r.durationMs)}, ${plural(r.checks.length, 'check')} ok`
              : `restored, but ${withoutMentionMarkers(String(r.error))}`;
      const tools = Object.entries(r.tools)
        .map(([tool, version]) => (version.includes(tool) ? version : `${tool} ${version}`))
        .join(', ');
      // Results from before 0.4 carry no state: nothing is claimed about them.
      const left = state && state !== 'restored' ? ` ${stateSentence(r.destination, state)}` : '';
      const details = [
        ...(r.notChecked ?? []).map((why) => `not checked: ${why}`),
        ...(r.notes ?? []),
      ]
        .map((line) => `\n    ${line}`)
        .join('');
      return `• ${route}: ${what}${tools ? ` (${tools})` : ''}.${left}${details}`;
    })
    .join('\n');
}

/** What a restore that did not complete left in the destination, as a sentence. */
function stateSentence(destination: string, state: DestinationState): string {
  switch (state) {
    case 'restored':
      return `\`${destination}\` is restored and validated.`;
    case 'unchanged':
      return `\`${destination}\` is unchanged.`;
    case 'changed':
      return `\`${destination}\` was changed and does not match the backup: restore it again before using it.`;
    case 'unknown':
      return `\`${destination}\` may be partly changed: check it before using it.`;
  }
}

/** After a failure: whether the destinations are as they were, or need looking at. */
function destinationsSummary(restore: RestoreRecord): string {
  const states = (restore.results?.components ?? []).map((c) => c.destinationState);
  if (states.length === 0) return '';
  if (states.every((s) => s === 'unchanged')) return '. Every destination is unchanged.';
  if (states.some((s) => s !== 'restored' && s !== 'unchanged')) {
    return '. Some destinations may be partly restored: see below, and check them before use.';
  }
  return '. Each destination is either restored and validated or unchanged: see below.';
}

/** The error without the "destination is unchanged" its line already says. */
function withoutUnchanged(error: string | null): string {
  return (error ?? 'unknown error').replace(/; the destination is unchanged$/, '');
}

/**
 * The safety backup taken before the restore, for people: its id (restorable with `/restore`),
 * the destinations skipped because they did not exist yet, or why it failed; null when the
 * restore had no production destination.
 */
export function safetyBackupLine(restore: RestoreRecord): string | null {
  const report = restore.results?.safetyBackup;
  const id = restore.safetyBackupId ?? report?.backupId ?? null;
  if (!report) return id ? `Safety backup: \`${id}\`` : null;
  const skipped = report.skipped.map((s) => s.reason).join('; ');
  switch (report.status) {
    case 'completed': {
      const missing = report.incomplete ?? [];
      const incomplete =
        missing.length > 0
          ? `. Incomplete: ${plural(missing.length, 'thing')} could not be saved (${missing.slice(0, 3).join('; ')}${missing.length > 3 ? '; …' : ''}); \`/backup show ${id}\` lists them`
          : '';
      return `Safety backup: \`${id}\` (${report.targets.join(', ')} as they were, ${formatBytes(report.bytes)} in ${formatDuration(report.durationMs)}); \`/restore ${id}\` puts them back${skipped ? `. Skipped: ${skipped}` : ''}${incomplete}`;
    }
    case 'skipped':
      return `Safety backup: none taken: ${skipped}`;
    case 'failed':
      return `Safety backup failed: ${withoutMentionMarkers(report.error ?? 'unknown error')}; nothing was restored`;
  }
}

/** The end of a restore, completed or failed, with the checks against the manifest. */
export function restoreEndedMessage(run: RestoreRun, restore: RestoreRecord): ChatMessage {
  const ok = restore.status === 'completed';
  const duration = restore.results ? ` in ${formatDuration(restore.results.durationMs)}` : '';
  const headline = ok
    ? `Restore \`${restore.id}\` completed${duration}: every check matches the backup.`
    : `Restore \`${restore.id}\` failed: ${withoutMentionMarkers(restore.error ?? 'unknown error')}${destinationsSummary(restore)}`;
  const blocks: Block[] = [
    { type: 'header', text: `Restore of ${run.plan.backupId}: ${ok ? 'completed' : 'failed'}` },
    { type: 'callout', tone: ok ? 'success' : 'danger', text: headline },
    {
      type: 'fields',
      fields: restoreFields(run.plan, run.now, {
        status: restore.status,
        requestedBy: run.requestedBy,
        id: restore.id,
      }),
    },
  ];
  const safety = safetyBackupLine(restore);
  if (safety) blocks.push({ type: 'section', text: safety });
  const lines = resultLines(restore);
  if (lines) blocks.push({ type: 'section', text: lines });
  const table = restore.results ? checksTable(restore.results.components) : null;
  if (table) blocks.push({ type: 'code', text: table });
  const saved = restore.safetyBackupId ? `; safety backup ${restore.safetyBackupId}` : '';
  return {
    text: ok
      ? `Restore ${restore.id} of ${run.plan.backupId} completed${duration}${saved}`
      : `Restore ${restore.id} of ${run.plan.backupId} failed: ${withoutMentionMarkers(restore.error ?? 'unknown error')}${saved}`,
    blocks,
  };
}

/** Following the restore broke off (the job itself may still run). */
export function restoreLostMessage(run: RestoreRun, error: string): ChatMessage {
  const text = `Lost track of restore \`${run.id}\`: ${withoutMentionMarkers(error)}. It may still be running.`;
  return {
    text,
    blocks: [
      { type: 'header', text: `Restore of ${run.plan.backupId}: unknown` },
      { type: 'callout', tone: 'warning', text },
      {
        type: 'fields',
        fields: restoreFields(run.plan, run.now, {
          status: 'unknown',
          requestedBy: run.requestedBy,
          id: run.id,
        }),
      },
    ],
  };
}

/** How a restore ended, in one line for its approval request: `Restore rs_… completed in 4.2 s; …`. */
export function restoreOutcomeLine(
  restoreId: string,
  ended: { readonly status: string; readonly durationMs?: unknown; readonly error?: unknown },
): string {
  const duration =
    typeof ended.durationMs === 'number' ? ` in ${formatDuration(ended.durationMs)}` : '';
  return ended.status === 'completed'
    ? `Restore ${restoreId} completed${duration}; every check matches the backup.`
    : `Restore ${restoreId} ${ended.status}: ${withoutMentionMarkers(String(ended.error ?? 'see the restore message'))}`;
}
