import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditKeys } from '../../src/audit/audit-keys.ts';
import { auditEvent } from '../../src/audit/audit-recorder.ts';
import { entryHash } from '../../src/audit/hash-chain.ts';
import { openCatalog } from '../../src/catalog/open-catalog.ts';
import { withDefaultUser } from '../../src/postgres/connection-url.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';

/**
 * The audit log against the owner of the catalog database: someone who can rewrite every row
 * (triggers off, as a superuser can) and recompute the plain sha256 chain, but holds neither
 * the audit key nor write access to the backup store. The real `lifeboat` runs against real
 * PostgreSQL and a local store; the tampering is done in SQL, as such a person would.
 */

const KEY = randomBytes(32).toString('base64');
const OTHER_KEY = randomBytes(32).toString('hex');

let dir: string;
const databases: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-audit-tamper-'));
});

afterAll(async () => {
  for (const name of databases) await dropDatabase(name);
  await rm(dir, { recursive: true, force: true });
});

/** A fresh catalog database, its own store directory, and `lifeboat` run against both. */
async function setUp(label: string) {
  const name = uniqueName(`lb_audtamper${label}`);
  databases.push(name);
  const storeDir = await mkdtemp(join(dir, 'store-'));
  const config = join(dir, `${name}.yaml`);
  await writeFile(
    config,
    `storage:
  local: { path: ${storeDir} }
  primary: local
targets:
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  files: { targets: [files] }
`,
  );
  const run = (args: readonly string[], env: Record<string, string> = {}) =>
    runLifeboat([...args, '--config', config], {
      cwd: dir,
      env: { DATABASE_URL: databaseUrl(name), ...env },
    });
  return { name, storeDir, run };
}

/**
 * Appends `count` entries as a Lifeboat process with `env` would: the catalog migrated, the
 * keys read from the environment, each append chained to the last.
 */
async function appendEntries(
  name: string,
  count: number,
  env: Record<string, string> = {},
): Promise<void> {
  const catalog = await openCatalog(databaseUrl(name), { auditKeys: readAuditKeys(env) });
  try {
    await catalog.migrate();
    for (let i = 0; i < count; i++) {
      await catalog.audit.append(
        auditEvent({
          identity: 'console:alice',
          platform: 'console',
          action: 'command',
          command: `/backup list --limit ${i + 1}`,
          args: { limit: i + 1 },
          outcome: 'ok',
        }),
      );
    }
  } finally {
    await catalog.close();
  }
}

