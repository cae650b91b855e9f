import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/open-catalog.ts';
import { newBackupId } from '../../src/core/ids.ts';
import { sampleComponent, sampleManifest } from '../doubles/sample-backups.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';

const BIN = fileURLToPath(new URL('../../bin/lifeboat.js', import.meta.url));

/**
 * `lifeboat … | head`: the reader closes the pipe after its first bytes, while lifeboat still
 * has plenty to write. The exit status of lifeboat itself (not head's) is what is checked.
 */
function intoHead(
  args: readonly string[],
  head: string,
  options: { cwd: string; env: Record<string, string>; stdin?: string },
): Promise<{ code: number; stderr: string; stdout: string }> {
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const input = options.stdin ? ` < '${options.stdin}'` : ' < /dev/null';
  const child = spawn(
    'bash',
    ['-c', `"$NODE" "$BIN" ${quoted}${input} | head ${head}; exit "\${PIPESTATUS[0]}"`],
    {
      cwd: options.cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        NODE: process.execPath,
        BIN,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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
      reject(new Error(`lifeboat ${args.join(' ')} | head did not end\nstderr:\n${stderr}`));
    }, 50_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr, stdout });
    });
  });
}

describe('a reader that closes stdout early', () => {
  let dir: string;
  const catalogDb = uniqueName('lb_epipe_cat');
  let env: Record<string, string>;
  let bigBackup: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-epipe-'));
    env = { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: uniqueName('lbq') };
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      'targets:\n  app-db: { kind: postgres, url: "postgres://127.0.0.1:5432/x" }\nprofiles:\n  db: { targets: [app-db] }\n',
    );
    const catalog = await openCatalog(databaseUrl(catalogDb));
    try {
      await catalog.migrate();
      const at = new Date('2026-11-22T02:00:00Z');
      bigBackup = newBackupId('db', at);
      const components = [sampleComponent('app-db', 'postgres', { tables: 5000 })];
      await catalog.backups.createQueued({
        id: bigBackup,
        profile: 'db',
        note: null,
        requestedBy: 'console:alice',
        targets: ['app-db'],
        jobId: bigBackup,
      });
      const manifest = sampleManifest(
        { id: bigBackup, profile: 'db', note: null, requestedBy: 'console:alice' },
        components,
        `/backups/${bigBackup}`,
        at,
      );
      await catalog.backups.markCompleted(bigBackup, manifest, `/backups/${bigBackup}`);
    } finally {
      await catalog.close();
    }
    // Failed backups with long errors, and audit entries: far more than a pipe's 64 KiB.
    await sql(
      `INSERT INTO backups (id, profile, status, requested_by, created_at, error)
       SELECT 'bk_20250101T' || lpad(g::text, 6, '0') || 'Z_db_' || lpad(g::text, 4, '0'), 'db',
              'failed', 'console:alice', now() - g * interval '1 minute', repeat('no space left; ', 30)
         FROM generate_series(1, 1000) g`,
      catalogDb,
    );
    await sql(
      `INSERT INTO audit_log
       SELECT g, now(), 'console:alice', 'console', 'ops', 'command', '/backup list --limit ' || g,
              '{"limit": 1}', null, 'ok', null, md5(g::text) || md5(g::text),
              md5((g + 1)::text) || md5((g + 1)::text)
         FROM generate_series(1, 5000) g`,
      catalogDb,
    );
  }, 60_000);

  afterAll(async () => {
    await dropDatabase(catalogDb);
    await rm(dir, { recursive: true, force: true });
  });

  for (const [name, args, head] of [
    ['audit export', ['audit', 'export'], '-n 1'],
    ['backup list', ['backup', 'list', '--limit', '1000'], '-n 1'],
    ['backup list --json', ['backup', 'list', '--limit', '1000', '--json'], '-c 100'],
  ] as const) {
    it(`ends ${name} quietly with exit 0`, async () => {
      const result = await intoHead(args, head, { cwd: dir, env });
      expect(result.stderr).not.toMatch(/EPIPE|\n\s+at /);
      expect(result.code).toBe(0);
      expect(result.stdout.length).toBeGreaterThan(0);
    });
  }

  it('ends a console session whose reader went away, without reading the rest of its script', async () => {
    const listed = async () =>
      (
        await sql<{ n: number }>(
          "select count(*)::int as n from audit_log where command = '/backup list --limit 1000' and identity = 'console:alice'",
          catalogDb,
        )
      )[0]?.n ?? 0;
    const before = await listed();
    const script = join(dir, 'script.txt');
    await writeFile(script, '/backup list --limit 1000\n'.repeat(50));
    const result = await intoHead(['console', '--as', 'alice'], '-n 1', {
      cwd: dir,
      env: { ...env, SCRIPT: script },
      stdin: script,
    });
    expect(result.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(result.code).toBe(0);
    expect((await listed()) - before).toBeLessThan(50);
  });

  it('ends backup show --json quietly with exit 0', async () => {
    const result = await intoHead(['backup', 'show', bigBackup, '--json'], '-c 100', {
      cwd: dir,
      env,
    });
    expect(result.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(result.code).toBe(0);
  });
});
