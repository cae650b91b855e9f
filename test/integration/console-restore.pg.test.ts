import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  databaseExists,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/** md5 over every row of each pgbench table, in a stable order. */
async function checksums(database: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of [
    'pgbench_accounts',
    'pgbench_branches',
    'pgbench_history',
    'pgbench_tellers',
  ]) {
    const [row] = await sql<{ sum: string }>(
      `select count(*) || ':' || md5(coalesce(string_agg(t::text, ',' order by t::text), '')) as sum from ${table} t`,
      database,
    );
    out[table] = row?.sum ?? '';
  }
  return out;
}

interface RestoreRow {
  id: string;
  backup_id: string;
  status: string;
  requested_by: string;
  error: string | null;
  results: { ok: boolean; components: { destination: string; checks: { ok: boolean }[] }[] } | null;
}

describe('/restore from the command line and the console', () => {
  let sandbox: LifeboatSandbox | undefined;
  let dir: string;
  let env: Record<string, string>;
  let catalogDb: string;
  const stagingDb = uniqueName('lb_rs_staging');
  let backupId: string;

  const restores = () =>
    sql<RestoreRow>(
      'select id, backup_id, status, requested_by, error, results from restores order by created_at',
      catalogDb,
    );

  beforeAll(async () => {
    sandbox = await createSandbox('restore');
    ({ dir, env, catalogDb } = sandbox);
    await mkdir(join(dir, 'files/nested'), { recursive: true });
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    await writeFile(join(dir, 'files/nested/b.bin'), Buffer.alloc(100_000, 9));
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: full
storage: { local: { path: ./backups } }
targets:
  shop-db: { kind: postgres, url: "${databaseUrl(sandbox.sourceDb)}", environment: production }
  files: { kind: directory, path: ./files, environment: production }
  staging-db: { kind: postgres, url: "${databaseUrl(stagingDb)}", environment: staging }
  staging-files: { kind: directory, path: ./staging-files, environment: staging }
profiles:
  full: { targets: [shop-db, files] }
`,
    );
    const backup = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(backup.code).toBe(0);
    backupId = String(lastJson(backup.stdout).id);
  }, 120_000);

  afterAll(async () => {
    await dropDatabase(stagingDb);
    await sandbox?.remove();
  });

  it('prints the plan with --dry-run, exits 0 and changes nothing', async () => {
    const result = await runLifeboat(
      ['restore', 'latest', '--into', 'shop-db=staging-db', '--dry-run', '--json'],
      { cwd: dir, env },
    );
    expect(result.code).toBe(0);
    expect(lastJson(result.stdout)).toMatchObject({
      status: 'ok',
      dryRun: true,
      backup: backupId,
      needsApproval: true,
      components: [
        { component: 'shop-db', destination: 'staging-db', environment: 'staging' },
        {
          component: 'files',
          destination: 'files',
          environment: 'production',
          needsApproval: true,
        },
      ],
    });
    expect(result.stderr).toContain('Restore plan (dry run)');
    expect(result.stderr).toContain('nothing was staged, restored or changed');
    expect(await databaseExists(stagingDb)).toBe(false);
    expect(await restores()).toEqual([]);
  });

  it('asks for approval of a production destination: exit code 3, the request in JSON, nothing run', async () => {
    const result = await runLifeboat(['restore', 'latest', '--components', 'shop-db', '--json'], {
      cwd: dir,
      env,
    });
    expect(result.code).toBe(3);
    const json = lastJson(result.stdout);
    expect(json).toMatchObject({ status: 'awaiting_approval', backup: backupId });
    expect(String(json.request)).toMatch(/^apr_\d{8}T\d{6}Z_[0-9a-z]{6}$/);
    expect(result.stderr).toContain('Approval needed');
    expect(result.stderr).toContain('`shop-db` (postgres) → its origin (production)');
    expect(await restores()).toEqual([]);
    const [request] = await sql<{ status: string; requested_by: string }>(
      'select status, requested_by from approval_requests where id = $1',
      catalogDb,
      [json.request],
    );
    expect(request).toMatchObject({ status: 'pending' });
    expect(request?.requested_by).toMatch(/^cli:/);
  });

  it('restores into staging targets with --into, exits 0 and prints the JSON line', async () => {
    const result = await runLifeboat(
      ['restore', backupId, '--into', 'shop-db=staging-db,files=staging-files', '--json'],
      { cwd: dir, env, timeoutMs: 120_000 },
    );
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(result.code).toBe(0);
    const json = lastJson(result.stdout);
    expect(json).toMatchObject({ status: 'completed', backup: backupId });
    expect(String(json.id)).toMatch(/^rs_/);
    expect(result.stderr).toMatch(
      /staging-db\s+public\.pgbench_accounts rows\s+100000\s+100000\s+ok/,
    );

    expect(await checksums(stagingDb)).toEqual(await checksums(sandbox?.sourceDb ?? ''));
    expect(await readFile(join(dir, 'staging-files/a.txt'), 'utf8')).toBe('alpha\n');
    expect((await readdir(join(dir, 'staging-files/nested'))).sort()).toEqual(['b.bin']);

    const row = (await restores()).find((r) => r.id === json.id);
    expect(row?.status).toBe('completed');
    expect(row?.requested_by).toMatch(/^cli:/);
    expect(row?.results?.ok).toBe(true);
    expect(row?.results?.components.map((c) => c.destination)).toEqual([
      'staging-db',
      'staging-files',
    ]);
    expect(
      row?.results?.components.every((c) => c.checks.length > 0 && c.checks.every((k) => k.ok)),
    ).toBe(true);
  });

  it('fails with exit code 1 before touching the destination when an object is corrupted', async () => {
    await sql('create table marker (note text); insert into marker values ($$before$$)', stagingDb);
    const manifest = JSON.parse(
      await readFile(join(dir, 'backups', backupId, 'manifest.json'), 'utf8'),
    ) as { components: { name: string; object: string }[] };
    const object = join(
      dir,
      'backups',
      backupId,
      manifest.components.find((c) => c.name === 'shop-db')?.object ?? '',
    );
    const original = await readFile(object);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 40] = (flipped[flipped.length - 40] ?? 0) ^ 0x10;
    await writeFile(object, flipped);
    let result: Awaited<ReturnType<typeof runLifeboat>>;
    try {
      result = await runLifeboat(
        ['restore', backupId, '--components', 'shop-db', '--into', 'shop-db=staging-db', '--json'],
        { cwd: dir, env, timeoutMs: 120_000 },
      );
    } finally {
      await writeFile(object, original);
    }
    expect(result.code).toBe(1);
    const json = lastJson(result.stdout);
    expect(json).toMatchObject({ status: 'failed', backup: backupId });
    expect(String(json.error)).toMatch(/component shop-db .*nothing was changed/);
    expect(await sql('select note from marker', stagingDb)).toEqual([{ note: 'before' }]);
    const row = (await restores()).find((r) => r.id === json.id);
    expect(row?.status).toBe('failed');
    expect(row?.error).toContain('nothing was changed');
  });

  it('runs a restore typed into the console, as another user', async () => {
    const transcript = await runLifeboat(['console', '--as', 'bob'], {
      cwd: dir,
      env,
      input: '/restore latest --components files --into files=staging-files\n',
      timeoutMs: 120_000,
    });
    expect(transcript.code).toBe(0);
    expect(transcript.stdout).toMatch(/Restore of bk_\S+: completed/);
    const rows = await restores();
    expect(rows.at(-1)).toMatchObject({ status: 'completed', requested_by: 'console:bob' });
  });
});
