import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, dropDatabase, uniqueName } from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { obliterateQueue } from '../support/queues.ts';

/**
 * `lifeboat console` fed by a pipe, as scripts run it: its exit status says whether every
 * command succeeded (0), or the worst that happened: a failure (1), bad input (2), a refusal or
 * a request left waiting for approval (3).
 */
describe('the exit status of a console session in a pipe', () => {
  let dir: string;
  const catalogDb = uniqueName('lb_conexit_cat');
  const queuePrefix = uniqueName('lbq');
  let env: Record<string, string>;
  const session = (lines: readonly string[]) =>
    runLifeboat(['console', '--as', 'alice'], {
      cwd: dir,
      env,
      input: `${lines.join('\n')}\n`,
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-conexit-'));
    env = { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: queuePrefix };
    await mkdir(join(dir, 'files'));
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  gone: { kind: directory, path: ./no-such-directory, environment: staging }
profiles:
  files: { targets: [files] }
  broken: { targets: [gone] }
roles:
  oncall: ["console:alice"]
`,
    );
  });

  afterAll(async () => {
    await dropDatabase(catalogDb);
    await obliterateQueue(queuePrefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('is 2 when --as is refused because the configuration turns impersonation off', async () => {
    await writeFile(
      join(dir, 'no-impersonation.yaml'),
      'targets:\n  files: { kind: directory, path: ./files }\nprofiles:\n  files: { targets: [files] }\nconsole: { impersonation: false }\n',
    );
    const refused = await runLifeboat(
      ['console', '--as', 'bob', '--config', 'no-impersonation.yaml'],
      { cwd: dir, env, input: '/status\n', timeoutMs: 60_000 },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--as is refused: this configuration turns impersonation off');
    const own = await runLifeboat(['console', '--config', 'no-impersonation.yaml'], {
      cwd: dir,
      env,
      input: '/as bob\n',
      timeoutMs: 60_000,
    });
    expect(own.stdout).toMatch(/You are console:\S+\. Type \/help for commands, \/quit to leave\./);
    expect(own.stdout).toContain('/as is refused');
    expect(own.stdout).not.toContain('Now acting as bob');
  });

  it('is 0 when every command succeeded', async () => {
    const result = await session(['/backup create', '/backup list', '/status']);
    expect(result.stdout).toContain('completed');
    expect(result.code).toBe(0);
  });

  it('is 1 when a command failed, whatever else went well or was refused', async () => {
    const result = await session([
      '/backup list',
      '/backup create broken',
      '/as mallory',
      '/backup create',
      '/bakup',
    ]);
    expect(result.stdout).toMatch(/failed/i);
    expect(result.code).toBe(1);
  });

  it('is 2 for bad input: an unknown command, a line that is not a command, a bad user name', async () => {
    for (const line of ['/bakup list', 'backup list', '/as "bob"']) {
      const result = await session(['/backup list', line]);
      expect(result.code, line).toBe(2);
    }
  });

  it('is 3 when a command was refused', async () => {
    const result = await session(['/backup list', '/as mallory', '/backup create']);
    expect(result.stdout).toMatch(/refused|not allowed|role/i);
    expect(result.code).toBe(3);
  });
});
