import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-log.ts';
import { canonicalJson } from '../../src/audit/hash-chain.ts';
import { createAuditRepository } from '../../src/catalog/audit-repository.ts';
import { poolDatabase } from '../../src/catalog/database.ts';
import { openCatalog } from '../../src/catalog/open-catalog.ts';
import { withDefaultUser } from '../../src/postgres/connection-url.ts';
import {
  createDatabase,
  databaseExists,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';

/**
 * `lifeboat audit verify` and `lifeboat audit export` as an operator or a SIEM collector runs
 * them: the real command, only DATABASE_URL set (no config file, so no checkpoints; no Redis).
 * Keys and checkpoints: audit-tamper.pg.test.ts.
 */

const databases: string[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-audit-'));
});

afterAll(async () => {
  for (const name of databases) await dropDatabase(name);
  await rm(dir, { recursive: true, force: true });
});

function event(n: number): AuditEvent {
  return {
    identity: 'console:alice',
    platform: 'console',
    channel: 'ops',
    action: n === 2 ? 'approval.requested' : 'command',
    command: `/restore latest --profile db --note n${n}`,
    args: { profile: 'db', backup: 'latest', note: `n${n}` },
    requestId: n === 2 ? 'apr_20261122T100000Z_abc123' : null,
    outcome: 'completed',
    detail: { n },
  };
}

/** A migrated catalog holding an audit log whose entries were appended at `times`. */
async function catalogWithEntriesAt(times: readonly Date[]): Promise<string> {
  const name = uniqueName('lb_auditcli');
  databases.push(name);
  const catalog = await openCatalog(databaseUrl(name));
  try {
    await catalog.migrate();
  } finally {
    await catalog.close();
  }
  const pool = new pg.Pool({ connectionString: withDefaultUser(databaseUrl(name)), max: 1 });
  try {
    let at = new Date(0);
    const audit = createAuditRepository(poolDatabase(pool), { now: () => at });
    for (const [i, time] of times.entries()) {
      at = time;
      await audit.append(event(i + 1));
    }
  } finally {
    await pool.end();
  }
  return name;
}

const audit = (name: string, args: readonly string[]) =>
  runLifeboat(['audit', ...args], { cwd: dir, env: { DATABASE_URL: databaseUrl(name) } });

