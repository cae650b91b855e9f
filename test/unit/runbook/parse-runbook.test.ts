import { describe, expect, it } from 'vitest';
import type { Runbook, StepPart } from '../../../src/runbook/model.ts';
import {
  MAX_FINDINGS,
  MAX_RUNBOOK_CHARS,
  parseRunbook,
} from '../../../src/runbook/parse-runbook.ts';

const FILE = 'runbooks/restore-db.md';

/** Lines joined with \n: line N of the runbook is element N-1. */
function md(...lines: string[]): string {
  return lines.join('\n');
}

function parts(runbook: Runbook, step: number): readonly StepPart[] {
  return runbook.steps[step - 1]?.parts ?? [];
}

const SPEC_EXAMPLE = md(
  '---', //  1
  'title: Restore the production database', //  2
  'description: After corruption or data loss.', //  3
  'params: { backup: { description: "Backup id or latest", default: latest } }', //  4
  '---', //  5
  'Intro paragraph, shown when the run starts.', //  6
  '', //  7
  '## Assess the situation', //  8
  'Check dashboards; identify the last known good time.', //  9
  '- [ ] Incident channel opened', // 10
  '- [x] Writers stopped', // 11
  '', // 12
  '## Get a second engineer', // 13
  '> [!APPROVAL] 1 from dba', // 14
  '> Production restores need two people.', // 15
  '', // 16
  '## Restore', // 17
  '```chatops', // 18
  '/restore {{backup}} --profile db', // 19
  '```', // 20
  '', // 21
  '## Verify', // 22
  '```chatops', // 23
  '/backup verify latest --profile db', // 24
  '```', // 25
);

