import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../../src/crypto/age/base64.ts';
import {
  type AgeStanza,
  findHeaderEnd,
  formatHeader,
  parseHeader,
  verifyHeaderMac,
} from '../../../src/crypto/age/header.ts';

const fileKey = Buffer.alloc(16, 7);

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('age header', () => {
  it('round-trips stanzas with bodies of every wrapping shape, MAC included', () => {
    const stanzas: AgeStanza[] = [
      { type: 'X25519', args: ['abc'], body: randomBytes(32) },
      { type: 'empty-body', args: [], body: Buffer.alloc(0) },
      { type: 'exactly-64-columns', args: ['a', 'b'], body: randomBytes(48) },
      { type: 'long', args: ['x'], body: randomBytes(100) },
    ];
    const bytes = formatHeader(stanzas, fileKey);
    const text = bytes.toString('latin1');
    // A 48-byte body fills one 64-column line, so an empty line ends it.
    expect(text).toContain('-> exactly-64-columns a b\n');
    expect(text).toMatch(/\n[A-Za-z0-9+/]{64}\n\n-> long x\n/);
    expect(findHeaderEnd(Buffer.concat([bytes, Buffer.from('payload\n---')]))).toBe(bytes.length);
    const parsed = parseHeader(bytes);
    expect(parsed.stanzas).toEqual(stanzas);
    expect(parsed.macInput.toString('latin1')).toBe(text.slice(0, text.lastIndexOf('---') + 3));
    expect(() => verifyHeaderMac(parsed, fileKey)).not.toThrow();
  });

  it('rejects the MAC under another file key, or after a stanza was altered', () => {
    const bytes = formatHeader([{ type: 'X25519', args: ['abc'], body: randomBytes(32) }], fileKey);
    expect(codeOf(() => verifyHeaderMac(parseHeader(bytes), Buffer.alloc(16, 8)))).toBe(
      'age_header_invalid',
    );
    const altered = Buffer.from(bytes.toString('latin1').replace('-> X25519 abc', '-> X25519 abd'));
    expect(() => verifyHeaderMac(parseHeader(altered), fileKey)).toThrow(/MAC does not match/);
  });

  it('finds no end until the MAC line is complete', () => {
    const bytes = formatHeader([{ type: 't', args: [], body: randomBytes(32) }], fileKey);
    expect(findHeaderEnd(bytes.subarray(0, bytes.length - 1))).toBe(-1);
    expect(findHeaderEnd(bytes.subarray(0, 30))).toBe(-1);
  });

  it('rejects malformed headers, each with a reason', () => {
    const body = encodeBase64(randomBytes(32));
    const mac = encodeBase64(randomBytes(32));
    const cases: [string, RegExp][] = [
      [`age-encryption.org/v2\n-> X25519 a\n${body}\n--- ${mac}\n`, /first line/],
      [`age-encryption.org/v1\n--- ${mac}\n`, /no recipient stanza/],
      [`age-encryption.org/v1\n-> X25519  a\n${body}\n--- ${mac}\n`, /empty or non-printable/],
      [`age-encryption.org/v1\n-> \n${body}\n--- ${mac}\n`, /empty or non-printable/],
      [`age-encryption.org/v1\nX25519 a\n${body}\n--- ${mac}\n`, /neither a stanza/],
      [`age-encryption.org/v1\n-> X25519 a\n${body}=\n--- ${mac}\n`, /not base64/],
      [`age-encryption.org/v1\n-> X25519 a\n${'A'.repeat(65)}\n--- ${mac}\n`, /longer than 64/],
      [`age-encryption.org/v1\n-> X25519 a\n${body}\n---${mac}\n`, /MAC line is malformed/],
      [`age-encryption.org/v1\n-> X25519 a\n${body}\n--- ${mac.slice(1)}\n`, /32 bytes/],
      [`age-encryption.org/v1\n-> X25519 a\n${body}\n--- ${mac}`, /newline/],
    ];
    for (const [text, reason] of cases) {
      let error: unknown;
      try {
        parseHeader(Buffer.from(text, 'latin1'));
      } catch (caught) {
        error = caught;
      }
      expect(error, text).toMatchObject({
        code: 'age_header_invalid',
        message: expect.stringMatching(reason),
      });
    }
  });

  it('accepts only canonical unpadded base64', () => {
    expect(decodeBase64('AAE')).toEqual(Buffer.from([0, 1]));
    expect(decodeBase64('AAF')).toBeUndefined(); // trailing bits set
    expect(decodeBase64('AAE=')).toBeUndefined(); // padding
    expect(decodeBase64('AA-E')).toBeUndefined(); // URL alphabet
    expect(decodeBase64('A')).toBeUndefined();
    expect(decodeBase64('')).toEqual(Buffer.alloc(0));
  });
});
