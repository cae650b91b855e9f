import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  databaseExists,
  databaseUrl,
  dropDatabase,
  uniqueName,
} from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { obliterateQueue } from '../support/queues.ts';

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/**
 * DATABASE_URL naming the wrong database, beside a store that holds backups: Lifeboat says so
 * instead of quietly starting an empty catalog, and points to `lifeboat catalog rebuild`.
 */
describe('a catalog that does not know the store’s backups', () => {
  let dir: string;
  const realCatalog = uniqueName('lb_typo_cat');
  const typo = uniqueName('lb_typo_cta');
  const fresh = uniqueName('lb_typo_new');
  const empty = uniqueName('lb_typo_empty');
  const queuePrefix = uniqueName('lbq');
  let backupId: string;
  const run = (args: string[], database: string, input?: string) =>
    runLifeboat(args, {
      cwd: dir,
      env: { DATABASE_URL: databaseUrl(database), LIFEBOAT_QUEUE_PREFIX: queuePrefix },
      ...(input !== undefined ? { input } : {}),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-typo-'));
    await mkdir(join(dir, 'files'));
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    const config = (store: string) => `storage: { local: { path: ${store} } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  files: { targets: [files] }
`;
    await writeFile(join(dir, 'lifeboat.yaml'), config('./backups'));
    await writeFile(join(dir, 'fresh.yaml'), config('./fresh-backups'));
    const backup = await run(['backup', 'create', '--json'], realCatalog);
    expect(backup.code).toBe(0);
    backupId = String(lastJson(backup.stdout).id);
  }, 60_000);

  afterAll(async () => {
    for (const name of [realCatalog, typo, fresh, empty]) await dropDatabase(name);
    await obliterateQueue(queuePrefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to create a new catalog beside a store that holds backups, and says why', async () => {
    const result = await run(['backup', 'list', '--json'], typo);
    expect(result.code).toBe(2);
    const error = String(lastJson(result.stdout).error);
    expect(error).toContain(`there is no catalog database at ${databaseUrl(typo)}`);
    expect(error).toContain(`the store ${join(dir, 'backups')} holds backups (${backupId})`);
    expect(error).toContain('lifeboat catalog rebuild');
    expect(result.stderr).toContain('check DATABASE_URL');
    expect(await databaseExists(typo)).toBe(false);
  });

  it('still creates the catalog on a fresh install, saying so', async () => {
    const result = await run(['backup', 'list', '--config', 'fresh.yaml', '--json'], fresh);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`catalog: created the database ${databaseUrl(fresh)}`);
    expect(await databaseExists(fresh)).toBe(true);
  });

  it('says at start-up and in /status that the store holds backups an existing catalog does not know', async () => {
    await createDatabase(empty);
    const session = await run(['console', '--as', 'alice'], empty, '/status\n');
    expect(session.code).toBe(0);
    expect(session.stderr).toContain(
      `the store ${join(dir, 'backups')} holds 1 backup that the catalog does not know (${backupId})`,
    );
    const flat = session.stdout.replace(/\s+/g, ' ');
    expect(flat).toContain('holds 1 backup that the catalog does not know');
    expect(flat).toContain('lifeboat catalog rebuild');

    const status = await run(['status', '--json'], empty);
    expect(lastJson(status.stdout).unknownBackups).toMatchObject({ ids: [backupId] });

    const rebuilt = await run(['catalog', 'rebuild'], empty);
    expect(rebuilt.code).toBe(0);
    const after = await run(['status', '--json'], empty);
    expect(lastJson(after.stdout).unknownBackups).toMatchObject({ ids: [] });
  });
});
