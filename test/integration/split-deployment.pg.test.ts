import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/core/free-port.ts';
import { generateAgeIdentity } from '../../src/crypto/age/index.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';
import { type RunningLifeboat, runLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';
import { waitForWorker } from '../support/queues.ts';

/**
 * A split deployment, as docker-compose runs it: a `lifeboat worker` process that restores and
 * holds the age identity, and planners (the CLI, the console) whose environment holds none. The
 * checks a restore needs (identities, tools, privileges) are those of the worker, not the
 * planner's; when no worker can be asked, the planner says so instead of refusing.
 */

const REQUEST_ID = /apr_\d{8}T\d{6}Z_[0-9a-z]{6}/;
const OS_USER = userInfo().username;

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/** Output with its line wrapping undone. */
function flat(text: string): string {
  return text.replace(/\s+/g, ' ');
}

function requestIdIn(output: string): string {
  const id = REQUEST_ID.exec(output)?.[0];
  if (!id) throw new Error(`no approval request id in:\n${output}`);
  return id;
}

describe('restore checks in a split deployment', () => {
  let sandbox: LifeboatSandbox;
  let dir: string;
  let env: Record<string, string>;
  let catalogDb: string;
  let emptyPath: string;
  const key = generateAgeIdentity();
  const limitedRole = uniqueName('lb_nocreatedb');
  const limitedDb = uniqueName('lb_split_limited');
  const workers: RunningLifeboat[] = [];

  const accounts = async () =>
    Number(
      (await sql<{ n: string }>('select count(*) as n from pgbench_accounts', sandbox.sourceDb))[0]
        ?.n,
    );
  const approvalRequests = async () =>
    (await sql<{ id: string }>('select id from approval_requests', catalogDb)).map((r) => r.id);
  const cli = (args: readonly string[], more: Record<string, string> = {}) =>
    runLifeboat([...args, '--json'], { cwd: dir, env: { ...env, ...more }, timeoutMs: 120_000 });
  const console = (user: string, lines: readonly string[], more: Record<string, string> = {}) =>
    runLifeboat(['console', '--as', user], {
      cwd: dir,
      env: { ...env, ...more },
      input: `${lines.join('\n')}\n`,
      timeoutMs: 120_000,
    });
  /** Starts a `lifeboat worker` process with `more` in its environment, serving the queue. */
  const startWorker = async (more: Record<string, string>) => {
    const worker = startLifeboat(['worker'], { cwd: dir, env: { ...env, ...more } });
    workers.push(worker);
    worker.endInput();
    await waitForWorker(sandbox.queuePrefix);
    return worker;
  };

  beforeAll(async () => {
    sandbox = await createSandbox('split');
    ({ dir, env, catalogDb } = sandbox);
    emptyPath = await mkdtemp(join(tmpdir(), 'lifeboat-split-path-'));
    await sql(`CREATE ROLE ${limitedRole} LOGIN NOCREATEDB`, 'postgres');
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
encryption: { recipients: ["${key.recipient}"] }
targets:
  shop-db: { kind: postgres, url: "${databaseUrl(sandbox.sourceDb)}", environment: production }
  limited-db: { kind: postgres, url: "postgres://${limitedRole}@127.0.0.1:5432/${limitedDb}", environment: production }
profiles:
  db: { targets: [shop-db] }
roles:
  oncall: ["console:alice", "cli:${OS_USER}"]
  dba: ["console:carol"]
policies:
  - { action: restore, environment: production, approvals: 1, approvers: [dba], expires: 30m }
`,
    );
    // Backing up needs only the public recipient: no identity anywhere yet.
    const backup = await cli(['backup', 'create']);
    expect(backup.code, backup.stderr).toBe(0);
    // The incident: rows lost after the backup was taken.
    await sql('delete from pgbench_accounts where aid <= 1000', sandbox.sourceDb);
  }, 120_000);

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.kill('SIGTERM');
  });

  afterAll(async () => {
    await sandbox?.remove();
    await dropDatabase(limitedDb);
    await sql(`DROP ROLE IF EXISTS ${limitedRole}`, 'postgres');
    await rm(emptyPath, { recursive: true, force: true });
  });

  it('checks on the worker that holds the identity: the dry run passes, and the restore runs once approved', async () => {
    await startWorker({ LIFEBOAT_AGE_IDENTITY: key.identity });

    const dryRun = await cli(['restore', 'latest', '--dry-run']);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    const plan = lastJson(dryRun.stdout);
    expect(plan).toMatchObject({ status: 'ok', dryRun: true, needsApproval: true });
    expect(plan).toMatchObject({ checks: { ran: true } });
    expect(String((plan.checks as { where: string }).where)).toMatch(/lifeboat-worker@/);
    expect(flat(dryRun.stderr)).toMatch(/Checked on the worker lifeboat-worker@\S+, where/);

    const asked = await console('alice', ['/restore latest']);
    expect(asked.code, asked.stdout).toBe(3);
    expect(asked.stdout).toContain('Approval needed');
    expect(flat(asked.stdout)).not.toMatch(/not checked|would fail/i);
    const id = requestIdIn(asked.stdout);

    const approved = await console('carol', [`/approve ${id}`]);
    expect(flat(approved.stdout)).toContain('completed');
    const [restore] = await sql<{ status: string }>(
      `select status from restores where authorized_by->>'request' = $1`,
      catalogDb,
      [id],
    );
    expect(restore?.status).toBe('completed');
    expect(await accounts()).toBe(100_000);
  }, 240_000);

  it('refuses before anyone is asked when the worker holds no identity, whatever the planner holds', async () => {
    await startWorker({});
    const withKey = { LIFEBOAT_AGE_IDENTITY: key.identity };

    const dryRun = await cli(['restore', 'latest', '--dry-run'], withKey);
    expect(dryRun.code).toBe(3);
    expect(lastJson(dryRun.stdout)).toMatchObject({
      status: 'refused',
      dryRun: true,
      problems: [{ component: 'shop-db', check: 'identity' }],
    });
    expect(flat(dryRun.stderr)).toMatch(
      /no age identity is available on the worker lifeboat-worker@\S+ to open it/,
    );

    const before = await approvalRequests();
    const asked = await console('alice', ['/restore latest'], withKey);
    expect(asked.code).toBe(3);
    expect(flat(asked.stdout)).toContain('no approval was asked for');
    expect(await approvalRequests()).toEqual(before);
  }, 120_000);

  it('names the tool missing on the worker’s PATH', async () => {
    await startWorker({ LIFEBOAT_AGE_IDENTITY: key.identity, PATH: emptyPath });
    const dryRun = await cli(['restore', 'latest', '--dry-run']);
    expect(dryRun.code).toBe(3);
    expect(lastJson(dryRun.stdout)).toMatchObject({
      status: 'refused',
      problems: [{ component: 'shop-db', check: 'tool' }],
    });
    expect(flat(dryRun.stderr)).toMatch(
      /`pg_restore` is not installed on the worker lifeboat-worker@\S+ \(not on the PATH\)/,
    );
  }, 120_000);

  it('shows a destination role without CREATEDB in the dry run, and refuses before an approval is opened', async () => {
    await startWorker({ LIFEBOAT_AGE_IDENTITY: key.identity });
    const into = ['--into', 'shop-db=limited-db'];

    const dryRun = await cli(['restore', 'latest', ...into, '--dry-run']);
    expect(dryRun.code).toBe(3);
    expect(lastJson(dryRun.stdout)).toMatchObject({
      status: 'refused',
      problems: [{ component: 'shop-db', check: 'refused' }],
    });
    expect(flat(dryRun.stderr)).toContain(`needs the role ${limitedRole} to have the CREATEDB`);

    const before = await approvalRequests();
    const asked = await cli(['restore', 'latest', ...into]);
    expect(asked.code).toBe(3);
    expect(lastJson(asked.stdout)).toMatchObject({ status: 'refused', code: 'restore_cannot_run' });
    expect(await approvalRequests()).toEqual(before);
  }, 120_000);

  it('says the checks could not run when no worker can be asked (Redis down), and still opens the approval with that warning', async () => {
    const down = { REDIS_URL: `redis://127.0.0.1:${await freePort()}` };

    const dryRun = await cli(['restore', 'latest', '--dry-run'], down);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    const plan = lastJson(dryRun.stdout);
    expect(plan).toMatchObject({ status: 'ok', dryRun: true, checks: { ran: false } });
    expect(plan.problems).toBeUndefined();
    const text = flat(dryRun.stderr);
    expect(text).toMatch(/Not checked where restores run: Cannot reach Redis \(job queue\)/);
    expect(text).toMatch(/identities, tools, staging space and privileges were not checked/);
    expect(text).toMatch(/Seen from this process only[^`]*`shop-db` answers/);

    const before = await approvalRequests();
    const asked = await console('alice', ['/restore latest'], down);
    expect(asked.code).toBe(3);
    expect(flat(asked.stdout)).toContain('Approval needed');
    expect(flat(asked.stdout)).toMatch(/Not checked where restores run: Cannot reach Redis/);
    const [id] = (await approvalRequests()).filter((r) => !before.includes(r));
    expect(id).toBeDefined();
    // The approver sees it too, on the request as `/approvals` and the buttons show it.
    const shown = await console('carol', ['/approvals'], down);
    expect(flat(shown.stdout)).toMatch(/Not checked where restores run/);
  }, 120_000);
});
