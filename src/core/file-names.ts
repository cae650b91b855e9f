import { isUtf8 } from 'node:buffer';
import { withoutMentionMarkers } from './format.ts';

/**
 * File names are bytes; Lifeboat carries them as strings that map back to exactly those bytes,
 * the way Python's `surrogateescape` does (PEP 383): every valid UTF-8 sequence becomes its
 * character, and every byte that is not part of one becomes a lone surrogate U+DC80–U+DCFF.
 * Valid UTF-8 never decodes to a lone surrogate, so the mapping is lossless both ways, globs
 * match the readable part of a name as usual, and a name holding U+FFFD stays U+FFFD.
 */

/** The string that stands for the name `bytes` (see the module comment). */
export function decodeFileName(bytes: Uint8Array): string {
  if (isUtf8(bytes))
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      out += String.fromCharCode(0xdc00 | (bytes[i] ?? 0));
      i++;
    } else {
      out += Buffer.from(bytes.subarray(i, i + length)).toString('utf8');
      i += length;
    }
  }
  return out;
}

/** The bytes of a name that {@link decodeFileName} made (or any UTF-8 string). */
export function encodeFileName(name: string): Buffer {
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    const escaped = code >= 0xdc80 && code <= 0xdcff && !isLowSurrogateOfPair(name, i);
    if (escaped) {
      if (run) parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.of(code & 0xff));
    } else {
      run += name[i];
    }
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * A name as people read it in messages: bytes that are not UTF-8 as `\xff`, control characters
 * (a newline in a name) as `\n` or `\x1b`; mention markers removed; everything else as is.
 */
export function displayFileName(name: string): string {
  let out = '';
  name = withoutMentionMarkers(name);
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 0xdc80 && code <= 0xdcff && !isLowSurrogateOfPair(name, i)) {
      out += `\\x${(code & 0xff).toString(16).padStart(2, '0')}`;
    } else if (code === 0x0a) out += '\\n';
    else if (code === 0x09) out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += name[i];
  }
  return out;
}

function isLowSurrogateOfPair(text: string, i: number): boolean {
  const previous = i > 0 ? text.charCodeAt(i - 1) : 0;
  return previous >= 0xd800 && previous <= 0xdbff;
}

/** The length of the well-formed UTF-8 sequence at `i` (RFC 3629), or 0 when there is none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const first = bytes[i] ?? 0;
  if (first < 0x80) return 1;
  const continuation = (at: number, low = 0x80, high = 0xbf) => {
    const byte = bytes[at];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (first >= 0xc2 && first <= 0xdf) return continuation(i + 1) ? 2 : 0;
  if (first >= 0xe0 && first <= 0xef) {
    // No overlong forms (E0 A0–BF), no surrogates (ED 80–9F).
    const low = first === 0xe0 ? 0xa0 : 0x80;
    const high = first === 0xed ? 0x9f : 0xbf;
    return continuation(i + 1, low, high) && continuation(i + 2) ? 3 : 0;
  }
  if (first >= 0xf0 && first <= 0xf4) {
    const low = first === 0xf0 ? 0x90 : 0x80;
    const high = first === 0xf4 ? 0x8f : 0xbf;
    return continuation(i + 1, low, high) && continuation(i + 2) && continuation(i + 3) ? 4 : 0;
  }
  return 0;
}

/**
 * `root/relative` as bytes for the file system calls, `relative` being a path of names as
 * {@link decodeFileName} makes them (`''` is `root` itself).
 */
export function pathBytes(root: string, relative: string): Buffer {
  if (relative === '') return Buffer.from(root);
  const separator = root.endsWith('/') ? '' : '/';
  return Buffer.concat([Buffer.from(`${root}${separator}`), encodeFileName(relative)]);
}
