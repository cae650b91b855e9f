import { describe, expect, it } from 'vitest';
import { Bech32Error, bech32Decode, bech32Encode } from '../../../src/crypto/age/bech32.ts';
import { parseAgeIdentity, parseAgeRecipient } from '../../../src/crypto/age/index.ts';

// The identity of 32 bytes of 0x42 from age's own test data, and its recipient per age-keygen -y.
const IDENTITY_42 = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX';
const RECIPIENT_42 = 'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).name;
  }
  return undefined;
}

describe('bech32', () => {
  it('decodes the BIP 173 valid strings', () => {
    expect(bech32Decode('A12UEL5L')).toEqual({ hrp: 'a', data: Buffer.alloc(0) });
    const long = bech32Decode('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw');
    expect(long.hrp).toBe('abcdef');
    expect(long.data.toString('hex')).toBe('00443214c74254b635cf84653a56d7c675be77df');
  });

  it('rejects the BIP 173 invalid strings', () => {
    for (const text of [
      'pzry9x0s0muk', // no separator
      '1pzry9x0s0muk', // empty prefix
      'x1b4n0q5v', // "b" is not a Bech32 character
      'li1dgmt3', // checksum too short
      'A1G7SGD8', // checksum made over the upper-case prefix
      'A12UEL5l', // mixed case
    ]) {
      expect(() => bech32Decode(text), text).toThrow(Bech32Error);
    }
  });

  it('round-trips bytes in both cases, the upper-case prefix giving an upper-case string', () => {
    const data = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
    const lower = bech32Encode('age', data);
    expect(lower).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect(bech32Decode(lower)).toEqual({ hrp: 'age', data });
    const upper = bech32Encode('AGE-SECRET-KEY-', data);
    expect(upper).toBe(upper.toUpperCase());
    expect(bech32Decode(upper)).toEqual({ hrp: 'age-secret-key-', data });
  });

  it('rejects a string with one character changed (checksum mismatch)', () => {
    const changed = `${RECIPIENT_42.slice(0, 10)}${RECIPIENT_42[10] === 'q' ? 'p' : 'q'}${RECIPIENT_42.slice(11)}`;
    expect(() => bech32Decode(changed)).toThrow(/checksum/);
    expect(codeOf(() => parseAgeRecipient(changed))).toBe('age_recipient_invalid');
  });

  it('parses the age test identity and derives the recipient age-keygen prints', () => {
    expect(bech32Decode(IDENTITY_42).data).toEqual(Buffer.alloc(32, 0x42));
    expect(parseAgeIdentity(IDENTITY_42).recipient).toBe(RECIPIENT_42);
    expect(parseAgeRecipient(` ${RECIPIENT_42}\n`).text).toBe(RECIPIENT_42);
  });

  it('rejects a recipient given as an identity and an identity given as a recipient (wrong prefix)', () => {
    expect(codeOf(() => parseAgeIdentity(RECIPIENT_42))).toBe('age_identity_invalid');
    expect(codeOf(() => parseAgeRecipient(IDENTITY_42))).toBe('age_recipient_invalid');
    expect(() => parseAgeRecipient(bech32Encode('age', Buffer.alloc(31)))).toThrow(/32 bytes/);
  });

  it('never repeats a rejected identity in the error message', () => {
    const damaged = `${IDENTITY_42.slice(0, -1)}Q`;
    let message = '';
    try {
      parseAgeIdentity(damaged);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/checksum/);
    expect(message).not.toContain(damaged.slice(16, 40));
  });
});
