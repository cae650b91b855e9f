import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  auditKeyId,
  MIN_AUDIT_KEY_BYTES,
  parseAuditKey,
  readAuditKeys,
} from '../../../src/audit/audit-keys.ts';
import { ConfigError } from '../../../src/core/errors.ts';

const bytes = randomBytes(32);

describe('audit keys from the environment', () => {
  it('reads a key as base64 or hex, naming it by a short hash that is not the key', () => {
    const fromBase64 = parseAuditKey(bytes.toString('base64'), 'X');
    const fromHex = parseAuditKey(bytes.toString('hex'), 'X');
    const fromUrlSafe = parseAuditKey(bytes.toString('base64url'), 'X');
    expect(fromBase64.id).toBe(auditKeyId(bytes));
    expect(fromHex.id).toBe(fromBase64.id);
    expect(fromUrlSafe.id).toBe(fromBase64.id);
    expect(fromBase64.id).toMatch(/^[0-9a-f]{16}$/);
    expect(bytes.toString('hex')).not.toContain(fromBase64.id);
    expect(fromBase64.mac('x')).toBe(fromHex.mac('x'));
  });

  it('never shows the key when logged, printed or serialised', () => {
    const written = bytes.toString('base64');
    const key = parseAuditKey(written, 'X');
    const shown = [JSON.stringify(key), inspect(key), String(Object.values(key))];
    for (const text of shown) {
      expect(text).not.toContain(written);
      expect(text).not.toContain(bytes.toString('hex'));
    }
    expect(JSON.stringify(key)).toBe(`{"id":"${key.id}"}`);
  });

  it('refuses a key shorter than 32 bytes, or not base64 or hex, without echoing it', () => {
    const short = randomBytes(MIN_AUDIT_KEY_BYTES - 1).toString('base64');
    expect(() => readAuditKeys({ LIFEBOAT_AUDIT_KEY: short })).toThrow(ConfigError);
    expect(() => readAuditKeys({ LIFEBOAT_AUDIT_KEY: short })).toThrow(
      /^LIFEBOAT_AUDIT_KEY: an audit key is at least 32 random bytes written as base64 or hex, e\.g\. .*\(got 31 bytes\)$/,
    );
    expect(() => readAuditKeys({ LIFEBOAT_AUDIT_KEY: 'correct horse battery staple!' })).toThrow(
      /\(got neither hex nor base64\)/,
    );
    try {
      readAuditKeys({ LIFEBOAT_AUDIT_KEY: short });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(short);
    }
  });

  it('has no key when none is set (empty counts as unset), and chains plainly then', () => {
    for (const env of [{}, { LIFEBOAT_AUDIT_KEY: '', LIFEBOAT_AUDIT_PREVIOUS_KEYS: '' }]) {
      const keys = readAuditKeys(env);
      expect(keys.current).toBeNull();
      expect(keys.ids).toEqual([]);
    }
  });

  it('reads the key from a file, and refuses both the key and its file, or a file it cannot read', () => {
    const written = `${bytes.toString('hex')}\n`;
    const keys = readAuditKeys({ LIFEBOAT_AUDIT_KEY_FILE: '/run/secrets/audit' }, (path) => {
      expect(path).toBe('/run/secrets/audit');
      return written;
    });
    expect(keys.current?.id).toBe(auditKeyId(bytes));
    expect(keys.secrets).toEqual([bytes.toString('hex')]);
    expect(() =>
      readAuditKeys({ LIFEBOAT_AUDIT_KEY: written, LIFEBOAT_AUDIT_KEY_FILE: '/x' }, () => written),
    ).toThrow('LIFEBOAT_AUDIT_KEY and LIFEBOAT_AUDIT_KEY_FILE are both set: set one of them');
    expect(() =>
      readAuditKeys({ LIFEBOAT_AUDIT_KEY_FILE: '/nope' }, () => {
        throw new Error('ENOENT: no such file');
      }),
    ).toThrow('LIFEBOAT_AUDIT_KEY_FILE: cannot read /nope: ENOENT: no such file');
  });

  it('holds previous keys by id after a rotation, and lists every key for redaction', () => {
    const old1 = randomBytes(32);
    const old2 = randomBytes(48);
    const keys = readAuditKeys({
      LIFEBOAT_AUDIT_KEY: bytes.toString('base64'),
      LIFEBOAT_AUDIT_PREVIOUS_KEYS: ` ${old1.toString('hex')},${old2.toString('base64')} `,
    });
    expect(keys.ids).toEqual([auditKeyId(bytes), auditKeyId(old1), auditKeyId(old2)]);
    expect(keys.byId(auditKeyId(old2))?.id).toBe(auditKeyId(old2));
    expect(keys.byId('0000000000000000')).toBeUndefined();
    expect(keys.secrets).toEqual([
      bytes.toString('base64'),
      old1.toString('hex'),
      old2.toString('base64'),
    ]);
    expect(() => readAuditKeys({ LIFEBOAT_AUDIT_PREVIOUS_KEYS: 'abcd' })).toThrow(
      /^LIFEBOAT_AUDIT_PREVIOUS_KEYS \(key 1\): an audit key is at least 32/,
    );
  });
});
