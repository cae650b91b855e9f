import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../src/core/free-port.ts';
import { databaseUrl, dropDatabase, uniqueName } from '../support/databases.ts';
import {
  exitWithin,
  type ProcessResult,
  type RunningLifeboat,
  runLifeboat,
  startLifeboat,
} from '../support/lifeboat-process.ts';
import { type KillableRedis, startKillableRedis } from '../support/redis-server.ts';
import { createGate, type Gate } from '../support/worker-harness.ts';

/** Generous bounds: long enough for a slow, shared machine; far short of "hangs for good". */
const BOUNDED = { timeout: 30_000, interval: 100 } as const;

function lastJson(result: Pick<ProcessResult, 'stdout'>): Record<string, unknown> {
  const lines = result.stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/** Every line is one JSON object (a pino log line); returns them. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

const unreachableLines = (lines: Record<string, unknown>[]) =>
  lines.filter((line) => String(line.msg).startsWith('Redis (job queue) unreachable'));

/** A raw stack trace or ioredis' "Unhandled error event" print. */
const RAW_ERROR = /\n\s+at |Unhandled error event|^Error: connect/m;

async function fetchWithin(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return { status: response.status, body: await response.text() };
}

describe('the queue’s Redis goes away', () => {
  let redis: KillableRedis;
  let dir: string;
  let gate: Gate;
  const gatedDb = uniqueName('lb_outage_src');
  const catalogDb = uniqueName('lb_outage_cat');
  let env: Record<string, string>;
  const running: RunningLifeboat[] = [];
  let backupId: string;

  beforeAll(async () => {
    redis = await startKillableRedis();
    gate = await createGate(gatedDb);
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-outage-'));
    env = {
      DATABASE_URL: databaseUrl(catalogDb),
      REDIS_URL: redis.url,
      LIFEBOAT_QUEUE_PREFIX: uniqueName('lbq'),
    };
    await mkdir(join(dir, 'files'));
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `storage: { local: { path: ./backups } }
targets:
  gated: { kind: postgres, url: "${gate.url}", environment: staging }
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  gated: { targets: [gated] }
  files: { targets: [files] }
`,
    );
  }, 60_000);

  afterEach(async () => {
    for (const each of running.splice(0)) await each.kill('SIGKILL');
    await gate.open();
    await redis.start();
  });

  afterAll(async () => {
    await redis?.kill();
    await gate?.open();
    await dropDatabase(gatedDb);
    await dropDatabase(catalogDb);
    await rm(dir, { recursive: true, force: true });
  });

  it('lets a CLI backup finish, print its result and exit 0, logging the lost connection as one-line JSON', async () => {
    await gate.close();
    const cli = startLifeboat(['backup', 'create', 'gated', '--json'], { cwd: dir, env });
    running.push(cli);
    cli.endInput();
    // pg_dump waits at the gate: the backup is running when Redis goes.
    await gate.waitForWaiting(1);
    await redis.kill();
    // Long enough for several reconnect attempts of every connection.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await gate.open();

    const code = await exitWithin(cli, BOUNDED.timeout);
    const result = { stdout: cli.stdout(), stderr: cli.stderr() };
    expect(result.stderr).not.toMatch(RAW_ERROR);
    expect(result.stderr).not.toContain('ECONNREFUSED');
    expect(code).toBe(0);
    const json = lastJson(result);
    expect(json.status).toBe('completed');
    backupId = String(json.id);

    const log = jsonLines(await readFile(join(dir, '.lifeboat/lifeboat.log'), 'utf8'));
    const lost = unreachableLines(log);
    expect(lost.length).toBeGreaterThan(0);
    // Rate-limited: the queue's and the worker's connections each say it once, not every retry.
    expect(lost.length).toBeLessThanOrEqual(2);
    expect(lost[0]).toMatchObject({ code: 'ECONNREFUSED', redis: redis.url });
    expect(JSON.stringify(log)).not.toMatch(/"stack":"Error: connect ECONNREFUSED/);
  }, 90_000);

  it('runs the commands that need only the catalog without Redis, and says Redis is down', async () => {
    await redis.kill();
    const run = (args: string[]) => runLifeboat([...args, '--json'], { cwd: dir, env });

    const list = await run(['backup', 'list']);
    expect(list.code).toBe(0);
    expect(JSON.stringify(lastJson(list).backups)).toContain(backupId);
    const show = await run(['backup', 'show', backupId]);
    expect(show.code).toBe(0);
    expect(lastJson(show)).toMatchObject({ status: 'ok', id: backupId });
    const approvals = await run(['approvals']);
    expect(approvals.code).toBe(0);
    // Dry runs plan from the catalog and queue nothing.
    const restorePlan = await run(['restore', backupId, '--dry-run']);
    expect(restorePlan.code).toBe(0);
    expect(lastJson(restorePlan)).toMatchObject({ status: 'ok', dryRun: true });
    const prunePlan = await run(['backup', 'prune', '--dry-run']);
    expect(prunePlan.code).toBe(0);

    // Status runs, and fails (exit 1) since something it checks is down, saying why.
    const status = await run(['status']);
    expect(status.code).toBe(1);
    const report = lastJson(status);
    expect(report.status).toBe('failed');
    expect(report.services).toEqual([
      expect.objectContaining({ name: 'PostgreSQL (catalog)', ok: true }),
      expect.objectContaining({ name: 'Redis (queue)', ok: false }),
      expect.objectContaining({ name: 'Store (local)', ok: true }),
    ]);
    expect(report.workers).toBeNull();
    expect(status.stderr).toMatch(/Redis \(queue\)\s+✖ down/);

    // The console starts too, says what does not work, and runs what does.
    const session = await runLifeboat(['console', '--as', 'alice'], {
      cwd: dir,
      env,
      input: '/backup list\n/approvals\n',
    });
    expect(session.code).toBe(0);
    expect(session.stderr).toContain('Cannot reach Redis (job queue)');
    expect(session.stdout).toContain(backupId);

    // What needs the queue says so, at once, with exit 1.
    const create = await run(['backup', 'create', 'files']);
    expect(create.code).toBe(1);
    expect(String(lastJson(create).error)).toMatch(/Redis \(job queue\)/);
    for (const each of [list, show, approvals, restorePlan, prunePlan, status, create, session]) {
      expect(each.stderr).not.toMatch(RAW_ERROR);
    }
  }, 90_000);

  it('answers /readyz 503 and /metrics with the up-gauge at 0 in bounded time; recovers when Redis is back', async () => {
    const port = await freePort();
    const service = startLifeboat(['start'], {
      cwd: dir,
      env: { ...env, LIFEBOAT_HTTP_PORT: String(port) },
    });
    running.push(service);
    const base = `http://127.0.0.1:${port}`;
    await vi.waitUntil(
      async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200,
      BOUNDED,
    );

    await redis.kill();
    const readyz = await fetchWithin(`${base}/readyz`);
    expect(readyz.status).toBe(503);
    expect(JSON.parse(readyz.body)).toMatchObject({ ready: false, down: ['Redis (queue)'] });
    const metrics = await fetchWithin(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('lifeboat_service_up{service="Redis (queue)"} 0');
    expect(metrics.body).toContain('lifeboat_service_up{service="PostgreSQL (catalog)"} 1');
    expect(metrics.body).not.toContain('lifeboat_workers');

    // A long outage: the worker's blocking connection must come back from it.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await redis.start();
    await vi.waitUntil(async () => (await fetchWithin(`${base}/readyz`)).status === 200, BOUNDED);

    // The service's worker takes the next job: the CLI finds it serving and starts none.
    const backup = await runLifeboat(['backup', 'create', 'files', '--json'], { cwd: dir, env });
    expect(backup.code).toBe(0);
    const id = String(lastJson(backup).id);
    const serviceLog = jsonLines(service.stdout());
    expect(serviceLog.some((line) => line.jobId === id && line.msg === 'job completed')).toBe(true);
    expect(service.stderr()).not.toMatch(RAW_ERROR);
    expect(unreachableLines(serviceLog).length).toBeLessThanOrEqual(2);
    expect(serviceLog.some((line) => line.msg === 'Redis (job queue) reachable again')).toBe(true);

    // Stopping it while Redis is gone ends it too.
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    void service.kill('SIGTERM');
    expect(await exitWithin(service, BOUNDED.timeout)).toBe(0);
  }, 150_000);
});
