import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateAgeIdentity } from '../../src/crypto/age/index.ts';
import { INTERRUPTED_VERIFICATION } from '../../src/jobs/interrupted-work.ts';
import { INTERRUPTED_RESTORE_PREFIX } from '../../src/restore/recover-destination.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';
import { type RunningLifeboat, runLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { obliterateQueue, uniqueQueuePrefix } from '../support/queues.ts';
import {
  type FaultyProxy,
  type S3TestServer,
  startFaultyProxy,
  startS3Server,
} from '../support/s3-server.ts';
import { WAIT } from '../support/worker-harness.ts';

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/**
 * `kill -9` of a `lifeboat` process in the middle of a restore or a verification, held there by
 * holding back S3's answer to one object's GET: whatever runs a worker next ends the record
 * with the reason and removes the staging directory the killed process left — for an encrypted
 * backup, its decrypted copy.
 */
describe('a lifeboat process killed mid-restore', () => {
  const catalogDb = uniqueName('lb_kill_cat');
  const queuePrefix = uniqueQueuePrefix();
  const key = generateAgeIdentity();
  let s3: S3TestServer;
  let proxy: FaultyProxy;
  let dir: string;
  let env: Record<string, string>;
  let backupId: string;
  const running: RunningLifeboat[] = [];

  beforeAll(async () => {
    s3 = await startS3Server();
    proxy = await startFaultyProxy(s3.endpoint);
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-kill-'));
    for (const name of ['files', 'docs']) {
      await mkdir(join(dir, name));
      // Random bytes: the compressed object is larger than one answer's first packet.
      await writeFile(join(dir, name, 'data.bin'), randomBytes(300_000));
    }
    await mkdir(join(dir, 'tmp'));
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: both
storage:
  s3: { bucket: ${s3.bucket}, prefix: kill/, region: us-east-1, endpoint: "${proxy.endpoint}", forcePathStyle: true }
  primary: s3
encryption: { recipients: ["${key.recipient}"] }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  docs: { kind: directory, path: ./docs, environment: staging }
  files-copy: { kind: directory, path: ./files-copy, environment: development }
  docs-copy: { kind: directory, path: ./docs-copy, environment: development }
profiles:
  both: { targets: [files, docs] }
`,
    );
    env = {
      DATABASE_URL: databaseUrl(catalogDb),
      LIFEBOAT_QUEUE_PREFIX: queuePrefix,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      LIFEBOAT_AGE_IDENTITY: key.identity,
      // Staging goes under TMPDIR: the suite's own, to look into.
      TMPDIR: join(dir, 'tmp'),
    };
    const created = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(created.code, created.stderr).toBe(0);
    backupId = String(lastJson(created.stdout).id);
  });

  afterAll(async () => {
    for (const each of running) await each.kill('SIGKILL');
    proxy?.release();
    await proxy?.stop();
    await s3?.stop();
    await obliterateQueue(queuePrefix);
    await dropDatabase(catalogDb);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const stagingRoot = () => join(dir, 'tmp', `lifeboat-staging-${process.getuid?.() ?? 0}`);
  const stagingDirectories = async () =>
    existsSync(stagingRoot()) ? (await readdir(stagingRoot())).sort() : [];

  /** Starts `lifeboat ARGS` with the GET of `object` held, and waits until it is held there. */
  async function startHeldAt(object: string, args: string[]): Promise<RunningLifeboat> {
    proxy.add({
      method: 'GET',
      url: new RegExp(`/kill/${backupId}/${object.replace(/\./g, '\\.')}`),
      fault: { kind: 'hold-answer' },
    });
    const process = startLifeboat(args, { cwd: dir, env });
    running.push(process);
    process.endInput();
    await vi.waitFor(() => {
      expect(proxy.held(), process.stderr()).toBe(1);
    }, WAIT);
    return process;
  }

  /**
   * Runs `lifeboat worker` until `swept` passes (its start-up sweep ended what the killed process
   * left), then stops it with SIGTERM.
   */
  async function sweptByAWorker(swept: () => Promise<void>): Promise<void> {
    const worker = startLifeboat(['worker'], { cwd: dir, env });
    running.push(worker);
    try {
      await vi.waitFor(swept, WAIT);
    } finally {
      await worker.kill('SIGTERM');
    }
  }

  /** Lets the held answers go (to a dead process) and forwards everything from now on. */
  function stopHolding(): void {
    proxy.clear();
    proxy.release();
  }

  it('leaves the restore running and its decrypted staging behind until a worker runs again, which fails the restore and removes it', async () => {
    // The first component is staged (decrypted), the second one's object is being read.
    const restore = await startHeldAt('docs.tar.zst.age', [
      'restore',
      backupId,
      '--into',
      'files=files-copy,docs=docs-copy',
      '--json',
    ]);
    const [staging] = await stagingDirectories();
    expect(staging).toMatch(/^\d+\.(\d+|x)\.restore-[A-Za-z0-9]{6}$/);
    const stagingDir = join(stagingRoot(), staging ?? '');
    expect(await readdir(stagingDir)).toEqual(['files.tar']);
    expect((await stat(stagingRoot())).mode & 0o777).toBe(0o700);
    expect((await stat(stagingDir)).mode & 0o777).toBe(0o700);
    const [claimed] = await sql<{ id: string; status: string }>(
      'SELECT id, status FROM restores',
      catalogDb,
    );
    expect(claimed?.status).toBe('running');

    await restore.kill('SIGKILL');
    stopHolding();
    // Nothing ends it by itself: the process that would have is gone.
    expect((await sql('SELECT status FROM restores', catalogDb))[0]?.status).toBe('running');
    expect(existsSync(join(stagingDir, 'files.tar'))).toBe(true);

    // Any process that starts a worker sweeps what the killed one left.
    await sweptByAWorker(async () => {
      const [ended] = await sql<{ status: string; error: string }>(
        'SELECT status, error FROM restores WHERE id = $1',
        catalogDb,
        [claimed?.id],
      );
      expect(ended?.status).toBe('failed');
    });
    // Killed while staging: no destination was written, and the record says so.
    const [ended] = await sql<{ error: string }>(
      'SELECT error FROM restores WHERE id = $1',
      catalogDb,
      [claimed?.id],
    );
    expect(ended?.error).toContain(INTERRUPTED_RESTORE_PREFIX);
    expect(ended?.error).toContain(
      'files-copy: not started, unchanged; docs-copy: not started, unchanged',
    );
    const [job] = await sql<{ status: string; error: string }>(
      'SELECT status, error FROM jobs WHERE id = $1',
      catalogDb,
      [claimed?.id],
    );
    expect(job).toEqual({ status: 'failed', error: ended?.error });
    const audited = await sql<{ action: string; outcome: string }>(
      "SELECT action, outcome FROM audit_log WHERE action = 'restore.failed'",
      catalogDb,
    );
    expect(audited).toEqual([{ action: 'restore.failed', outcome: 'failed' }]);
    expect(await stagingDirectories()).toEqual([]);
  });

  it('leaves no verification running after its process is killed', async () => {
    const verify = await startHeldAt('files.tar.zst.age', [
      'backup',
      'verify',
      backupId,
      '--level',
      '1',
      '--json',
    ]);
    const [started] = await sql<{ id: string; status: string }>(
      "SELECT id, status FROM backup_verifications WHERE status = 'running'",
      catalogDb,
    );
    expect(started?.status).toBe('running');

    await verify.kill('SIGKILL');
    stopHolding();
    await sweptByAWorker(async () => {
      const [ended] = await sql<{ status: string; error: string }>(
        'SELECT status, error FROM backup_verifications WHERE id = $1',
        catalogDb,
        [started?.id],
      );
      // Its worker died, not the backup: could not verify, no verdict.
      expect(ended).toEqual({
        status: 'error',
        error: `could not verify: ${INTERRUPTED_VERIFICATION}`,
      });
    });

    // The backup itself is whole: a new verification passes.
    const again = await runLifeboat(['backup', 'verify', backupId, '--json'], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    expect(lastJson(again.stdout)).toMatchObject({ status: 'passed', level: 2 });
  });
});
