import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { newRunId } from '../../src/core/ids.ts';
import { decide, initialState } from '../../src/runbook/run-state.ts';
import { runSummaryMarkdown } from '../../src/runbook/run-summary.ts';
import { restoreRunbook } from '../doubles/sample-runbooks.ts';
import { databaseUrl, dropDatabase, uniqueName } from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';

const database = uniqueName('lb_runbook_export');
let catalog: Catalog;
let dir: string;
const runbook = restoreRunbook();
const T0 = new Date('2026-12-07T12:00:00Z');
const env = () => ({ DATABASE_URL: databaseUrl(database) });

beforeAll(async () => {
  catalog = await openCatalog(databaseUrl(database));
  await catalog.migrate();
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-runbook-export-'));
});

afterAll(async () => {
  await catalog?.close();
  await dropDatabase(database);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('lifeboat runbook export RUN-ID', () => {
  it('prints the summary kept when the run ended, as markdown, with who did what and when', async () => {
    const first = initialState(runbook, T0);
    const id = newRunId(T0);
    const run = await catalog.runbookRuns.create(
      {
        id,
        runbookName: runbook.name,
        runbook,
        contentHash: 'cd'.repeat(32),
        // A parameter that tries to break out of its table cell and forge a line.
        params: { backup: 'latest | forged\n| row' },
        startedBy: 'console:alice',
        platform: 'console',
        channel: { channel: 'console' },
        ...first,
        startedAt: T0,
      },
      { kind: 'started', step: null, detail: 'started restore-db' },
    );
    const abort = decide(runbook, run.status, run.state, { kind: 'abort', reason: 'drill' }, T0);
    if (!abort.ok) throw new Error(abort.reason);
    const at = new Date('2026-12-07T12:05:00Z');
    const ended = await catalog.runbookRuns.transition(id, run.version, abort, {
      ...abort.event,
      actor: 'console:bob',
      at,
    });
    if (!ended) throw new Error('abort expected to apply');
    const summary = runSummaryMarkdown(ended, await catalog.runbookRuns.timeline(id));
    await catalog.runbookRuns.setSummary(id, summary);

    const result = await runLifeboat(['runbook', 'export', id], { cwd: dir, env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(summary);
    expect(result.stdout).toContain(`# Restore the production database (${id})`);
    expect(result.stdout).toContain(
      '| 2026-12-07 12:05:00Z | 1. Assess the situation | console:bob | aborted: drill |',
    );
    expect(result.stdout).toContain('backup=latest \\| forged\\n\\| row');
    expect(result.stdout.split('\n').filter((l) => l.startsWith('| row'))).toEqual([]);
  });

  it('names what was wrong for an unknown or malformed run id, exit 2', async () => {
    const unknown = await runLifeboat(['runbook', 'export', 'run_nope', '--json'], {
      cwd: dir,
      env: env(),
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('There is no runbook run `run_nope` in the catalog.');
    const malformed = await runLifeboat(['runbook', 'export', 'bk_1'], { cwd: dir, env: env() });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('run ids look like run_');
  });
});
