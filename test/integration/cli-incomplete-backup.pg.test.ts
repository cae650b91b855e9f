import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/** Leaves a unix socket file at `path`, as a server that stopped without cleaning up does. */
async function leaveSocket(path: string): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(`${path}.bound`, resolve));
  await rename(`${path}.bound`, path);
  await new Promise((resolve) => server.close(resolve));
}

describe('a backup that completes without everything the target held (real CLI)', () => {
  let sandbox: LifeboatSandbox | undefined;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    sandbox = await createSandbox('incomplete');
    ({ dir, env } = sandbox);
    await mkdir(join(dir, 'files/run'), { recursive: true });
    await writeFile(join(dir, 'files/readme.txt'), 'hello\n');
    await leaveSocket(join(dir, 'files/run/app.sock'));
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  files: { targets: [files] }
`,
    );
  }, 60_000);

  afterAll(async () => {
    await sandbox?.remove();
  });

  it('is completed, exits 4, and says what is missing in its message and its --json', async () => {
    const result = await runLifeboat(['backup', 'create', 'files', '--json'], { cwd: dir, env });
    expect(result.code).toBe(4);
    const json = lastJson(result.stdout);
    expect(json).toMatchObject({
      status: 'completed',
      incomplete: true,
      warnings: [
        {
          component: 'files',
          kind: 'incomplete',
          message: expect.stringMatching(/^run\/app\.sock: not in this backup: it is a socket/),
        },
      ],
    });
    // The people's text (stderr with --json) says it where it cannot be missed.
    const said = result.stderr.replace(/\s+/g, ' ');
    expect(said).toContain('Backup of files: completed, incomplete');
    expect(said).toMatch(/completed \(1 component, .*\), but 1 thing is not in it, or not whole/);
    expect(said).toContain('run/app.sock: not in this backup');

    const shown = await runLifeboat(['backup', 'show', String(json.id)], { cwd: dir, env });
    expect(shown.code).toBe(0);
    const details = shown.stdout.replace(/\s+/g, ' ');
    expect(details).toMatch(/Incomplete: 1 thing is not in it/);
    expect(details).toContain('not in this backup, or not whole: run/app.sock');

    const listed = await runLifeboat(['backup', 'list'], { cwd: dir, env });
    expect(listed.stdout).toMatch(
      new RegExp(`${String(json.id)}\\s+files\\s+completed, incomplete`),
    );
  });

  it('exits 0 once what was left out is excluded on purpose', async () => {
    const config = join(dir, 'lifeboat.yaml');
    await writeFile(
      config,
      `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, exclude: ["*.sock"], environment: staging }
profiles:
  files: { targets: [files] }
`,
    );
    const result = await runLifeboat(['backup', 'create', 'files', '--json'], { cwd: dir, env });
    expect(result.code).toBe(0);
    expect(lastJson(result.stdout)).toMatchObject({
      status: 'completed',
      incomplete: false,
      warnings: [],
    });
  });
});
