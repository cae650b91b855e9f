import type { ComponentProgress } from '../../backup/progress.ts';
import type { Block, ChatMessage, Field } from '../../chat/message.ts';
import {
  formatBytes,
  formatDuration,
  formatRate,
  plural,
  printable,
  withoutMentionMarkers,
} from '../../core/format.ts';
import {
  type ComponentVerification,
  couldNotCheck,
  levelName,
  type VerificationLevel,
  type VerificationRecord,
  verificationStatusText,
} from '../../verify/verification.ts';
import { componentProgressBlocks } from './component-progress.ts';
import { onCommandLine } from './full-result.ts';

/** What the live message of one `/backup verify` knows from the start. */
export interface VerifyRun {
  readonly id: string;
  readonly backupId: string;
  readonly profile: string;
  readonly level: VerificationLevel;
  readonly components: readonly string[];
  readonly requestedBy: string;
}

/** `2 (structure)`. */
export function levelLabel(level: VerificationLevel): string {
  return `${level} (${levelName(level)})`;
}

function runFields(run: VerifyRun, status: string): Field[] {
  return [
    { label: 'Status', value: status },
    { label: 'Backup', value: run.backupId },
    { label: 'Profile', value: run.profile },
    { label: 'Level', value: levelLabel(run.level) },
    { label: 'Requested by', value: run.requestedBy },
    { label: 'Id', value: run.id },
  ];
}

function progressDetail(p: ComponentProgress): string {
  switch (p.phase) {
    case 'waiting':
      return p.message ?? 'waiting';
    case 'done':
      return 'ok';
    case 'failed':
      return p.message ? `failed: ${p.message}` : 'failed';
    case 'running': {
      const step = p.message ?? 'reading';
      if (p.expectedBytes === null || p.expectedBytes <= 0) return step;
      return `${step} · ${formatBytes(p.rawBytes)} of ${formatBytes(p.expectedBytes)} · ${formatRate(p.bytesPerSecond)}`;
    }
  }
}

function progressBlocks(run: VerifyRun, progress: readonly ComponentProgress[]): Block[] {
  return componentProgressBlocks(run.components, progress, progressDetail);
}

/** Posted right after the verification is queued. */
export function verifyQueuedMessage(run: VerifyRun): ChatMessage {
  return {
    text: `Verification ${run.id} of ${run.backupId} queued`,
    blocks: [
      { type: 'header', text: `Verification of ${run.backupId}: queued` },
      { type: 'fields', fields: runFields(run, 'queued') },
      ...progressBlocks(run, []),
    ],
  };
}

/** The live message while the verification runs. */
export function verifyProgressMessage(
  run: VerifyRun,
  progress: readonly ComponentProgress[],
): ChatMessage {
  const done = progress.filter((p) => p.phase === 'done' || p.phase === 'failed').length;
  return {
    text: `Verification ${run.id} of ${run.backupId} running (${done}/${run.components.length} components checked)`,
    blocks: [
      { type: 'header', text: `Verification of ${run.backupId}: running` },
      { type: 'fields', fields: runFields(run, 'running') },
      ...progressBlocks(run, progress),
    ],
  };
}

/**
 * One line per component: ✓ or ✗, its kind and size, then what was checked
 * (`sha256 ok · decrypted (age) · pg_restore --list: 12 tables listed`) or why it failed.
 */
export function componentLine(c: ComponentVerification): string {
  const unchecked = !c.ok && c.error !== null && couldNotCheck(c.error);
  const head = `${c.ok ? '✓' : unchecked ? '?' : '✗'} \`${printable(c.name)}\` (${c.kind})`;
  const error = printable(c.error?.message ?? 'failed');
  if (unchecked) return `${head} — could not check: ${error}`;
  if (!c.ok) return `${head} — ${error}`;
  const lines = [
    `${head} ${c.checked.map(printable).join(' · ')} · ${formatDuration(c.durationMs)}`,
    ...c.notChecked.map((why) => `    not checked: ${printable(why)}`),
  ];
  return lines.join('\n');
}