describe('parseRunbook', () => {
  it('reads the example of SPEC §6 with exact lines', () => {
    const runbook = parseRunbook(SPEC_EXAMPLE, FILE);
    expect(runbook).toEqual({
      name: 'restore-db',
      file: FILE,
      title: 'Restore the production database',
      description: 'After corruption or data loss.',
      roles: [],
      params: [
        {
          name: 'backup',
          description: 'Backup id or latest',
          default: 'latest',
          type: { kind: 'string' },
          line: 4,
        },
      ],
      intro: 'Intro paragraph, shown when the run starts.',
      steps: [
        {
          number: 1,
          title: 'Assess the situation',
          line: 8,
          parts: [
            {
              kind: 'text',
              markdown: 'Check dashboards; identify the last known good time.',
              line: 9,
            },
            { kind: 'check', text: 'Incident channel opened', line: 10 },
            { kind: 'check', text: 'Writers stopped', line: 11 },
          ],
        },
        {
          number: 2,
          title: 'Get a second engineer',
          line: 13,
          parts: [
            {
              kind: 'gate',
              approvals: 1,
              roles: ['dba'],
              note: 'Production restores need two people.',
              line: 14,
            },
          ],
        },
        {
          number: 3,
          title: 'Restore',
          line: 17,
          parts: [{ kind: 'command', text: '/restore {{backup}} --profile db', line: 19 }],
        },
        {
          number: 4,
          title: 'Verify',
          line: 22,
          parts: [{ kind: 'command', text: '/backup verify latest --profile db', line: 24 }],
        },
      ],
      findings: [],
    });
  });

  it('reads params with types, a list of allowed values and roles', () => {
    const runbook = parseRunbook(
      md(
        '---',
        'title: T',
        'roles: [dba, oncall]',
        'params:',
        '  backup: { description: Which, default: latest, type: backup }',
        '  profile: { description: P, type: profile }',
        '  target: { description: T, default: demo-db, type: target }',
        '  level: { description: L, default: "2", type: ["1", "2", "3"] }',
        '  note: Just a description',
        '---',
        '## Step',
        'text',
      ),
      FILE,
    );
    expect(runbook.findings).toEqual([]);
    expect(runbook.roles).toEqual(['dba', 'oncall']);
    expect(runbook.rolesLine).toBe(3);
    expect(runbook.params).toEqual([
      {
        name: 'backup',
        description: 'Which',
        default: 'latest',
        type: { kind: 'backup' },
        line: 5,
      },
      { name: 'profile', description: 'P', type: { kind: 'profile' }, line: 6 },
      { name: 'target', description: 'T', default: 'demo-db', type: { kind: 'target' }, line: 7 },
      {
        name: 'level',
        description: 'L',
        default: '2',
        type: { kind: 'choice', values: ['1', '2', '3'] },
        line: 8,
      },
      { name: 'note', description: 'Just a description', type: { kind: 'string' }, line: 9 },
    ]);
  });

  it('reports front-matter problems at their lines', () => {
    const runbook = parseRunbook(
      md(
        '---', // 1
        'title: T', // 2
        'owner: me', // 3
        'params:', // 4
        '  "bad name": { description: x }', // 5
        '  level: { description: L, default: "9", type: ["1", "2"] }', // 6
        '  kind: { description: K, type: number }', // 7
        '---', // 8
        '## Step', // 9
        'text', // 10
      ),
      FILE,
    );
    expect(runbook.findings.map((f) => [f.severity, f.line, f.message])).toEqual([
      ['warning', 3, expect.stringContaining('unknown key "owner"')],
      ['error', 5, expect.stringContaining('"bad name" is not a parameter name')],
      ['error', 6, expect.stringContaining('is not one of its values: 1, 2')],
      ['error', 7, expect.stringContaining('the type of "kind" must be')],
    ]);
  });

  it('reports YAML errors at the line of the file, and refuses aliases that blow up', () => {
    const broken = parseRunbook(
      md('---', 'title: T', 'description: a: b', '---', '## S', 'x'),
      FILE,
    );
    expect(broken.findings).toEqual([
      expect.objectContaining({ severity: 'error', line: 3, file: FILE }),
    ]);
    const bomb = [
      '---',
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = i === 0 ? 'a' : `b${i - 1}`;
        return `b${i}: &b${i} [${Array.from({ length: 10 }, () => `*${prev}`).join(', ')}]`;
      }),
      'title: T',
      '---',
      '## S',
      'x',
    ].join('\n');
    const refused = parseRunbook(bomb, FILE);
    expect(refused.findings[0]?.message).toMatch(/too many aliases/);
  });

  it('reports a missing title, an unclosed front matter and a runbook without steps', () => {
    expect(parseRunbook(md('## Step', 'text'), FILE).findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        line: 1,
        message: expect.stringMatching(/^missing title/),
      }),
    ]);
    const unclosed = parseRunbook(md('---', 'title: T', '## Step', 'text'), FILE);
    expect(unclosed.findings).toEqual([
      expect.objectContaining({ line: 1, message: expect.stringContaining('not closed') }),
    ]);
    expect(unclosed.steps.map((s) => s.title)).toEqual(['Step']);
    const none = parseRunbook(md('---', 'title: T', '---', 'Only an intro.'), FILE);
    expect(none.intro).toBe('Only an intro.');
    expect(none.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        line: 3,
        message: expect.stringContaining('no steps'),
      }),
    ]);
  });

  it('keeps prose, tables, images, HTML, nested lists and other headings as text, other code as code', () => {
    const runbook = parseRunbook(
      md(
        '---', // 1
        'title: T', // 2
        '---', // 3
        '# Big title', // 4
        'Intro.', // 5
        '## Step', // 6
        '| a | b |', // 7
        '| - | - |', // 8
        '| 1 | 2 |', // 9
        '', // 10
        '![diagram](d.png)', // 11
        '', // 12
        '<details>raw</details>', // 13
        '', // 14
        '- one', // 15
        '  - nested', // 16
        '### Sub heading', // 17
        '```bash', // 18
        'pg_isready', // 19
        '```', // 20
        '', // 21
        '    indented code', // 22
      ),
      FILE,
    );
    expect(runbook.intro).toBe('# Big title\nIntro.');
    expect(runbook.findings).toEqual([]);
    expect(parts(runbook, 1)).toEqual([
      {
        kind: 'text',
        markdown: md(
          '| a | b |',
          '| - | - |',
          '| 1 | 2 |',
          '',
          '![diagram](d.png)',
          '',
          '<details>raw</details>',
          '',
          '- one',
          '  - nested',
          '### Sub heading',
        ),
        line: 7,
      },
      { kind: 'code', language: 'bash', text: 'pg_isready\n', line: 18 },
      { kind: 'code', language: '', text: 'indented code\n', line: 22 },
    ]);
  });

  it('makes a check of each task item, keeps other items and what follows a check as text', () => {
    const runbook = parseRunbook(
      md(
        '---', // 1
        'title: T', // 2
        '---', // 3
        '## Step', // 4
        '- [ ] first', // 5
        '  continued', // 6
        '- plain', // 7
        '', // 8
        '1. [X] numbered', // 9
        '', // 10
        '- [ ] with more', // 11
        '', // 12
        '  a second paragraph', // 13
      ),
      FILE,
    );
    expect(parts(runbook, 1)).toEqual([
      { kind: 'check', text: 'first continued', line: 5 },
      { kind: 'text', markdown: '- plain', line: 7 },
      { kind: 'check', text: 'numbered', line: 9 },
      { kind: 'check', text: 'with more', line: 11 },
      { kind: 'text', markdown: '\n  a second paragraph', line: 12 },
    ]);
  });

  it('makes one command of each line of a chatops block, skipping blanks and comments', () => {
    const runbook = parseRunbook(
      md(
        '---', // 1
        'title: T', // 2
        '---', // 3
        '## Step', // 4
        '```chatops', // 5
        '# first the status', // 6
        '/status', // 7
        '', // 8
        '   /backup list --limit 3   ', // 9
        'backup create', // 10
        '```', // 11
        '```ChatOps extra', // 12
        '```', // 13
      ),
      FILE,
    );
    expect(parts(runbook, 1)).toEqual([
      { kind: 'command', text: '/status', line: 7 },
      { kind: 'command', text: '/backup list --limit 3', line: 9 },
      { kind: 'text', markdown: 'backup create', line: 10 },
    ]);
    expect(runbook.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        line: 10,
        message: expect.stringContaining('"backup create" in a chatops block is not a command'),
      }),
      expect.objectContaining({
        severity: 'warning',
        line: 12,
        message: 'this chatops block holds no commands',
      }),
    ]);
  });

  it('warns of chatops blocks it will not run: before the first step, in a list or a quote', () => {
    const runbook = parseRunbook(
      md(
        '---', // 1
        'title: T', // 2
        '---', // 3
        '```chatops', // 4
        '/status', // 5
        '```', // 6
        '## Step', // 7
        '- item', // 8
        '  ```chatops', // 9
        '  /status', // 10
        '  ```', // 11
        '', // 12
        '> ```chatops', // 13
        '> /status', // 14
        '> ```', // 15
      ),
      FILE,
    );
    expect(runbook.findings.map((f) => [f.line, f.severity, f.message.split(',')[0]])).toEqual([
      [4, 'warning', 'this chatops block comes before the first step (## heading)'],
      [9, 'warning', 'this chatops block is inside a list or a quote'],
      [13, 'warning', 'this chatops block is inside a list or a quote'],
    ]);
    expect(parts(runbook, 1).some((p) => p.kind === 'command')).toBe(false);
    expect(runbook.intro).toContain('/status');
  });

  it('reads gates, waits and every callout', () => {
    const runbook = parseRunbook(
      md(
        '---', // 1
        'title: T', // 2
        '---', // 3
        '## Step', // 4
        '> [!APPROVAL] 2 from dba, oncall', // 5
        '> Two people.', // 6
        '> Really.', // 7
        '', // 8
        '> [!WAIT] 10m let it settle', // 9
        '', // 10
        '> [!NOTE]', // 11
        '> A note.', // 12
        '', // 13
        '> [!TIP] Tip.', // 14
        '', // 15
        '> [!WARNING] Careful.', // 16
        '', // 17
        '> [!IMPORTANT] Important.', // 18
        '', // 19
        '> [!CAUTION] Danger.', // 20
        '', // 21
        '> just a quote', // 22
      ),
      FILE,
    );
    expect(runbook.findings).toEqual([]);
    expect(parts(runbook, 1)).toEqual([
      {
        kind: 'gate',
        approvals: 2,
        roles: ['dba', 'oncall'],
        note: 'Two people.\nReally.',
        line: 5,
      },
      { kind: 'wait', ms: 600_000, text: 'let it settle', line: 9 },
      { kind: 'callout', tone: 'info', text: 'A note.', line: 11 },
      { kind: 'callout', tone: 'info', text: 'Tip.', line: 14 },
      { kind: 'callout', tone: 'warning', text: 'Careful.', line: 16 },
      { kind: 'callout', tone: 'warning', text: 'Important.', line: 18 },
      { kind: 'callout', tone: 'danger', text: 'Danger.', line: 20 },
      { kind: 'text', markdown: '> just a quote', line: 22 },
    ]);
  });

  it('reports malformed gates and waits at their line and shows them as text', () => {
    const quotes = [
      '> [!APPROVAL] two from dba',
      '> [!APPROVAL] 0 from dba',
      '> [!APPROVAL] 1.5 from dba',
      '> [!APPROVAL] 1',
      '> [!APPROVAL] 1 from',
      '> [!APPROVAL] 1 from dba,,',
      '> [!APPROVAL] 99 from dba',
      '> [!WAIT] soon',
      '> [!FOO] what',
    ];
    const runbook = parseRunbook(
      md('---', 'title: T', '---', '## Step', ...quotes.flatMap((quote) => [quote, ''])),
      FILE,
    );
    expect(runbook.findings.map((f) => [f.line, f.severity])).toEqual([
      [5, 'error'],
      [7, 'error'],
      [9, 'error'],
      [11, 'error'],
      [13, 'error'],
      [15, 'error'],
      [17, 'error'],
      [19, 'error'],
      [21, 'warning'],
    ]);
    expect(runbook.findings[0]?.message).toMatch(/^malformed approval gate: "two" approvers/);
    expect(runbook.findings[7]?.message).toMatch(/^malformed wait: "soon" is not a duration/);
    const shown = parts(runbook, 1);
    expect(shown.every((p) => p.kind === 'text')).toBe(true);
    const text = shown.map((p) => (p.kind === 'text' ? p.markdown : '')).join('\n');
    for (const quote of quotes) expect(text).toContain(quote);
  });

  it('numbers steps, takes setext headings as steps, keeps other headings inside steps as text', () => {
    const runbook = parseRunbook(
      md('---', 'title: T', '---', '## One', '#### deep', 'Two', '---', 'text', '##', 'x'),
      FILE,
    );
    expect(runbook.steps.map((s) => [s.number, s.title, s.line])).toEqual([
      [1, 'One', 4],
      [2, 'Two', 6],
      [3, '', 9],
    ]);
    expect(parts(runbook, 1)).toEqual([{ kind: 'text', markdown: '#### deep', line: 5 }]);
    expect(runbook.findings).toEqual([
      expect.objectContaining({ line: 9, message: 'a step heading (##) without a title' }),
    ]);
  });

  it('reports at most MAX_FINDINGS findings, then how many more there are', () => {
    const bad = Array.from({ length: MAX_FINDINGS + 5 }, () => '> [!WAIT] later').join('\n\n');
    const runbook = parseRunbook(md('---', 'title: T', '---', '## Step', bad), FILE);
    expect(runbook.findings).toHaveLength(MAX_FINDINGS + 1);
    expect(runbook.findings[MAX_FINDINGS]).toEqual({
      severity: 'error',
      file: FILE,
      line: 5 + 2 * MAX_FINDINGS,
      message: '5 more findings from here on are left out; fix the ones above first',
    });
  });

  it('counts lines the same with CRLF line ends', () => {
    const runbook = parseRunbook(SPEC_EXAMPLE.replace(/\n/g, '\r\n'), FILE);
    expect(runbook).toEqual(parseRunbook(SPEC_EXAMPLE, FILE));
  });

  it('refuses a runbook larger than the limit with a finding, without parsing it', () => {
    const runbook = parseRunbook(`## x\n${'a'.repeat(MAX_RUNBOOK_CHARS)}`, FILE);
    expect(runbook.steps).toEqual([]);
    expect(runbook.findings).toEqual([
      {
        severity: 'error',
        file: FILE,
        line: 1,
        message: expect.stringContaining('larger than 1 MiB'),
      },
    ]);
  });
});
