import type { Runbook, RunbookStep } from './model.ts';

/**
 * The run state machine (pure): where a run stands and what each input does to it. The catalog
 * stores the state and applies a transition only when the run is still at the version the
 * decision was made on, so a transition decided twice (a double click, two replicas) applies once.
 */

/** How a run ended, or that it goes on. */
export type RunStatus = 'open' | 'completed' | 'aborted';

/** What one command of a step's Run produced. */
export interface CommandOutcome {
  /** The command as run, `{{param}}`s filled. */
  readonly command: string;
  /** The dispatcher's status: `completed`, `failed`, `awaiting_approval`, … */
  readonly status: string;
  /** The backup, restore or request it produced, when there is one. */
  readonly id?: string;
  readonly error?: string;
}

/** Where the current step stands. */
export type RunPhase =
  /** Waiting for a person: Check, Done, Skip, Run. */
  | { readonly kind: 'ready' }
  /** Its commands were claimed by attempt `attempt`; `outcomes` holds those that ended. */
  | {
      readonly kind: 'running';
      readonly attempt: number;
      readonly by: string;
      readonly outcomes: readonly CommandOutcome[];
      /**
       * The command dispatched and not ended yet (`outcomes.length` is its index), claimed
       * before it was dispatched, with the job it queued once known: after a restart the run
       * waits for that job instead of running the command again.
       */
      readonly started?: { readonly command: string; readonly id?: string };
    }
  /** Attempt `attempt` failed: Retry (Run), Skip or Abort. */
  | { readonly kind: 'failed'; readonly attempt: number; readonly error: string }
  /** An approval gate: open until `request` (null until opened) is approved. */
  | { readonly kind: 'gate'; readonly request: string | null }
  /** A WAIT: continues by itself at `until` (ISO time). */
  | { readonly kind: 'waiting'; readonly until: string };

export interface RunState {
  /** 0-based index of the current step; the number of steps once the run completed. */
  readonly step: number;
  /** Ticked checklist items of the current step, 1-based. */
  readonly checked: readonly number[];
  readonly phase: RunPhase;
  /** When the current step began waiting for someone (ISO time). */
  readonly since: string;
}

/** What someone (or the engine) does to a run. */
export type RunInput =
  | { readonly kind: 'check'; readonly item: number }
  | { readonly kind: 'done' }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'abort'; readonly reason: string }
  /** Claims the step's commands for a new attempt (Run, or Retry after a failure), for `by`. */
  | { readonly kind: 'run'; readonly by: string }
  /** Claims the next command of attempt `attempt` before it is dispatched. */
  | { readonly kind: 'command-started'; readonly attempt: number; readonly command: string }
  /** The started command queued job `id` (a backup, restore or verification). */
  | { readonly kind: 'command-job'; readonly attempt: number; readonly id: string }
  /** One command of attempt `attempt` ended (or turned into an approval request). */
  | { readonly kind: 'command-ended'; readonly attempt: number; readonly outcome: CommandOutcome }
  /** Every command of attempt `attempt` ended: `error` when one failed. */
  | { readonly kind: 'commands-ended'; readonly attempt: number; readonly error?: string }
  | { readonly kind: 'gate-opened'; readonly request: string }
  | {
      readonly kind: 'gate-decided';
      readonly request: string;
      readonly approved: boolean;
      readonly detail: string;
    }
  | { readonly kind: 'wait-elapsed' };

/** What a transition records in the timeline. */
export interface RunEvent {
  readonly kind: string;
  /** 1-based step number, or null for run-wide events. */
  readonly step: number | null;
  readonly detail: string;
}

export type RunDecision =
  | {
      readonly ok: true;
      readonly status: RunStatus;
      readonly state: RunState;
      readonly event: RunEvent;
    }
  | {
      /** Nothing changes; `reason` tells the person what was wrong and what is valid. */
      readonly ok: false;
      readonly reason: string;
    };

/** The checklist items of a step, in order (item N is `checks[N-1]`). */
export function checksOf(step: RunbookStep): string[] {
  return step.parts.flatMap((p) => (p.kind === 'check' ? [p.text] : []));
}

/** The chatops commands of a step, as written. */
export function commandsOf(step: RunbookStep): string[] {
  return step.parts.flatMap((p) => (p.kind === 'command' ? [p.text] : []));
}

/** The step's approval gate, if it has one. */
export function gateOf(step: RunbookStep) {
  return step.parts.find((p) => p.kind === 'gate');
}

/** How long the step's WAIT lasts, if it has one. */
export function waitOf(step: RunbookStep): number | undefined {
  const wait = step.parts.find((p) => p.kind === 'wait');
  return wait?.kind === 'wait' ? wait.ms : undefined;
}

/** The state of a run that starts now: its first step entered. */
export function initialState(runbook: Runbook, now: Date): { status: RunStatus; state: RunState } {
  return enter(runbook, 0, now);
}

