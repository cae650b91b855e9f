import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.ts';
import { generateAgeIdentity } from '../../../src/crypto/age/index.ts';
import { loadAgeIdentities } from '../../../src/crypto/age-identities.ts';

const one = generateAgeIdentity();
const two = generateAgeIdentity();

function configError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadAgeIdentities', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-age-identities-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns none when neither variable is set, or both are empty', () => {
    expect(loadAgeIdentities({})).toEqual([]);
    expect(
      loadAgeIdentities({ LIFEBOAT_AGE_IDENTITY: '', LIFEBOAT_AGE_IDENTITY_FILE: '' }),
    ).toEqual([]);
  });

  it('reads several identities from LIFEBOAT_AGE_IDENTITY, with comments and blank lines', () => {
    const identities = loadAgeIdentities({
      LIFEBOAT_AGE_IDENTITY: `# created: 2026-01-01\n# public key: ${one.recipient}\n${one.identity}\n\n  ${two.identity}  \r\n`,
    });
    expect(identities.map((identity) => identity.recipient)).toEqual([
      one.recipient,
      two.recipient,
    ]);
  });

  it('reads an identity file as age-keygen writes it', async () => {
    const file = join(dir, 'keys.txt');
    await writeFile(
      file,
      `# created: 2026-01-01T00:00:00Z\n# public key: ${two.recipient}\n${two.identity}\n`,
    );
    const identities = loadAgeIdentities({ LIFEBOAT_AGE_IDENTITY_FILE: file });
    expect(identities.map((identity) => identity.recipient)).toEqual([two.recipient]);
  });

  it('takes both the variable and the file when both are set', async () => {
    const file = join(dir, 'both.txt');
    await writeFile(file, `${two.identity}\n`);
    const identities = loadAgeIdentities({
      LIFEBOAT_AGE_IDENTITY: one.identity,
      LIFEBOAT_AGE_IDENTITY_FILE: file,
    });
    expect(identities.map((identity) => identity.recipient)).toEqual([
      one.recipient,
      two.recipient,
    ]);
  });

  it('names the variable and the line of a malformed identity, never the key', () => {
    const damaged = `${one.identity.slice(0, -1)}${one.identity.endsWith('Q') ? 'P' : 'Q'}`;
    const error = configError(() =>
      loadAgeIdentities({ LIFEBOAT_AGE_IDENTITY: `# mine\n${two.identity}\n${damaged}\n` }),
    );
    expect(error.message).toMatch(/^LIFEBOAT_AGE_IDENTITY: line 3: not a valid age identity/);
    expect(error.message).not.toContain(damaged.slice(16));
    expect(error.message).not.toContain(two.identity.slice(16));
  });

  it('refuses a public recipient where an identity belongs', () => {
    const error = configError(() => loadAgeIdentities({ LIFEBOAT_AGE_IDENTITY: one.recipient }));
    expect(error.message).toMatch(/LIFEBOAT_AGE_IDENTITY: line 1: .*AGE-SECRET-KEY-1/);
  });

  it('refuses a variable or file with only comments', async () => {
    expect(
      configError(() => loadAgeIdentities({ LIFEBOAT_AGE_IDENTITY: '# nothing\n' })).message,
    ).toMatch(/LIFEBOAT_AGE_IDENTITY: it holds no AGE-SECRET-KEY-1/);
    const file = join(dir, 'empty.txt');
    await writeFile(file, '# nothing here\n\n');
    expect(configError(() => loadAgeIdentities({ LIFEBOAT_AGE_IDENTITY_FILE: file })).message).toBe(
      `LIFEBOAT_AGE_IDENTITY_FILE (${file}): it holds no AGE-SECRET-KEY-1… line, only blanks and # comments`,
    );
  });

  it('names a missing identity file', () => {
    const file = join(dir, 'missing.txt');
    const error = configError(() => loadAgeIdentities({ LIFEBOAT_AGE_IDENTITY_FILE: file }));
    expect(error.message).toBe(
      `LIFEBOAT_AGE_IDENTITY_FILE: cannot read the identity file ${file} (ENOENT)`,
    );
    expect(error.issues).toEqual([error.message]);
  });
});
