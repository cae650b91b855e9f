import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../../src/config/profiles.ts';
import type { ProfileConfig } from '../../../src/config/schema.ts';
import { CommandError, UserFacingError } from '../../../src/core/errors.ts';

const profile: ProfileConfig = { targets: ['app-db'] };
const three = { full: profile, quick: profile, db: profile };

function errorOf(run: () => unknown): CommandError {
  try {
    run();
  } catch (error) {
    if (error instanceof CommandError) return error;
    throw error;
  }
  throw new Error('expected resolveProfile to throw');
}

describe('resolveProfile', () => {
  it('returns the name given when it is a profile', () => {
    expect(resolveProfile({ profiles: three, defaultProfile: 'full' }, 'db')).toBe('db');
  });

  it('falls back to defaultProfile when no name is given', () => {
    expect(resolveProfile({ profiles: three, defaultProfile: 'quick' }, undefined)).toBe('quick');
  });

  it('picks the only profile when there is one and no default', () => {
    expect(resolveProfile({ profiles: { nightly: profile } }, undefined)).toBe('nightly');
  });

  it('refuses to guess between several profiles without a default', () => {
    const error = errorOf(() => resolveProfile({ profiles: three }, undefined));
    expect(error.code).toBe('profile_required');
    expect(error.message).toBe(
      'no profile given and no defaultProfile set; profiles: full, quick, db',
    );
  });

  it('suggests the closest profile for a misspelt name', () => {
    const error = errorOf(() => resolveProfile({ profiles: three }, 'qiuck'));
    expect(error.code).toBe('unknown_profile');
    expect(error.message).toBe(
      'unknown profile "qiuck"; did you mean "quick"? profiles: full, quick, db',
    );
  });

  it('lists the profiles for a name nothing like them, as a user-facing error', () => {
    const error = errorOf(() => resolveProfile({ profiles: three }, 'weekly'));
    expect(error).toBeInstanceOf(UserFacingError);
    expect(error.message).toBe('unknown profile "weekly"; profiles: full, quick, db');
  });
});
