import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditEvent } from '../../../src/audit/audit-log.ts';
import {
  canonicalJson,
  chainEntry,
  entryHash,
  GENESIS_HASH,
  verifyChain,
} from '../../../src/audit/hash-chain.ts';

const T0 = new Date('2026-11-22T10:00:00.000Z');

function event(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    identity: 'console:alice',
    platform: 'console',
    channel: 'ops',
    action: 'command',
    command: `/backup create db --note n${n}`,
    args: { profile: 'db', note: `n${n}` },
    requestId: null,
    outcome: 'completed',
    detail: { backup: `bk_${n}` },
    ...overrides,
  };
}

/** A chain of `count` entries, one second apart. */
function chainOf(count: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let n = 1; n <= count; n++) {
    entries.push(chainEntry(entries.at(-1) ?? null, event(n), new Date(T0.getTime() + n * 1000)));
  }
  return entries;
}

/** What jsonb does to a stored object: the same members, keys in another order. */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reordered(v)]),
  );
}

describe('canonical JSON', () => {
  it('sorts object keys at every depth, so key order never changes it', () => {
    const a = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } };
    expect(canonicalJson(a)).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson(reordered(a))).toBe(canonicalJson(a));
  });

  it('writes what JSON.stringify would: toJSON, undefined members left out, NaN as null', () => {
    const value = {
      when: new Date('2026-11-22T10:00:00.5Z'),
      gone: undefined,
      list: [undefined, Number.NaN, 'ü\n"'],
    };
    expect(canonicalJson(value)).toBe(
      '{"list":[null,null,"ü\\n\\""],"when":"2026-11-22T10:00:00.500Z"}',
    );
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('refuses what JSON cannot hold', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow(/contains itself/);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it('allows the same object twice when it is not its own ancestor', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('the hash of an entry', () => {
  it('is sha256 over the canonical JSON of its fields and the previous hash (pinned: stored chains depend on it)', () => {
    const entry = chainEntry(null, event(1), T0);
    const fields = {
      seq: 1,
      at: '2026-11-22T10:00:00.000Z',
      identity: 'console:alice',
      platform: 'console',
      channel: 'ops',
      action: 'command',
      command: '/backup create db --note n1',
      args: { profile: 'db', note: 'n1' },
      requestId: null,
      outcome: 'completed',
      detail: { backup: 'bk_1' },
      prevHash: GENESIS_HASH,
    };
    const canonical =
      '{"action":"command","args":{"note":"n1","profile":"db"},"at":"2026-11-22T10:00:00.000Z",' +
      '"channel":"ops","command":"/backup create db --note n1","detail":{"backup":"bk_1"},' +
      '"identity":"console:alice","outcome":"completed","platform":"console",' +
      `"prevHash":"${GENESIS_HASH}","requestId":null,"seq":1}`;
    expect(canonicalJson(fields)).toBe(canonical);
    expect(entry.hash).toBe(createHash('sha256').update(canonical).digest('hex'));
    // printf '%s' "$canonical" | sha256sum
    expect(entry.hash).toBe('4d938e767ae69a3a7cf0f3d68b601039e02d1dfb2a77c016277ba63abee3d637');
  });

  it('changes with any field', () => {
    const entry = chainEntry(null, event(1), T0);
    const { hash: _hash, ...fields } = entry;
    for (const change of [
      { seq: 2 },
      { at: new Date(T0.getTime() + 1) },
      { identity: 'console:mallory' },
      { channel: null },
      { outcome: 'failed' },
      { args: { profile: 'db', note: 'n2' } },
      { detail: null },
      { requestId: 'apr_1' },
      { prevHash: 'f'.repeat(64) },
    ]) {
      expect(entryHash({ ...fields, ...change })).not.toBe(entry.hash);
    }
  });
});

describe('chaining an entry', () => {
  it('starts at seq 1 after 64 zeros and links each entry to the one before', () => {
    const [first, second, third] = chainOf(3);
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(second).toMatchObject({ seq: 2, prevHash: first?.hash });
    expect(third).toMatchObject({ seq: 3, prevHash: second?.hash });
    expect(new Set([first?.hash, second?.hash, third?.hash]).size).toBe(3);
  });

  it('never stamps an entry earlier than the one before, when the clock steps back', () => {
    const first = chainEntry(null, event(1), T0);
    const second = chainEntry(first, event(2), new Date(T0.getTime() - 5000));
    expect(second.at).toEqual(T0);
  });

  it('keeps args and detail as JSON keeps them, so the hash survives a trip through jsonb', () => {
    const entry = chainEntry(
      null,
      event(1, { args: { at: new Date('2026-11-22T09:00:00Z'), gone: undefined, n: 1 } }),
      T0,
    );
    expect(entry.args).toEqual({ at: '2026-11-22T09:00:00.000Z', n: 1 });
    const fromJsonb = {
      ...entry,
      args: reordered(JSON.parse(JSON.stringify(entry.args))) as Record<string, unknown>,
    };
    expect(entryHash(fromJsonb)).toBe(entry.hash);
  });

  it('keeps a NUL, which PostgreSQL cannot store, as U+FFFD everywhere, hashed as stored', () => {
    const entry = chainEntry(
      null,
      event(1, {
        command: '/reject apr_1 no\u0000pe',
        args: { reason: 'no\u0000pe', nested: ['\u0000'] },
        detail: { why: 'x\u0000' },
        outcome: 'invalid\u0000',
      }),
      T0,
    );
    expect(entry.command).toBe('/reject apr_1 no\uFFFDpe');
    expect(entry.args).toEqual({ reason: 'no\uFFFDpe', nested: ['\uFFFD'] });
    expect(entry.detail).toEqual({ why: 'x\uFFFD' });
    expect(entry.outcome).toBe('invalid\uFFFD');
    expect(entryHash(entry)).toBe(entry.hash);
  });
});

describe('verifying a chain', () => {
  it('finds an empty log intact, with no head', async () => {
    expect(await verifyChain([])).toEqual({
      ok: true,
      entries: 0,
      head: null,
      keyed: 0,
      unkeyed: 0,
      lastUnkeyedSeq: null,
      currentKeyId: null,
    });
  });

  it('finds an untouched chain intact and reports its head', async () => {
    const chain = chainOf(5);
    expect(await verifyChain(chain)).toEqual({
      ok: true,
      entries: 5,
      head: { seq: 5, hash: chain[4]?.hash, at: chain[4]?.at },
      keyed: 0,
      unkeyed: 5,
      lastUnkeyedSeq: 5,
      currentKeyId: null,
    });
  });

  it('reads the entries as a stream', async () => {
    const chain = chainOf(3);
    async function* stream() {
      yield* chain;
    }
    expect(await verifyChain(stream())).toMatchObject({ ok: true, entries: 3 });
  });

  it('finds an entry whose fields were changed', async () => {
    const chain = chainOf(9);
    chain[6] = { ...(chain[6] as AuditEntry), outcome: 'refused' };
    expect(await verifyChain(chain)).toMatchObject({
      ok: false,
      entries: 6,
      brokenAt: 7,
      problem: 'entry 7 was changed after it was written (its hash does not match)',
    });
  });

  it('finds an entry whose hash was replaced', async () => {
    const chain = chainOf(4);
    chain[1] = { ...(chain[1] as AuditEntry), hash: 'a'.repeat(64) };
    expect(await verifyChain(chain)).toMatchObject({ ok: false, brokenAt: 2, entries: 1 });
  });

  it('finds an edit whose hash was recomputed at the entry after it', async () => {
    const chain = chainOf(10);
    const { hash: _hash, ...edited } = { ...(chain[7] as AuditEntry), identity: 'console:mallory' };
    chain[7] = { ...edited, hash: entryHash(edited) };
    expect(await verifyChain(chain)).toMatchObject({
      ok: false,
      entries: 8,
      brokenAt: 9,
      problem:
        "entry 9 does not follow entry 8 (its prev_hash is not entry 8's hash): entries were removed, inserted or reordered",
    });
  });

  it('finds a deleted entry by the gap it leaves', async () => {
    const chain = chainOf(14);
    chain.splice(11, 1);
    expect(await verifyChain(chain)).toMatchObject({
      ok: false,
      entries: 11,
      brokenAt: 13,
      problem: 'entry 12 is missing (the entries jump from 11 to 13)',
    });
  });

  it('names every missing entry of a run of deletions', async () => {
    const chain = chainOf(6);
    chain.splice(2, 2);
    expect(await verifyChain(chain)).toMatchObject({
      brokenAt: 5,
      problem: 'entries 3 to 4 are missing (the entries jump from 2 to 5)',
    });
  });

  it('finds the first entries deleted', async () => {
    const chain = chainOf(3).slice(1);
    expect(await verifyChain(chain)).toMatchObject({
      ok: false,
      entries: 0,
      brokenAt: 2,
      problem: 'entry 1 is missing (the log starts at entry 2)',
    });
  });

  it('finds a deletion hidden by renumbering the entries after it', async () => {
    const chain = chainOf(6);
    chain.splice(2, 1);
    const renumbered = chain.map((entry, i) => ({ ...entry, seq: i + 1 }));
    expect(await verifyChain(renumbered)).toMatchObject({
      ok: false,
      entries: 2,
      brokenAt: 3,
      problem: expect.stringContaining('entry 3 does not follow entry 2'),
    });
  });

  it('finds two entries whose contents were swapped, keeping their seqs', async () => {
    const chain = chainOf(9);
    const [eighth, ninth] = [chain[7] as AuditEntry, chain[8] as AuditEntry];
    chain[7] = { ...ninth, seq: 8 };
    chain[8] = { ...eighth, seq: 9 };
    expect(await verifyChain(chain)).toMatchObject({
      ok: false,
      entries: 7,
      brokenAt: 8,
      problem: expect.stringContaining('entry 8 does not follow entry 7'),
    });
  });

  it('finds entries given out of order', async () => {
    const chain = chainOf(4);
    const swapped = [chain[0], chain[2], chain[1], chain[3]] as AuditEntry[];
    expect(await verifyChain(swapped)).toMatchObject({
      ok: false,
      brokenAt: 3,
      problem: 'entry 2 is missing (the entries jump from 1 to 3)',
    });
    const repeated = [chain[0], chain[1], chain[1]] as AuditEntry[];
    expect(await verifyChain(repeated)).toMatchObject({
      brokenAt: 2,
      problem: 'entry 2 comes after entry 2: entries are repeated or out of order',
    });
  });

  it('finds a first entry that does not start the chain', async () => {
    const [first] = chainOf(1) as [AuditEntry];
    const { hash: _hash, ...fields } = { ...first, prevHash: 'b'.repeat(64) };
    expect(await verifyChain([{ ...fields, hash: entryHash(fields) }])).toMatchObject({
      ok: false,
      brokenAt: 1,
      problem: expect.stringContaining('entry 1 does not start the chain'),
    });
  });
});
