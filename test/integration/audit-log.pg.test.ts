import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditEvent } from '../../src/audit/audit-log.ts';
import { createAuditRepository } from '../../src/catalog/audit-repository.ts';
import { poolDatabase } from '../../src/catalog/database.ts';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { withDefaultUser } from '../../src/postgres/connection-url.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';

/**
 * The audit log in the real catalog: appends chain, the table refuses edits, and edits made
 * behind the trigger's back (as a superuser can) are found at the entry they touched.
 */

const created: { name: string; catalogs: Catalog[] }[] = [];

afterAll(async () => {
  for (const { name, catalogs } of created) {
    for (const catalog of catalogs) await catalog.close();
    await dropDatabase(name);
  }
});

/** A migrated catalog of its own, with `count` entries appended. */
async function catalogWith(count: number): Promise<{ catalog: Catalog; db: string }> {
  const db = uniqueName('lb_audit');
  const catalog = await openCatalog(databaseUrl(db));
  created.push({ name: db, catalogs: [catalog] });
  await catalog.migrate();
  for (let n = 1; n <= count; n++) await catalog.audit.append(event(n));
  return { catalog, db };
}

function event(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    identity: n % 2 ? 'console:alice' : 'slack:U012AB3CD',
    platform: n % 2 ? 'console' : 'slack',
    channel: n % 3 ? 'ops' : null,
    action: 'command',
    command: `/backup create db --note "n${n}"`,
    args: { profile: 'db', note: `n${n}`, flags: { replicate: true, n } },
    requestId: n % 4 ? null : `apr_${n}`,
    outcome: 'completed',
    detail: n % 5 ? { backup: `bk_${n}`, list: [1, 'two', null] } : null,
    ...overrides,
  };
}

async function collect(entries: AsyncIterable<AuditEntry>): Promise<AuditEntry[]> {
  const all: AuditEntry[] = [];
  for await (const entry of entries) all.push(entry);
  return all;
}

/** Runs `statement` as the superuser with triggers off, as someone covering their tracks would. */
function tamper(db: string, statement: string): Promise<unknown> {
  return sql(`SET session_replication_role = replica; ${statement}`, db);
}

