import type { Runbook, RunbookStep, StepPart } from '../../src/runbook/model.ts';

/** A step built by hand, numbered and lined from its position. */
export function step(number: number, title: string, parts: readonly StepPart[]): RunbookStep {
  return { number, title, line: number * 10, parts };
}

/**
 * The SPEC §6 example, built by hand (no parser): a checklist, a gate, a restore and a
 * verification, then a step that only waits.
 */
export function restoreRunbook(): Runbook {
  return {
    name: 'restore-db',
    file: 'runbooks/restore-db.md',
    title: 'Restore the production database',
    description: 'After corruption or data loss.',
    roles: [],
    params: [
      {
        name: 'backup',
        description: 'Backup id or latest',
        default: 'latest',
        type: { kind: 'backup' },
        line: 4,
      },
    ],
    intro: 'Intro paragraph, shown when the run starts.',
    steps: [
      step(1, 'Assess the situation', [
        { kind: 'text', markdown: 'Check dashboards.', line: 11 },
        { kind: 'check', text: 'Incident channel opened', line: 12 },
        { kind: 'check', text: 'Writers stopped', line: 13 },
      ]),
      step(2, 'Get a second engineer', [
        { kind: 'gate', approvals: 1, roles: ['dba'], note: 'Two people.', line: 21 },
      ]),
      step(3, 'Restore', [{ kind: 'command', text: '/restore {{backup}} --profile db', line: 31 }]),
      step(4, 'Verify', [
        { kind: 'command', text: '/backup verify latest --profile db', line: 41 },
        { kind: 'wait', ms: 600_000, text: '10m', line: 42 },
      ]),
      step(5, 'Let it settle', [{ kind: 'wait', ms: 60_000, text: '1m', line: 51 }]),
    ],
    findings: [],
  };
}
