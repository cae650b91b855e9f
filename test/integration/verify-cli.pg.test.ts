import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, sql } from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

describe('`lifeboat backup verify` on the command line', () => {
  let sandbox: LifeboatSandbox | undefined;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await createSandbox('verify');
    ({ dir, env } = sandbox);
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
targets:
  app-db: { kind: postgres, url: "${databaseUrl(sandbox.sourceDb)}", environment: staging }
profiles:
  db: { targets: [app-db] }
`,
    );
  }, 60_000);

  afterAll(async () => {
    await sandbox?.remove();
  });

  it('verifies the latest backup with --json, exits 0 and records it; a corrupted one exits 1', async () => {
    const created = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(created.code).toBe(0);
    const backupId = String(lastJson(created.stdout).id);

    const verified = await runLifeboat(['backup', 'verify', 'latest', '--json'], {
      cwd: dir,
      env,
    });
    expect(verified.stderr).toContain(`Verification of ${backupId}: passed`);
    expect(verified.code).toBe(0);
    const passed = lastJson(verified.stdout);
    expect(passed).toMatchObject({ status: 'passed', backup: backupId, level: 2, error: null });
    expect(String(passed.id)).toMatch(/^vf_\d{8}T\d{6}Z_[0-9a-z]{6}$/);
    expect(passed.components).toEqual([
      expect.objectContaining({
        name: 'app-db',
        ok: true,
        checked: expect.arrayContaining(['pg_restore --list: 4 tables listed']),
      }),
    ]);

    // No scratch.postgres in the config: the throwaway database goes on the catalog's server.
    const tested = await runLifeboat(['backup', 'verify', backupId, '--restore-test', '--json'], {
      cwd: dir,
      env,
    });
    expect(tested.code).toBe(0);
    const restored = lastJson(tested.stdout);
    expect(restored).toMatchObject({ status: 'passed', level: 3 });
    expect(restored.components).toEqual([
      expect.objectContaining({
        checked: expect.arrayContaining(['restore test: 4 tables, row counts match']),
      }),
    ]);
    expect(tested.stderr).toContain('dropped afterwards');

    const object = join(dir, 'backups', backupId, 'app-db.dump.zst');
    const bytes = await readFile(object);
    bytes[100] = (bytes[100] ?? 0) ^ 0x01;
    await writeFile(object, bytes);
    const broken = await runLifeboat(['backup', 'verify', backupId, '--json'], { cwd: dir, env });
    expect(broken.code).toBe(1);
    const failed = lastJson(broken.stdout);
    expect(failed).toMatchObject({ status: 'failed', backup: backupId });
    expect(String(failed.error)).toContain('component app-db');
    expect(broken.stderr).toContain(`Verification of ${backupId}: failed`);

    const rows = await sql<{ id: string; status: string }>(
      'SELECT id, status FROM backup_verifications WHERE backup_id = $1 ORDER BY started_at',
      sandbox?.catalogDb,
      [backupId],
    );
    expect(rows).toEqual([
      { id: passed.id, status: 'passed' },
      { id: restored.id, status: 'passed' },
      { id: failed.id, status: 'failed' },
    ]);
  }, 90_000);

  it('says "could not verify", exits 3 and records error when the check cannot run, not "failed"', async () => {
    await writeFile(
      join(dir, 'no-scratch.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
scratch: { postgres: "postgres://127.0.0.1:1/postgres" }
targets:
  app-db: { kind: postgres, url: "${databaseUrl(sandbox?.sourceDb ?? '')}", environment: staging }
profiles:
  db: { targets: [app-db] }
`,
    );
    const created = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(created.code).toBe(0);
    const backupId = String(lastJson(created.stdout).id);
    const verified = await runLifeboat(
      ['backup', 'verify', backupId, '--restore-test', '--json', '--config', 'no-scratch.yaml'],
      { cwd: dir, env },
    );
    expect(verified.stderr).toContain(`Verification of ${backupId}: could not verify`);
    expect(verified.stderr).not.toContain('failed verification');
    expect(verified.code).toBe(3);
    const result = lastJson(verified.stdout);
    expect(result).toMatchObject({ status: 'error', backup: backupId });
    expect(String(result.error)).toMatch(/^could not verify: /);

    const shown = await runLifeboat(['backup', 'show', backupId, '--json'], { cwd: dir, env });
    expect(shown.code).toBe(0);
    expect(lastJson(shown.stdout)).toMatchObject({ lastVerification: { status: 'error' } });
    expect(shown.stderr).toContain('could not verify');

    const listed = await runLifeboat(['backup', 'list', '--json'], { cwd: dir, env });
    expect(listed.code).toBe(0);
    expect(listed.stderr).toMatch(new RegExp(`${backupId}.*could not verify`));
    const rows = lastJson(listed.stdout).backups as { id: string; lastVerification: unknown }[];
    expect(rows.find((b) => b.id === backupId)?.lastVerification).toMatchObject({
      status: 'error',
    });
  }, 90_000);
});
