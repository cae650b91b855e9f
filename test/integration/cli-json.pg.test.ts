import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, dropDatabase, uniqueName } from '../support/databases.ts';
import { type ProcessResult, runLifeboat } from '../support/lifeboat-process.ts';

/** The last line of stdout as JSON; fails the test when it is not one JSON object. */
function lastJson(result: ProcessResult): Record<string, unknown> {
  const lines = result.stdout.trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(last);
  } catch {
    throw new Error(
      `the last stdout line is not JSON: ${JSON.stringify(last)}\nstderr:\n${result.stderr}`,
    );
  }
  expect(parsed).toBeTypeOf('object');
  return parsed as Record<string, unknown>;
}

describe('--json on every exit', () => {
  let dir: string;
  const catalogDb = uniqueName('lb_clijson_cat');
  let env: Record<string, string>;
  const lifeboat = (args: string[], extraEnv: Record<string, string> = {}) =>
    runLifeboat([...args, '--json'], { cwd: dir, env: { ...env, ...extraEnv } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-clijson-'));
    env = { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: uniqueName('lbq') };
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  files: { targets: [files] }
`,
    );
    await writeFile(
      join(dir, 'bad.yaml'),
      'targets:\n  db: { kind: postgress, url: "postgres://h/db" }\nprofiles:\n  p: { targets: [db, cahce] }\n',
    );
  });

  afterAll(async () => {
    await dropDatabase(catalogDb);
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a config error as JSON with every problem, exit 2', async () => {
    const result = await lifeboat(['backup', 'list', '--config', 'bad.yaml']);
    expect(result.code).toBe(2);
    const json = lastJson(result);
    expect(json).toMatchObject({ status: 'invalid', code: 'config_invalid' });
    expect(String(json.error)).toContain('2 problems');
    expect(json.issues).toEqual([
      'targets.db.kind: must be one of: postgres, directory, redis (got "postgress"); did you mean "postgres"?',
      'profiles.p.targets[1]: unknown target "cahce"; targets: db',
    ]);
  });

  it('prints an invalid environment as JSON, exit 2', async () => {
    const result = await lifeboat(['status'], { LIFEBOAT_HTTP_PORT: 'eighty' });
    expect(result.code).toBe(2);
    expect(lastJson(result)).toMatchObject({ status: 'invalid', code: 'config_invalid' });
  });

  it('prints an unreachable catalog as JSON naming the service, exit 1', async () => {
    const result = await lifeboat(['backup', 'list'], {
      DATABASE_URL: 'postgres://127.0.0.1:1/lifeboat',
    });
    expect(result.code).toBe(1);
    const json = lastJson(result);
    expect(json).toMatchObject({ status: 'failed', code: 'service_unavailable' });
    expect(String(json.error)).toMatch(/PostgreSQL .*127\.0\.0\.1:1/);
    expect(result.stderr).toContain('127.0.0.1:1');
  });

  it('prints bad command-line input as JSON, exit 2', async () => {
    for (const args of [
      ['backup', 'list', '--config'],
      ['catalog', 'rebuild', '--bogus'],
      ['audit', 'export', '--since', 'yesterday'],
    ]) {
      const result = await lifeboat(args);
      expect(result.code, args.join(' ')).toBe(2);
      const json = lastJson(result);
      expect(json.status).toBe('invalid');
      expect(String(json.error)).not.toBe('');
    }
  });

  it('prints `runbook lint` of a path that is not there as JSON, exit 2', async () => {
    const result = await lifeboat(['runbook', 'lint', 'no-such-runbooks']);
    expect(result.code).toBe(2);
    expect(lastJson(result)).toMatchObject({
      status: 'invalid',
      errors: 1,
      findings: [{ file: 'no-such-runbooks', line: 1, message: 'no such file or directory' }],
    });
  });

  it('prints the audit commands’ failures as JSON', async () => {
    const down = { DATABASE_URL: 'postgres://127.0.0.1:1/lifeboat' };
    for (const args of [
      ['audit', 'verify'],
      ['audit', 'export'],
    ]) {
      const result = await lifeboat(args, down);
      expect(result.code, args.join(' ')).toBe(1);
      expect(lastJson(result)).toMatchObject({ status: 'failed', code: 'service_unavailable' });
    }
  });

  it('prints the outcome of migrate, catalog rebuild, the version and the usage as JSON', async () => {
    const migrate = await lifeboat(['migrate']);
    expect(migrate.code).toBe(0);
    expect(lastJson(migrate)).toMatchObject({ status: 'ok' });
    const rebuild = await lifeboat(['catalog', 'rebuild']);
    expect(rebuild.code).toBe(0);
    expect(lastJson(rebuild)).toMatchObject({ status: 'ok', recorded: 0 });
    const version = await lifeboat(['--version']);
    expect(lastJson(version)).toMatchObject({ status: 'ok', version: expect.any(String) });
    const usage = await lifeboat(['--help']);
    expect(lastJson(usage)).toMatchObject({ status: 'ok' });
    expect(usage.stderr).toContain('Usage: lifeboat');
  });
});
