import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

/**
 * An approval covers what was approved, not a name: alice asks for a restore into shop-db while
 * SHOP_URL names one database; by the time carol approves, SHOP_URL names another. The restore
 * is refused, the other database is untouched, and the refusal is in the audit log. Real
 * Postgres, Redis, pg_dump and pg_restore, through the console as people type it.
 */

const REQUEST_ID = /apr_\d{8}T\d{6}Z_[0-9a-z]{6}/;

function requestIdIn(output: string): string {
  const id = REQUEST_ID.exec(output)?.[0];
  if (!id) throw new Error(`no approval request id in:\n${output}`);
  return id;
}

describe('an approval bound to the destination it approved', () => {
  let sandbox: LifeboatSandbox;
  let dir: string;
  let env: Record<string, string>;
  let catalogDb: string;
  const elsewhere = uniqueName('lb_elsewhere');

  const console = (user: string, lines: readonly string[], extra: Record<string, string> = {}) =>
    runLifeboat(['console', '--as', user], {
      cwd: dir,
      env: { ...env, ...extra },
      input: `${lines.join('\n')}\n`,
      timeoutMs: 120_000,
    });

  beforeAll(async () => {
    sandbox = await createSandbox('binding');
    ({ dir, env, catalogDb } = sandbox);
    await createDatabase(elsewhere);
    await sql('create table precious (id int primary key, note text)', elsewhere);
    await sql(`insert into precious values (1, 'must survive')`, elsewhere);
    env = { ...env, SHOP_URL: databaseUrl(sandbox.sourceDb) };
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
targets:
  shop-db: { kind: postgres, url: "\${SHOP_URL}", environment: production }
profiles:
  db: { targets: [shop-db] }
roles:
  oncall: ["console:alice"]
  dba: ["console:carol"]
policies:
  - { action: restore, environment: production, approvals: 1, approvers: [dba], expires: 30m }
`,
    );
    const backup = await console('alice', ['/backup create']);
    expect(backup.stdout).toContain('completed');
  }, 120_000);

  afterAll(async () => {
    await sandbox?.remove();
    await dropDatabase(elsewhere);
  });

  it('refuses the approved restore when the environment variable behind the URL changed, touching nothing', async () => {
    const asked = await console('alice', ['/restore latest']);
    expect(asked.code).toBe(3);
    const id = requestIdIn(asked.stdout);

    const approved = await console('carol', [`/approve ${id}`], {
      SHOP_URL: databaseUrl(elsewhere),
    });
    const said = approved.stdout.replace(/\s+/g, ' ');
    expect(said).toMatch(
      /shop-db was postgres \S+\/lb_binding\S* when the restore was asked for and is now postgres \S+\/lb_elsewhere/,
    );
    expect(said).toContain('nothing was changed');

    // The other database is exactly as it was: no restore wrote it.
    expect(await sql('select id, note from precious', elsewhere)).toEqual([
      { id: 1, note: 'must survive' },
    ]);
    const tables = await sql<{ n: string }>(
      `select count(*) as n from information_schema.tables where table_schema = 'public'`,
      elsewhere,
    );
    expect(Number(tables[0]?.n)).toBe(1);

    const [restore] = await sql<{ status: string; error: string }>(
      `select status, error from restores where authorized_by->>'request' = $1`,
      catalogDb,
      [id],
    );
    expect(restore?.status).toBe('failed');
    expect(restore?.error).toContain('is now postgres');
    const audited = await sql<{ action: string; outcome: string; detail: { code?: string } }>(
      `select action, outcome, detail from audit_log where action like 'restore.%' order by seq`,
      catalogDb,
    );
    const refused = audited.filter((e) => e.action === 'restore.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      outcome: 'refused',
      detail: { code: 'restore_destination_changed' },
    });
    expect(audited.map((e) => e.action)).not.toContain('restore.started');
  }, 180_000);
});
