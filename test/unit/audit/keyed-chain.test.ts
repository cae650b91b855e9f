import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditKey, keyring, NO_AUDIT_KEYS } from '../../../src/audit/audit-keys.ts';
import type { AuditEntry, AuditEvent } from '../../../src/audit/audit-log.ts';
import { chainEntry, entryHash, GENESIS_HASH, verifyChain } from '../../../src/audit/hash-chain.ts';

const T0 = new Date('2026-11-22T10:00:00.000Z');
const KEY = new AuditKey(randomBytes(32));
const NEXT_KEY = new AuditKey(randomBytes(32));

function event(n: number): AuditEvent {
  return {
    identity: 'console:alice',
    platform: 'console',
    channel: 'ops',
    action: 'command',
    command: `/backup create db --note n${n}`,
    args: { note: `n${n}` },
    requestId: null,
    outcome: 'completed',
    detail: null,
  };
}

/** A chain whose entry n is chained with `keyFor(n)` (null: unkeyed). */
function chainOf(count: number, keyFor: (n: number) => AuditKey | null): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let n = 1; n <= count; n++) {
    const at = new Date(T0.getTime() + n * 1000);
    entries.push(chainEntry(entries.at(-1) ?? null, event(n), at, keyFor(n)));
  }
  return entries;
}

/** What the owner of the catalog can do without the key: recompute everything as sha256. */
function recomputedPlainly(entries: readonly AuditEntry[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const entry of entries) {
    const { hash: _hash, ...fields } = {
      ...entry,
      prevHash: out.at(-1)?.hash ?? GENESIS_HASH,
      scheme: 'sha256' as const,
      keyId: null,
    };
    out.push({ ...fields, hash: entryHash(fields) });
  }
  return out;
}

describe('a keyed audit chain', () => {
  it('chains with HMAC-SHA256 under the key, recording the scheme and the key id', async () => {
    const chain = chainOf(3, () => KEY);
    expect(chain.map((e) => [e.scheme, e.keyId])).toEqual([
      ['hmac-sha256', KEY.id],
      ['hmac-sha256', KEY.id],
      ['hmac-sha256', KEY.id],
    ]);
    const { hash, ...fields } = chain[1] as AuditEntry;
    expect(entryHash(fields, KEY)).toBe(hash);
    expect(() => entryHash(fields)).toThrow('its key is needed');
    expect(() => entryHash(fields, NEXT_KEY)).toThrow('its key is needed');
    expect(await verifyChain(chain, keyring(KEY, []))).toMatchObject({
      ok: true,
      entries: 3,
      keyed: 3,
      unkeyed: 0,
      currentKeyId: KEY.id,
    });
  });

  it('finds an edit recomputed with plain sha256 (the owner has no key)', async () => {
    const chain = chainOf(5, () => KEY);
    chain[2] = { ...(chain[2] as AuditEntry), identity: 'console:mallory' };
    const rewritten = recomputedPlainly(chain);
    expect(await verifyChain(rewritten, keyring(KEY, []))).toMatchObject({
      ok: false,
      brokenAt: 5,
      problem: expect.stringContaining('the newest entry (5) is chained without a key'),
    });
  });

  it('finds a keyed tail rewritten as sha256 after the unkeyed entries from before the key', async () => {
    const chain = chainOf(6, (n) => (n > 2 ? KEY : null));
    // Entries 1 and 2 stay as they were; 3 to 6 are recomputed as sha256 from there on.
    const rewritten = recomputedPlainly(chain);
    expect(rewritten.slice(0, 2)).toEqual(chain.slice(0, 2));
    expect(await verifyChain(rewritten, keyring(KEY, []))).toMatchObject({
      ok: false,
      brokenAt: 6,
      problem: expect.stringContaining('the newest entry (6) is chained without a key'),
    });
  });

  it('finds an unkeyed entry after keyed ones, whoever wrote it', async () => {
    const chain = chainOf(3, () => KEY);
    chain.push(chainEntry(chain[2] as AuditEntry, event(4), new Date(T0.getTime() + 4000), null));
    chain.push(chainEntry(chain[3] as AuditEntry, event(5), new Date(T0.getTime() + 5000), KEY));
    expect(await verifyChain(chain, keyring(KEY, []))).toMatchObject({
      ok: false,
      brokenAt: 4,
      entries: 3,
      problem: expect.stringContaining('entry 4 is chained without a key after keyed entries'),
    });
  });

  it('finds the keyed tail cut off back to the unkeyed entries from before the key', async () => {
    const chain = chainOf(5, (n) => (n > 2 ? KEY : null));
    expect((await verifyChain(chain, keyring(KEY, []))).ok).toBe(true);
    expect(await verifyChain(chain.slice(0, 2), keyring(KEY, []))).toMatchObject({
      ok: false,
      brokenAt: 2,
      problem: expect.stringContaining('the newest entry (2) is chained without a key'),
    });
  });

  it('verifies a log keyed after it began, and across a rotation, with the previous key', async () => {
    const chain = chainOf(7, (n) => (n <= 2 ? null : n <= 4 ? KEY : NEXT_KEY));
    const result = await verifyChain(chain, keyring(NEXT_KEY, [KEY]));
    expect(result).toMatchObject({
      ok: true,
      entries: 7,
      keyed: 5,
      unkeyed: 2,
      lastUnkeyedSeq: 2,
      currentKeyId: NEXT_KEY.id,
    });
    expect(await verifyChain(chain, keyring(NEXT_KEY, []))).toMatchObject({
      ok: false,
      brokenAt: 3,
      problem: expect.stringContaining(
        `chained with the audit key ${KEY.id}, which is not given here`,
      ),
    });
  });

  it('checks an unkeyed log without a key as before, and says what it is', async () => {
    const chain = chainOf(3, () => null);
    expect(await verifyChain(chain, NO_AUDIT_KEYS)).toMatchObject({
      ok: true,
      keyed: 0,
      unkeyed: 3,
      currentKeyId: null,
    });
  });

  it('finds a keyed entry whose scheme or key id was changed', async () => {
    const chain = chainOf(3, () => KEY);
    chain[1] = { ...(chain[1] as AuditEntry), keyId: NEXT_KEY.id };
    expect(await verifyChain(chain, keyring(KEY, [NEXT_KEY]))).toMatchObject({
      ok: false,
      brokenAt: 2,
      problem: expect.stringContaining('entry 2 was changed after it was written'),
    });
  });
});
