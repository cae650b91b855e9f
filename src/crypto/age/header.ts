import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { LifeboatError } from '../../core/errors.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';

/** The first line of every age v1 file. */
export const AGE_VERSION_LINE = 'age-encryption.org/v1';

/** An age header can hold many stanzas, but a header past this size is not one we wrote. */
export const MAX_HEADER_BYTES = 1024 * 1024;

const BODY_COLUMNS = 64;
const MAC_BYTES = 32;
const MAC_LINE_PREFIX = '--- ';

/** One recipient stanza: `-> TYPE ARG…` and its body (the wrapped file key). */
export interface AgeStanza {
  readonly type: string;
  readonly args: readonly string[];
  readonly body: Buffer;
}

/** A parsed header: its stanzas, and the MAC with the bytes it covers. */
export interface ParsedHeader {
  readonly stanzas: readonly AgeStanza[];
  /** The header up to and including `---` (the MAC's input). */
  readonly macInput: Buffer;
  readonly mac: Buffer;
}

function headerError(message: string): LifeboatError {
  return new LifeboatError('age_header_invalid', `the age header is invalid: ${message}`);
}

/** The header MAC key: HKDF-SHA-256 of the file key with info `header`. */
function macKey(fileKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
}

/** HMAC-SHA-256 over the header up to and including `---`. */
export function headerMac(fileKey: Buffer, macInput: Buffer): Buffer {
  return createHmac('sha256', macKey(fileKey)).update(macInput).digest();
}

/** Checks the header MAC; a mismatch means the header was altered after it was written. */
export function verifyHeaderMac(header: ParsedHeader, fileKey: Buffer): void {
  const expected = headerMac(fileKey, header.macInput);
  if (!timingSafeEqual(expected, header.mac)) {
    throw headerError('its MAC does not match, so it was altered or damaged');
  }
}

/** The stanza's text: its `-> ` line and its body wrapped at 64 columns. */
function formatStanza(stanza: AgeStanza): string {
  const encoded = encodeBase64(stanza.body);
  const lines: string[] = [];
  for (let i = 0; i <= encoded.length; i += BODY_COLUMNS) {
    // The last line is always shorter than 64 columns: an empty one when the body fills them.
    lines.push(encoded.slice(i, i + BODY_COLUMNS));
  }
  return `-> ${[stanza.type, ...stanza.args].join(' ')}\n${lines.join('\n')}\n`;
}

/** The whole header, MAC line included, for the stanzas wrapping `fileKey`. */
export function formatHeader(stanzas: readonly AgeStanza[], fileKey: Buffer): Buffer {
  const macInput = Buffer.from(
    `${AGE_VERSION_LINE}\n${stanzas.map(formatStanza).join('')}---`,
    'latin1',
  );
  const mac = headerMac(fileKey, macInput);
  return Buffer.concat([macInput, Buffer.from(` ${encodeBase64(mac)}\n`, 'latin1')]);
}

/**
 * Where the header in `bytes` ends (the offset after the MAC line's newline), or -1 when the
 * header is not complete yet.
 */
export function findHeaderEnd(bytes: Buffer): number {
  // Stanza lines start with "-> " and body lines with base64, so the first "\n---" is the MAC.
  const mark = bytes.indexOf('\n---', 0, 'latin1');
  if (mark < 0) return -1;
  const lineEnd = bytes.indexOf(0x0a, mark + 1);
  return lineEnd < 0 ? -1 : lineEnd + 1;
}

function isArgument(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

/** Parses a complete header (as delimited by {@link findHeaderEnd}), strictly. */
export function parseHeader(bytes: Buffer): ParsedHeader {
  const text = bytes.toString('latin1');
  if (!text.endsWith('\n')) throw headerError('it does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== AGE_VERSION_LINE) {
    throw headerError(`its first line is not "${AGE_VERSION_LINE}"`);
  }
  const stanzas: AgeStanza[] = [];
  let index = 1;
  for (;;) {
    const line = lines[index];
    if (line === undefined) throw headerError('it has no MAC line');
    if (line.startsWith('---')) break;
    if (!line.startsWith('-> ')) {
      throw headerError(`line ${index + 1} is neither a stanza ("-> ") nor the MAC ("--- ")`);
    }
    const words = line.slice(3).split(' ');
    if (!words.every(isArgument)) {
      throw headerError(`the stanza on line ${index + 1} has an empty or non-printable argument`);
    }
    const bodyLines: string[] = [];
    for (;;) {
      index += 1;
      const bodyLine = lines[index];
      if (bodyLine === undefined) throw headerError('a stanza body is not terminated');
      if (bodyLine.length > BODY_COLUMNS) {
        throw headerError(`line ${index + 1} is longer than ${BODY_COLUMNS} columns`);
      }
      bodyLines.push(bodyLine);
      if (bodyLine.length < BODY_COLUMNS) break;
    }
    const body = decodeBase64(bodyLines.join(''));
    if (!body) throw headerError(`the stanza body ending on line ${index + 1} is not base64`);
    const [type = '', ...args] = words;
    stanzas.push({ type, args, body });
    index += 1;
  }
  const macLine = lines[index] ?? '';
  if (index !== lines.length - 1) throw headerError('the MAC line is not its last line');
  if (!macLine.startsWith(MAC_LINE_PREFIX)) throw headerError('its MAC line is malformed');
  const mac = decodeBase64(macLine.slice(MAC_LINE_PREFIX.length));
  if (!mac || mac.length !== MAC_BYTES) throw headerError('its MAC is not 32 bytes of base64');
  if (stanzas.length === 0) throw headerError('it has no recipient stanza');
  const macInput = bytes.subarray(0, text.length - 1 - macLine.length + 3);
  return { stanzas, macInput, mac };
}
