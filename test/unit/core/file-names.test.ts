import { describe, expect, it } from 'vitest';
import {
  decodeFileName,
  displayFileName,
  encodeFileName,
  pathBytes,
} from '../../../src/core/file-names.ts';

const bytes = (...values: number[]) => Buffer.from(values);

describe('file names as bytes', () => {
  it.each([
    ['ASCII', Buffer.from('docs/a.md')],
    ['UTF-8', Buffer.from('café/日本語/😀.txt')],
    ['Latin-1', bytes(0x63, 0x61, 0x66, 0xe9)],
    ['a lone 0xff', bytes(0x64, 0xff)],
    ['a valid name holding U+FFFD', Buffer.from('ok\uFFFDname')],
    ['a truncated sequence', bytes(0xe2, 0x82)],
    ['an overlong encoding of "/"', bytes(0xc0, 0xaf)],
    ['a UTF-8-encoded surrogate', bytes(0xed, 0xa0, 0x80)],
    ['an astral character next to a stray byte', Buffer.concat([Buffer.from('😀'), bytes(0xdc)])],
    [
      'every byte but NUL and "/"',
      Buffer.from([...Array(256).keys()].filter((b) => b !== 0 && b !== 0x2f)),
    ],
  ])('maps %s back to exactly its bytes', (_case, name) => {
    const decoded = decodeFileName(name);
    expect(encodeFileName(decoded).equals(name)).toBe(true);
  });

  it('keeps valid UTF-8 readable, so globs match it, and tells invalid bytes apart', () => {
    expect(decodeFileName(Buffer.from('café.tmp'))).toBe('café.tmp');
    expect(decodeFileName(bytes(0x63, 0x61, 0x66, 0xe9))).toBe('caf\udce9');
    expect(decodeFileName(bytes(0x63, 0x61, 0x66, 0xe9))).not.toBe(
      decodeFileName(Buffer.from('caf\uFFFD')),
    );
  });

  it('shows invalid bytes and control characters escaped in messages', () => {
    expect(displayFileName(decodeFileName(bytes(0x64, 0xff, 0x2f, 0x61)))).toBe('d\\xff/a');
    expect(displayFileName('line\nbreak\x1b')).toBe('line\\nbreak\\x1b');
    expect(displayFileName('😀 café')).toBe('😀 café');
  });

  it('joins a root and a relative path into the bytes the file system gets', () => {
    expect(pathBytes('/srv/up', decodeFileName(bytes(0x64, 0xff)))).toEqual(
      Buffer.concat([Buffer.from('/srv/up/d'), bytes(0xff)]),
    );
    expect(pathBytes('/srv/up', '')).toEqual(Buffer.from('/srv/up'));
  });
});
