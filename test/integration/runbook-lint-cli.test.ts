import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLifeboat } from '../support/lifeboat-process.ts';

const CONFIG = `storage: { local: { path: ./backups } }
targets:
  app-db: { kind: postgres, url: "postgres://127.0.0.1:5432/app", environment: production }
profiles:
  db: { targets: [app-db] }
runbooks: { path: ./books }
`;

const GOOD = `---
title: Restore the database
params: { backup: { description: Which backup, default: latest, type: backup } }
---
## Restore
\`\`\`chatops
/restore {{backup}} --profile db
\`\`\`
`;

const BAD = `---
title: Broken
---
## Restore
\`\`\`chatops
/restore {{backup}} --profile prod
/backup verify latest --profile nope
\`\`\`

## Restore
> [!APPROVAL] two from dba
`;

describe('lifeboat runbook lint', () => {
  let dir: string;
  const lint = (args: string[]) => runLifeboat(['runbook', 'lint', ...args], { cwd: dir, env: {} });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-rblint-'));
    await writeFile(join(dir, 'lifeboat.yaml'), CONFIG);
    await mkdir(join(dir, 'books'));
    await writeFile(join(dir, 'books', 'restore.md'), GOOD);
    await writeFile(join(dir, 'books', 'README.md'), 'not a runbook');
    await writeFile(join(dir, 'bad.md'), BAD);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 and prints nothing on stdout for a good runbook', async () => {
    const result = await lint(['books/restore.md']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('1 runbook checked: 0 errors, 0 warnings\n');
  });

  it('lints the config’s runbooks.path when given no path', async () => {
    const result = await lint([]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('1 runbook checked: 0 errors');
  });

  it('prints file:line for every problem and exits 2 for a bad runbook', async () => {
    const result = await lint(['bad.md', 'books']);
    expect(result.code).toBe(2);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      'bad.md:6: error: {{backup}} is not declared: add it to params in the front matter',
      'bad.md:7: error: /backup verify latest --profile nope: unknown profile "nope"; profiles: db',
      'bad.md:10: warning: the step title "Restore" is also the title of line 4',
      expect.stringMatching(/^bad\.md:11: error: malformed approval gate: "two" approvers/),
    ]);
    expect(result.stderr).toBe('2 runbooks checked: 3 errors, 1 warning\n');
  });

  it('answers --json with the findings as the last line', async () => {
    const result = await lint(['bad.md', '--json']);
    expect(result.code).toBe(2);
    const lines = result.stdout.trimEnd().split('\n');
    const json = JSON.parse(lines[lines.length - 1] ?? '');
    expect(json).toMatchObject({
      status: 'invalid',
      error: '1 runbook checked: 3 errors, 1 warning',
      runbooks: ['bad'],
      errors: 3,
      warnings: 1,
    });
    expect(json.findings[0]).toEqual({
      severity: 'error',
      file: 'bad.md',
      line: 6,
      message: '{{backup}} is not declared: add it to params in the front matter',
    });
  });

  it('refuses an option it does not have, exit 2', async () => {
    const result = await lint(['--fix']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown option --fix');
  });
});
