import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupWarnings } from '../../src/backup/component-warnings.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import {
  createDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';

describe('what pg_dump says while it succeeds (real PostgreSQL)', () => {
  const database = uniqueName('lb_notices');
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'lifeboat-notices-'));
    await createDatabase(database);
    await sql(
      `create table a (id int primary key, b int);
       create table b (id int primary key, a int references a);
       alter table a add foreign key (b) references b;
       insert into a values (1, null); insert into b values (1, 1);`,
      database,
    );
  });

  afterAll(async () => {
    await dropDatabase(database);
    await rm(work, { recursive: true, force: true });
  });

  const backup = (pgDumpArgs: string[]) =>
    runBackup({
      id: `bk_20261122T020000Z_db_${pgDumpArgs.length}abc`,
      profile: 'db',
      note: null,
      requestedBy: 'console:alice',
      targets: [
        {
          name: 'app-db',
          config: {
            kind: 'postgres',
            url: databaseUrl(database),
            environment: 'staging',
            pgDumpArgs,
          },
        },
      ],
      compression: 'zstd',
      store: new LocalBackupStore({ root: join(work, 'store') }),
    });

  it('keeps its warnings as notices of the component, never swallowed', async () => {
    const manifest = await backup(['--data-only']);
    expect(manifest.components[0]?.warnings).toEqual([
      {
        kind: 'notice',
        message: expect.stringMatching(
          /^pg_dump: warning: there are circular foreign-key constraints among these tables: detail: a detail: b hint: You might not be able to restore/,
        ),
      },
    ]);
    // A notice is said, but the backup is whole: it is not `incomplete`.
    expect(backupWarnings(manifest).every((w) => w.kind === 'notice')).toBe(true);
  });

  it('has nothing to say when pg_dump says nothing', async () => {
    const manifest = await backup([]);
    expect(manifest.components[0]?.warnings).toEqual([]);
  });
});
