import { describe, expect, it } from 'vitest';
import type { Runbook } from '../../../src/runbook/model.ts';
import { restoreRunbook, step } from '../../doubles/sample-runbooks.ts';
import { testBot } from '../../doubles/test-bot.ts';
import { testConfig } from '../../doubles/test-config.ts';

/** A step's commands, run through the same dispatcher as typing them (needs the real fillCommand). */

const backupRunbook: Runbook = {
  ...restoreRunbook(),
  name: 'backup-then-prune',
  title: 'Back up, then prune',
  params: [{ name: 'ticket', description: 'The ticket', type: { kind: 'string' }, line: 3 }],
  steps: [
    step(1, 'Back up', [
      { kind: 'command', text: '/backup create db --note {{ticket}}', line: 11 },
    ]),
    step(2, 'Prune', [{ kind: 'command', text: '/backup prune --profile db', line: 21 }]),
    step(3, 'Close', [{ kind: 'text', markdown: 'Done.', line: 31 }]),
  ],
};

function bot(
  config = testConfig({
    roles: { oncall: ['console:alice', 'console:carol'], dba: ['console:bob'] },
  }),
) {
  const b = testBot({ config });
  b.services.runbooks.library.add(backupRunbook);
  return b;
}

describe("Run: a step's commands through the command layer", () => {
  it('runs each command as the person who pressed Run, a parameter filling one argument only', async () => {
    const b = bot();
    const started = await b.chat.say(
      '/runbook start backup-then-prune "ticket=INC 7 --no-replicate"',
    );
    const id = String(started.id);
    const ran = await b.chat.say(`/runbook run ${id}`, 'carol');
    expect(ran).toMatchObject({ status: 'completed', step: 2 });
    expect(b.services.backupJobs.requests).toMatchObject([
      {
        profile: 'db',
        note: 'INC 7 --no-replicate',
        replicate: true,
        requestedBy: 'console:carol',
      },
    ]);
    // The same click again is a Run of step 2, refused by its --step: the backup ran once.
    expect(await b.chat.say(`/runbook run ${id} --step 1`, 'carol')).toMatchObject({
      status: 'refused',
      code: 'step_moved_on',
    });
    expect(b.services.backupJobs.requests).toHaveLength(1);
    const audited = b.services.audit.log.filter((e) => e.command?.startsWith('/backup create'));
    expect(audited.map((e) => e.identity)).toEqual(['console:carol']);
  });

  it('waits for an approval request a command turned into, then goes on once a second person approved it', async () => {
    const b = bot(
      testConfig({
        roles: { oncall: ['console:alice'], dba: ['console:bob'] },
        policies: [{ action: 'backup.prune', approvals: 1, approvers: ['dba'] }],
      }),
    );
    const id = String((await b.chat.say('/runbook start backup-then-prune ticket=INC-8')).id);
    await b.chat.say(`/runbook run ${id}`);
    const waiting = await b.chat.say(`/runbook run ${id}`);
    expect(waiting).toMatchObject({ status: 'awaiting_approval' });
    const request = String(waiting.request);
    expect((await b.services.runbooks.runs.get(id))?.state).toMatchObject({
      step: 1,
      phase: { kind: 'running', attempt: 1, by: 'console:alice' },
    });
    expect((await b.chat.say(`/approve ${request}`, 'bob')).status).not.toBe('refused');
    const run = await b.services.runbooks.runs.get(id);
    expect(run?.state).toMatchObject({ step: 2, phase: { kind: 'ready' } });
    const timeline = await b.services.runbooks.runs.timeline(id);
    expect(timeline.map((e) => e.kind)).toEqual([
      'started',
      'run',
      'command-started',
      'command-job',
      'command',
      'succeeded',
      'run',
      'command-started',
      'command',
      'command',
      'succeeded',
    ]);
  });

  it('after a restart, waits for the job a started command recorded instead of running it again', async () => {
    const b = bot();
    const id = String((await b.chat.say('/runbook start backup-then-prune ticket=INC-9')).id);
    const runs = b.services.runbooks.runs;
    // What a bot killed mid-command leaves: the attempt claimed, the command started, its job
    // queued and recorded, and nobody following it.
    let run = await runs.get(id);
    if (!run) throw new Error('run expected');
    const { backupId } = await b.services.backupJobs.enqueue({
      profile: 'db',
      note: 'INC-9',
      requestedBy: 'console:alice',
      replicate: true,
    });
    const at = new Date('2026-11-22T12:00:00Z');
    const phases = [
      { kind: 'running' as const, attempt: 1, by: 'console:alice', outcomes: [] },
      {
        kind: 'running' as const,
        attempt: 1,
        by: 'console:alice',
        outcomes: [],
        started: { command: '/backup create db --note INC-9', id: backupId },
      },
    ];
    for (const phase of phases) {
      const moved = await runs.transition(
        id,
        run.version,
        { status: 'open', state: { ...run.state, phase } },
        { kind: 'test', step: 1, detail: 'as the killed bot left it', actor: 'console:alice', at },
      );
      if (!moved) throw new Error('transition expected');
      run = moved;
    }
    expect(await b.chat.say(`/runbook run ${id}`, 'carol')).toMatchObject({
      status: 'ok',
      resumed: true,
      step: 2,
    });
    expect(b.services.backupJobs.requests).toHaveLength(1);
    const timeline = await runs.timeline(id);
    expect(timeline.filter((e) => e.kind === 'command').map((e) => e.detail)).toEqual([
      `/backup create db --note INC-9 → completed (${backupId})`,
    ]);
  });
});
