import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRunbooks, loadRunbook, readRunbookFile } from '../../../src/runbook/load-runbooks.ts';
import { MAX_RUNBOOK_CHARS } from '../../../src/runbook/parse-runbook.ts';

const GOOD = '---\ntitle: Good\n---\n## Step\ntext\n';

describe('loading runbooks', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-runbooks-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every *.md but README.md, parsed and sorted by name', async () => {
    await writeFile(join(dir, 'zeta.md'), GOOD);
    await writeFile(join(dir, 'alpha_1.md'), GOOD);
    await writeFile(join(dir, 'README.md'), '# not a runbook');
    await writeFile(join(dir, 'notes.txt'), 'not markdown');
    await mkdir(join(dir, 'folder.md'));
    const runbooks = await listRunbooks(dir);
    expect(runbooks.map((r) => [r.name, r.title, r.findings])).toEqual([
      ['alpha_1', 'Good', []],
      ['zeta', 'Good', []],
    ]);
  });

  it('keeps a badly named file as a runbook with an error finding', async () => {
    await writeFile(join(dir, 'bad name.md'), GOOD);
    const [runbook] = await listRunbooks(dir);
    expect(runbook?.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        line: 1,
        message: expect.stringContaining('"bad name" is not a runbook name'),
      }),
    ]);
  });

  it('answers a file that is too large or unreadable with a finding, not a throw', async () => {
    await writeFile(join(dir, 'huge.md'), 'x'.repeat(MAX_RUNBOOK_CHARS * 4 + 1));
    await writeFile(join(dir, 'locked.md'), GOOD);
    await chmod(join(dir, 'locked.md'), 0o000);
    const huge = await readRunbookFile(join(dir, 'huge.md'));
    expect(huge.steps).toEqual([]);
    expect(huge.findings[0]?.message).toContain('larger than 1 MiB');
    const locked = await readRunbookFile(join(dir, 'locked.md'));
    if (process.getuid?.() !== 0) {
      expect(locked.findings[0]?.message).toMatch(/^cannot read the file: EACCES/);
    } else {
      // root reads it anyway: it is then a good runbook
      expect(locked.findings).toEqual([]);
    }
    const missing = await readRunbookFile(join(dir, 'missing.md'));
    expect(missing.findings).toEqual([
      { severity: 'error', file: join(dir, 'missing.md'), line: 1, message: 'no such file' },
    ]);
  });

  it('loads one runbook by name, and nothing for names that are not runbooks', async () => {
    await writeFile(join(dir, 'restore-db.md'), GOOD);
    await writeFile(join(dir, 'README.md'), GOOD);
    await writeFile(join(dir, '..secret.md'), GOOD);
    expect((await loadRunbook(dir, 'restore-db'))?.title).toBe('Good');
    for (const name of ['missing', 'README', 'readme', '../x', '..secret', '', 'a/b', 'a.md']) {
      expect(await loadRunbook(dir, name), name).toBeUndefined();
    }
  });
});
