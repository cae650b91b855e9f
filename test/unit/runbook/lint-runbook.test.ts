import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { parseConfig } from '../../../src/config/load-config.ts';
import { lintRunbook } from '../../../src/runbook/lint-runbook.ts';
import { parseRunbook } from '../../../src/runbook/parse-runbook.ts';

const CONFIG_TEXT = `
storage: { local: { path: /tmp/lifeboat-lint-test } }
targets:
  app-db: { kind: postgres, url: "postgres://127.0.0.1:5432/app", environment: production }
  staging-db: { kind: postgres, url: "postgres://127.0.0.1:5432/staging", environment: staging }
profiles:
  db: { targets: [app-db] }
roles:
  dba: ["console:alice"]
  oncall: ["console:bob"]
`;

const { config } = parseConfig(CONFIG_TEXT, {}, 'lifeboat.yaml');

function lint(...lines: string[]) {
  return lintRunbook(parseRunbook(lines.join('\n'), 'rb.md'), { commands, config }).map(
    (f) => `${f.line} ${f.severity}: ${f.message}`,
  );
}

const HEAD = ['---', 'title: T', 'params:', '  backup: { description: B, default: latest }', '---'];

describe('lintRunbook', () => {
  it('finds nothing in a runbook whose commands parse and name what the config has', () => {
    expect(
      lint(
        ...HEAD,
        '## Restore',
        '```chatops',
        '/restore {{backup}} --profile db --into app-db=staging-db',
        '/status',
        '```',
        '> [!APPROVAL] 1 from dba, oncall',
      ),
    ).toEqual([]);
  });

  it('reports commands the grammar does not know or cannot parse, at their line', () => {
    expect(
      lint(
        ...HEAD, // 1-5
        '## Step', // 6
        '```chatops', // 7
        '/restor {{backup}}', // 8
        '/restore {{backup}} --force', // 9
        '/backup verify', // 10
        '```', // 11
      ),
    ).toEqual([
      expect.stringMatching(/^8 error: \/restor \{\{backup\}\}: .*/),
      expect.stringMatching(/^9 error: \/restore \{\{backup\}\} --force: .*--force/),
      expect.stringMatching(/^10 error: \/backup verify: /),
    ]);
  });

  it('reports commands this version parses but does not carry out, which would fail the step', () => {
    expect(
      lint(
        ...HEAD, // 1-5
        '## Step', // 6
        '```chatops', // 7
        '/drill list', // 8
        '/backup verify {{backup}} --profile db', // 9
        '```', // 10
      ),
    ).toEqual([
      '8 error: /drill list: `/drill list` is not available yet in this version of Lifeboat',
    ]);
  });

  it('reports profiles and targets the config does not have, with the ones it has', () => {
    expect(
      lint(
        ...HEAD,
        '## Step', // 6
        '```chatops', // 7
        '/restore {{backup}} --profile prod', // 8
        '/restore {{backup}} --profile db --components app-dbb', // 9
        '```',
      ),
    ).toEqual([
      expect.stringMatching(/^8 error: .*prod/),
      expect.stringMatching(/^9 error: .*unknown target "app-dbb"; did you mean "app-db"\?/),
    ]);
  });

  it('fills params with their defaults, or a stand-in of their type', () => {
    expect(
      lint(
        '---', // 1
        'title: T', // 2
        'params:', // 3
        '  p: { description: P, type: profile }', // 4
        '  t: { description: T, type: target }', // 5
        '  b: { description: B, type: backup }', // 6
        '  bad: { description: X, default: nope, type: profile }', // 7
        '  level: { description: L, type: ["2", "3"] }', // 8
        '---', // 9
        '## Step', // 10
        '```chatops', // 11
        '/backup show {{b}}', // 12
        '/backup verify latest --profile {{p}} --level {{level}}', // 13
        '/restore {{b}} --components {{t}} --profile {{bad}}', // 14
        '```',
      ),
    ).toEqual([
      '7 error: the default of "bad" is "nope", which is not a configured profile; profiles: db',
      expect.stringMatching(/^14 error: .*nope/),
    ]);
  });

  it('reports a param that would choose the command rather than fill an argument', () => {
    expect(
      lint(
        '---', // 1
        'title: T', // 2
        'params: { verb: { description: V, default: list, type: [list, prune] } }', // 3
        '---', // 4
        '## Step', // 5
        '```chatops', // 6
        '/backup {{verb}} --profile db', // 7
        '```',
      ),
    ).toEqual([
      '7 error: /backup {{verb}} --profile db: {{verb}} would choose the command by its value; write the command out (with the default it reads /backup list)',
    ]);
  });

  it('reports undeclared params and warns of params never used', () => {
    expect(
      lint(
        '---', // 1
        'title: T', // 2
        'params:', // 3
        '  unused: { description: U, default: x }', // 4
        '---', // 5
        '## Step', // 6
        '```chatops', // 7
        '/restore {{backup}} --profile {{profile}}', // 8
        '/restore {{ backup }}', // 9
        '```',
      ),
    ).toEqual([
      '4 warning: the parameter "unused" is never used',
      '8 error: {{backup}}, {{profile}} are not declared: add them to params in the front matter',
      expect.stringMatching(/^9 error: .*not a parameter/),
    ]);
  });

  it('reports unknown roles when roles are configured, and malformed gates', () => {
    expect(
      lint(
        '---', // 1
        'title: T', // 2
        'roles: [dba, ops]', // 3
        '---', // 4
        '## Gate', // 5
        '> [!APPROVAL] 2 from dba, sre', // 6
        '', // 7
        '> [!APPROVAL] none from dba', // 8
      ),
    ).toEqual([
      '3 error: unknown role "ops" in the front matter; roles: dba, oncall',
      '6 error: unknown role "sre" in the approval gate; roles: dba, oncall',
      expect.stringMatching(/^8 error: malformed approval gate/),
    ]);
    const noRoles = { ...config, roles: undefined };
    const runbook = parseRunbook(
      ['---', 'title: T', '---', '## G', '> [!APPROVAL] 1 from anyone'].join('\n'),
      'rb.md',
    );
    expect(lintRunbook(runbook, { commands, config: noRoles })).toEqual([]);
  });

  it('reports a missing title, empty steps and warns of titles given twice', () => {
    expect(
      lint(
        '## Check', // 1
        'text', // 2
        '## Empty', // 3
        '## check', // 4
        '- [ ] x', // 5
      ),
    ).toEqual([
      expect.stringMatching(/^1 error: missing title/),
      '3 error: step 2 "Empty" is empty: give it text, a checklist, commands or a gate',
      '4 warning: the step title "check" is also the title of line 1',
    ]);
  });
});
