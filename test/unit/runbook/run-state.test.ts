import { describe, expect, it } from 'vitest';
import {
  decide,
  initialState,
  type RunDecision,
  type RunInput,
  type RunState,
  type RunStatus,
} from '../../../src/runbook/run-state.ts';
import { restoreRunbook } from '../../doubles/sample-runbooks.ts';

const runbook = restoreRunbook();
const t0 = new Date('2026-12-07T12:00:00Z');

/** Applies inputs one after the other; every one must be accepted. */
function walk(inputs: readonly RunInput[], now = t0) {
  let { status, state } = initialState(runbook, now);
  for (const input of inputs) {
    const d = decide(runbook, status, state, input, now);
    if (!d.ok) throw new Error(`refused ${input.kind}: ${d.reason}`);
    ({ status, state } = d);
  }
  return { status, state };
}

function refusal(d: RunDecision): string {
  if (d.ok) throw new Error(`expected a refusal, got ${d.event.kind}`);
  return d.reason;
}

const atGate = (): { status: RunStatus; state: RunState } =>
  walk([{ kind: 'check', item: 1 }, { kind: 'check', item: 2 }, { kind: 'done' }]);

describe('the run state machine', () => {
  it('starts on the first step, ready for people', () => {
    const { status, state } = initialState(runbook, t0);
    expect(status).toBe('open');
    expect(state).toMatchObject({ step: 0, checked: [], phase: { kind: 'ready' } });
  });

  it('refuses Done while checklist items are unticked, naming each of them', () => {
    const { status, state } = walk([{ kind: 'check', item: 2 }]);
    const reason = refusal(decide(runbook, status, state, { kind: 'done' }, t0));
    expect(reason).toContain('1. Incident channel opened');
    expect(reason).not.toContain('Writers stopped');
  });

  it('names the valid item numbers for an item that is not there, and refuses a second tick', () => {
    const { status, state } = walk([{ kind: 'check', item: 1 }]);
    expect(refusal(decide(runbook, status, state, { kind: 'check', item: 3 }, t0))).toContain(
      'from 1 to 2',
    );
    expect(refusal(decide(runbook, status, state, { kind: 'check', item: 1 }, t0))).toContain(
      'already ticked',
    );
  });

  it('enters a gate after Done, and only its own approved request passes it', () => {
    const { status, state } = atGate();
    expect(state).toMatchObject({ step: 1, phase: { kind: 'gate', request: null } });
    const opened = decide(runbook, status, state, { kind: 'gate-opened', request: 'apr_1' }, t0);
    if (!opened.ok) throw new Error(opened.reason);
    const other = { kind: 'gate-decided', request: 'apr_2', approved: true, detail: 'x' } as const;
    expect(refusal(decide(runbook, opened.status, opened.state, other, t0))).toContain('apr_2');
    expect(refusal(decide(runbook, opened.status, opened.state, { kind: 'done' }, t0))).toContain(
      '/approve apr_1',
    );
    const passed = decide(
      runbook,
      opened.status,
      opened.state,
      { kind: 'gate-decided', request: 'apr_1', approved: true, detail: 'approved by bob' },
      t0,
    );
    expect(passed).toMatchObject({ ok: true, state: { step: 2, phase: { kind: 'ready' } } });
  });

  it('never lets a gate be skipped', () => {
    const { status, state } = atGate();
    expect(
      refusal(decide(runbook, status, state, { kind: 'skip', reason: 'in a hurry' }, t0)),
    ).toContain('cannot be skipped');
  });

  it('aborts the run when the gate is rejected', () => {
    const { status, state } = atGate();
    const opened = decide(runbook, status, state, { kind: 'gate-opened', request: 'apr_1' }, t0);
    if (!opened.ok) throw new Error(opened.reason);
    const d = decide(
      runbook,
      opened.status,
      opened.state,
      { kind: 'gate-decided', request: 'apr_1', approved: false, detail: 'rejected by bob' },
      t0,
    );
    expect(d).toMatchObject({ ok: true, status: 'aborted' });
  });

  it('requires Run on a step with commands, and claims a numbered attempt for whoever pressed it', () => {
    const gate = atGate();
    const opened = decide(
      runbook,
      gate.status,
      gate.state,
      { kind: 'gate-opened', request: 'apr_1' },
      t0,
    );
    if (!opened.ok) throw new Error(opened.reason);
    const passed = decide(
      runbook,
      opened.status,
      opened.state,
      { kind: 'gate-decided', request: 'apr_1', approved: true, detail: '' },
      t0,
    );
    if (!passed.ok) throw new Error(passed.reason);
    expect(refusal(decide(runbook, passed.status, passed.state, { kind: 'done' }, t0))).toContain(
      'Run it',
    );
    const run = decide(
      runbook,
      passed.status,
      passed.state,
      { kind: 'run', by: 'console:alice' },
      t0,
    );
    expect(run).toMatchObject({
      ok: true,
      state: { phase: { kind: 'running', attempt: 1, by: 'console:alice' } },
    });
    if (!run.ok) return;
    // A second Run (a double click decided on the same state is stopped by the catalog; one decided
    // after the first applied) is refused while the attempt runs.
    expect(
      refusal(decide(runbook, run.status, run.state, { kind: 'run', by: 'console:bob' }, t0)),
    ).toContain('running (attempt 1)');
    // Skipping it (after a bot stopped mid-command) moves on without running anything again.
    expect(
      decide(runbook, run.status, run.state, { kind: 'skip', reason: 'bot died' }, t0),
    ).toMatchObject({
      ok: true,
      state: { step: 3, phase: { kind: 'ready' } },
      event: {
        detail: 'skipped: bot died (attempt 1 was running: its jobs go on, nothing is run again)',
      },
    });
  });

  it('offers a retry after a failed attempt, as a new attempt number, and advances on success', () => {
    const gate = atGate();
    const inputs: RunInput[] = [];
    let s = { status: gate.status, state: gate.state };
    const apply = (input: RunInput) => {
      const d = decide(runbook, s.status, s.state, input, t0);
      if (!d.ok) throw new Error(d.reason);
      inputs.push(input);
      s = { status: d.status, state: d.state };
      return d;
    };
    apply({ kind: 'gate-opened', request: 'apr_1' });
    apply({ kind: 'gate-decided', request: 'apr_1', approved: true, detail: '' });
    apply({ kind: 'run', by: 'console:alice' });
    apply({
      kind: 'command-ended',
      attempt: 1,
      outcome: { command: '/restore latest --profile db', status: 'failed', error: 'boom' },
    });
    apply({ kind: 'commands-ended', attempt: 1, error: 'boom' });
    expect(s.state.phase).toEqual({ kind: 'failed', attempt: 1, error: 'boom' });
    // A late report of the old attempt changes nothing.
    expect(
      refusal(decide(runbook, s.status, s.state, { kind: 'commands-ended', attempt: 1 }, t0)),
    ).toContain('not running');
    apply({ kind: 'run', by: 'console:bob' });
    expect(s.state.phase).toMatchObject({ kind: 'running', attempt: 2 });
    const ok = apply({ kind: 'commands-ended', attempt: 2 });
    expect(ok.ok && ok.event.detail).toBe('commands completed');
    expect(s.state).toMatchObject({ step: 3, phase: { kind: 'ready' } });
  });

  it('waits after a step with a WAIT, continues only once the time has come, then completes', () => {
    const start = walk([{ kind: 'skip', reason: 'a' }]);
    const opened = decide(
      runbook,
      start.status,
      start.state,
      { kind: 'gate-opened', request: 'apr_1' },
      t0,
    );
    if (!opened.ok) throw new Error(opened.reason);
    const passed = decide(
      runbook,
      opened.status,
      opened.state,
      { kind: 'gate-decided', request: 'apr_1', approved: true, detail: '' },
      t0,
    );
    if (!passed.ok) throw new Error(passed.reason);
    const skipped = decide(
      runbook,
      passed.status,
      passed.state,
      { kind: 'skip', reason: 'restored by hand' },
      t0,
    );
    if (!skipped.ok) throw new Error(skipped.reason);
    const run = decide(
      runbook,
      skipped.status,
      skipped.state,
      { kind: 'run', by: 'console:alice' },
      t0,
    );
    if (!run.ok) throw new Error(run.reason);
    const ended = decide(
      runbook,
      run.status,
      run.state,
      { kind: 'commands-ended', attempt: 1 },
      t0,
    );
    expect(ended).toMatchObject({
      ok: true,
      state: { step: 3, phase: { kind: 'waiting', until: '2026-12-07T12:10:00.000Z' } },
    });
    if (!ended.ok) return;
    const early = new Date('2026-12-07T12:09:59Z');
    expect(
      refusal(decide(runbook, ended.status, ended.state, { kind: 'wait-elapsed' }, early)),
    ).toContain('waits until');
    const later = new Date('2026-12-07T12:10:00Z');
    const next = decide(runbook, ended.status, ended.state, { kind: 'wait-elapsed' }, later);
    // Step 5 holds nothing but a WAIT: it waits on entering.
    expect(next).toMatchObject({
      ok: true,
      state: { step: 4, phase: { kind: 'waiting', until: '2026-12-07T12:11:00.000Z' } },
    });
    if (!next.ok) return;
    const last = decide(
      runbook,
      next.status,
      next.state,
      { kind: 'wait-elapsed' },
      new Date('2026-12-07T12:11:00Z'),
    );
    expect(last).toMatchObject({ ok: true, status: 'completed', state: { step: 5 } });
    if (!last.ok) return;
    expect(refusal(decide(runbook, last.status, last.state, { kind: 'done' }, later))).toContain(
      'completed',
    );
  });

  it("refuses Run until the step's checklist is ticked, naming what is left", () => {
    const book = {
      ...runbook,
      steps: [
        {
          number: 1,
          title: 'Restore',
          line: 1,
          parts: [
            { kind: 'check' as const, text: 'Writers stopped', line: 2 },
            { kind: 'command' as const, text: '/restore latest', line: 3 },
          ],
        },
      ],
    };
    const { status, state } = initialState(book, t0);
    const refused = decide(book, status, state, { kind: 'run', by: 'console:alice' }, t0);
    expect(refusal(refused)).toContain('not ticked yet: 1. Writers stopped');
    const ticked = decide(book, status, state, { kind: 'check', item: 1 }, t0);
    if (!ticked.ok) throw new Error(ticked.reason);
    expect(
      decide(book, ticked.status, ticked.state, { kind: 'run', by: 'console:alice' }, t0),
    ).toMatchObject({ ok: true, state: { phase: { kind: 'running', attempt: 1 } } });
  });

  it('claims each command once before it is dispatched, and records its job once', () => {
    const book = {
      ...runbook,
      steps: [
        {
          number: 1,
          title: 'Back up',
          line: 1,
          parts: [{ kind: 'command' as const, text: '/backup create', line: 2 }],
        },
      ],
    };
    const first = initialState(book, t0);
    const steps: RunInput[] = [
      { kind: 'run', by: 'console:alice' },
      { kind: 'command-started', attempt: 1, command: '/backup create' },
    ];
    let s = { status: first.status, state: first.state };
    for (const input of steps) {
      const d = decide(book, s.status, s.state, input, t0);
      if (!d.ok) throw new Error(d.reason);
      s = d;
    }
    // A second process deciding the same claim is refused by the state, not only the catalog.
    expect(
      refusal(
        decide(
          book,
          s.status,
          s.state,
          { kind: 'command-started', attempt: 1, command: '/backup create' },
          t0,
        ),
      ),
    ).toContain('not waiting to start');
    const job = decide(
      book,
      s.status,
      s.state,
      { kind: 'command-job', attempt: 1, id: 'bk_1' },
      t0,
    );
    expect(job).toMatchObject({
      ok: true,
      state: { phase: { started: { command: '/backup create', id: 'bk_1' } } },
    });
    if (!job.ok) return;
    expect(
      refusal(
        decide(book, job.status, job.state, { kind: 'command-job', attempt: 1, id: 'bk_2' }, t0),
      ),
    ).toContain('no command waiting');
    const ended = decide(
      book,
      job.status,
      job.state,
      {
        kind: 'command-ended',
        attempt: 1,
        outcome: { command: '/backup create', status: 'completed', id: 'bk_1' },
      },
      t0,
    );
    expect(ended.ok && ended.state.phase).toEqual({
      kind: 'running',
      attempt: 1,
      by: 'console:alice',
      outcomes: [{ command: '/backup create', status: 'completed', id: 'bk_1' }],
    });
  });

  it('requires a reason to skip or abort', () => {
    const { status, state } = initialState(runbook, t0);
    expect(refusal(decide(runbook, status, state, { kind: 'skip', reason: '  ' }, t0))).toContain(
      'REASON',
    );
    expect(refusal(decide(runbook, status, state, { kind: 'abort', reason: '' }, t0))).toContain(
      'REASON',
    );
    expect(
      decide(runbook, status, state, { kind: 'abort', reason: 'false alarm' }, t0),
    ).toMatchObject({
      ok: true,
      status: 'aborted',
      event: { kind: 'aborted', detail: 'aborted: false alarm' },
    });
  });
});
