import { mention } from '../../chat/mention.ts';
import type { Block, Button, ChatMessage, Field, Tone } from '../../chat/message.ts';
import { formatAge, formatSpan, printable } from '../../core/format.ts';
import type { Runbook, RunbookStep, StepPart } from '../../runbook/model.ts';
import type { RunbookRun, RunTimelineEntry } from '../../runbook/run-record.ts';
import { checksOf, commandsOf } from '../../runbook/run-state.ts';
import { actorName, timelineTime } from '../../runbook/run-summary.ts';
import { commandButton } from '../command-buttons.ts';

/** Runbook text is untrusted: shown as written, but never as a mention or a control sequence. */
const plain = printable;

/**
 * Runbook prose over several lines (the intro, paragraphs, tables, lists, notes, code): each
 * line made printable on its own, so its line breaks stay line breaks instead of showing as
 * `\n`.
 */
function lines(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => printable(line))
    .join('\n');
}

/** A button, or nothing when its command does not fit in an action id (the text names it). */
function button(label: string, command: string, options: Partial<Button> = {}): Button[] {
  const b = commandButton(label, command, options.style);
  return b ? [{ ...b, ...(options.confirm ? { confirm: options.confirm } : {}) }] : [];
}

function describeParams(runbook: Runbook): string {
  if (runbook.params.length === 0) return 'no parameters';
  return runbook.params
    .map(
      (p) =>
        `\`${plain(p.name)}\` (${p.default === undefined ? 'required' : `default \`${plain(p.default)}\``}): ${plain(p.description)}`,
    )
    .join('; ');
}

/** `/runbook list`: each runbook's name, title, description and parameters. */
export function runbookListMessage(runbooks: readonly Runbook[]): ChatMessage {
  if (runbooks.length === 0) {
    const text = 'No runbooks found. Runbooks are the `*.md` files under `runbooks.path`.';
    return { text, blocks: [{ type: 'section', text }] };
  }
  const blocks: Block[] = [{ type: 'header', text: 'Runbooks' }];
  for (const r of runbooks) {
    const errors = r.findings.filter((f) => f.severity === 'error').length;
    blocks.push({
      type: 'section',
      text: [
        `\`${plain(r.name)}\`: ${plain(r.title)}`,
        r.description ? plain(r.description) : '',
        `Parameters: ${describeParams(r)}`,
        errors
          ? `Cannot start: ${errors} error${errors === 1 ? '' : 's'} (\`lifeboat runbook lint\`)`
          : '',
      ]
        .filter(Boolean)
        .join('\n'),
    });
  }
  blocks.push({ type: 'context', text: 'Start one with `/runbook start NAME [KEY=VALUE...]`.' });
  return { text: `${runbooks.length} runbooks`, blocks };
}

/** The message that opens a run's thread: what runs, who started it, with which values. */
export function runIntroMessage(run: RunbookRun): ChatMessage {
  const title = plain(run.runbook.title);
  const fields: Field[] = Object.entries(run.params).map(([k, v]) => ({
    label: plain(k),
    value: plain(v),
  }));
  const blocks: Block[] = [
    { type: 'header', text: `Runbook: ${title}` },
    {
      type: 'context',
      text: `Run \`${run.id}\` started by ${mention(run.startedBy)}; ${run.runbook.steps.length} steps.`,
    },
  ];
  if (run.runbook.intro.trim()) blocks.push({ type: 'section', text: lines(run.runbook.intro) });
  if (fields.length) blocks.push({ type: 'fields', fields });
  return { text: `Runbook ${title} started: ${run.id}`, blocks };
}

const CALLOUT_TONE: Record<'info' | 'warning' | 'danger', Tone> = {
  info: 'info',
  warning: 'warning',
  danger: 'danger',
};

