import { printable } from '../core/format.ts';
import type { RunbookRun, RunTimelineEntry } from './run-record.ts';

/** `2026-12-07 12:00:05Z`: the timeline's clock, UTC to the second. */
export function timelineTime(at: Date): string {
  return at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** One cell of a markdown table: one line, no column breaks, nothing unprintable. */
function cell(text: string): string {
  return printable(text).replace(/\|/g, '\\|');
}

/** Who acted, as the timeline shows it: `console:alice`, or `Lifeboat` for the engine itself. */
export function actorName(actor: string): string {
  return actor === 'system:lifeboat' ? 'Lifeboat' : actor;
}

/**
 * The run's summary as markdown, for the incident review (`lifeboat runbook export RUN-ID`):
 * what ran, who started it, with which parameters, how it ended, and every entry of the
 * timeline (who did what, when, with which result).
 */
export function runSummaryMarkdown(run: RunbookRun, timeline: readonly RunTimelineEntry[]): string {
  const steps = run.runbook.steps;
  const title = (step: number | null) => {
    if (step === null) return '';
    const s = steps[step - 1];
    return s ? `${step}. ${s.title}` : String(step);
  };
  const params = Object.entries(run.params);
  const lines = [
    `# ${cell(run.runbook.title)} (${run.id})`,
    '',
    `- Runbook: \`${cell(run.runbookName)}\` (version sha256 ${run.contentHash.slice(0, 12)})`,
    `- Started by ${cell(run.startedBy)} at ${timelineTime(run.startedAt)}`,
    `- Status: ${run.status}${run.endedAt ? ` at ${timelineTime(run.endedAt)}` : ''}`,
    `- Parameters: ${params.length ? params.map(([k, v]) => `${cell(k)}=${cell(v)}`).join(', ') : 'none'}`,
    '',
    '| When (UTC) | Step | Who | What |',
    '| --- | --- | --- | --- |',
    ...timeline.map(
      (e) =>
        `| ${timelineTime(e.at)} | ${cell(title(e.step))} | ${cell(actorName(e.actor))} | ${cell(e.detail)} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
