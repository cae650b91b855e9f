import { describe, expect, it } from 'vitest';
import {
  assertKeyPrefix,
  assertObjectKey,
  backupObjectKey,
  backupPrefix,
  objectKeyProblem,
  objectNameProblem,
} from '../../../src/storage/object-key.ts';

describe('validating object keys', () => {
  it.each([
    'bk_20261122T020000Z_full_7q3k/app-db.dump.zst',
    'bk_20261122T020000Z_full_7q3k/manifest.json',
    'single',
    'a/b/c/d.tar.gz',
    '.dotfile',
    'name with spaces/x',
  ])('accepts %j', (key) => {
    expect(objectKeyProblem(key)).toBeUndefined();
    expect(assertObjectKey(key)).toBe(key);
  });

  it.each([
    ['', /empty/],
    ['../etc/passwd', /"\.\."/],
    ['bk_a/../../x', /"\.\."/],
    ['bk_a/./x', /"\."/],
    ['/absolute/path', /relative/],
    ['bk_a//x', /empty segments/],
    ['bk_a/', /empty segments/],
    ['bk_a\\x', /\\/],
    ['bk_a/x\0y', /NUL/],
    ['bk_a/.app-db.dump.partial-k3j2', /temporary/],
    ['x'.repeat(1025), /1024/],
  ])('refuses %j', (key, why) => {
    expect(objectKeyProblem(key)).toMatch(why);
    expect(() => assertObjectKey(key)).toThrow(
      expect.objectContaining({ code: 'invalid_object_key' }),
    );
  });

  it('names the refused key in the error', () => {
    expect(() => assertObjectKey('../x')).toThrow('invalid object key "../x"');
  });
});

describe('validating list prefixes', () => {
  it.each(['', 'bk_a/', 'bk_a', 'bk_2026', 'bk_a/app'])('accepts %j', (prefix) => {
    expect(assertKeyPrefix(prefix)).toBe(prefix);
  });

  it.each(['../', '/abs', 'a/../', '//'])('refuses %j', (prefix) => {
    expect(() => assertKeyPrefix(prefix)).toThrow(
      expect.objectContaining({ code: 'invalid_object_key' }),
    );
  });
});

describe('building keys from names read from storage or the catalog', () => {
  const ID = 'bk_20261122T020000Z_full_7q3k';

  it('joins a backup id and an object name', () => {
    expect(backupObjectKey(ID, 'app-db.dump.zst')).toBe(`${ID}/app-db.dump.zst`);
    expect(backupPrefix(ID)).toBe(`${ID}/`);
    expect(objectNameProblem('app-db.dump.zst.age')).toBeUndefined();
  });

  it.each([
    ['nested/app-db.dump', /one segment/],
    ['..', /"\.\."/],
    ['.', /"\."/],
    ['', /empty/],
    ['a\\b', /\\/],
  ])('refuses the object name %j', (name, why) => {
    expect(objectNameProblem(name)).toMatch(why);
    expect(() => backupObjectKey(ID, name)).toThrow(
      expect.objectContaining({
        code: 'invalid_object_key',
        message: expect.stringContaining(`in backup ${ID}`),
      }),
    );
  });

  it.each(['..', 'bk_a/../x', '', 'bk_20261122T020000Z_full_7q3k/x'])(
    'refuses %j as a backup id',
    (id) => {
      expect(() => backupPrefix(id)).toThrow(
        expect.objectContaining({ code: 'invalid_object_key' }),
      );
      expect(() => backupObjectKey(id, 'manifest.json')).toThrow(
        expect.objectContaining({ code: 'invalid_object_key' }),
      );
    },
  );
});
