import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/core/free-port.ts';
import { databaseUrl } from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

describe('the lifeboat command line', () => {
  let sandbox: LifeboatSandbox | undefined;
  let dir: string;
  let sourceDb: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await createSandbox('cli');
    ({ dir, sourceDb, env } = sandbox);
    await mkdir(join(dir, 'files'));
    await writeFile(join(dir, 'files/readme.txt'), 'hello\n');
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
targets:
  app-db: { kind: postgres, url: "${databaseUrl(sourceDb)}", environment: staging }
  files: { kind: directory, path: ./files, environment: staging }
  gone: { kind: directory, path: ./no-such-directory, environment: staging }
profiles:
  db: { targets: [app-db] }
  broken: { targets: [gone] }
`,
    );
  }, 60_000);

  afterAll(async () => {
    await sandbox?.remove();
  });

  it('backs up with --json, printing the id and status as the last line and exiting 0', async () => {
    const result = await runLifeboat(['backup', 'create', 'db', '--json'], { cwd: dir, env });
    expect(result.code).toBe(0);
    const json = lastJson(result.stdout);
    expect(json.status).toBe('completed');
    expect(String(json.id)).toMatch(/^bk_\d{8}T\d{6}Z_db_[0-9a-z]{4}$/);

    const shown = await runLifeboat(['backup', 'show', String(json.id), '--json'], {
      cwd: dir,
      env,
    });
    expect(shown.code).toBe(0);
    expect(lastJson(shown.stdout)).toMatchObject({ status: 'ok', id: json.id });
  });

  it('exits 1 with status failed when the source fails', async () => {
    const result = await runLifeboat(['backup', 'create', 'broken', '--json'], { cwd: dir, env });
    expect(result.code).toBe(1);
    const json = lastJson(result.stdout);
    expect(json.status).toBe('failed');
    expect(String(json.id)).toMatch(/^bk_/);
  });

  it('exits 2 with status invalid for an unknown profile or command, starting nothing', async () => {
    const profile = await runLifeboat(['backup', 'create', 'nosuch', '--json'], { cwd: dir, env });
    expect(profile.code).toBe(2);
    expect(lastJson(profile.stdout).status).toBe('invalid');
    expect(profile.stderr).toContain('nosuch');

    const command = await runLifeboat(['bakup', 'list', '--json'], { cwd: dir, env });
    expect(command.code).toBe(2);
    expect(lastJson(command.stdout).status).toBe('invalid');
    expect(command.stderr).toMatch(/backup/);
  });

  it('says which service is unreachable, where it looked and how to get one, without a stack trace', async () => {
    const pgDown = await runLifeboat(['backup', 'list'], {
      cwd: dir,
      env: { ...env, DATABASE_URL: 'postgres://127.0.0.1:1/lifeboat' },
    });
    expect(pgDown.code).toBe(1);
    expect(pgDown.stderr).toMatch(/PostgreSQL/);
    expect(pgDown.stderr).toContain('127.0.0.1:1');
    expect(pgDown.stderr).toContain('docker compose up -d');
    expect(pgDown.stderr).not.toMatch(/\n\s+at /);

    // Only what queues work needs Redis: listing the catalog does not.
    const redisDown = await runLifeboat(['backup', 'create', 'db'], {
      cwd: dir,
      env: { ...env, REDIS_URL: 'redis://127.0.0.1:1' },
    });
    expect(redisDown.code).toBe(1);
    expect(redisDown.stderr).toMatch(/Redis/);
    expect(redisDown.stderr).toContain('127.0.0.1:1');
    expect(redisDown.stderr).not.toMatch(/\n\s+at /);
  });

  it('lists every problem of an invalid config by its path and exits 2', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'targets:\n  db: { kind: postgres, url: "x" }\nprofiles:\n  full: { targets: [db, cahce] }\ncompresion: zstd\n',
    );
    const result = await runLifeboat(['backup', 'list', '--config', bad], { cwd: dir, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('profiles.full.targets[1]');
    expect(result.stderr).toContain('cahce');
    expect(result.stderr).toContain('compresion');
  });

  it('lists each config problem once, those behind an invalid kind too', async () => {
    const bad = join(dir, 'bad-kind.yaml');
    await writeFile(
      bad,
      'targets:\n  db: { kind: postgress, url: "postgres://h/db", extra: 1 }\nprofiles:\n  full: { targets: [db, cahce] }\ncompresion: zstd\n',
    );
    const result = await runLifeboat(['backup', 'list', '--config', bad], { cwd: dir, env });
    expect(result.code).toBe(2);
    const occurrences = (text: string) => result.stderr.split(text).length - 1;
    expect(result.stderr).toContain('4 problems');
    for (const path of [
      'targets.db.kind:',
      'targets.db.extra:',
      'profiles.full.targets[1]:',
      'compresion:',
    ]) {
      expect(occurrences(path)).toBe(1);
    }
  });

  it('runs `start` as a service when stdin is not a terminal, until SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../../bin/lifeboat.js', import.meta.url)), 'start'],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', ...env, LIFEBOAT_HTTP_PORT: String(port) },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    try {
      child.stdin.end('/backup list\n');
      let ready = false;
      for (let i = 0; i < 100 && !ready; i++) {
        await new Promise((r) => setTimeout(r, 200));
        ready = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      }
      expect(ready).toBe(true);
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(readyz.status).toBe(200);
      expect(child.exitCode).toBeNull();
      const exited = new Promise<number | null>((r) => child.on('close', r));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      // A failed expectation above must not leave the service running after the suite.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
