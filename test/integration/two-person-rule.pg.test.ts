import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/core/free-port.ts';
import { databaseUrl, sql } from '../support/databases.ts';
import { runLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';
import { waitForWorker } from '../support/queues.ts';

/**
 * The two-person rule end to end, typed into the real console as people would: alice (oncall)
 * asks for a production restore, alice cannot approve it, bob (oncall, not dba) cannot either,
 * carol (dba) can, and it runs once: a safety backup, the restore, the checks. Real Postgres,
 * Redis, pg_dump and pg_restore; every step lands in the audit log.
 */

const REQUEST_ID = /apr_\d{8}T\d{6}Z_[0-9a-z]{6}/;
const OS_USER = userInfo().username;

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/** Console output with its line wrapping undone. */
function flat(text: string): string {
  return text.replace(/\s+/g, ' ');
}

function requestIdIn(output: string): string {
  const id = REQUEST_ID.exec(output)?.[0];
  if (!id) throw new Error(`no approval request id in:\n${output}`);
  return id;
}

/** Polls `check` every 100 ms until it holds; fails after `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the two-person rule through the console', () => {
  let sandbox: LifeboatSandbox;
  let dir: string;
  let env: Record<string, string>;
  let catalogDb: string;

  const accounts = async () =>
    Number(
      (await sql<{ n: string }>('select count(*) as n from pgbench_accounts', sandbox.sourceDb))[0]
        ?.n,
    );
  const console = (user: string, lines: readonly string[]) =>
    runLifeboat(['console', '--as', user], {
      cwd: dir,
      env,
      input: `${lines.join('\n')}\n`,
      timeoutMs: 120_000,
    });
  const restoresFor = (request: string) =>
    sql<{ id: string; status: string; safety_backup_id: string | null }>(
      `select id, status, safety_backup_id from restores where authorized_by->>'request' = $1`,
      catalogDb,
      [request],
    );

  beforeAll(async () => {
    sandbox = await createSandbox('twoperson');
    ({ dir, env, catalogDb } = sandbox);
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
targets:
  shop-db: { kind: postgres, url: "${databaseUrl(sandbox.sourceDb)}", environment: production }
profiles:
  db: { targets: [shop-db] }
roles:
  oncall: ["console:alice", "console:bob", "cli:${OS_USER}"]
  dba: ["console:carol", "console:dave"]
policies:
  - { action: restore, environment: production, approvals: 1, approvers: [dba], expires: 30m }
breakGlass: { role: dba }
chat: { channels: { alerts: { console: alerts } } }
`,
    );
    const backup = await console('alice', ['/backup create']);
    expect(backup.stdout).toContain('completed');
    // The incident: rows lost after the backup was taken.
    await sql('delete from pgbench_accounts where aid <= 1000', sandbox.sourceDb);
  }, 120_000);

  afterAll(async () => {
    await sandbox?.remove();
  });

  it('alice asks; alice and bob are refused; carol approves and it runs once, after a safety backup', async () => {
    const asked = await console('alice', ['/restore latest']);
    // Left waiting for approval: not done, as the CLI says it (3).
    expect(asked.code).toBe(3);
    expect(asked.stdout).toContain('Approval needed');
    expect(asked.stdout).toContain('its origin (production)');
    expect(asked.stdout).toContain('/approve apr_');
    const id = requestIdIn(asked.stdout);
    expect(await accounts()).toBe(99_000);
    expect(await restoresFor(id)).toEqual([]);

    const session = await console('alice', [
      `/approve ${id}`,
      '/as bob',
      `/approve ${id}`,
      '/as carol',
      `/approve ${id}`,
      '/as dave',
      `/approve ${id}`,
    ]);
    // alice, bob and dave were refused; carol's approval ran it.
    expect(session.code).toBe(3);
    const [alice, bob, carol, dave] = session.stdout
      .split(/^\S+> \/approve .*$/m)
      .slice(1)
      .map(flat);
    expect(alice).toMatch(/your own request|second person/i);
    expect(bob).toContain('only holders of the dba role count: console:carol, console:dave');
    expect(carol).toContain('completed');
    expect(carol).toMatch(/safety backup/i);
    expect(dave).toMatch(/Request apr_\S+ has already run as rs_/);

    // It ran exactly once, with the safety backup holding the state before the restore.
    const restores = await restoresFor(id);
    expect(restores).toHaveLength(1);
    expect(restores[0]?.status).toBe('completed');
    expect(await accounts()).toBe(100_000);
    const safetyId = restores[0]?.safety_backup_id;
    expect(safetyId).toMatch(/^bk_\d{8}T\d{6}Z_safety_/);
    const [safety] = await sql<{ status: string; manifest: { components: unknown[] } }>(
      'select status, manifest from backups where id = $1',
      catalogDb,
      [safetyId],
    );
    expect(safety?.status).toBe('completed');
    const tables = safety?.manifest.components.flatMap(
      (c) =>
        (c as { source?: { tables?: { table: string; rows: number }[] } }).source?.tables ?? [],
    );
    expect(tables?.find((t) => t.table === 'pgbench_accounts')?.rows).toBe(99_000);

    const votes = await sql<{ identity: string }>(
      'select identity from approval_votes where request_id = $1',
      catalogDb,
      [id],
    );
    expect(votes.map((v) => v.identity)).toEqual(['console:carol']);
    const [request] = await sql<{ status: string; execution_id: string }>(
      'select status, execution_id from approval_requests where id = $1',
      catalogDb,
      [id],
    );
    expect(request).toEqual({ status: 'executed', execution_id: restores[0]?.id });

    const audited = await sql<{ action: string; identity: string; outcome: string }>(
      'select action, identity, outcome from audit_log where request_id = $1 order by seq',
      catalogDb,
      [id],
    );
    const actions = audited.map((e) => `${e.action} ${e.identity} ${e.outcome}`);
    expect(actions).toContain('approval.requested console:alice pending');
    expect(actions).toContain('approval.refused console:alice refused');
    expect(actions).toContain('approval.refused console:bob refused');
    expect(actions).toContain('approval.approved console:carol approved');
    expect(actions).toContain('approval.refused console:dave refused');
    expect(actions).toContain('approval.executed console:alice completed');
  }, 180_000);

  it('two bot processes approving at the same moment run the restore once', async () => {
    await sql('delete from pgbench_accounts where aid <= 500', sandbox.sourceDb);
    const id = requestIdIn((await console('alice', ['/restore latest'])).stdout);
    const [carol, dave] = await Promise.all([
      console('carol', [`/approve ${id}`]),
      console('dave', [`/approve ${id}`]),
    ]);
    // One ran it; the other was refused, the request being already approved.
    expect([carol.code, dave.code].sort()).toEqual([0, 3]);
    const ran = [carol, dave].filter((p) => p.stdout.includes('completed'));
    const refused = [carol, dave].filter((p) =>
      /already (approved|run)/.test(p.stdout.replace(/\s+/g, ' ')),
    );
    expect(ran).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(await restoresFor(id)).toHaveLength(1);
    expect(await accounts()).toBe(100_000);
  }, 180_000);

  it('break glass: refused to a non-holder; runs for the role with a loud alert and a review a second person acknowledges', async () => {
    const bob = await console('bob', ['/restore latest --break-glass "primary is corrupted"']);
    expect(flat(bob.stdout)).toMatch(/only for the dba role/);

    const carol = await console('carol', ['/restore latest --break-glass "primary is corrupted"']);
    expect(carol.stdout).toContain('BREAK GLASS');
    expect(carol.stdout).toContain('completed');
    const review = requestIdIn(carol.stdout);
    const [restore] = await restoresFor(review);
    expect(restore?.status).toBe('completed');
    expect(restore?.safety_backup_id).toMatch(/_safety_/);

    const later = await console('carol', [
      '/approvals',
      `/approve ${review}`,
      '/as dave',
      '/approvals',
      `/approve ${review}`,
      '/approvals',
    ]);
    const [carolList, carolAck, daveList, daveAck, daveAfter] = later.stdout
      .split(/^\S+> \/(?:approvals|approve .*)$/m)
      .slice(1)
      .map(flat);
    // Her own review is listed as waiting for others, never offered to her to acknowledge.
    expect(carolList).toContain(`Yours, waiting for others: ${review}`);
    expect(carolList).not.toContain(`/approve ${review}`);
    expect(carolAck).toMatch(/your own request|second person/i);
    expect(daveList).toContain(`/approve ${review}`);
    expect(daveAck).toMatch(/acknowledged/i);
    expect(daveAfter).not.toContain(review);
  }, 180_000);

  it('the CLI waits for approval: exit 3 and a JSON line naming the request', async () => {
    const asked = await runLifeboat(['restore', 'latest', '--json'], { cwd: dir, env });
    expect(asked.code).toBe(3);
    const json = lastJson(asked.stdout);
    expect(json.status).toBe('awaiting_approval');
    expect(String(json.request)).toMatch(REQUEST_ID);
    expect(json.id).toBe(json.request);

    const own = await runLifeboat(['approve', String(json.request), '--json'], { cwd: dir, env });
    expect(own.code).toBe(3);
    expect(lastJson(own.stdout)).toMatchObject({ status: 'refused', code: 'own_request' });
  }, 120_000);

  it('a bot killed while its approved restore runs: the next bot started records how it ended', async () => {
    await sql('delete from pgbench_accounts where aid <= 300', sandbox.sourceDb);
    const id = requestIdIn((await console('alice', ['/restore latest'])).stdout);
    const approval = async () =>
      (
        await sql<{ status: string; outcome: string | null }>(
          'select status, outcome from approval_requests where id = $1',
          catalogDb,
          [id],
        )
      )[0];
    // A worker of its own, so that the restore outlives the bot that approved it.
    const worker = startLifeboat(['worker'], {
      cwd: dir,
      env: { ...env, LIFEBOAT_HTTP_PORT: String(await freePort()) },
    });
    try {
      await waitForWorker(sandbox.queuePrefix);
      const carol = startLifeboat(['console', '--as', 'carol'], { cwd: dir, env });
      carol.type(`/approve ${id}`);
      await eventually(async () => (await restoresFor(id)).length === 1, 30_000);
      await carol.kill('SIGKILL');
      // carol's bot is gone: the request stays approved while the worker restores.
      await eventually(async () => (await restoresFor(id))[0]?.status === 'completed', 60_000);
      expect(await approval()).toMatchObject({ status: 'approved', outcome: null });

      const dave = await console('dave', ['/approvals']);
      expect(dave.code).toBe(0);
      const settled = await approval();
      expect(settled?.status).toBe('executed');
      expect(settled?.outcome).toMatch(/^Restore rs_\S+ completed in .*every check matches/);
      expect(await restoresFor(id)).toHaveLength(1);
      expect(await accounts()).toBe(100_000);
      const [executed] = await sql<{ n: string }>(
        `select count(*) as n from audit_log where action = 'approval.executed' and request_id = $1`,
        catalogDb,
        [id],
      );
      expect(Number(executed?.n)).toBe(1);
    } finally {
      await worker.kill('SIGTERM');
    }
  }, 180_000);

  it('keeps an intact audit log of all of it', async () => {
    const verify = await runLifeboat(['audit', 'verify'], { cwd: dir, env });
    expect(verify.stdout).toContain('intact');
    expect(verify.code).toBe(0);
    const [count] = await sql<{ n: string }>('select count(*) as n from audit_log', catalogDb);
    expect(Number(count?.n)).toBeGreaterThan(20);
  });
});
