import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';
import { runLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { obliterateQueue } from '../support/queues.ts';

const RUNBOOK = `---
title: Watched backup
description: A backup with a second engineer watching.
params:
  ticket:
    description: The incident ticket
---
Walk through a backup with a second engineer.

## Prepare
- [ ] The team is told

## Second engineer
> [!APPROVAL] 1 from dba
> A second person watches.

## Back up
\`\`\`chatops
/backup create files --note {{ticket}}
\`\`\`

## Wrap up
Write the review.
`;

const RUN_ID = /run_\d{8}T\d{6}Z_[0-9a-z]{6}/;
const REQUEST_ID = /apr_\d{8}T\d{6}Z_[0-9a-z]{6}/;

/**
 * A runbook run as people type it into `lifeboat console`, one process after another: the run
 * lives in the catalog, so each session goes on where the last one stopped.
 */
describe('a runbook run through the console, across processes', () => {
  let dir: string;
  const catalogDb = uniqueName('lb_conrb_cat');
  const queuePrefix = uniqueName('lbq');
  let env: Record<string, string>;
  const session = (lines: readonly string[], as = 'alice') =>
    runLifeboat(['console', '--as', as], {
      cwd: dir,
      env,
      input: `${lines.join('\n')}\n`,
      timeoutMs: 90_000,
    });
  const backupsWithNote = async (note: string) =>
    Number(
      (
        await sql<{ n: string }>('select count(*) as n from backups where note = $1', catalogDb, [
          note,
        ])
      )[0]?.n,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-conrb-'));
    env = { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: queuePrefix };
    await mkdir(join(dir, 'files'));
    await mkdir(join(dir, 'big'));
    await mkdir(join(dir, 'runbooks'));
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    // Incompressible, so the backup of it takes a moment: long enough to be killed in.
    await writeFile(join(dir, 'big/blob.bin'), randomBytes(256 * 1024 * 1024));
    await writeFile(join(dir, 'runbooks/watched.md'), RUNBOOK);
    await writeFile(
      join(dir, 'runbooks/slow.md'),
      RUNBOOK.replace('title: Watched backup', 'title: Slow backup')
        .replace(/## Second engineer\n[^#]*/, '')
        .replace('/backup create files', '/backup create big'),
    );
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  big: { kind: directory, path: ./big, environment: staging }
profiles:
  files: { targets: [files] }
  big: { targets: [big] }
roles:
  oncall: ["console:alice"]
  dba: ["console:bob"]
`,
    );
  }, 60_000);

  afterAll(async () => {
    await dropDatabase(catalogDb);
    await obliterateQueue(queuePrefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('starts, ticks, waits at the gate for bob, runs the backup once as alice, ends and exports', async () => {
    const started = await session(['/runbook list', '/runbook start watched ticket=INC-7']);
    expect(started.stdout).toContain('`watched`: Watched backup');
    expect(started.stdout).toContain('Runbook: Watched backup');
    expect(started.stdout).toContain('Step 1/4: Prepare');
    const id = RUN_ID.exec(started.stdout)?.[0];
    if (!id) throw new Error(`no run id in:\n${started.stdout}`);

    const missing = await session(['/runbook start watched']);
    expect(missing.stdout).toContain('needs `ticket=…` (The incident ticket)');

    const ticked = await session([
      `/runbook done ${id}`,
      `/runbook check ${id} 1`,
      `/runbook done ${id}`,
    ]);
    expect(ticked.stdout).toContain('not ticked yet: 1. The team is told');
    expect(ticked.stdout).toContain('Step 2/4: Second engineer');
    const request = REQUEST_ID.exec(ticked.stdout)?.[0];
    if (!request) throw new Error(`no request id in:\n${ticked.stdout}`);

    const approved = await session([`/approve ${request}`, '/as bob', `/approve ${request}`]);
    expect(approved.stdout).toMatch(/cannot approve|own request/i);
    expect(approved.stdout).toContain('Step 3/4: Back up');
    expect(await backupsWithNote('INC-7')).toBe(0);

    const ran = await session([`/runbook run ${id}`, `/runbook run ${id}`, `/runbook done ${id}`]);
    expect(ran.stdout).toContain('Step 4/4: Wrap up');
    expect(ran.stdout).toContain('Runbook Watched backup completed');
    expect(await backupsWithNote('INC-7')).toBe(1);
    const [backup] = await sql<{ requested_by: string }>(
      'select requested_by from backups where note = $1',
      catalogDb,
      ['INC-7'],
    );
    expect(backup?.requested_by).toBe('console:alice');

    const status = await session([`/runbook status ${id}`]);
    expect(status.stdout).toContain('console:bob');

    const exported = await runLifeboat(['runbook', 'export', id], { cwd: dir, env });
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`# Watched backup (${id})`);
    expect(exported.stdout).toContain(
      '| 1. Prepare | console:alice | ticked 1: The team is told |',
    );
    expect(exported.stdout).toMatch(
      /\| 2\. Second engineer \| Lifeboat \| gate passed: apr_\S+ approved \(last approval by console:bob\) \|/,
    );
    expect(exported.stdout).toMatch(
      /\| 3\. Back up \| console:alice \| \/backup create files --note INC-7 → completed \(bk_\S+\) \|/,
    );
  }, 240_000);

  it('never runs the command of a step twice when the console is killed mid-command', async () => {
    const started = await session(['/runbook start slow ticket=INC-8']);
    const id = RUN_ID.exec(started.stdout)?.[0];
    if (!id) throw new Error(`no run id in:\n${started.stdout}`);
    await session([`/runbook check ${id} 1`, `/runbook done ${id}`]);

    const running = startLifeboat(['console', '--as', 'alice'], { cwd: dir, env });
    running.type(`/runbook run ${id}`);
    // Killed once the command started and its backup job is recorded in the run: mid-command.
    const startedJob = async () =>
      (
        await sql<{ job: string | null }>(
          `select state->'phase'->'started'->>'id' as job from runbook_runs where id = $1`,
          catalogDb,
          [id],
        )
      )[0]?.job ?? null;
    const deadline = Date.now() + 60_000;
    let job: string | null = null;
    while (job === null && Date.now() < deadline) {
      job = await startedJob();
      if (job === null) await new Promise((r) => setTimeout(r, 10));
    }
    await running.kill('SIGKILL');
    expect(job).toMatch(/^bk_/);
    expect(await backupsWithNote('INC-8')).toBe(1);

    // Started again: Run waits for the recorded job instead of running the command again.
    const resumed = await session([`/runbook run ${id}`, `/runbook status ${id}`]);
    expect(resumed.stdout).toContain(`Waiting for ${job}`);
    expect(resumed.stdout).toContain('it is not run again');
    expect(await backupsWithNote('INC-8')).toBe(1);
    const [after] = await sql<{ step: number; phase: string }>(
      `select (state->>'step')::int as step, state->'phase'->>'kind' as phase
         from runbook_runs where id = $1`,
      catalogDb,
      [id],
    );
    // The job completed (step 3 is next) or ended failed (Retry, Skip or Abort is offered).
    expect([
      { step: 2, phase: 'ready' },
      { step: 1, phase: 'failed' },
    ]).toContainEqual(after);
    const finish =
      after?.step === 2
        ? [`/runbook done ${id}`]
        : [`/runbook skip ${id} the bot was killed; backup checked by hand`, `/runbook done ${id}`];
    const moved = await session(finish);
    expect(moved.stdout).toContain('Runbook Slow backup completed');
    expect(await backupsWithNote('INC-8')).toBe(1);
    const exported = await runLifeboat(['runbook', 'export', id], { cwd: dir, env });
    expect(exported.stdout).toContain(`queued ${job}`);
    expect(exported.stdout).toContain(`(${job})`);
  }, 240_000);
});
