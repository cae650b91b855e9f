import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, dropDatabase, uniqueName } from '../support/databases.ts';
import { obliterateQueue } from '../support/queues.ts';

const BIN = fileURLToPath(new URL('../../bin/lifeboat.js', import.meta.url));
const NOBODY = 65534;

/**
 * The real `lifeboat` against real file-system failures, each made by the kernel: a read-only
 * and a tiny tmpfs mounted in a mount namespace of the process's own (`unshare`), and a store
 * the process's user may not write (`setpriv` to nobody).
 */
function lifeboat(
  args: readonly string[],
  options: {
    cwd: string;
    env: Record<string, string>;
    /** `mount -t tmpfs -o <options> tmpfs <path>` first, in a mount namespace of its own. */
    mount?: { path: string; options: string };
    /** Run as nobody. */
    asNobody?: boolean;
  },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const node = [process.execPath, BIN, ...args];
  const command = options.mount
    ? [
        'unshare',
        '-rm',
        'sh',
        '-c',
        'mount -t tmpfs -o "$1" tmpfs "$2" && shift 2 && exec "$@"',
        'sh',
        options.mount.options,
        options.mount.path,
        ...node,
      ]
    : options.asNobody
      ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...node]
      : node;
  const [file = '', ...rest] = command;
  const child = spawn(file, rest, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: '/tmp', USER: 'root', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lifeboat ${args.join(' ')} did not end\n${stderr}`));
    }, 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

describe('a store or directory Lifeboat cannot write', () => {
  let dir: string;
  const catalogDb = uniqueName('lb_fserr_cat');
  const queuePrefix = uniqueName('lbq');
  let env: Record<string, string>;
  const config = (store: string) =>
    `storage: { local: { path: ${store} } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  files-copy: { kind: directory, path: ./files-copy, environment: staging }
profiles:
  files: { targets: [files] }
`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-fserr-'));
    // Readable by nobody, as the config and the files must be.
    await chmod(dir, 0o755);
    env = { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: queuePrefix };
    await mkdir(join(dir, 'files'));
    await chmod(join(dir, 'files'), 0o755);
    // Incompressible, so that it cannot fit a 256 KiB file system.
    await writeFile(join(dir, 'files/random.bin'), randomBytes(2 * 1024 * 1024), { mode: 0o644 });
    for (const [name, store] of [
      ['ro', './ro/backups'],
      ['small', './small/backups'],
      ['locked', './locked/backups'],
      ['ok', './ok/backups'],
    ] as const) {
      await mkdir(join(dir, name));
      await writeFile(join(dir, `${name}.yaml`), config(store), { mode: 0o644 });
    }
    await chmod(join(dir, 'locked'), 0o755);
    // The runs as nobody keep their logs in a directory of their own.
    await mkdir(join(dir, 'nobody'));
    await chown(join(dir, 'nobody'), NOBODY, NOBODY);
  });

  afterAll(async () => {
    await dropDatabase(catalogDb);
    await obliterateQueue(queuePrefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('says the store is read-only, not ENOENT', async () => {
    const result = await lifeboat(['backup', 'create', '--config', 'ro.yaml', '--json'], {
      cwd: dir,
      env,
      mount: { path: join(dir, 'ro'), options: 'ro' },
    });
    expect(result.code).toBe(1);
    const error = String(lastJson(result.stdout).error);
    expect(error).toContain(`the store ${join(dir, 'ro/backups')} is read-only`);
    expect(error).toContain('EROFS');
    expect(error).not.toContain('ENOENT');
  });

  it('says there is no space left on the device holding the store', async () => {
    const result = await lifeboat(['backup', 'create', '--config', 'small.yaml', '--json'], {
      cwd: dir,
      env,
      mount: { path: join(dir, 'small'), options: 'size=256k' },
    });
    expect(result.code).toBe(1);
    expect(String(lastJson(result.stdout).error)).toContain(
      `no space left on the device holding the store ${join(dir, 'small/backups')} (ENOSPC)`,
    );
  });

  it('says which user may not write the store', async () => {
    const result = await lifeboat(['backup', 'create', '--config', '../locked.yaml', '--json'], {
      cwd: join(dir, 'nobody'),
      env,
      asNobody: true,
    });
    expect(result.code).toBe(1);
    const error = String(lastJson(result.stdout).error);
    expect(error).toContain(
      `the store ${join(dir, 'locked/backups')} is not writable by the user nobody`,
    );
    expect(error).toContain('EACCES');
  });

  it('says the staging directory of a restore is read-only, and that nothing was changed', async () => {
    const backup = await lifeboat(['backup', 'create', '--config', 'ok.yaml', '--json'], {
      cwd: dir,
      env,
    });
    expect(backup.code).toBe(0);
    const staging = join(dir, 'ro');
    const result = await lifeboat(
      ['restore', 'latest', '--into', 'files=files-copy', '--config', 'ok.yaml', '--json'],
      { cwd: dir, env: { ...env, TMPDIR: staging }, mount: { path: staging, options: 'ro' } },
    );
    expect(result.code).toBe(1);
    const error = String(lastJson(result.stdout).error);
    // The staging root is this user's private directory under TMPDIR.
    expect(error).toContain(
      `the staging directory ${join(staging, `lifeboat-staging-${process.getuid?.()}`)} is read-only`,
    );
    expect(error).toContain('nothing was changed');
  });

  it('says the log directory cannot be written instead of crashing', async () => {
    const result = await lifeboat(['backup', 'list', '--config', 'ro.yaml', '--json'], {
      cwd: dir,
      env,
      asNobody: true,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const json = lastJson(result.stdout);
    expect(String(json.error)).toMatch(
      /the log (directory|file) \S+\.lifeboat\S* is not writable by the user nobody/,
    );
  });
});
