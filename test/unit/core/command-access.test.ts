import { describe, expect, it } from 'vitest';
import { decideAccess } from '../../../src/core/command-access.ts';

const roles = { dba: ['console:bob', 'slack:U012AB3CD'], oncall: ['console:alice'] };

describe('decideAccess', () => {
  it('lets everyone run everything when the config has no roles', () => {
    expect(
      decideAccess({ identity: 'console:eve', command: '/restore', gated: true, roles: undefined }),
    ).toEqual({
      allowed: true,
    });
  });

  it('reads an empty roles map as no roles yet', () => {
    expect(
      decideAccess({ identity: 'console:eve', command: '/restore', gated: true, roles: {} })
        .allowed,
    ).toBe(true);
  });

  it('lets a role holder run a gated command', () => {
    expect(
      decideAccess({ identity: 'console:alice', command: '/restore', gated: true, roles }).allowed,
    ).toBe(true);
    expect(
      decideAccess({ identity: 'slack:U012AB3CD', command: '/restore', gated: true, roles })
        .allowed,
    ).toBe(true);
  });

  it('refuses a gated command to someone without a role, naming the roles', () => {
    const decision = decideAccess({
      identity: 'console:eve',
      command: '/backup prune',
      gated: true,
      roles,
    });
    expect(decision.allowed).toBe(false);
    expect(!decision.allowed && decision.reason).toContain(
      '`/backup prune` is for people with a role (dba, oncall)',
    );
    expect(!decision.allowed && decision.reason).toContain('console:eve has none');
  });

  it('matches identities exactly, never by display name or platform alone', () => {
    expect(
      decideAccess({ identity: 'slack:bob', command: '/restore', gated: true, roles }).allowed,
    ).toBe(false);
  });

  it('leaves read-only commands open to everyone', () => {
    expect(
      decideAccess({ identity: 'console:eve', command: '/backup list', gated: false, roles })
        .allowed,
    ).toBe(true);
  });
});
