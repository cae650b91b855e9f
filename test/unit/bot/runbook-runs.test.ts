import { describe, expect, it } from 'vitest';
import {
  commandOutcome,
  continueDueWaits,
  type FlowContext,
} from '../../../src/bot/runbook-flow.ts';
import type { Runbook } from '../../../src/runbook/model.ts';
import { restoreRunbook, step } from '../../doubles/sample-runbooks.ts';
import { type TestBot, testBot } from '../../doubles/test-bot.ts';
import { buttonsOf } from '../../doubles/test-chat.ts';
import { testConfig } from '../../doubles/test-config.ts';

const roles = { dba: ['console:bob'], oncall: ['console:alice', 'console:carol'] };

function bot(...runbooks: Runbook[]): TestBot {
  const b = testBot({ config: testConfig({ roles }) });
  b.services.runbooks.library.add(restoreRunbook(), ...runbooks);
  return b;
}

/** The id of the run the newest start answered with. */
async function start(b: TestBot, line: string): Promise<string> {
  const result = await b.chat.say(line);
  expect(result.status).toBe('ok');
  return String(result.id);
}

const failing: Runbook = {
  ...restoreRunbook(),
  name: 'failing',
  title: 'A step whose command fails',
  params: [
    { name: 'ticket', description: 'The incident ticket', type: { kind: 'string' }, line: 3 },
  ],
  steps: [
    step(1, 'Back up a profile that is not there', [
      { kind: 'command', text: '/backup create nosuchprofile', line: 11 },
    ]),
    step(2, 'Tell people', [{ kind: 'text', markdown: 'Post in #incidents.', line: 21 }]),
  ],
};

describe('/runbook list and start', () => {
  it('shows the line breaks of an intro and a step as line breaks, never as \\n', async () => {
    const twoLines: Runbook = {
      ...restoreRunbook(),
      name: 'two-lines',
      intro: 'First line of the intro.\nSecond line of the intro.',
      steps: [
        step(1, 'Look', [{ kind: 'text', markdown: '| a | b |\n| - | - |\n| 1 | 2 |', line: 9 }]),
      ],
    };
    const b = bot(twoLines);
    await start(b, '/runbook start two-lines');
    const shown = b.chat.texts().join('\n');
    expect(shown).toContain('First line of the intro.\nSecond line of the intro.');
    expect(shown).toContain('| a | b |\n| - | - |\n| 1 | 2 |');
    expect(shown).not.toContain('\\n');
  });

  it('lists each runbook with its title, description and parameters', async () => {
    const b = bot(failing);
    expect((await b.chat.say('/runbook list')).status).toBe('ok');
    const text = b.chat.lastText();
    expect(text).toContain('`restore-db`: Restore the production database');
    expect(text).toContain('After corruption or data loss.');
    expect(text).toContain('`backup` (default `latest`): Backup id or latest');
    expect(text).toContain('`ticket` (required): The incident ticket');
  });

  it('names every missing required parameter with its description, and starts nothing', async () => {
    const b = bot(failing);
    const result = await b.chat.say('/runbook start failing');
    expect(result.status).toBe('invalid');
    expect(b.chat.privateTexts().at(-1)).toContain('needs `ticket=…` (The incident ticket)');
    expect(await b.services.runbooks.runs.listOpen()).toEqual([]);
  });

  it('lists the valid parameters for an unknown one, and the runbooks for an unknown name', async () => {
    const b = bot(failing);
    expect((await b.chat.say('/runbook start restore-db bakup=latest')).status).toBe('invalid');
    expect(b.chat.privateTexts().at(-1)).toContain('no parameter `bakup`');
    expect(b.chat.privateTexts().at(-1)).toContain('backup (Backup id or latest)');
    expect((await b.chat.say('/runbook start nope')).status).toBe('invalid');
    expect(b.chat.privateTexts().at(-1)).toContain('Runbooks: failing, restore-db.');
  });

  it('refuses a runbook with error findings, and one whose roles the starter does not hold', async () => {
    const broken: Runbook = {
      ...failing,
      name: 'broken',
      findings: [
        { severity: 'error', file: 'runbooks/broken.md', line: 7, message: 'malformed gate' },
      ],
    };
    const dbaOnly: Runbook = { ...failing, name: 'dba-only', roles: ['dba'] };
    const b = bot(broken, dbaOnly);
    expect((await b.chat.say('/runbook start broken ticket=1')).status).toBe('invalid');
    expect(b.chat.privateTexts().at(-1)).toContain('runbooks/broken.md:7: malformed gate');
    expect((await b.chat.say('/runbook start dba-only ticket=1', 'alice')).status).toBe('refused');
    expect(b.chat.privateTexts().at(-1)).toContain('holders of dba; you hold oncall');
    expect((await b.chat.say('/runbook start dba-only ticket=1', 'bob')).status).toBe('ok');
  });

  it('shows the intro, then the first step with its checklist and buttons', async () => {
    const b = bot();
    const id = await start(b, '/runbook start restore-db');
    expect(id).toMatch(/^run_\d{8}T\d{6}Z_[0-9a-z]{6}$/);
    const texts = b.chat.publicTexts();
    expect(texts.at(-2)).toContain('Runbook: Restore the production database');
    expect(texts.at(-2)).toContain('Intro paragraph, shown when the run starts.');
    expect(texts.at(-1)).toContain('Step 1/5: Assess the situation');
    expect(texts.at(-1)).toContain('[ ] 1. Incident channel opened');
    const buttons = buttonsOf(b.chat.last());
    expect(buttons.map((x) => x.label)).toEqual(['Tick 1', 'Tick 2', 'Done', 'Skip', 'Abort']);
    expect(buttons.find((x) => x.label === 'Done')?.command).toBe(`/runbook done ${id} --step 1`);
    expect(buttons.find((x) => x.label === 'Abort')?.confirm).toBeDefined();
  });
});