/** The final message: passed or failed, per component what was checked, and how long it took. */
export function verifyResultMessage(queued: VerifyRun, record: VerificationRecord): ChatMessage {
  // The level that ran, which the default lowers to 1 when no key opens the backup.
  const run = { ...queued, level: record.level };
  const components = record.results?.components ?? [];
  const notes = record.results?.notes ?? [];
  const passed = record.status === 'passed';
  const unverified = record.status === 'error';
  const status = verificationStatusText(record.status);
  const durationMs =
    record.results?.durationMs ??
    (record.finishedAt ? record.finishedAt.getTime() - record.startedAt.getTime() : null);
  const duration = durationMs === null ? '' : ` in ${formatDuration(durationMs)}`;
  const bytes = components.reduce((sum, c) => sum + c.bytes, 0);
  // Found bad, as opposed to those that could not be checked.
  const failing = components.filter((c) => !c.ok && !(c.error && couldNotCheck(c.error)));
  const unchecked = components.filter((c) => !c.ok && c.error !== null && couldNotCheck(c.error));
  const summary = passed
    ? `${plural(components.length, 'component')} ok, ${formatBytes(bytes)} read${duration}`
    : unverified
      ? unchecked.length > 0
        ? `${unchecked.length} of ${plural(components.length, 'component')} could not be checked${duration}`
        : `could not verify${duration}`
      : failing.length > 0
        ? `${failing.length} of ${plural(components.length, 'component')} failed${duration}`
        : `failed${duration}`;

  const fields = runFields(run, status);
  if (durationMs !== null)
    fields.splice(4, 0, { label: 'Duration', value: formatDuration(durationMs) });
  const blocks: Block[] = [
    { type: 'header', text: `Verification of ${run.backupId}: ${status}` },
    passed
      ? {
          type: 'callout',
          tone: 'success',
          text: `Backup \`${run.backupId}\` verified at level ${levelLabel(run.level)}: ${summary}.`,
        }
      : unverified
        ? {
            type: 'callout',
            tone: 'warning',
            text: `Could not verify backup \`${run.backupId}\` at level ${levelLabel(run.level)}: ${
              record.error === null ? summary : printable(record.error)
            }. Nothing is known about the backup from this run: it was not found bad, nor sound. Fix the cause and verify again.`,
          }
        : {
            type: 'callout',
            tone: 'danger',
            text: `Backup \`${run.backupId}\` failed verification at level ${levelLabel(run.level)}: ${
              failing.length > 0
                ? `${summary} (${failing.map((c) => printable(c.name)).join(', ')}).`
                : record.error === null
                  ? summary
                  : printable(record.error)
            }`,
          },
    ...notes.map((text): Block => ({ type: 'callout', tone: 'warning', text })),
    { type: 'fields', fields },
  ];
  if (components.length > 0) {
    blocks.push({ type: 'section', text: components.map(componentLine).join('\n') });
  }
  if (record.results?.scratch) {
    blocks.push({
      type: 'context',
      text: `Restore tests went into throwaway databases on ${record.results.scratch}, dropped afterwards.`,
    });
  }
  return {
    text: `Verification ${record.id} of ${run.backupId} ${status}: ${summary}`,
    blocks,
    // No command shows a stored verification whole: the command line runs it again and prints
    // every component's checks.
    fullResult: onCommandLine(`backup verify ${run.backupId} --level ${record.level}`),
  };
}

/** The live message when following the verification broke off (the job itself may still run). */
export function verifyLostMessage(run: VerifyRun, error: string): ChatMessage {
  const text = `Lost track of verification \`${run.id}\`: ${withoutMentionMarkers(error)}. It may still be running; \`/backup show ${run.backupId}\` shows its last verification.`;
  return {
    text,
    blocks: [
      { type: 'header', text: `Verification of ${run.backupId}: unknown` },
      { type: 'callout', tone: 'warning', text },
      { type: 'fields', fields: runFields(run, 'unknown') },
    ],
  };
}

/**
 * A short line for `/backup show`: `passed at level 2 (structure), 2026-11-22 12:00 UTC`, or
 * `could not verify at level 3 (restore test), … (vf_…): <why>`.
 */
export function lastVerificationText(record: VerificationRecord, when: string): string {
  const status = verificationStatusText(record.status);
  const base = `${status} at level ${levelLabel(record.level)}, ${when} (${record.id})`;
  if (record.status === 'failed' && record.error) return `${base}: ${printable(record.error)}`;
  if (record.status === 'error' && record.error) {
    return `${base}: ${printable(record.error.replace(/^could not verify: /, ''))}`;
  }
  return base;
}
