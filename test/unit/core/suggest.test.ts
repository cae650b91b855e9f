import { describe, expect, it } from 'vitest';
import { closestMatch, distanceWithin, editDistance } from '../../../src/core/suggest.ts';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swaps of neighbours', () => {
    expect(editDistance('backup', 'backup')).toBe(0);
    expect(editDistance('bakup', 'backup')).toBe(1);
    expect(editDistance('backups', 'backup')).toBe(1);
    expect(editDistance('bockup', 'backup')).toBe(1);
    expect(editDistance('bakcup', 'backup')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('distanceWithin', () => {
  it('agrees with editDistance up to the bound, and says "more" past it', () => {
    const words = [
      'backup',
      'bakup',
      'bakcup',
      'backups',
      'bockup',
      'restore',
      '',
      'b',
      'ab',
      'ba',
      'abc',
      'cab',
    ];
    for (const a of words) {
      for (const b of words) {
        for (const max of [0, 1, 2, 3]) {
          expect(distanceWithin(a, b, max), `${a} ~ ${b} within ${max}`).toBe(
            Math.min(editDistance(a, b), max + 1),
          );
        }
      }
    }
  });

  it('does not compare words whose lengths differ by more than the bound', () => {
    expect(distanceWithin('x'.repeat(10_000_000), 'backup', 2)).toBe(3);
  });
});

describe('closestMatch', () => {
  const words = [
    'backup',
    'restore',
    'approve',
    'reject',
    'approvals',
    'drill',
    'runbook',
    'status',
    'help',
  ];

  it('finds the word meant through a typo', () => {
    expect(closestMatch('bakup', words)).toBe('backup');
    expect(closestMatch('restroe', words)).toBe('restore');
    expect(closestMatch('STATUS', words)).toBe('status');
  });

  it('finds a word from a unique prefix', () => {
    expect(closestMatch('runb', words)).toBe('runbook');
  });

  it('allows fewer edits for short words', () => {
    expect(closestMatch('hlp', words)).toBe('help');
    expect(closestMatch('xyz', words)).toBeUndefined();
  });

  it('offers nothing for an unrelated word or no candidates', () => {
    expect(closestMatch('frobnicate', words)).toBeUndefined();
    expect(closestMatch('backup', [])).toBeUndefined();
  });
});