function partBlocks(
  part: StepPart,
  ticked: ReadonlySet<number>,
  item: () => number,
  fill: (command: string) => string,
): Block[] {
  switch (part.kind) {
    case 'text':
      return [{ type: 'section', text: lines(part.markdown) }];
    case 'check': {
      const n = item();
      return [
        { type: 'section', text: `${ticked.has(n) ? '[x]' : '[ ]'} ${n}. ${plain(part.text)}` },
      ];
    }
    case 'command':
      return [{ type: 'code', text: plain(fill(part.text)) }];
    case 'gate':
      return [
        {
          type: 'callout',
          tone: 'warning',
          text: `Approval gate: ${part.approvals} approver${part.approvals === 1 ? '' : 's'} besides the person who started the run${part.roles.length ? `, from ${part.roles.map(plain).join(', ')}` : ''}.${part.note ? ` ${lines(part.note)}` : ''}`,
        },
      ];
    case 'wait':
      return [
        { type: 'callout', tone: 'info', text: `Waits ${plain(part.text)} before the next step.` },
      ];
    case 'callout':
      return [{ type: 'callout', tone: CALLOUT_TONE[part.tone], text: lines(part.text) }];
    case 'code':
      return [{ type: 'code', text: lines(part.text) }];
  }
}

/** Whether Run would restore something: its button asks before the click counts. */
function restores(step: RunbookStep): boolean {
  return commandsOf(step).some((c) => /^\/?restore\b/.test(c.trim()));
}

/**
 * The current step of an open run: its text, checklist (ticked items marked), commands as they
 * will run, where it stands, and its buttons (each the typed command it stands for).
 */
export function stepMessage(
  run: RunbookRun,
  now: Date,
  fill: (command: string) => string,
): ChatMessage {
  const step = run.runbook.steps[run.state.step];
  if (!step) return runEndedMessage(run, []);
  const total = run.runbook.steps.length;
  const ticked = new Set(run.state.checked);
  let n = 0;
  const item = () => ++n;
  const blocks: Block[] = [
    { type: 'header', text: `Step ${step.number}/${total}: ${plain(step.title)}` },
    ...step.parts.flatMap((p) => partBlocks(p, ticked, item, fill)),
  ];
  const phase = run.state.phase;
  const id = run.id;
  const at = ` --step ${step.number}`;
  const abort = button('Abort', `/runbook abort ${id}${at}`, {
    style: 'danger',
    confirm: {
      title: 'Abort the run?',
      text: 'Type `/runbook abort RUN-ID REASON` to give the reason; the click asks for one.',
      confirm: 'Abort',
    },
  });
  const skip = button('Skip', `/runbook skip ${id}${at}`, {
    confirm: {
      title: 'Skip this step?',
      text: 'A skipped step needs a reason: `/runbook skip RUN-ID REASON`.',
      confirm: 'Skip',
    },
  });
  const buttons: Button[] = [];
  let where = '';
  switch (phase.kind) {
    case 'ready': {
      const checks = checksOf(step);
      checks.forEach((_, i) => {
        if (!ticked.has(i + 1))
          buttons.push(...button(`Tick ${i + 1}`, `/runbook check ${id} ${i + 1}${at}`));
      });
      if (commandsOf(step).length) {
        buttons.push(
          ...button('Run', `/runbook run ${id}${at}`, {
            style: 'primary',
            ...(restores(step)
              ? {
                  confirm: {
                    title: 'Run a restore?',
                    text: 'This step restores; it runs as you, under your roles and the approval policies.',
                    confirm: 'Run',
                  },
                }
              : {}),
          }),
        );
      } else buttons.push(...button('Done', `/runbook done ${id}${at}`, { style: 'primary' }));
      buttons.push(...skip, ...abort);
      where = `Waiting for Done, Skip or Run for ${waited(run, now)}.`;
      break;
    }
    case 'running':
      // After a bot stopped mid-command: Resume waits for the job the command recorded (never
      // running it again); Skip and Abort (each with a typed reason) free the run otherwise.
      buttons.push(...button('Resume', `/runbook run ${id}${at}`), ...skip, ...abort);
      where = `Running (attempt ${phase.attempt}), started by ${mention(phase.by)}${phase.started ? `: ${plain(phase.started.command)}${phase.started.id ? ` (${phase.started.id})` : ''}` : ''}. Its commands never run twice; if the bot stopped meanwhile, Resume waits for the job it started.`;
      break;
    case 'failed':
      buttons.push(
        ...button('Retry', `/runbook run ${id}${at}`, { style: 'primary' }),
        ...skip,
        ...abort,
      );
      where = `Failed: ${plain(phase.error)}. Retry, Skip or Abort.`;
      break;
    case 'gate':
      if (phase.request) {
        buttons.push(
          ...button('Approve', `/approve ${phase.request}`, { style: 'primary' }),
          ...button('Reject', `/reject ${phase.request}`, { style: 'danger' }),
        );
        where = `Waiting for approval request \`${phase.request}\`.`;
      } else where = 'Opening the approval request.';
      buttons.push(...abort);
      break;
    case 'waiting':
      buttons.push(...abort);
      where = `Waiting; continues by itself at ${timelineTime(new Date(phase.until))}.`;
      break;
  }
  blocks.push({ type: 'context', text: `Run \`${id}\`. ${where}` });
  if (buttons.length) blocks.push({ type: 'buttons', buttons });
  return {
    text: `Step ${step.number}/${total}: ${plain(step.title)}`,
    blocks,
    fullResult: `/runbook status ${id}`,
  };
}