describe('a run through its steps', () => {
  it('refuses Done naming the unticked items, then finishes the step once all are ticked', async () => {
    const b = bot();
    const id = await start(b, '/runbook start restore-db');
    await b.chat.click('Tick 2');
    expect((await b.chat.say(`/runbook done ${id}`)).status).toBe('refused');
    expect(b.chat.privateTexts().at(-1)).toContain('not ticked yet: 1. Incident channel opened');
    await b.chat.say(`/runbook check ${id} 1`);
    expect((await b.chat.say(`/runbook done ${id}`)).status).toBe('ok');
    const run = await b.services.runbooks.runs.get(id);
    expect(run?.state).toMatchObject({ step: 1, phase: { kind: 'gate' } });
  });

  it('updates the step message as items are ticked, instead of posting it again', async () => {
    const b = bot();
    await start(b, '/runbook start restore-db');
    const before = b.chat.posted.filter((p) => !p.private).length;
    await b.chat.click('Tick 1');
    expect(b.chat.posted.filter((p) => !p.private).length).toBe(before);
    const step = b.chat.posted.filter((p) => !p.private).at(-1);
    expect(step?.versions).toHaveLength(2);
    expect(b.chat.publicTexts().at(-1)).toContain('[x] 1. Incident channel opened');
    expect(buttonsOf(b.chat.last()).map((x) => x.label)).toEqual([
      'Tick 2',
      'Done',
      'Skip',
      'Abort',
    ]);
  });

  it('ignores a second click on a step the run has left, instead of finishing the next step', async () => {
    const noChecks: Runbook = {
      ...failing,
      name: 'notes',
      params: [],
      steps: [
        step(1, 'Read', [{ kind: 'text', markdown: 'a', line: 1 }]),
        step(2, 'Read more', [{ kind: 'text', markdown: 'b', line: 2 }]),
      ],
    };
    const b = bot(noChecks);
    const id = await start(b, '/runbook start notes');
    expect((await b.chat.say(`/runbook done ${id} --step 1`)).status).toBe('ok');
    const again = await b.chat.say(`/runbook done ${id} --step 1`);
    expect(again).toMatchObject({ status: 'refused', code: 'step_moved_on' });
    expect((await b.services.runbooks.runs.get(id))?.state.step).toBe(1);
  });

  it('opens the gate as a request the starter cannot approve; a dba approves it and the run goes on', async () => {
    const b = bot();
    const id = await start(b, '/runbook start restore-db');
    await b.chat.say(`/runbook skip ${id} assessed on the phone`);
    const run = await b.services.runbooks.runs.get(id);
    const phase = run?.state.phase;
    if (phase?.kind !== 'gate' || !phase.request) throw new Error('gate expected to be open');
    const request = phase.request;
    expect(b.chat.publicTexts().join('\n')).toContain(request);
    expect((await b.chat.say(`/approve ${request}`, 'alice')).status).toBe('refused');
    expect((await b.chat.say(`/runbook skip ${id} hurry`, 'alice')).status).toBe('refused');
    expect(b.chat.privateTexts().at(-1)).toContain('cannot be skipped');
    expect((await b.chat.say(`/approve ${request}`, 'bob')).status).toBe('ok');
    const after = await b.services.runbooks.runs.get(id);
    expect(after?.state).toMatchObject({ step: 2, phase: { kind: 'ready' } });
    expect((await b.services.approvals.get(request))?.status).toBe('executed');
    expect(b.chat.publicTexts().at(-1)).toContain('Step 3/5: Restore');
    const timeline = await b.services.runbooks.runs.timeline(id);
    expect(timeline.map((e) => e.kind)).toEqual(['started', 'skipped', 'gate', 'gate-passed']);
    expect(timeline[1]).toMatchObject({
      actor: 'console:alice',
      detail: 'skipped: assessed on the phone',
    });
  });

  it('ends the run when the gate is rejected, and posts the summary', async () => {
    const b = bot();
    const id = await start(b, '/runbook start restore-db');
    await b.chat.say(`/runbook skip ${id} done already`);
    const phase = (await b.services.runbooks.runs.get(id))?.state.phase;
    if (phase?.kind !== 'gate' || !phase.request) throw new Error('gate expected');
    await b.chat.say(`/reject ${phase.request} not now`, 'bob');
    const run = await b.services.runbooks.runs.get(id);
    expect(run?.status).toBe('aborted');
    expect(run?.summary).toContain(`| Restore the production database (${id})`.slice(2));
    expect(b.chat.publicTexts().at(-1)).toContain(
      'Runbook Restore the production database was aborted',
    );
  });

  it('offers Retry, Skip and Abort when a command fails, and runs it as the person who pressed Run', async () => {
    const b = bot(failing);
    const id = await start(b, '/runbook start failing ticket=INC-1');
    const result = await b.chat.click('Run', 'carol');
    expect(result).toMatchObject({ status: 'failed', id });
    const run = await b.services.runbooks.runs.get(id);
    expect(run?.state.phase).toMatchObject({ kind: 'failed', attempt: 1 });
    const stepMessage = b.chat.posted.filter((p) => !p.private).at(-1);
    if (!stepMessage) throw new Error('the step message expected');
    expect(buttonsOf(b.chat.current(stepMessage)).map((x) => x.label)).toEqual([
      'Retry',
      'Skip',
      'Abort',
    ]);
    // The one who pressed Run hears privately what was wrong with the command.
    expect(b.chat.privateTexts().join('\n')).toContain('nosuchprofile');
    expect(b.services.backupJobs.requests).toEqual([]);
    const timeline = await b.services.runbooks.runs.timeline(id);
    expect(timeline.filter((e) => e.kind === 'run')).toMatchObject([{ actor: 'console:carol' }]);
    await b.chat.say(`/runbook skip ${id} backed up by hand`);
    expect((await b.services.runbooks.runs.get(id))?.state.step).toBe(1);
  });

  it('requires a reason to abort, then ends the run with its timeline', async () => {
    const b = bot();
    const id = await start(b, '/runbook start restore-db');
    expect((await b.chat.click('Abort')).status).toBe('refused');
    expect(b.chat.privateTexts().at(-1)).toContain('`/runbook abort RUN-ID REASON`');
    expect((await b.chat.say(`/runbook abort ${id} false alarm`)).status).toBe('ok');
    expect((await b.chat.say(`/runbook done ${id}`)).status).toBe('refused');
    expect((await b.chat.say(`/runbook status ${id}`)).status).toBe('ok');
    expect(b.chat.lastText()).toContain('console:alice: aborted: false alarm');
  });

  it('lists open runs with their step and how long they waited', async () => {
    const b = bot();
    const id = await start(b, '/runbook start restore-db');
    b.setNow(new Date('2026-11-22T12:07:00Z'));
    expect((await b.chat.say('/runbook status')).status).toBe('ok');
    expect(b.chat.lastText()).toContain(
      `\`${id}\` Restore the production database: step 1/5 Assess the situation`,
    );
    expect(b.chat.lastText()).toContain('for 7 min');
  });

  it('answers an unknown run id privately', async () => {
    const b = bot();
    expect((await b.chat.say('/runbook done run_nope')).status).toBe('invalid');
    expect(b.chat.privateTexts().at(-1)).toContain('There is no runbook run `run_nope`');
  });

  it('continues after a WAIT once its time has come, from the sweep, and only then', async () => {
    const waits: Runbook = {
      ...failing,
      name: 'waits',
      params: [],
      steps: [
        step(1, 'Stop writers', [
          { kind: 'text', markdown: 'Stop them.', line: 1 },
          { kind: 'wait', ms: 10 * 60_000, text: '10m', line: 2 },
        ]),
        step(2, 'Check replication', [{ kind: 'text', markdown: 'Look.', line: 3 }]),
      ],
    };
    const b = bot(waits);
    const id = await start(b, '/runbook start waits');
    await b.chat.say(`/runbook done ${id}`);
    expect((await b.services.runbooks.runs.get(id))?.state.phase).toEqual({
      kind: 'waiting',
      until: '2026-11-22T12:10:00.000Z',
    });
    const context = (): FlowContext => ({
      services: b.services,
      config: b.config,
      reply: b.chat.reply,
      identity: { platform: 'console' as const, id: 'lifeboat' },
      now: () => new Date('2026-11-22T12:09:00Z'),
    });
    const runs = b.services.runbooks.runs;
    expect(await continueDueWaits(context, new Date('2026-11-22T12:09:00Z'), runs)).toEqual([]);
    b.setNow(new Date('2026-11-22T12:10:00Z'));
    const later = (): FlowContext => ({
      ...context(),
      now: () => new Date('2026-11-22T12:10:00Z'),
    });
    expect(await continueDueWaits(later, new Date('2026-11-22T12:10:00Z'), runs)).toEqual([id]);
    expect((await runs.get(id))?.state).toMatchObject({ step: 1, phase: { kind: 'ready' } });
    expect(b.chat.publicTexts().at(-1)).toContain('Step 2/2: Check replication');
    const waited = (await runs.timeline(id)).filter((e) => e.kind === 'waited');
    expect(waited).toMatchObject([{ actor: 'system:lifeboat', step: 1 }]);
  });
});

describe('a step command’s outcome', () => {
  it('keeps an error only when the result has one, so the timeline never reads ": null"', () => {
    expect(
      commandOutcome('/backup verify latest', { status: 'passed', id: 'vf_1', error: null }),
    ).toEqual({ command: '/backup verify latest', status: 'passed', id: 'vf_1' });
    expect(commandOutcome('/backup create', { status: 'failed', error: 'disk full' })).toEqual({
      command: '/backup create',
      status: 'failed',
      error: 'disk full',
    });
  });
});