describe('the audit log in the catalog', () => {
  it('appends entries 1, 2, 3 … chained to each other, and reads them back as appended', async () => {
    const { catalog } = await catalogWith(0);
    const appended: AuditEntry[] = [];
    for (let n = 1; n <= 6; n++) appended.push(await catalog.audit.append(event(n)));

    expect(appended.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(appended[0]?.prevHash).toBe('0'.repeat(64));
    expect(appended[3]?.prevHash).toBe(appended[2]?.hash);
    expect(await collect(catalog.audit.entries())).toEqual(appended);
    expect(await catalog.audit.verify()).toMatchObject({
      ok: true,
      entries: 6,
      head: { seq: 6, hash: appended[5]?.hash },
      unkeyed: 6,
      keyed: 0,
    });
    expect(await catalog.audit.head()).toEqual(appended[5]);
  });

  it('finds an empty log intact', async () => {
    const { catalog } = await catalogWith(0);
    expect(await catalog.audit.verify()).toMatchObject({ ok: true, entries: 0, head: null });
    expect(await catalog.audit.head()).toBeNull();
  });

  it('stores the time to the millisecond and the args as given, whatever jsonb does to key order', async () => {
    const { catalog, db } = await catalogWith(0);
    const entry = await catalog.audit.append(
      event(1, { args: { zeta: 1, alpha: { y: [2, { b: 1, a: 0 }], x: 'ü' }, aa: true } }),
    );
    const [row] = await sql<{ args: string; at: string }>(
      `SELECT args::text AS args, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at
         FROM audit_log`,
      db,
    );
    // jsonb keeps keys shortest first: not the order they were given or the order hashed.
    expect(row?.args).toBe(
      '{"aa": true, "zeta": 1, "alpha": {"x": "ü", "y": [2, {"a": 0, "b": 1}]}}',
    );
    expect(row?.at).toBe(`${entry.at.toISOString().slice(0, 23)}000`);
    expect(await catalog.audit.verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it('records an event whose text holds a NUL, which PostgreSQL text cannot store', async () => {
    const { catalog } = await catalogWith(0);
    const entry = await catalog.audit.append(
      event(1, { command: '/reject apr_1 a\u0000b', args: { reason: 'a\u0000b' } }),
    );
    expect(entry.command).toBe('/reject apr_1 a\uFFFDb');
    expect(await collect(catalog.audit.entries())).toEqual([entry]);
    expect(await catalog.audit.verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the table, saying it is append-only', async () => {
    const { db } = await catalogWith(3);
    await expect(sql(`UPDATE audit_log SET outcome = 'failed' WHERE seq = 2`, db)).rejects.toThrow(
      'the audit log is append-only: UPDATE on audit_log is refused',
    );
    await expect(sql('DELETE FROM audit_log WHERE seq = 3', db)).rejects.toThrow(
      'the audit log is append-only: DELETE on audit_log is refused',
    );
    await expect(sql('TRUNCATE audit_log', db)).rejects.toThrow(
      'the audit log is append-only: TRUNCATE on audit_log is refused',
    );
    const [count] = await sql<{ n: string }>('SELECT count(*) AS n FROM audit_log', db);
    expect(count?.n).toBe('3');
  });

  it('finds a row changed behind the trigger at that row', async () => {
    const { catalog, db } = await catalogWith(10);
    await tamper(db, `UPDATE audit_log SET identity = 'console:mallory' WHERE seq = 7`);
    expect(await catalog.audit.verify()).toMatchObject({
      ok: false,
      entries: 6,
      brokenAt: 7,
      problem: 'entry 7 was changed after it was written (its hash does not match)',
    });
  });

  it('finds a change to a row’s jsonb args', async () => {
    const { catalog, db } = await catalogWith(5);
    await tamper(db, `UPDATE audit_log SET args = args || '{"profile": "other"}' WHERE seq = 4`);
    expect(await catalog.audit.verify()).toMatchObject({ ok: false, brokenAt: 4 });
  });

  it('finds a deleted row in the middle', async () => {
    const { catalog, db } = await catalogWith(15);
    await tamper(db, 'DELETE FROM audit_log WHERE seq = 12');
    expect(await catalog.audit.verify()).toMatchObject({
      ok: false,
      entries: 11,
      brokenAt: 13,
      problem: 'entry 12 is missing (the entries jump from 11 to 13)',
    });
  });

  it('finds two rows whose contents were swapped', async () => {
    const { catalog, db } = await catalogWith(10);
    const columns = [
      'at',
      'identity',
      'platform',
      'channel',
      'action',
      'command',
      'args',
      'request_id',
      'outcome',
      'detail',
      'prev_hash',
      'hash',
    ];
    await tamper(
      db,
      `UPDATE audit_log t SET ${columns.map((c) => `${c} = s.${c}`).join(', ')}
         FROM audit_log s WHERE (t.seq, s.seq) IN ((8, 9), (9, 8))`,
    );
    expect(await catalog.audit.verify()).toMatchObject({
      ok: false,
      entries: 7,
      brokenAt: 8,
      problem:
        "entry 8 does not follow entry 7 (its prev_hash is not entry 7's hash): entries were removed, inserted or reordered",
    });
  });

  it('finds two rows whose seqs were swapped', async () => {
    const { catalog, db } = await catalogWith(6);
    await tamper(
      db,
      `UPDATE audit_log SET seq = 1000 WHERE seq = 3;
       UPDATE audit_log SET seq = 3 WHERE seq = 4;
       UPDATE audit_log SET seq = 4 WHERE seq = 1000`,
    );
    expect(await catalog.audit.verify()).toMatchObject({
      ok: false,
      entries: 2,
      brokenAt: 3,
      problem: expect.stringContaining('entry 3 does not follow entry 2'),
    });
  });

  it('never forks the chain when three processes append at once', async () => {
    const { catalog, db } = await catalogWith(0);
    const others = [await openCatalog(databaseUrl(db)), await openCatalog(databaseUrl(db))];
    created.at(-1)?.catalogs.push(...others);
    const writers = [catalog, ...others];
    await Promise.all(
      writers.flatMap((writer, w) =>
        Array.from({ length: 50 }, (_, n) =>
          writer.audit.append(event(n + 1, { identity: `console:writer${w}` })),
        ),
      ),
    );
    const entries = await collect(catalog.audit.entries());
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    for (let w = 0; w < 3; w++) {
      expect(entries.filter((e) => e.identity === `console:writer${w}`)).toHaveLength(50);
    }
    expect(await catalog.audit.verify()).toMatchObject({ ok: true, entries: 150 });
    const times = entries.map((e) => e.at.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('reads a page at a time, from a seq on, and since a time', async () => {
    const { db } = await catalogWith(0);
    const pool = new pg.Pool({ connectionString: withDefaultUser(databaseUrl(db)), max: 2 });
    try {
      let clock = new Date('2026-11-22T10:00:00.000Z');
      const audit = createAuditRepository(poolDatabase(pool), { now: () => clock, pageSize: 2 });
      for (let n = 1; n <= 7; n++) {
        await audit.append(event(n));
        clock = new Date(clock.getTime() + 3_600_000);
      }
      const all = await collect(audit.entries());
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(all.map((e) => e.at.toISOString().slice(11, 16))).toEqual([
        '10:00',
        '11:00',
        '12:00',
        '13:00',
        '14:00',
        '15:00',
        '16:00',
      ]);
      const since = await collect(audit.entries({ since: new Date('2026-11-22T13:00:00Z') }));
      expect(since.map((e) => e.seq)).toEqual([4, 5, 6, 7]);
      const after = await collect(audit.entries({ afterSeq: 5 }));
      expect(after.map((e) => e.seq)).toEqual([6, 7]);
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 7 });
    } finally {
      await pool.end();
    }
  });

  it('records nothing when an append fails, and the next append continues the chain', async () => {
    const { catalog, db } = await catalogWith(2);
    // The catalog refuses one insert, as a full disk or a lost connection would.
    await sql(
      `CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.identity = 'console:boom' THEN RAISE EXCEPTION 'the disk is full'; END IF;
         RETURN NEW;
       END $$;
       CREATE TRIGGER refuse_boom BEFORE INSERT ON audit_log
         FOR EACH ROW EXECUTE FUNCTION refuse_boom();`,
      db,
    );
    await expect(catalog.audit.append(event(3, { identity: 'console:boom' }))).rejects.toThrow(
      'the disk is full',
    );
    const next = await catalog.audit.append(event(4));
    expect(next.seq).toBe(3);
    expect(await catalog.audit.verify()).toMatchObject({ ok: true, entries: 3 });
  });
});