function lines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('lifeboat audit on an intact log', () => {
  let name: string;
  const now = Date.now();

  beforeAll(async () => {
    name = await catalogWithEntriesAt([
      new Date('2024-01-01T00:00:00.000Z'),
      new Date('2024-01-02T00:00:00.000Z'),
      new Date('2024-01-03T00:00:00.000Z'),
      new Date(now - 60_000),
      new Date(now),
    ]);
  });

  it('verify says the log is intact, with its length and head, and what it could not check, and exits 0', async () => {
    const [head] = await sql<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = 5', name);
    const result = await audit(name, ['verify']);
    expect(result.stdout).toBe(
      'audit log intact: 5 entries, unkeyed chain intact\n' +
        `head: entry 5 at ${new Date(now).toISOString()}, hash ${head?.hash}\n` +
        'chain: UNKEYED (plain sha256): it detects accidental damage and edits that do not recompute the chain, not someone with write access to the catalog who recomputes it; set LIFEBOAT_AUDIT_KEY to key new entries\n' +
        'audit key: none (LIFEBOAT_AUDIT_KEY is not set: new entries are unkeyed)\n' +
        'checkpoints: not read (no configuration file (no --config, no LIFEBOAT_CONFIG, no ./lifeboat.yaml), so no store to read them from), so a tail cut off the log cannot be detected\n',
    );
    expect(result.code).toBe(0);
  });

  it('verify --json prints the verification as one JSON line', async () => {
    const [head] = await sql<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = 5', name);
    const result = await audit(name, ['verify', '--json']);
    expect(JSON.parse(result.stdout)).toEqual({
      status: 'ok',
      ok: true,
      entries: 5,
      keyed: 0,
      unkeyed: 5,
      currentKeyId: null,
      headSeq: 5,
      headHash: head?.hash,
      checkpoints: { read: 0, signed: 0, unsigned: 0, unchecked: 0, latestMatching: null },
      checkpointsUnavailable: expect.stringContaining('no configuration file'),
      findings: [],
    });
    expect(result.stderr).toContain('audit log intact: 5 entries');
    expect(result.code).toBe(0);
  });

  it('export writes every entry as a JSON line that a SIEM can check on its own', async () => {
    const result = await audit(name, ['export']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('exported 5 entries');
    const exported = lines(result.stdout);
    expect(exported.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(Object.keys(exported[1] ?? {})).toEqual([
      'seq',
      'at',
      'identity',
      'platform',
      'channel',
      'action',
      'command',
      'args',
      'requestId',
      'outcome',
      'detail',
      'prevHash',
      'scheme',
      'keyId',
      'hash',
    ]);
    expect(exported[1]).toMatchObject({
      at: '2024-01-02T00:00:00.000Z',
      identity: 'console:alice',
      action: 'approval.requested',
      requestId: 'apr_20261122T100000Z_abc123',
      args: { profile: 'db', backup: 'latest', note: 'n2' },
      detail: { n: 2 },
    });
    let previous = '0'.repeat(64);
    for (const { hash, scheme, keyId, ...fields } of exported) {
      expect([scheme, keyId]).toEqual(['sha256', null]);
      expect(fields.prevHash).toBe(previous);
      expect(createHash('sha256').update(canonicalJson(fields)).digest('hex')).toBe(hash);
      previous = String(hash);
    }
  });

  it('export --since a date, a time with an offset or a duration writes only the entries since then', async () => {
    const seqs = async (since: string) => {
      const result = await audit(name, ['export', '--since', since]);
      expect(result.code).toBe(0);
      return lines(result.stdout).map((e) => e.seq);
    };
    expect(await seqs('2024-01-02')).toEqual([2, 3, 4, 5]);
    expect(await seqs('2024-01-02T12:00:00+01:00')).toEqual([3, 4, 5]);
    expect(await seqs('1h')).toEqual([4, 5]);
    expect(await seqs('2099-01-01')).toEqual([]);
  });

  it('export refuses a TIME it cannot read with exit 2, saying what it takes', async () => {
    const result = await audit(name, ['export', '--since', 'last-week']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--since "last-week" is not a date, a time or a duration');
    expect(result.stderr).toContain('24h, 7d');
  });
});

describe('lifeboat audit verify on a broken log', () => {
  it('names the first broken entry and how many were checked before it, and exits 1', async () => {
    const name = await catalogWithEntriesAt(
      Array.from({ length: 6 }, (_, i) => new Date(Date.UTC(2024, 0, 1, i))),
    );
    await sql('SET session_replication_role = replica; DELETE FROM audit_log WHERE seq = 3', name);

    const result = await audit(name, ['verify']);
    expect(result.stdout).toContain(
      'audit log NOT intact: 1 finding\n' +
        '  - audit log broken at entry 4: entry 3 is missing (the entries jump from 2 to 4)\n' +
        '2 entries checked\n',
    );
    expect(result.code).toBe(1);

    const json = await audit(name, ['verify', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'failed',
      error: 'audit log broken at entry 4: entry 3 is missing (the entries jump from 2 to 4)',
      ok: false,
      entries: 2,
      brokenAt: 4,
      problem: 'entry 3 is missing (the entries jump from 2 to 4)',
      findings: ['audit log broken at entry 4: entry 3 is missing (the entries jump from 2 to 4)'],
    });
    expect(json.code).toBe(1);
  });
});

describe('lifeboat audit without an audit log', () => {
  it('says the catalog database does not exist, and does not create it', async () => {
    const name = uniqueName('lb_auditnone');
    databases.push(name);
    const result = await audit(name, ['verify']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`there is no catalog database at ${databaseUrl(name)}`);
    expect(await databaseExists(name)).toBe(false);
  });

  it('says to migrate a catalog that has no audit log yet', async () => {
    const name = uniqueName('lb_auditold');
    databases.push(name);
    await createDatabase(name);
    const result = await audit(name, ['export']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('has no audit log yet: run `lifeboat migrate` first');
  });

  it('verify of a migrated catalog with no entries finds it intact and empty', async () => {
    const name = await catalogWithEntriesAt([]);
    const result = await audit(name, ['verify']);
    expect(result.stdout).toContain('audit log intact: 0 entries, the log is empty\n');
    expect(result.code).toBe(0);
  });
});
