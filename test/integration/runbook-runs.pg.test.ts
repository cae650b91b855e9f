import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolDatabase } from '../../src/catalog/database.ts';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { createRunbookRunRepository } from '../../src/catalog/runbook-run-repository.ts';
import { newRunId } from '../../src/core/ids.ts';
import { withDefaultUser } from '../../src/postgres/connection-url.ts';
import type { RunbookRun } from '../../src/runbook/run-record.ts';
import { decide, initialState } from '../../src/runbook/run-state.ts';
import { restoreRunbook } from '../doubles/sample-runbooks.ts';
import { databaseUrl, dropDatabase, uniqueName } from '../support/databases.ts';

const database = uniqueName('lb_runbook_runs');
let catalog: Catalog;
const runbook = restoreRunbook();
const T0 = new Date('2026-12-07T12:00:00Z');

beforeAll(async () => {
  catalog = await openCatalog(databaseUrl(database), { poolSize: 12 });
  await catalog.migrate();
});

afterAll(async () => {
  await catalog?.close();
  await dropDatabase(database);
});

async function startRun(): Promise<RunbookRun> {
  const { status, state } = initialState(runbook, T0);
  return catalog.runbookRuns.create(
    {
      id: newRunId(T0),
      runbookName: runbook.name,
      runbook,
      contentHash: 'ab'.repeat(32),
      params: { backup: 'latest' },
      startedBy: 'console:alice',
      platform: 'console',
      channel: { channel: 'console' },
      status,
      state,
      startedAt: T0,
    },
    { kind: 'started', step: null, detail: 'started' },
  );
}

describe('runbook runs in the PostgreSQL catalog', () => {
  it('keeps the runbook the run started with, and its first timeline entry', async () => {
    const run = await startRun();
    const read = await catalog.runbookRuns.get(run.id);
    expect(read?.runbook).toEqual(runbook);
    expect(read).toMatchObject({ status: 'open', version: 0, params: { backup: 'latest' } });
    expect(await catalog.runbookRuns.timeline(run.id)).toMatchObject([
      { seq: 0, actor: 'console:alice', kind: 'started', step: null },
    ]);
  });

  it('applies one of two Done clicks decided on the same version from two bot processes', async () => {
    const pools = [1, 2].map(
      (n) =>
        new pg.Pool({
          connectionString: withDefaultUser(databaseUrl(database)),
          application_name: `lifeboat bot ${n}`,
          max: 3,
        }),
    );
    try {
      const [one, two] = pools.map((pool) => createRunbookRunRepository(poolDatabase(pool)));
      if (!one || !two) throw new Error('two repositories expected');
      let run = await startRun();
      for (const item of [1, 2]) {
        const d = decide(runbook, run.status, run.state, { kind: 'check', item }, T0);
        if (!d.ok) throw new Error(d.reason);
        const moved = await one.transition(run.id, run.version, d, {
          ...d.event,
          actor: 'console:alice',
          at: T0,
        });
        if (!moved) throw new Error('transition expected to apply');
        run = moved;
      }
      const done = decide(runbook, run.status, run.state, { kind: 'done' }, T0);
      if (!done.ok) throw new Error(done.reason);
      const results = await Promise.all(
        [one, two, one, two].map((repo, i) =>
          repo.transition(run.id, run.version, done, {
            ...done.event,
            actor: `console:user${i}`,
            at: T0,
          }),
        ),
      );
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      const after = await catalog.runbookRuns.get(run.id);
      expect(after).toMatchObject({ version: run.version + 1, state: { step: 1 } });
      const dones = (await catalog.runbookRuns.timeline(run.id)).filter((e) => e.kind === 'done');
      expect(dones).toHaveLength(1);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('ends a run once: no transition applies after it was aborted', async () => {
    const run = await startRun();
    const abort = decide(runbook, run.status, run.state, { kind: 'abort', reason: 'drill' }, T0);
    if (!abort.ok) throw new Error(abort.reason);
    const ended = await catalog.runbookRuns.transition(run.id, run.version, abort, {
      ...abort.event,
      actor: 'console:alice',
      at: T0,
    });
    expect(ended).toMatchObject({ status: 'aborted', endedAt: T0 });
    // Even a transition decided on the new version is not written to an ended run.
    const late = await catalog.runbookRuns.transition(
      run.id,
      run.version + 1,
      { status: 'open', state: run.state },
      { kind: 'done', step: 1, detail: 'late', actor: 'console:bob', at: T0 },
    );
    expect(late).toBeUndefined();
    expect((await catalog.runbookRuns.listOpen()).map((r) => r.id)).not.toContain(run.id);
    await catalog.runbookRuns.setSummary(run.id, 'first');
    await catalog.runbookRuns.setSummary(run.id, 'second');
    expect((await catalog.runbookRuns.get(run.id))?.summary).toBe('first');
  });

  it('finds a WAIT that is over, and only once it is over', async () => {
    const run = await startRun();
    const waiting = {
      status: 'open' as const,
      state: {
        ...run.state,
        phase: { kind: 'waiting' as const, until: '2026-12-07T12:10:00.000Z' },
      },
    };
    await catalog.runbookRuns.transition(run.id, run.version, waiting, {
      kind: 'done',
      step: 1,
      detail: 'done',
      actor: 'console:alice',
      at: T0,
    });
    const before = await catalog.runbookRuns.listDueWaits(new Date('2026-12-07T12:09:59Z'));
    expect(before.map((r) => r.id)).not.toContain(run.id);
    const after = await catalog.runbookRuns.listDueWaits(new Date('2026-12-07T12:10:00Z'));
    expect(after.map((r) => r.id)).toContain(run.id);
  });
});