function timelineBlock(run: RunbookRun, timeline: readonly RunTimelineEntry[]): Block {
  const lines = timeline.map((e) => {
    const step = e.step === null ? '' : ` step ${e.step}`;
    return `${timelineTime(e.at)}${step} ${plain(actorName(e.actor))}: ${plain(e.detail)}`;
  });
  return { type: 'code', text: lines.join('\n') || `(no entries for ${run.id})` };
}

/** The summary posted when a run ends, with its whole timeline. */
export function runEndedMessage(
  run: RunbookRun,
  timeline: readonly RunTimelineEntry[],
): ChatMessage {
  const title = plain(run.runbook.title);
  const how = run.status === 'completed' ? 'completed' : 'was aborted';
  return {
    text: `Runbook ${title} ${how} (${run.id})`,
    blocks: [
      { type: 'header', text: `Runbook ${title} ${how}` },
      {
        type: 'context',
        text: `Run \`${run.id}\`, started by ${mention(run.startedBy)} at ${timelineTime(run.startedAt)}. \`lifeboat runbook export ${run.id}\` prints this as markdown.`,
      },
      timelineBlock(run, timeline),
    ],
  };
}

/** `/runbook status RUN-ID`: where the run stands and its timeline. */
export function runStatusMessage(
  run: RunbookRun,
  timeline: readonly RunTimelineEntry[],
  now: Date,
): ChatMessage {
  if (run.status !== 'open') return runEndedMessage(run, timeline);
  const step = run.runbook.steps[run.state.step];
  return {
    text: `Run ${run.id}: step ${run.state.step + 1}`,
    blocks: [
      { type: 'header', text: `Runbook ${plain(run.runbook.title)} (${run.id})` },
      {
        type: 'context',
        text: `Started by ${mention(run.startedBy)} ${formatAge(run.startedAt, now)}; at step ${run.state.step + 1}/${run.runbook.steps.length}${step ? `: ${plain(step.title)}` : ''}.`,
      },
      timelineBlock(run, timeline),
    ],
  };
}

/** How long the run's current step has waited. */
function waited(run: RunbookRun, now: Date): string {
  return formatSpan(Math.max(0, now.getTime() - Date.parse(run.state.since)));
}

/** Who is on a run's current step, for `/runbook status`. */
function onIt(run: RunbookRun): string {
  const phase = run.state.phase;
  switch (phase.kind) {
    case 'running':
      return `running for ${mention(phase.by)}`;
    case 'gate':
      return phase.request ? `waiting for approval \`${phase.request}\`` : 'opening its gate';
    case 'waiting':
      return `waiting until ${timelineTime(new Date(phase.until))}`;
    case 'failed':
      return 'failed: Retry, Skip or Abort';
    case 'ready':
      return `waiting for ${mention(run.startedBy)}'s team`;
  }
}

/** `/runbook status`: every open run, its current step, who is on it, how long it has waited. */
export function openRunsMessage(runs: readonly RunbookRun[], now: Date): ChatMessage {
  if (runs.length === 0) {
    const text = 'No runbook runs are open. `/runbook start NAME` starts one.';
    return { text, blocks: [{ type: 'section', text }] };
  }
  const lines = runs.map((run) => {
    const step = run.runbook.steps[run.state.step];
    return `\`${run.id}\` ${plain(run.runbook.title)}: step ${run.state.step + 1}/${run.runbook.steps.length}${step ? ` ${plain(step.title)}` : ''}, ${onIt(run)}, for ${waited(run, now)}`;
  });
  return {
    text: `${runs.length} open runbook runs`,
    blocks: [
      { type: 'header', text: 'Open runbook runs' },
      { type: 'section', text: lines.join('\n') },
      { type: 'context', text: '`/runbook status RUN-ID` shows one run with its timeline.' },
    ],
  };
}
