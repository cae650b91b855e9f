import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, sql } from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

const run = promisify(execFile);

interface BackupRow {
  id: string;
  profile: string;
  status: string;
  error: string | null;
  requested_by: string;
  note: string | null;
}

describe('a backup typed into the console chat', () => {
  let sandbox: LifeboatSandbox | undefined;
  let dir: string;
  let sourceDb: string;
  let catalogDb: string;
  let transcript: { code: number | null; stdout: string; stderr: string };

  const backups = () =>
    sql<BackupRow>(
      'select id, profile, status, error, requested_by, note from backups order by created_at',
      catalogDb,
    );

  beforeAll(async () => {
    sandbox = await createSandbox('console');
    ({ dir, sourceDb, catalogDb } = sandbox);
    await mkdir(join(dir, 'files/nested'), { recursive: true });
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    await writeFile(join(dir, 'files/nested/b.bin'), Buffer.alloc(200_000, 7));
    await writeFile(join(dir, 'files/scratch.tmp'), 'left out\n');
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: full
storage: { local: { path: ./backups } }
targets:
  shop-db: { kind: postgres, url: "${databaseUrl(sourceDb)}", environment: staging }
  files: { kind: directory, path: ./files, exclude: ["*.tmp"], environment: staging }
  lost-db: { kind: postgres, url: "${databaseUrl(sourceDb)}_does_not_exist", environment: staging }
profiles:
  full: { targets: [shop-db, files] }
  broken: { targets: [files, lost-db] }
`,
    );
    transcript = await runLifeboat(['console', '--as', 'alice'], {
      cwd: dir,
      env: sandbox.env,
      input: [
        '/backup create --note "first backup"',
        '/backup list',
        '/as bob',
        '/backup create broken',
        '/backup create nosuch',
        '',
      ].join('\n'),
    });
  }, 120_000);

  afterAll(async () => {
    await sandbox?.remove();
  });

  it('exits at the end of input once the work has finished, 1 as a command failed', async () => {
    expect(transcript.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(transcript.code).toBe(1);
    const rows = await backups();
    expect(rows.map((r) => r.status)).toEqual(['completed', 'failed']);
  });

  it('records who asked, as platform:id, and the note', async () => {
    const [first, second] = await backups();
    expect(first).toMatchObject({
      profile: 'full',
      requested_by: 'console:alice',
      note: 'first backup',
    });
    expect(second).toMatchObject({ profile: 'broken', requested_by: 'console:bob' });
  });

  it('shows the new backup in /backup list', async () => {
    const [first] = await backups();
    const listed = transcript.stdout.split('/backup list')[0] ?? '';
    expect(first?.id).toMatch(/^bk_\d{8}T\d{6}Z_full_[0-9a-z]{4}$/);
    expect(transcript.stdout).toContain(first?.id ?? 'missing');
    expect(listed.length).toBeGreaterThan(0);
  });

  it('writes a manifest whose row counts equal count(*) of every source table', async () => {
    const [first] = await backups();
    const manifest = JSON.parse(
      await readFile(join(dir, 'backups', first?.id ?? '', 'manifest.json'), 'utf8'),
    );
    const db = manifest.components.find((c: { name: string }) => c.name === 'shop-db');
    expect(db.source.kind).toBe('postgres');
    const tables: { schema: string; table: string; rows: number }[] = db.source.tables;
    expect(tables.map((t) => t.table).sort()).toEqual([
      'pgbench_accounts',
      'pgbench_branches',
      'pgbench_history',
      'pgbench_tellers',
    ]);
    for (const t of tables) {
      const [row] = await sql<{ n: string }>(
        `select count(*) as n from "${t.schema}"."${t.table}"`,
        sourceDb,
      );
      expect(t.rows).toBe(Number(row?.n));
    }
    expect(tables.find((t) => t.table === 'pgbench_accounts')?.rows).toBe(100_000);
    expect(db.tools.pg_dump).toMatch(/^\d+\.\d+/);
  });

  it('stores each component with the sha256 the manifest names', async () => {
    const [first] = await backups();
    const base = join(dir, 'backups', first?.id ?? '');
    const manifest = JSON.parse(await readFile(join(base, 'manifest.json'), 'utf8'));
    expect(manifest.components).toHaveLength(2);
    for (const c of manifest.components) {
      const bytes = await readFile(join(base, c.object));
      expect(bytes.length).toBe(c.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(c.sha256);
    }
  });

  it('produces a database dump that pg_restore --list accepts after zstd -d', async () => {
    const [first] = await backups();
    const base = join(dir, 'backups', first?.id ?? '');
    const manifest = JSON.parse(await readFile(join(base, 'manifest.json'), 'utf8'));
    const db = manifest.components.find((c: { name: string }) => c.name === 'shop-db');
    expect(db.compression).toBe('zstd');
    const dump = join(dir, 'restored.dump');
    await run('zstd', ['-d', '-q', '-f', join(base, db.object), '-o', dump]);
    const { stdout } = await run('pg_restore', ['--list', dump]);
    expect(stdout).toContain('TABLE DATA public pgbench_accounts');
  });

  it('archives the directory without the excluded files', async () => {
    const [first] = await backups();
    const base = join(dir, 'backups', first?.id ?? '');
    const manifest = JSON.parse(await readFile(join(base, 'manifest.json'), 'utf8'));
    const files = manifest.components.find((c: { name: string }) => c.name === 'files');
    const { stdout } = await run('sh', [
      '-c',
      `zstd -d -q -c "${join(base, files.object)}" | tar -tf -`,
    ]);
    const entries = stdout
      .split('\n')
      .filter(Boolean)
      .map((e) => e.replace(/^\.\//, '').replace(/\/$/, ''));
    expect(entries).toContain('a.txt');
    expect(entries).toContain('nested/b.bin');
    expect(entries.some((e) => e.endsWith('.tmp'))).toBe(false);
  });

  it('fails a backup whose source fails, with the reason, leaving no manifest and no objects', async () => {
    const [, failed] = await backups();
    expect(failed?.error).toContain('lost-db');
    const path = join(dir, 'backups', failed?.id ?? '');
    const left = existsSync(path) ? await readdir(path) : [];
    expect(left).toEqual([]);
    expect(transcript.stdout).toMatch(/failed/i);
    expect(transcript.stdout).toMatch(/Retry/);
  });

  it('answers an unknown profile with the valid ones and starts no work', async () => {
    expect(transcript.stdout).toContain('nosuch');
    expect(transcript.stdout).toMatch(/full/);
    expect(await backups()).toHaveLength(2);
  });
});
