import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { continueDueWaits, type FlowContext } from '../../../src/bot/runbook-flow.ts';
import { listRunbooks } from '../../../src/runbook/load-runbooks.ts';
import type { Runbook } from '../../../src/runbook/model.ts';
import { completedBackup } from '../../doubles/sample-backups.ts';
import { type TestBot, testBot } from '../../doubles/test-bot.ts';
import { testConfig } from '../../doubles/test-config.ts';

/**
 * Issue 12: every shipped runbook runs end to end through the real command layer over the
 * in-memory doubles, with the profiles and targets of the shipped lifeboat.yaml.
 */

const RUNBOOKS = fileURLToPath(new URL('../../../runbooks', import.meta.url));

/** The shipped lifeboat.yaml's targets and profiles, a staging target and the gates' roles. */
function shippedConfig() {
  return testConfig({
    defaultProfile: 'full',
    targets: {
      'demo-db': {
        kind: 'postgres',
        url: 'postgres://127.0.0.1:5432/lifeboat_demo',
        environment: 'production',
      },
      'demo-files': { kind: 'directory', path: '/srv/demo-files', environment: 'development' },
      'staging-db': {
        kind: 'postgres',
        url: 'postgres://127.0.0.1:5432/lifeboat_staging',
        environment: 'staging',
      },
    },
    profiles: {
      full: { targets: ['demo-db', 'demo-files'], retention: { keepLast: 10 } },
      db: { targets: ['demo-db'] },
      files: { targets: ['demo-files'] },
    },
    drills: {},
    roles: {
      dba: ['console:bob'],
      oncall: ['console:alice', 'console:carol'],
      'incident-commander': ['console:carol'],
    },
  });
}

const EARLIER = new Date('2026-11-21T02:00:00Z');

/** A bot with the shipped runbooks and a completed backup of each profile from the night before. */
function bot(runbooks: Runbook[]): { b: TestBot; fullBackup: string } {
  const b = testBot({ config: shippedConfig() });
  b.services.runbooks.library.add(...runbooks);
  const backups = ['full', 'db', 'files'].map((profile) =>
    completedBackup(b.config, { profile, createdAt: EARLIER }),
  );
  b.services.backups.add(...backups);
  return { b, fullBackup: backups[0]?.id ?? '' };
}

/** Approves a request as the first second person the policy lets approve it. */
async function approve(b: TestBot, request: string): Promise<void> {
  for (const user of ['bob', 'carol']) {
    const result = await b.chat.say(`/approve ${request}`, user);
    if (result.status !== 'refused' && result.status !== 'invalid') return;
  }
  throw new Error(`nobody could approve ${request}: ${b.chat.privateTexts().at(-1)}`);
}

/**
 * Walks a run to its end as its people would: alice ticks every item and presses Run (or Done);
 * a second person approves each gate and each command that became an approval request; a WAIT
 * ends by moving the clock to its time and letting the sweep continue the run.
 */
async function walk(b: TestBot, runbook: Runbook, id: string): Promise<void> {
  const runs = b.services.runbooks.runs;
  for (let guard = 0; guard < 100; guard++) {
    const run = await runs.get(id);
    if (!run) throw new Error(`run ${id} expected`);
    if (run.status !== 'open') return;
    const { step, phase, checked } = run.state;
    const current = runbook.steps[step];
    if (!current) throw new Error(`step ${step + 1} of ${runbook.name} expected`);
    if (phase.kind === 'gate') {
      if (!phase.request) throw new Error(`step ${step + 1}: the gate expected open`);
      await approve(b, phase.request);
      continue;
    }
    if (phase.kind === 'waiting') {
      const until = new Date(phase.until);
      b.setNow(until);
      const context = (): FlowContext => ({
        services: b.services,
        config: b.config,
        reply: b.chat.reply,
        identity: { platform: 'console' as const, id: 'lifeboat' },
        now: () => until,
      });
      expect(await continueDueWaits(context, until, runs)).toEqual([id]);
      continue;
    }
    if (phase.kind === 'running') {
      const pending = await b.services.approvalRequests.listUnfinished();
      throw new Error(`step ${step + 1} stuck running: ${JSON.stringify(pending)}`);
    }
    if (phase.kind === 'failed') {
      throw new Error(`step ${step + 1} (${current.title}) failed: ${phase.error}`);
    }
    const items = current.parts.filter((p) => p.kind === 'check').length;
    for (let item = 1; item <= items; item++) {
      if (!checked.includes(item)) {
        const ticked = await b.chat.say(`/runbook check ${id} ${item}`, 'alice');
        expect(ticked.status, `${runbook.name} step ${step + 1} item ${item}`).toBe('ok');
      }
    }
    const hasCommands = current.parts.some((p) => p.kind === 'command');
    const result = await b.chat.say(
      `/runbook ${hasCommands ? 'run' : 'done'} ${id} --step ${step + 1}`,
      'alice',
    );
    if (result.status === 'awaiting_approval') {
      await approve(b, String(result.request));
      continue;
    }
    if (!['ok', 'completed'].includes(result.status)) {
      throw new Error(
        `${runbook.name} step ${step + 1} (${current.title}): ${JSON.stringify(result)} ${b.chat.privateTexts().at(-1)}`,
      );
    }
  }
  throw new Error(`run ${id} did not end`);
}