/** Enters step `index`: a gate first, a step of nothing but a WAIT waits, else people act. */
function enter(runbook: Runbook, index: number, now: Date): { status: RunStatus; state: RunState } {
  const since = now.toISOString();
  const step = runbook.steps[index];
  if (!step)
    return {
      status: 'completed',
      state: { step: index, checked: [], phase: { kind: 'ready' }, since },
    };
  if (gateOf(step)) {
    return {
      status: 'open',
      state: { step: index, checked: [], phase: { kind: 'gate', request: null }, since },
    };
  }
  const wait = waitOf(step);
  if (wait !== undefined && checksOf(step).length === 0 && commandsOf(step).length === 0) {
    return {
      status: 'open',
      state: { step: index, checked: [], phase: waiting(now, wait), since },
    };
  }
  return { status: 'open', state: { step: index, checked: [], phase: { kind: 'ready' }, since } };
}

function waiting(now: Date, ms: number): RunPhase {
  return { kind: 'waiting', until: new Date(now.getTime() + ms).toISOString() };
}

/** The step's work is finished: its WAIT (if any, not yet waited) starts, else the next step. */
function finish(runbook: Runbook, state: RunState, step: RunbookStep, now: Date) {
  const wait = waitOf(step);
  if (wait !== undefined && state.phase.kind !== 'waiting') {
    return {
      status: 'open' as const,
      state: { ...state, phase: waiting(now, wait), since: now.toISOString() },
    };
  }
  return enter(runbook, state.step + 1, now);
}

function refuse(reason: string): RunDecision {
  return { ok: false, reason };
}

/**
 * What `input` does to a run at `status`/`state`: the next status and state and the timeline
 * event, or why it does nothing (for a private answer to the person who asked).
 */
