import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from '../../../src/core/suggest.ts';

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
