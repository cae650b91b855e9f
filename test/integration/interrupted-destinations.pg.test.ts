import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';
import { type RunningLifeboat, runLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { obliterateQueue, uniqueQueuePrefix } from '../support/queues.ts';
import { WAIT } from '../support/worker-harness.ts';

const HOLD = fileURLToPath(new URL('../support/preload/hold-after-renames.ts', import.meta.url));

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/**
 * `kill -9` of a `lifeboat restore` while it writes a destination: the next worker's sweep puts
 * the destination back from the journal the restore recorded, and the restore's record says
 * what each destination is now.
 */
describe('a restore killed while it writes its destination', () => {
  const catalogDb = uniqueName('lb_undo_cat');
  const queuePrefix = uniqueQueuePrefix();
  let dir: string;
  let env: Record<string, string>;
  const running: RunningLifeboat[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-undo-'));
    await mkdir(join(dir, 'files', 'sub'), { recursive: true });
    for (const name of ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'sub/e.txt']) {
      await writeFile(join(dir, 'files', name), `backed up ${name}\n`);
    }
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  files-copy: { kind: directory, path: ./files-copy, environment: development }
profiles:
  files: { targets: [files] }
`,
    );
    env = { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: queuePrefix };
  });

  afterAll(async () => {
    for (const each of running) await each.kill('SIGKILL');
    await obliterateQueue(queuePrefix);
    await dropDatabase(catalogDb);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function sweptByAWorker(swept: () => Promise<void>): Promise<void> {
    const worker = startLifeboat(['worker'], { cwd: dir, env });
    running.push(worker);
    try {
      await vi.waitFor(swept, WAIT);
    } finally {
      await worker.kill('SIGTERM');
    }
  }

  /** Starts `lifeboat ARGS` and waits until it is held after `renames` moves into place. */
  async function startHeld(args: string[], renames: number): Promise<RunningLifeboat> {
    const held = join(dir, `held-${Date.now()}`);
    const process = startLifeboat(args, {
      cwd: dir,
      env: {
        ...env,
        NODE_OPTIONS: `--import=${HOLD}`,
        LIFEBOAT_TEST_HOLD_AFTER_RENAMES: String(renames),
        LIFEBOAT_TEST_HELD_FILE: held,
      },
    });
    running.push(process);
    process.endInput();
    await vi.waitFor(() => {
      expect(existsSync(held), process.stderr()).toBe(true);
    }, WAIT);
    return process;
  }

  it('is put back as it was by the next worker, which says the destination is unchanged', async () => {
    const created = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(created.code, created.stderr).toBe(0);
    const backupId = String(lastJson(created.stdout).id);

    // The destination as someone left it: other contents at the backup's paths, and more.
    const copy = join(dir, 'files-copy');
    await mkdir(join(copy, 'sub'), { recursive: true });
    for (const name of ['a.txt', 'b.txt', 'c.txt', 'sub/e.txt', 'mine.txt']) {
      await writeFile(join(copy, name), `the destination's own ${name}\n`);
    }
    const before = await snapshot(copy);

    const restore = await startHeld(
      ['restore', backupId, '--into', 'files=files-copy', '--json'],
      3,
    );
    await restore.kill('SIGKILL');
    // Half way: some of the backup's files are in place, some of the destination's moved aside.
    expect(await snapshot(copy)).not.toEqual(before);
    const [claimed] = await sql<{ id: string; status: string }>(
      'SELECT id, status FROM restores',
      catalogDb,
    );
    expect(claimed?.status).toBe('running');

    await sweptByAWorker(async () => {
      const [ended] = await sql<{ status: string }>(
        'SELECT status FROM restores WHERE id = $1',
        catalogDb,
        [claimed?.id],
      );
      expect(ended?.status).toBe('failed');
    });
    expect(await snapshot(copy)).toEqual(before);
    const [ended] = await sql<{ error: string; results: { components: unknown[] } }>(
      'SELECT error, results FROM restores WHERE id = $1',
      catalogDb,
      [claimed?.id],
    );
    expect(ended?.error).toContain('files-copy: unchanged');
    expect(ended?.error).not.toContain('partly');
    expect(ended?.results.components).toEqual([
      expect.objectContaining({
        component: 'files',
        destination: 'files-copy',
        destinationState: 'unchanged',
      }),
    ]);
    const [job] = await sql<{ error: string }>('SELECT error FROM jobs WHERE id = $1', catalogDb, [
      claimed?.id,
    ]);
    expect(job?.error).toBe(ended?.error);
  });
});

/**
 * Every path under `root` (and `root` itself) with its kind, mode, mtime to the millisecond
 * and content, to tell whether anything changed.
 */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of ['', ...(await readdir(root, { recursive: true })).sort()]) {
    const path = join(root, entry);
    const info = await lstat(path);
    const common = `${(info.mode & 0o7777).toString(8)} ${Math.floor(info.mtimeMs)}`;
    out[entry] = info.isDirectory()
      ? `dir ${common}`
      : `${common} ${createHash('sha256')
          .update(await readFile(path))
          .digest('hex')}`;
  }
  return out;
}
