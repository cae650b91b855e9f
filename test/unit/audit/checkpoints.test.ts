import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditKey, keyring, NO_AUDIT_KEYS } from '../../../src/audit/audit-keys.ts';
import type { AuditEntry, AuditEvent } from '../../../src/audit/audit-log.ts';
import {
  type AuditCheckpoint,
  checkpointKey,
  makeCheckpoint,
  parseCheckpoint,
  serialiseCheckpoint,
} from '../../../src/audit/checkpoints.ts';
import { chainEntry } from '../../../src/audit/hash-chain.ts';
import { type CheckpointRead, verifyAuditLog } from '../../../src/audit/verify-audit.ts';

const T0 = new Date('2026-11-22T10:00:00.000Z');
const KEY = new AuditKey(randomBytes(32));
const OTHER = new AuditKey(randomBytes(32));

function event(n: number): AuditEvent {
  return {
    identity: 'console:alice',
    platform: 'console',
    channel: null,
    action: 'command',
    command: `/status ${n}`,
    args: null,
    requestId: null,
    outcome: 'ok',
    detail: null,
  };
}

function chainOf(count: number, key: AuditKey | null): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let n = 1; n <= count; n++) {
    entries.push(chainEntry(entries.at(-1) ?? null, event(n), new Date(T0.getTime() + n), key));
  }
  return entries;
}

function read(checkpoint: AuditCheckpoint, store = 'local'): CheckpointRead {
  return { store, key: checkpointKey(checkpoint.seq), checkpoint };
}

const taken = new Date('2026-11-22T11:00:00.000Z');

describe('audit checkpoints', () => {
  it('are stored under zero-padded seqs and read back as written', () => {
    const chain = chainOf(3, KEY);
    const checkpoint = makeCheckpoint(chain[2] as AuditEntry, taken, KEY);
    expect(checkpointKey(3)).toBe('audit/checkpoints/00000000000000000003.json');
    expect(checkpoint).toMatchObject({ seq: 3, keyId: KEY.id, scheme: 'hmac-sha256' });
    expect(checkpoint.mac).toMatch(/^[0-9a-f]{64}$/);
    const text = Buffer.from(serialiseCheckpoint(checkpoint)).toString('utf8');
    expect(text).not.toContain(KEY.mac(''));
    expect(parseCheckpoint(text)).toEqual({ ok: true, checkpoint });
  });

  it('refuses what is not a checkpoint, saying why', () => {
    expect(parseCheckpoint('{')).toEqual({ ok: false, problem: 'it is not JSON' });
    expect(parseCheckpoint('{"format":"x"}')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('it is not an audit checkpoint'),
    });
    const unsigned = makeCheckpoint(chainOf(1, null)[0] as AuditEntry, taken, null);
    const text = JSON.parse(Buffer.from(serialiseCheckpoint(unsigned)).toString('utf8'));
    expect(parseCheckpoint(JSON.stringify({ ...text, keyId: KEY.id }))).toMatchObject({
      ok: false,
      problem: 'it has a key id without a MAC, or a MAC without a key id',
    });
  });
});

describe('verifying the log against its checkpoints', () => {
  it('says which checkpoint matched last when the log reaches every checkpoint', async () => {
    const chain = chainOf(6, KEY);
    const reads = [2, 5].map((seq) =>
      read(makeCheckpoint(chain[seq - 1] as AuditEntry, taken, KEY)),
    );
    const report = await verifyAuditLog(chain, keyring(KEY, []), reads);
    expect(report.ok).toBe(true);
    expect(report.findings).toEqual([]);
    expect(report.checkpoints).toMatchObject({ read: 2, signed: 2, unsigned: 0 });
    expect(report.checkpoints.latestMatching?.checkpoint.seq).toBe(5);
  });

  it('finds the tail cut back behind a checkpoint', async () => {
    const chain = chainOf(6, KEY);
    const reads = [read(makeCheckpoint(chain[4] as AuditEntry, taken, KEY))];
    const report = await verifyAuditLog(chain.slice(0, 3), keyring(KEY, []), reads);
    expect(report.ok).toBe(false);
    expect(report.chain.ok).toBe(true);
    expect(report.findings).toEqual([
      expect.stringMatching(
        /^checkpoint of entry 5 \(taken 2026-11-22T11:00:00.000Z\) in the local store: the log has no entry 5: .*truncated.* \(the log ends at entry 3\)$/,
      ),
    ]);
  });

  it('finds an entry at a checkpoint that no longer has the checkpointed hash', async () => {
    const chain = chainOf(4, null);
    const reads = [read(makeCheckpoint(chain[2] as AuditEntry, taken, null))];
    expect((await verifyAuditLog(chain, NO_AUDIT_KEYS, reads)).ok).toBe(true);
    // The whole log rewritten and recomputed: it checks from inside, not against the checkpoint.
    const other = [chainEntry(null, { ...event(1), outcome: 'refused' }, T0, null)];
    for (let n = 2; n <= 4; n++) {
      other.push(chainEntry(other.at(-1) ?? null, event(n), new Date(T0.getTime() + n), null));
    }
    const report = await verifyAuditLog(other, NO_AUDIT_KEYS, reads);
    expect(report.chain.ok).toBe(true);
    expect(report.findings).toEqual([
      expect.stringContaining("entry 3's hash is not the one checkpointed"),
    ]);
  });

  it('finds a forged checkpoint, and one signed with a key it does not hold', async () => {
    const chain = chainOf(3, KEY);
    const real = makeCheckpoint(chain[2] as AuditEntry, taken, KEY);
    const forged = { ...real, at: new Date('2020-01-01T00:00:00.000Z') };
    const elsewhere = makeCheckpoint(chain[1] as AuditEntry, taken, OTHER);
    const report = await verifyAuditLog(chain, keyring(KEY, []), [
      read(forged),
      read(elsewhere, 's3'),
    ]);
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([
      expect.stringContaining('its MAC does not match its contents'),
      expect.stringContaining(`signed with the audit key ${OTHER.id}, which is not given here`),
    ]);
    expect(report.checkpoints.latestMatching).toBeNull();
  });

  it('finds a keyed checkpoint whose entry is now unkeyed (the log rewritten without the key)', async () => {
    const keyed = chainOf(3, KEY);
    const checkpoint = makeCheckpoint(keyed[2] as AuditEntry, taken, KEY);
    const plain = chainOf(3, null);
    const report = await verifyAuditLog(plain, keyring(KEY, []), [read(checkpoint)]);
    expect(report.ok).toBe(false);
    expect(report.findings.join('\n')).toContain("entry 3's hash is not the one checkpointed");
  });

  it('reports a checkpoint that could not be read as a finding', async () => {
    const report = await verifyAuditLog(chainOf(1, null), NO_AUDIT_KEYS, [
      {
        store: 'local',
        key: 'audit/checkpoints/x.json',
        problem: 'its name is not that of a checkpoint',
      },
    ]);
    expect(report.findings).toEqual([
      'checkpoint audit/checkpoints/x.json in the local store cannot be used: its name is not that of a checkpoint',
    ]);
  });

  it('leaves checkpoints beyond a broken chain uncompared, reporting the break', async () => {
    const chain = chainOf(5, null);
    const reads = [read(makeCheckpoint(chain[4] as AuditEntry, taken, null))];
    chain.splice(2, 1);
    const report = await verifyAuditLog(chain, NO_AUDIT_KEYS, reads);
    expect(report.findings).toEqual([expect.stringContaining('entry 3 is missing')]);
    expect(report.checkpoints.unchecked).toBe(1);
  });
});