export function decide(
  runbook: Runbook,
  status: RunStatus,
  state: RunState,
  input: RunInput,
  now: Date,
): RunDecision {
  if (status !== 'open')
    return refuse(
      `This run has ${status === 'completed' ? 'completed' : 'been aborted'}; nothing more can change in it.`,
    );
  const step = runbook.steps[state.step];
  if (!step) return refuse('This run has no current step.');
  const number = state.step + 1;
  const at = (kind: string, detail: string): RunEvent => ({ kind, step: number, detail });
  const ok = (next: { status: RunStatus; state: RunState }, event: RunEvent): RunDecision => ({
    ok: true,
    ...next,
    event,
  });
  const phase = state.phase;
  const checks = checksOf(step);
  const commands = commandsOf(step);

  switch (input.kind) {
    case 'abort': {
      const reason = input.reason.trim();
      if (!reason) return refuse('Say why the run is aborted: `/runbook abort RUN-ID REASON`.');
      // Aborting never stops a job already started: the timeline says so.
      const running =
        phase.kind === 'running'
          ? ` (step ${number}'s commands, attempt ${phase.attempt}, were running: their jobs go on)`
          : '';
      return ok({ status: 'aborted', state }, at('aborted', `aborted: ${reason}${running}`));
    }
    case 'skip': {
      const reason = input.reason.trim();
      if (!reason) return refuse('Say why the step is skipped: `/runbook skip RUN-ID REASON`.');
      if (phase.kind === 'gate') {
        return refuse(
          `Step ${number} is an approval gate: it passes when its request is approved, and cannot be skipped. Abort the run if it should not go on.`,
        );
      }
      // A running step can be skipped too: after a bot stopped mid-command nothing else moves
      // it on. Its commands are never run again; the timeline says they were running.
      const running =
        phase.kind === 'running'
          ? ` (attempt ${phase.attempt} was running: its jobs go on, nothing is run again)`
          : '';
      return ok(enter(runbook, state.step + 1, now), at('skipped', `skipped: ${reason}${running}`));
    }
    case 'check': {
      if (phase.kind !== 'ready' && phase.kind !== 'failed')
        return refuse(phaseRefusal(number, phase));
      if (checks.length === 0) return refuse(`Step ${number} has no checklist.`);
      const text = checks[input.item - 1];
      if (text === undefined) {
        return refuse(
          `Step ${number} has ${checks.length} checklist item${checks.length === 1 ? '' : 's'}: give a number from 1 to ${checks.length}.`,
        );
      }
      if (state.checked.includes(input.item))
        return refuse(`Item ${input.item} (${text}) is already ticked.`);
      const checked = [...state.checked, input.item].sort((a, b) => a - b);
      return ok(
        { status, state: { ...state, checked } },
        at('checked', `ticked ${input.item}: ${text}`),
      );
    }
    case 'done': {
      if (phase.kind !== 'ready') return refuse(phaseRefusal(number, phase));
      if (commands.length > 0) {
        return refuse(
          `Step ${number} runs commands: Run it (\`/runbook run\`), or Skip it with a reason.`,
        );
      }
      const open = unticked(checks, state);
      if (open) return refuse(`Tick every item before Done; not ticked yet: ${open}.`);
      return ok(finish(runbook, state, step, now), at('done', 'done'));
    }
    case 'run': {
      if (commands.length === 0) return refuse(`Step ${number} has no commands to run.`);
      if (phase.kind !== 'ready' && phase.kind !== 'failed')
        return refuse(phaseRefusal(number, phase));
      // The checklist comes first: "writers stopped" is ticked before the restore runs.
      const open = unticked(checks, state);
      if (open) return refuse(`Tick every item before Run; not ticked yet: ${open}.`);
      const attempt = phase.kind === 'failed' ? phase.attempt + 1 : 1;
      return ok(
        {
          status,
          state: { ...state, phase: { kind: 'running', attempt, by: input.by, outcomes: [] } },
        },
        at('run', attempt === 1 ? 'run started' : `retry ${attempt} started`),
      );
    }
    case 'command-started': {
      if (phase.kind !== 'running' || phase.attempt !== input.attempt || phase.started) {
        return refuse('That attempt is not waiting to start a command.');
      }
      return ok(
        { status, state: { ...state, phase: { ...phase, started: { command: input.command } } } },
        at('command-started', `${input.command} started`),
      );
    }
    case 'command-job': {
      if (
        phase.kind !== 'running' ||
        phase.attempt !== input.attempt ||
        !phase.started ||
        phase.started.id !== undefined
      ) {
        return refuse('That attempt has no command waiting for its job id.');
      }
      return ok(
        {
          status,
          state: { ...state, phase: { ...phase, started: { ...phase.started, id: input.id } } },
        },
        at('command-job', `${phase.started.command} queued ${input.id}`),
      );
    }
    case 'command-ended': {
      if (phase.kind !== 'running' || phase.attempt !== input.attempt)
        return refuse('That attempt is not running.');
      const o = input.outcome;
      return ok(
        {
          status,
          state: {
            ...state,
            phase: {
              kind: 'running',
              attempt: phase.attempt,
              by: phase.by,
              outcomes: [...phase.outcomes, o],
            },
          },
        },
        at(
          'command',
          `${o.command} → ${o.status}${o.id ? ` (${o.id})` : ''}${o.error ? `: ${o.error}` : ''}`,
        ),
      );
    }
    case 'commands-ended': {
      if (phase.kind !== 'running' || phase.attempt !== input.attempt)
        return refuse('That attempt is not running.');
      if (input.error !== undefined) {
        return ok(
          {
            status,
            state: {
              ...state,
              phase: { kind: 'failed', attempt: phase.attempt, error: input.error },
            },
          },
          at('failed', `failed: ${input.error}`),
        );
      }
      return ok(finish(runbook, state, step, now), at('succeeded', 'commands completed'));
    }
    case 'gate-opened': {
      if (phase.kind !== 'gate' || phase.request !== null)
        return refuse('The gate is not waiting to be opened.');
      return ok(
        { status, state: { ...state, phase: { kind: 'gate', request: input.request } } },
        at('gate', `approval requested: ${input.request}`),
      );
    }
    case 'gate-decided': {
      if (phase.kind !== 'gate' || phase.request !== input.request)
        return refuse(`Request ${input.request} is not this run's open gate.`);
      if (!input.approved)
        return ok(
          { status: 'aborted', state },
          at('gate-rejected', `gate rejected: ${input.detail}`),
        );
      const rest = checks.length > 0 || commands.length > 0;
      const next = rest
        ? {
            status,
            state: { ...state, phase: { kind: 'ready' as const }, since: now.toISOString() },
          }
        : finish(runbook, state, step, now);
      return ok(next, at('gate-passed', `gate passed: ${input.detail}`));
    }
    case 'wait-elapsed': {
      if (phase.kind !== 'waiting') return refuse(`Step ${number} is not waiting.`);
      if (now.getTime() < Date.parse(phase.until))
        return refuse(`Step ${number} waits until ${phase.until}.`);
      return ok(enter(runbook, state.step + 1, now), at('waited', `waited until ${phase.until}`));
    }
  }
}

/** The checklist items not ticked yet (`1. Writers stopped; 2. …`), or undefined when none. */
function unticked(checks: readonly string[], state: RunState): string | undefined {
  const open = checks
    .map((text, i) => ({ text, item: i + 1 }))
    .filter((c) => !state.checked.includes(c.item));
  return open.length ? open.map((c) => `${c.item}. ${c.text}`).join('; ') : undefined;
}

/** Why a person's input does not fit the phase the step is in. */
function phaseRefusal(number: number, phase: RunPhase): string {
  switch (phase.kind) {
    case 'running':
      return `Step ${number}'s commands are running (attempt ${phase.attempt}); it moves on when they end.`;
    case 'gate':
      return phase.request
        ? `Step ${number} waits for approval request ${phase.request}: \`/approve ${phase.request}\`.`
        : `Step ${number} is opening its approval request.`;
    case 'waiting':
      return `Step ${number} waits; the run continues by itself at ${phase.until}.`;
    case 'failed':
      return `Step ${number} failed (${phase.error}): Retry with \`/runbook run\`, Skip or Abort.`;
    case 'ready':
      return `Step ${number} is waiting for Done, Skip or Run.`;
  }
}
