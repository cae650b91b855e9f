import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/core/free-port.ts';
import { databaseUrl, dropDatabase, uniqueName } from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/** `lifeboat status` is a health check a script can trust: exit 1 and the real reason. */
describe('`lifeboat status` with something down', () => {
  const catalog = uniqueName('lb_status_cat');
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-status-'));
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./, environment: staging }
profiles:
  files: { targets: [files] }
`,
    );
  });

  afterAll(async () => {
    await dropDatabase(catalog);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 naming Redis refused at its address and port, with --json too', async () => {
    const port = await freePort();
    const result = await runLifeboat(['status', '--json'], {
      cwd: dir,
      env: { DATABASE_URL: databaseUrl(catalog), REDIS_URL: `redis://127.0.0.1:${port}` },
    });
    expect(result.code).toBe(1);
    const json = lastJson(result.stdout);
    expect(json.status).toBe('failed');
    expect(String(json.error)).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    expect(json.services).toEqual([
      expect.objectContaining({ name: 'PostgreSQL (catalog)', ok: true }),
      expect.objectContaining({
        name: 'Redis (queue)',
        ok: false,
        detail: expect.stringContaining(`connection refused (ECONNREFUSED 127.0.0.1:${port})`),
      }),
      expect.objectContaining({ name: 'Store (local)', ok: true }),
    ]);
    expect(result.stderr).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
  }, 60_000);

  it('exits 1 naming the catalog refused at its address and port', async () => {
    const port = await freePort();
    const result = await runLifeboat(['status', '--json'], {
      cwd: dir,
      env: { DATABASE_URL: `postgres://127.0.0.1:${port}/lifeboat` },
    });
    expect(result.code).toBe(1);
    const json = lastJson(result.stdout);
    expect(json.status).toBe('failed');
    expect(String(json.error)).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
  }, 60_000);
});