interface Row {
  seq: string;
  at: Date;
  identity: string;
  platform: string;
  channel: string | null;
  action: string;
  command: string | null;
  args: Record<string, unknown> | null;
  request_id: string | null;
  outcome: string;
  detail: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

/**
 * What the owner of the catalog can do: change the rows as they please, then renumber and
 * recompute the whole chain as plain sha256 (they have no key), and write it back with the
 * append-only triggers off. Without a key and checkpoints this passes `audit verify`.
 */
async function rewriteAsOwner(name: string, change: (rows: Row[]) => Row[]): Promise<void> {
  const rows = change(await sql<Row>('SELECT * FROM audit_log ORDER BY seq', name));
  let prevHash = '0'.repeat(64);
  const values: string[] = [];
  const params: unknown[] = [];
  rows.forEach((row, index) => {
    const entry = {
      seq: index + 1,
      at: row.at,
      identity: row.identity,
      platform: row.platform,
      channel: row.channel,
      action: row.action,
      command: row.command,
      args: row.args,
      requestId: row.request_id,
      outcome: row.outcome,
      detail: row.detail,
      prevHash,
      scheme: 'sha256' as const,
      keyId: null,
    };
    const hash = entryHash(entry);
    const at = params.length;
    values.push(
      `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}, $${at + 6}, $${at + 7}, $${at + 8}::jsonb, $${at + 9}, $${at + 10}, $${at + 11}::jsonb, $${at + 12}, $${at + 13})`,
    );
    params.push(
      entry.seq,
      entry.at,
      entry.identity,
      entry.platform,
      entry.channel,
      entry.action,
      entry.command,
      entry.args === null ? null : JSON.stringify(entry.args),
      entry.requestId,
      entry.outcome,
      entry.detail === null ? null : JSON.stringify(entry.detail),
      entry.prevHash,
      hash,
    );
    prevHash = hash;
  });
  const client = new pg.Client({ connectionString: withDefaultUser(databaseUrl(name)) });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query('DELETE FROM audit_log');
    if (values.length) {
      await client.query(
        `INSERT INTO audit_log (seq, at, identity, platform, channel, action, command, args, request_id, outcome, detail, prev_hash, hash) VALUES ${values.join(', ')}`,
        params,
      );
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

const withKey = { LIFEBOAT_AUDIT_KEY: KEY };

describe('lifeboat audit verify against the owner of the catalog', () => {
  it('finds a row edited and the plain sha256 chain recomputed, when the chain is keyed', async () => {
    const { name, run } = await setUp('edit');
    await appendEntries(name, 4, withKey);
    expect((await run(['audit', 'verify'], withKey)).code).toBe(0);

    await rewriteAsOwner(name, (rows) =>
      rows.map((row) => (row.seq === '2' ? { ...row, identity: 'console:mallory' } : row)),
    );
    const result = await run(['audit', 'verify'], withKey);
    expect(result.stdout).toContain('audit log NOT intact');
    expect(result.stdout).toContain('the newest entry (4) is chained without a key');
    expect(result.code).toBe(1);
  });

  it('finds a keyed row edited in place', async () => {
    const { name, run } = await setUp('editkeyed');
    await appendEntries(name, 3, withKey);
    await sql(
      `BEGIN; SET LOCAL session_replication_role = replica;
       UPDATE audit_log SET outcome = 'refused' WHERE seq = 2; COMMIT`,
      name,
    );
    const result = await run(['audit', 'verify', '--json'], withKey);
    const json = JSON.parse(result.stdout);
    expect(json.status).toBe('failed');
    expect(json.brokenAt).toBe(2);
    expect(json.error).toContain('entry 2 was changed after it was written');
    expect(result.code).toBe(1);
  });

  it('finds a deleted middle row, whatever the owner recomputes', async () => {
    const { name, run } = await setUp('delete');
    await appendEntries(name, 5, withKey);
    // Deleted and left as is: the numbers jump.
    await sql(
      'BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM audit_log WHERE seq = 3; COMMIT',
      name,
    );
    const gap = await run(['audit', 'verify'], withKey);
    expect(gap.stdout).toContain('entry 3 is missing');
    expect(gap.code).toBe(1);
    // Renumbered and recomputed: the keyed chain cannot be rebuilt without the key.
    await rewriteAsOwner(name, (rows) => rows);
    const recomputed = await run(['audit', 'verify'], withKey);
    expect(recomputed.stdout).toContain('audit log NOT intact');
    expect(recomputed.code).toBe(1);
  });

  it('finds the tail cut off behind a checkpoint', async () => {
    const { name, run, storeDir } = await setUp('cut');
    await appendEntries(name, 3, withKey);
    const checkpoint = await run(['audit', 'checkpoint', '--json'], withKey);
    expect(checkpoint.code).toBe(0);
    const taken = JSON.parse(checkpoint.stdout);
    // The checkpoint command records itself first: the head is its entry, 4.
    expect(taken.checkpoint.seq).toBe(4);
    const files = await readdir(join(storeDir, 'audit', 'checkpoints'));
    expect(files).toEqual(['00000000000000000004.json']);

    const intact = await run(['audit', 'verify'], withKey);
    expect(intact.stdout).toMatch(
      /^audit log intact: \d+ entries, keyed chain intact, latest checkpoint seq 4 at \S+ matches\n/,
    );
    expect(intact.code).toBe(0);

    // The owner cuts the log back to entry 2: what is left is an intact keyed chain.
    await sql(
      'BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM audit_log WHERE seq > 2; COMMIT',
      name,
    );
    const cut = await run(['audit', 'verify', '--json'], withKey);
    const json = JSON.parse(cut.stdout);
    expect(json.status).toBe('failed');
    expect(json.entries).toBe(2);
    expect(json.findings).toEqual([expect.stringContaining('the log has no entry 4')]);
    expect(cut.stderr).toContain('truncated');
    expect(cut.code).toBe(1);
  });

  it('finds a rewrite of an unkeyed log behind an (unsigned) checkpoint', async () => {
    const { name, run } = await setUp('plaincut');
    await appendEntries(name, 3);
    expect((await run(['audit', 'checkpoint'])).code).toBe(0);
    await rewriteAsOwner(name, (rows) =>
      rows.map((row) => (row.seq === '1' ? { ...row, outcome: 'refused' } : row)),
    );
    const result = await run(['audit', 'verify']);
    expect(result.stdout).toContain("entry 4's hash is not the one checkpointed");
    expect(result.code).toBe(1);
  });

  it('still verifies after the key is introduced on an existing log and then rotated', async () => {
    const { name, run } = await setUp('rotate');
    await appendEntries(name, 2);
    await appendEntries(name, 2, withKey);
    expect((await run(['audit', 'checkpoint'], withKey)).code).toBe(0);
    const rotated = { LIFEBOAT_AUDIT_KEY: OTHER_KEY, LIFEBOAT_AUDIT_PREVIOUS_KEYS: KEY };
    await appendEntries(name, 2, rotated);
    expect((await run(['audit', 'checkpoint'], rotated)).code).toBe(0);

    const result = await run(['audit', 'verify', '--json'], rotated);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ status: 'ok', unkeyed: 2, keyed: 6, findings: [] });
    expect(json.checkpoints).toMatchObject({ read: 2, signed: 2, unsigned: 0 });
    expect(result.stderr).toContain('entries 1 to 2 are unkeyed');
    expect(result.code).toBe(0);

    // Without the old key, its entries and checkpoint cannot be checked: said, and exit 1.
    const forgotten = await run(['audit', 'verify'], { LIFEBOAT_AUDIT_KEY: OTHER_KEY });
    expect(forgotten.stdout).toContain('which is not given here, so it cannot be checked');
    expect(forgotten.code).toBe(1);
  });

  it('works with no key, and says the chain is unkeyed and what that means', async () => {
    const { name, run } = await setUp('nokey');
    await appendEntries(name, 2);
    const result = await run(['audit', 'verify']);
    expect(result.stdout).toMatch(/^audit log intact: 2 entries, unkeyed chain intact\n/);
    expect(result.stdout).toContain('chain: UNKEYED (plain sha256)');
    expect(result.stdout).toContain('not someone with write access to the catalog');
    expect(result.stdout).toContain('audit key: none');
    expect(result.stdout).toContain('checkpoints: none in the stores yet');
    expect(result.code).toBe(0);
  });

  it('finds a forged checkpoint: one whose MAC does not match its contents', async () => {
    const { name, run, storeDir } = await setUp('forged');
    await appendEntries(name, 2, withKey);
    expect((await run(['audit', 'checkpoint'], withKey)).code).toBe(0);
    const file = join(storeDir, 'audit', 'checkpoints', '00000000000000000003.json');
    const stored = JSON.parse(await readFile(file, 'utf8'));
    // Someone with write access to the store but not the key moves the checkpoint back in time.
    await writeFile(file, JSON.stringify({ ...stored, at: '2020-01-01T00:00:00.000Z' }));
    const result = await run(['audit', 'verify'], withKey);
    expect(result.stdout).toContain('its MAC does not match its contents');
    expect(result.code).toBe(1);
  });

  it('refuses a key that is too short, naming the variable and what a key is, without echoing it', async () => {
    const { name, run } = await setUp('shortkey');
    await appendEntries(name, 1);
    const short = randomBytes(16).toString('base64');
    const result = await run(['audit', 'verify'], { LIFEBOAT_AUDIT_KEY: short });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('LIFEBOAT_AUDIT_KEY: an audit key is at least 32 random bytes');
    expect(result.stderr).toContain('got 16 bytes');
    expect(result.stderr).not.toContain(short);
  });
});