const runbooks = await listRunbooks(RUNBOOKS);

describe('each shipped runbook, run end to end through the command layer', () => {
  it('finds the seven shipped runbooks', () => {
    expect(runbooks).toHaveLength(7);
  });

  for (const runbook of runbooks) {
    it(`${runbook.name} completes, with every step in its timeline and summary`, async () => {
      const { b, fullBackup } = bot(runbooks);
      const given: Record<string, string> = {
        'emergency-restore': ' staging=staging-db',
        'selective-restore': ` backup=${fullBackup}`,
      };
      const started = await b.chat.say(
        `/runbook start ${runbook.name}${given[runbook.name] ?? ''}`,
        'alice',
      );
      expect(started.status, b.chat.privateTexts().at(-1)).toBe('ok');
      const id = String(started.id);
      await walk(b, runbook, id);

      const run = await b.services.runbooks.runs.get(id);
      expect(run?.status).toBe('completed');
      const timeline = await b.services.runbooks.runs.timeline(id);
      const stepsSeen = new Set(timeline.map((e) => e.step));
      runbook.steps.forEach((_, i) => {
        expect(stepsSeen.has(i + 1), `${runbook.name} step ${i + 1} in the timeline`).toBe(true);
      });
      expect(timeline.filter((e) => e.kind === 'skipped')).toEqual([]);
      const gates = runbook.steps.filter((s) => s.parts.some((p) => p.kind === 'gate')).length;
      expect(timeline.filter((e) => e.kind === 'gate-passed')).toHaveLength(gates);

      // Each command as the run filled it, once: an approval request it turned into is not a run.
      const params = run?.params ?? {};
      const commands = runbook.steps.flatMap((s) =>
        s.parts.flatMap((p) =>
          p.kind === 'command'
            ? [p.text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => params[name] ?? '')]
            : [],
        ),
      );
      const outcomes = timeline
        .filter((e) => e.kind === 'command')
        .map((e) => /^(.*) → (\w+)/.exec(e.detail) ?? [e.detail, e.detail, 'unparsed'])
        .filter(([, , status]) => status !== 'awaiting_approval');
      // The timeline quotes a spaced argument its own way (`a\\ b` for `"a b"`).
      const plain = (line: string) => line.replace(/["\\]/g, '');
      expect(outcomes.map(([, command]) => plain(command ?? ''))).toEqual(commands.map(plain));
      for (const [detail, , status] of outcomes) {
        expect(['ok', 'passed', 'completed'], detail).toContain(status);
      }
      const count = (prefix: string) => commands.filter((c) => c.startsWith(prefix)).length;
      expect(b.services.backupJobs.requests).toHaveLength(count('/backup create'));
      expect(b.services.verifications.requests).toHaveLength(count('/backup verify'));
      const restores = commands.filter((c) => c.startsWith('/restore') && !c.includes('--dry-run'));
      expect(b.services.restores.enqueued).toHaveLength(restores.length);

      const summary = run?.summary ?? '';
      expect(summary).toContain(`(${id})`);
      expect(summary).toContain('- Status: completed');
      runbook.steps.forEach((s, i) => {
        expect(summary, runbook.name).toContain(`${i + 1}. ${s.title}`);
      });
    });
  }
});
